"""TokenVerifier on its own: key selection, the refresh schedule (a controlled clock), JWKS parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zeebe_trio.gateway._auth import (
    MAX_TOKEN_BYTES,
    JwksError,
    KeyRefreshNeeded,
    SigningKeysUnavailable,
    TokenVerifier,
    Unauthenticated,
    bearer_token,
    parse_jwks,
)

from ._material import AUDIENCE, ISSUER, SigningKey, jwks, write_jwks


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _verifier(path: Path, clock: Clock, **options: float) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=str(path), clock=clock, **options)


def test_no_keys_yet_asks_for_a_read_then_says_why_there_are_none(tmp_path: Path) -> None:
    clock = Clock()
    verifier = _verifier(tmp_path / "missing.json", clock)
    token = SigningKey("k").token()
    with pytest.raises(KeyRefreshNeeded):
        verifier.verify(token)
    with pytest.raises(JwksError):
        verifier.refresh()
    with pytest.raises(SigningKeysUnavailable, match="cannot read the JWKS file"):
        verifier.verify(token)  # the failed read counts: no new read before min_refresh_interval


def test_keys_are_due_for_a_background_read_after_the_refresh_interval(tmp_path: Path) -> None:
    clock = Clock()
    key = SigningKey("k")
    verifier = _verifier(write_jwks(tmp_path / "jwks.json", key), clock, refresh_interval=300)
    verifier.refresh()
    assert verifier.verify(key.token())["sub"] == "worker-1"
    clock.now += 299
    assert not verifier.refresh_due
    clock.now += 1
    assert verifier.refresh_due
    verifier.refresh()
    assert not verifier.refresh_due and verifier.refreshes == 2


def test_an_unknown_kid_asks_for_a_read_only_after_min_refresh_interval(tmp_path: Path) -> None:
    clock = Clock()
    verifier = _verifier(write_jwks(tmp_path / "jwks.json", SigningKey("k")), clock, min_refresh_interval=10)
    verifier.refresh()
    stranger = SigningKey("new").token()
    with pytest.raises(Unauthenticated, match="key id 'new' is not in it"):
        verifier.verify(stranger)
    clock.now += 10
    with pytest.raises(KeyRefreshNeeded):
        verifier.verify(stranger)
    with pytest.raises(Unauthenticated):
        verifier.verify(stranger, may_refresh=False)


def test_tokens_without_kid_try_every_key_that_fits(tmp_path: Path) -> None:
    keys = [SigningKey("a"), SigningKey("b"), SigningKey("c", "ES256"), SigningKey("p", "PS256")]
    verifier = _verifier(write_jwks(tmp_path / "jwks.json", *keys), Clock())
    verifier.refresh()
    for key in keys:
        assert verifier.verify(key.token(kid=None))["iss"] == ISSUER
    with pytest.raises(Unauthenticated, match="signature does not verify"):
        verifier.verify(SigningKey("x").token(kid=None))


def test_the_leeway_forgives_small_clock_skew(tmp_path: Path) -> None:
    key = SigningKey("k")
    verifier = _verifier(write_jwks(tmp_path / "jwks.json", key), Clock(), leeway=30)
    verifier.refresh()
    assert verifier.verify(key.token(lifetime=-10))
    with pytest.raises(Unauthenticated, match="expired"):
        verifier.verify(key.token(lifetime=-60))


def test_a_token_without_exp_is_refused(tmp_path: Path) -> None:
    import jwt

    key = SigningKey("k")
    verifier = _verifier(write_jwks(tmp_path / "jwks.json", key), Clock())
    verifier.refresh()
    token = jwt.encode({"iss": ISSUER, "aud": AUDIENCE}, key.private_key, algorithm="RS256", headers={"kid": "k"})
    with pytest.raises(Unauthenticated, match="^Expected a token with the 'exp' claim, but it has none$"):
        verifier.verify(token)


def test_oversized_tokens_are_refused_before_decoding(tmp_path: Path) -> None:
    verifier = _verifier(tmp_path / "unused.json", Clock())
    with pytest.raises(Unauthenticated, match=f"at most {MAX_TOKEN_BYTES} bytes"):
        verifier.verify("a" * (MAX_TOKEN_BYTES + 1))


def test_bearer_token_reads_the_authorization_entry() -> None:
    assert bearer_token({"authorization": "Bearer abc.def.ghi"}) == "abc.def.ghi"
    assert bearer_token({"authorization": "bearer  abc.def.ghi "}) == "abc.def.ghi"
    with pytest.raises(Unauthenticated, match="found nothing"):
        bearer_token({})
    with pytest.raises(Unauthenticated, match="another kind of credential"):
        bearer_token({"authorization": "Bearer "})


def test_jwks_parsing_keeps_signature_keys_and_only_their_public_half() -> None:
    signing, encrypting = SigningKey("sig"), SigningKey("enc")
    document = jwks(signing, encrypting)
    document["keys"][1]["use"] = "enc"
    private = SigningKey("priv")
    import jwt as pyjwt

    private_jwk = json.loads(pyjwt.get_algorithm_by_name("RS256").to_jwk(private.private_key))
    document["keys"].append({**private_jwk, "kid": "priv"})
    keys = parse_jwks(json.dumps(document).encode(), "test")
    assert [k.kid for k in keys] == ["sig", "priv"]
    assert not hasattr(keys[1].key, "private_numbers")
    with pytest.raises(JwksError, match='has no "keys" list'):
        parse_jwks(b"[]", "test")
    with pytest.raises(JwksError, match="is not JSON"):
        parse_jwks(b"{", "test")
