"""Client authentication: bearer tokens checked as JWTs against an identity provider's keys.

Zeebe's gateway (with Camunda Identity, or OIDC) takes an access token in the ``authorization:
Bearer <JWT>`` metadata of every call and answers ``UNAUTHENTICATED`` without one. So does ours when
``gateway_auth_enabled`` is on. A token is accepted when:

- its header names an asymmetric algorithm (RS256/384/512, PS256/384/512, ES256/384/512): ``none`` and
  the HMAC algorithms are refused outright, so a public key can never be used as an HMAC secret;
- its signature verifies with a key of the JWKS (``gateway_auth_jwks``: a file, or an ``http(s)`` URL)
  whose ``kid`` it names, of the right type (RSA for RS/PS, the matching EC curve for ES);
- its ``iss`` is ``gateway_auth_issuer`` and its ``aud`` holds ``gateway_auth_audience``;
- ``exp`` has not passed and ``nbf`` (if any) has come, give or take ``leeway`` seconds of clock skew.

The keys are cached. They are read again every ``refresh_interval`` seconds (in the background: calls
go on with the keys at hand), and at once when a token names a ``kid`` the cache does not have, which
is how a provider's key rotation reaches us; that refresh happens at most once every
``min_refresh_interval`` seconds, so a stream of tokens with made-up ``kid``s cannot make the gateway
hammer the provider. A URL is fetched with a timeout and a size limit.

This module is synchronous and does no I/O of its own accord: ``verify`` is pure CPU (a signature
check, well under a millisecond) and raises ``KeyRefreshNeeded`` when it wants keys; ``refresh``
blocks (file read or HTTP fetch), and the gateway host runs it in a worker thread.

Messages for clients name the problem (``Expected ... but ...``, as Zeebe's do) and never quote the
token; only claims of a token whose signature verified (its issuer, say) are quoted, shortened.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

log = logging.getLogger("zeebe_trio.gateway.auth")

AUTHORIZATION = "authorization"
HEALTH_SERVICE_PREFIX = "/grpc.health.v1.Health/"  # open without a token, so probes need no credentials

DEFAULT_LEEWAY = 30.0  # seconds of clock skew allowed on exp and nbf
DEFAULT_REFRESH_INTERVAL = 300.0  # seconds between reads of the JWKS
DEFAULT_MIN_REFRESH_INTERVAL = 10.0  # seconds between reads caused by a kid the cache does not have
DEFAULT_FETCH_TIMEOUT = 5.0  # seconds a JWKS URL has to answer
MAX_JWKS_BYTES = 1024 * 1024
MAX_KEYS = 100
MAX_TOKEN_BYTES = 16 * 1024

_RSA_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_EC_CURVES = {"ES256": "secp256r1", "ES384": "secp384r1", "ES512": "secp521r1"}
ALGORITHMS = _RSA_ALGORITHMS + tuple(_EC_CURVES)
_JWK_CURVES = {"P-256": "secp256r1", "P-384": "secp384r1", "P-521": "secp521r1"}


class Unauthenticated(Exception):
    """The call carries no acceptable token; the message (for the client) says why."""


class SigningKeysUnavailable(Exception):
    """The gateway has no keys to check tokens with (the JWKS cannot be read); not the client's fault."""


class KeyRefreshNeeded(Exception):
    """``verify`` wants the keys read (none yet, or the token names an unknown ``kid``): call
    ``refresh`` (blocking) and verify again with ``may_refresh=False``."""


class JwksError(ValueError):
    """The JWKS could not be read or holds no usable key; the message names the source."""


def _excerpt(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str | None
    kty: str  # "RSA" or "EC"
    curve: str | None  # the EC curve's name, e.g. "secp256r1"
    alg: str | None  # the JWK's own "alg", when it names one
    key: Any  # a cryptography public key

    def fits(self, algorithm: str) -> bool:
        if self.alg is not None and self.alg != algorithm:
            return False
        if algorithm in _RSA_ALGORITHMS:
            return self.kty == "RSA"
        return self.kty == "EC" and self.curve == _EC_CURVES.get(algorithm)


def parse_jwks(data: bytes, source: str) -> list[SigningKey]:
    """The signature keys of a JWKS document (``{"keys": [...]}``); keys for encryption (``use:
    enc``) or of types we do not verify with are skipped. ``JwksError`` when none is left."""
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise JwksError(f"the JWKS at {source} is not JSON: {error}") from None
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise JwksError(f"the JWKS at {source} has no \"keys\" list (expected a JSON Web Key Set, RFC 7517)")
    keys: list[SigningKey] = []
    problems: list[str] = []
    for entry in entries[:MAX_KEYS]:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        kty = entry.get("kty")
        if kty not in ("RSA", "EC"):
            problems.append(f"key type {_excerpt(kty, 20)} is not supported")
            continue
        if kty == "EC" and entry.get("crv") not in _JWK_CURVES:
            problems.append(f"EC curve {_excerpt(entry.get('crv'), 20)} is not supported")
            continue
        try:
            public_key = jwt.PyJWK(entry).key
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError, KeyError) as error:
            problems.append(f"key {_excerpt(entry.get('kid'), 40)} is malformed: {error}")
            continue
        if isinstance(public_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            public_key = public_key.public_key()  # a JWKS should never hold private keys; we use only the public half
        curve = public_key.curve.name if isinstance(public_key, ec.EllipticCurvePublicKey) else None
        kid = entry.get("kid")
        alg = entry.get("alg")
        keys.append(SigningKey(str(kid) if kid is not None else None, kty, curve,
                               alg if isinstance(alg, str) else None, public_key))
    if not keys:
        why = f" ({'; '.join(problems[:3])})" if problems else ""
        raise JwksError(f"the JWKS at {source} holds no RSA or EC signature key{why}")
    return keys


def read_jwks(source: str, *, timeout: float = DEFAULT_FETCH_TIMEOUT) -> list[SigningKey]:
    """Read the JWKS from a file or an ``http(s)`` URL (blocking; ``timeout`` seconds for a URL)."""
    if is_url(source):
        request = urllib.request.Request(source, headers={"Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http(s) only)
                data = response.read(MAX_JWKS_BYTES + 1)
        except urllib.error.HTTPError as error:
            raise JwksError(f"the JWKS at {source} answered HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, OSError, TimeoutError) as error:
            reason = getattr(error, "reason", None) or error
            raise JwksError(f"cannot fetch the JWKS from {source}: {reason}") from None
    else:
        try:
            with Path(source).open("rb") as file:
                data = file.read(MAX_JWKS_BYTES + 1)
        except OSError as error:
            raise JwksError(f"cannot read the JWKS file '{source}': {error.strerror or error}") from None
    if len(data) > MAX_JWKS_BYTES:
        raise JwksError(f"the JWKS at {source} is larger than {MAX_JWKS_BYTES} bytes")
    return parse_jwks(data, source)


def bearer_token(metadata: Mapping[str, Any]) -> str:
    """The token of an ``authorization: Bearer <token>`` entry; ``Unauthenticated`` without one."""
    value = metadata.get(AUTHORIZATION)
    if value is None:
        raise Unauthenticated(f"Expected bearer token at header with key [{AUTHORIZATION}], but found nothing")
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    scheme, _, token = str(value).strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(f"Expected bearer token at header with key [{AUTHORIZATION}] ('Bearer <token>'),"
                              " but found another kind of credential")
    return token.strip()


class TokenVerifier:
    """Checks bearer tokens for the gateway (see the module docstring). Thread-safe: ``verify`` runs
    on the gateway's event loop while ``refresh`` runs in a worker thread; the key list is replaced
    whole, never changed in place."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: str,
        leeway: float = DEFAULT_LEEWAY,
        refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
        min_refresh_interval: float = DEFAULT_MIN_REFRESH_INTERVAL,
        fetch_timeout: float = DEFAULT_FETCH_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.leeway = leeway
        self.refresh_interval = refresh_interval
        self.min_refresh_interval = min_refresh_interval
        self.fetch_timeout = fetch_timeout
        self._clock = clock
        self._keys: list[SigningKey] | None = None
        self._read_at: float | None = None  # when the keys were last read, or reading them last failed
        self._last_error: str | None = None
        self._lock = threading.Lock()  # one read at a time
        self.accepted = 0
        self.refused = 0
        self.refreshes = 0

    # -- the keys -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the JWKS now (blocking). On failure the keys at hand stay, and the error is what
        ``verify`` reports while there are none; raises ``JwksError``."""
        with self._lock:
            try:
                keys = read_jwks(self.jwks, timeout=self.fetch_timeout)
            except JwksError as error:
                self._read_at = self._clock()
                self._last_error = str(error)
                log.warning("gateway authentication: %s; keeping %s", error,
                            f"the {len(self._keys)} keys read before" if self._keys else "no keys: calls are refused")
                raise
            self._keys = keys
            self._read_at = self._clock()
            self._last_error = None
            self.refreshes += 1
            log.debug("gateway authentication: read %d signing keys from %s", len(keys), self.jwks)

    @property
    def refresh_due(self) -> bool:
        """The keys are older than ``refresh_interval`` (time for a background refresh)."""
        return self._read_at is not None and self._clock() - self._read_at >= self.refresh_interval

    def _may_refresh_now(self) -> bool:
        return self._read_at is None or self._clock() - self._read_at >= self.min_refresh_interval

    # -- tokens ---------------------------------------------------------------------------------------

    def authenticate(self, metadata: Mapping[str, Any], *, may_refresh: bool = True) -> dict[str, Any]:
        """The verified claims of the call's bearer token; ``Unauthenticated``, ``SigningKeysUnavailable``
        or ``KeyRefreshNeeded`` otherwise."""
        try:
            claims = self.verify(bearer_token(metadata), may_refresh=may_refresh)
        except Unauthenticated:
            self.refused += 1
            raise
        self.accepted += 1
        return claims

    def verify(self, token: str, *, may_refresh: bool = True) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthenticated(f"Expected a bearer token of at most {MAX_TOKEN_BYTES} bytes, but it is longer")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthenticated("Expected the bearer token to be a JWT (header.payload.signature, base64url),"
                                  " but it cannot be decoded") from None
        algorithm = header.get("alg")
        if algorithm not in ALGORITHMS:
            raise Unauthenticated(f"Expected a token signed with one of {', '.join(ALGORITHMS)}, but it names"
                                  f" algorithm {_excerpt(algorithm, 20)}")
        kid = header.get("kid")
        keys = self._keys
        if keys is None:
            if may_refresh and self._may_refresh_now():
                raise KeyRefreshNeeded()
            raise SigningKeysUnavailable(f"The gateway cannot check tokens yet: {self._last_error or 'no signing keys'}")
        candidates = [k for k in keys if (kid is None or k.kid == kid)]
        if not candidates and kid is not None:
            if may_refresh and self._may_refresh_now():
                raise KeyRefreshNeeded()
            raise Unauthenticated(f"Expected a token signed with a key of the identity provider's key set, but"
                                  f" its key id {_excerpt(kid, 60)} is not in it")
        candidates = [k for k in candidates if k.fits(algorithm)]
        if not candidates:
            raise Unauthenticated(f"Expected a token whose algorithm fits its key, but key {_excerpt(kid, 60)}"
                                  f" cannot verify {algorithm}")
        error: jwt.InvalidTokenError | None = None
        for key in candidates:
            try:
                return jwt.decode(
                    token, key.key, algorithms=[algorithm], audience=self.audience, issuer=self.issuer,
                    leeway=self.leeway, options={"require": ["exp", "iss", "aud"]})
            except jwt.InvalidSignatureError as failure:
                error = failure  # another key (same kid or none named) may verify it
            except jwt.InvalidTokenError as failure:
                raise Unauthenticated(self._claims_problem(token, failure)) from None
        assert error is not None
        raise Unauthenticated("Expected a token signed by the identity provider, but its signature does not"
                              " verify") from None

    def _claims_problem(self, token: str, error: jwt.InvalidTokenError) -> str:
        """Words for a token whose signature verified but whose claims did not."""
        if isinstance(error, jwt.ExpiredSignatureError):
            return "Expected a valid token, but it has expired (exp); get a new one"
        if isinstance(error, jwt.ImmatureSignatureError):
            return "Expected a valid token, but it is not valid yet (nbf or iat is in the future)"
        if isinstance(error, jwt.MissingRequiredClaimError):
            return f"Expected a token with the '{error.claim}' claim, but it has none"
        claims = jwt.decode(token, options={"verify_signature": False})  # its signature did verify
        if isinstance(error, jwt.InvalidIssuerError):
            return (f"Expected a token issued by {_excerpt(self.issuer)}, but it was issued by"
                    f" {_excerpt(claims.get('iss'))}")
        if isinstance(error, jwt.InvalidAudienceError):
            return (f"Expected a token for audience {_excerpt(self.audience)}, but its audience is"
                    f" {_excerpt(claims.get('aud'))}")
        return f"Expected a valid token, but {error}"

    def statistics(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "refused": self.refused, "key_refreshes": self.refreshes,
                "keys": len(self._keys or ())}


def check_auth_settings(*, issuer: str, audience: str, jwks: str, names: Mapping[str, str]) -> None:
    """Raise ``ValueError`` naming the setting (``names``: ``issuer``/``audience``/``jwks`` -> the setting
    or flag) when one is missing, or when the JWKS is a file that holds no usable key. A URL is not
    fetched here: the provider may start after us; the gateway fetches it when it starts."""
    for what, value, hint in (
        ("jwks", jwks, "the identity provider's JSON Web Key Set: a file, or its https:// URL (the jwks_uri"
                       " of its /.well-known/openid-configuration)"),
        ("issuer", issuer, "the 'iss' its tokens carry (the provider's issuer URL)"),
        ("audience", audience, "the 'aud' the tokens for this gateway carry (Zeebe's default: zeebe-api)"),
    ):
        if not value:
            raise ValueError(f"{names[what]} is not set, and authentication needs it: set it to {hint}")
    if not is_url(jwks):
        try:
            read_jwks(jwks)
        except JwksError as error:
            raise ValueError(f"{names['jwks']}: {error}") from None
