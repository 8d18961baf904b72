"""TLS contexts for the gateway's gRPC port and the broker's command API, from PEM files.

Zeebe's gateway serves TLS when given a certificate chain and a private key
(``zeebe.gateway.security.certificateChainPath`` / ``privateKeyPath``); so do we, for the gRPC port
(``gateway_tls_certificate`` / ``gateway_tls_private_key``, or ``zeebe-trio gateway --tls-certificate``)
and for the command API (``command_api_tls_certificate`` / ``command_api_tls_private_key``, trusted by a
standalone gateway through ``--broker-ca``).

Every problem is a ``TlsSettingsError`` whose one line names the setting (or flag), the file and the
fix: only one of the pair set, a file that cannot be read, a file that holds no PEM certificate or
key, an encrypted key, a key that does not belong to the certificate. The files are parsed with
``cryptography`` first, because ``ssl.SSLContext.load_cert_chain`` says only ``[SSL] PEM lib`` for
most of these and cannot tell which file it means.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

GRPC_ALPN = ("h2",)  # gRPC clients (grpcio, Go, Java) insist on negotiating HTTP/2 through ALPN


class TlsSettingsError(ValueError):
    """A TLS setting is incomplete, or names a file that is not what it should be; one line that
    names the setting and the fix."""


def _read(path: str | Path, setting: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise TlsSettingsError(f"{setting}: cannot read '{path}': {error.strerror or error}; set it to the"
                               f" {what} (a PEM file this process may read)") from None


def _check_certificates(path: str | Path, setting: str, what: str) -> None:
    data = _read(path, setting, what)
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        certificates = []
    if not certificates:
        raise TlsSettingsError(f"{setting}: '{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----);"
                               f" set it to the {what}")


def _check_private_key(path: str | Path, setting: str) -> None:
    data = _read(path, setting, "private key")
    try:
        serialization.load_pem_private_key(data, password=None)
    except TypeError:  # the key is encrypted and we were given no password
        raise TlsSettingsError(f"{setting}: the private key in '{path}' is encrypted; give an unencrypted PEM"
                               " (PKCS#8) key, e.g. `openssl pkey -in key.pem -out plain.pem`") from None
    except (ValueError, UnsupportedAlgorithm):
        raise TlsSettingsError(f"{setting}: '{path}' holds no PEM private key (-----BEGIN PRIVATE KEY-----);"
                               " set it to the certificate's private key") from None


def tls_pair(certificate: str | Path | None, private_key: str | Path | None, *, certificate_setting: str,
             key_setting: str) -> tuple[str, str] | None:
    """``(certificate, private_key)`` when both are set, ``None`` when neither is (TLS off); a
    ``TlsSettingsError`` naming the missing one otherwise."""
    certificate, private_key = str(certificate or ""), str(private_key or "")
    if not certificate and not private_key:
        return None
    if not private_key:
        raise TlsSettingsError(f"{certificate_setting} is set but {key_setting} is not: set both (the PEM"
                               " certificate chain and its private key) to serve TLS, or neither")
    if not certificate:
        raise TlsSettingsError(f"{key_setting} is set but {certificate_setting} is not: set both (the PEM"
                               " certificate chain and its private key) to serve TLS, or neither")
    return certificate, private_key


def server_context(certificate: str | Path, private_key: str | Path, *, certificate_setting: str,
                   key_setting: str, alpn: Sequence[str] = ()) -> ssl.SSLContext:
    """A server-side context (TLS 1.2 or later) presenting ``certificate`` (a PEM chain: the server's
    certificate first, then any intermediates) with ``private_key``."""
    _check_certificates(certificate, certificate_setting, "server's certificate chain")
    _check_private_key(private_key, key_setting)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(certificate), str(private_key))
    except ssl.SSLError as error:
        if "KEY_VALUES_MISMATCH" in str(error) or error.reason == "KEY_VALUES_MISMATCH":
            raise TlsSettingsError(f"{key_setting}: the private key in '{private_key}' does not belong to the"
                                   f" certificate in '{certificate}' ({certificate_setting}); give the key the"
                                   " certificate was issued for") from None
        raise TlsSettingsError(f"{certificate_setting} / {key_setting}: '{certificate}' and '{private_key}'"
                               f" cannot serve TLS: {error.reason or error}") from None
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def client_context(ca_certificates: str | Path | None, *, setting: str, alpn: Sequence[str] = ()) -> ssl.SSLContext:
    """A client-side context that verifies the server's certificate and host name against the PEM
    CA certificates in ``ca_certificates``, or against the system's trust store when it is empty."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if ca_certificates:
        what = "CA certificate(s) the server's certificate was issued by"
        _check_certificates(ca_certificates, setting, what)
        try:
            context.load_verify_locations(cafile=str(ca_certificates))
        except ssl.SSLError as error:
            raise TlsSettingsError(f"{setting}: '{ca_certificates}' cannot be used to verify servers:"
                                   f" {error.reason or error}; set it to the {what}") from None
    if alpn:
        context.set_alpn_protocols(list(alpn))
    return context


def pinned_context(certificate: str | Path, *, setting: str) -> ssl.SSLContext:
    """A client-side context that trusts exactly one server certificate: the first one in the PEM
    file ``certificate`` (a server's own ``command_api_tls_certificate``), whatever its issuer and
    host names. For tools on the broker's own host (``zeebe-trio sql``), which read the broker's
    settings and reach it as ``localhost``: only the holder of that certificate's key can answer."""
    _check_certificates(certificate, setting, "server's certificate chain")
    leaf = x509.load_pem_x509_certificates(Path(certificate).read_bytes())[0]
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cadata=leaf.public_bytes(serialization.Encoding.PEM)
                                         .decode("ascii"))
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False  # the certificate itself is pinned; its names are for remote gateways
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN  # a leaf as its own trust anchor
    return context


_REASONS = {
    "WRONG_VERSION_NUMBER": "the peer does not speak TLS",
    "HTTP_REQUEST": "the peer does not speak TLS (it sent HTTP)",
    "UNEXPECTED_EOF_WHILE_READING": "the peer closed the connection during the handshake",
    "TLSV1_ALERT_UNKNOWN_CA": "the peer does not trust this certificate (unknown CA)",
    "SSLV3_ALERT_BAD_CERTIFICATE": "the peer rejected this certificate",
    "NO_APPLICATION_PROTOCOL": "no common application protocol (ALPN)",
}


def describe_tls_failure(error: BaseException) -> str:
    """Words for a failed TLS handshake, from the ``ssl`` error inside ``error`` (trio wraps it in
    ``BrokenResourceError``): the verification message when the certificate did not verify."""
    cause: BaseException | None = error
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError):
        return f"the certificate did not verify: {cause.verify_message or cause.reason}"
    if isinstance(cause, ssl.SSLError):
        reason = str(cause.reason or cause)
        return _REASONS.get(reason, reason)
    return str(error) or type(error).__name__
