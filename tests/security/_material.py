"""Keys, certificates and tokens the security tests make at run time (no private key is ever committed).

``make_pki(dir)`` writes a self-signed CA and a server certificate for localhost / 127.0.0.1 / ::1
signed by it. ``SigningKeys`` are an identity provider's: RSA or EC key pairs, their JWKS, and tokens
signed with them.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ISSUER = "https://idp.example.test/realms/camunda"
AUDIENCE = "zeebe-api"


def _pem_key(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass
class Pki:
    ca: Path  # the CA certificate: what clients trust
    certificate: Path  # the server's certificate, issued by the CA, for localhost and 127.0.0.1
    private_key: Path  # the server's key
    other_ca: Path  # a CA that issued nothing here: clients trusting only it must refuse the server


def _ca(common_name: str) -> tuple[Any, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name)).issuer_name(_name(common_name))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def make_pki(directory: Path) -> Pki:
    ca_key, ca_certificate = _ca("zeebe-trio test CA")
    server_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    server_certificate = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost")).issuer_name(ca_certificate.subject)
        .public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _other_key, other_ca = _ca("some other CA")
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(directory / "ca.pem", directory / "server.pem", directory / "server-key.pem",
              directory / "other-ca.pem")
    pki.ca.write_bytes(ca_certificate.public_bytes(serialization.Encoding.PEM))
    pki.certificate.write_bytes(server_certificate.public_bytes(serialization.Encoding.PEM))
    pki.private_key.write_bytes(_pem_key(server_key))
    pki.private_key.chmod(0o600)
    pki.other_ca.write_bytes(other_ca.public_bytes(serialization.Encoding.PEM))
    return pki


class SigningKey:
    """One of an identity provider's signing keys."""

    def __init__(self, kid: str, algorithm: str = "RS256") -> None:
        self.kid = kid
        self.algorithm = algorithm
        if algorithm.startswith(("RS", "PS")):
            self.private_key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            curve = {"ES256": ec.SECP256R1(), "ES384": ec.SECP384R1(), "ES512": ec.SECP521R1()}[algorithm]
            self.private_key = ec.generate_private_key(curve)

    def jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        public = json.loads(algorithm.to_jwk(self.private_key.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": self.algorithm}

    def public_pem(self) -> bytes:
        return self.private_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo)

    def token(self, *, issuer: str = ISSUER, audience: str | list[str] = AUDIENCE, lifetime: float = 300.0,
              not_before: float | None = None, kid: str | None = "", algorithm: str | None = None,
              **claims: Any) -> str:
        now = time.time()
        payload: dict[str, Any] = {"iss": issuer, "aud": audience, "sub": "worker-1", "iat": int(now),
                                   "exp": int(now + lifetime), **claims}
        if not_before is not None:
            payload["nbf"] = int(not_before)
        headers = {} if kid is None else {"kid": kid or self.kid}
        return jwt.encode(payload, self.private_key, algorithm=algorithm or self.algorithm, headers=headers)


def jwks(*keys: SigningKey) -> dict[str, Any]:
    return {"keys": [key.jwk() for key in keys]}


def write_jwks(path: Path, *keys: SigningKey) -> Path:
    path.write_text(json.dumps(jwks(*keys)))
    return path


def unsigned_token(*, issuer: str = ISSUER, audience: str = AUDIENCE, kid: str = "rsa-1") -> str:
    """A token with ``alg: none`` (no signature at all), as an attacker would send."""
    now = int(time.time())
    return jwt.encode({"iss": issuer, "aud": audience, "exp": now + 300}, key=None, algorithm="none",
                      headers={"kid": kid})


def hmac_token_with_public_key(key: SigningKey, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> str:
    """The classic confusion attack: HS256 'signed' with the provider's *public* key as the secret."""
    import base64
    import hashlib
    import hmac

    def b64(data: bytes) -> bytes:
        return base64.urlsafe_b64encode(data).rstrip(b"=")

    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    payload = b64(json.dumps({"iss": issuer, "aud": audience, "exp": now + 300}).encode())
    signature = b64(hmac.new(key.public_pem(), header + b"." + payload, hashlib.sha256).digest())
    return (header + b"." + payload + b"." + signature).decode()
