"""Bearer tokens on the gateway: real grpcio clients with ``authorization`` metadata, tokens the tests
sign themselves, keys from a JWKS file or a local HTTP server."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest
import trio
from pyzeebe import ZeebeClient, create_secure_channel
from pyzeebe.proto import gateway_pb2 as pb

from zeebe_trio.broker import Broker, BrokerConfig, ConfigError
from zeebe_trio.gateway import serve_gateway
from zeebe_trio.gateway._auth import TokenVerifier

from ._material import (
    AUDIENCE,
    ISSUER,
    Pki,
    SigningKey,
    hmac_token_with_public_key,
    jwks,
    unsigned_token,
    write_jwks,
)
from .conftest import JwksServer, broker_config, running_broker

RSA = SigningKey("rsa-1", "RS256")
EC = SigningKey("ec-1", "ES256")
UNKNOWN = SigningKey("rsa-1", "RS256")  # same kid, another key: what a forger would try


def _auth(jwks_source: str | Path) -> dict[str, Any]:
    return {"gateway_auth_enabled": True, "gateway_auth_issuer": ISSUER, "gateway_auth_audience": AUDIENCE,
            "gateway_auth_jwks": str(jwks_source)}


@asynccontextmanager
async def authenticating_broker(tmp_path: Path, **settings: Any) -> AsyncIterator[Broker]:
    jwks_file = write_jwks(tmp_path / "jwks.json", RSA, EC)
    async with running_broker(broker_config(tmp_path / "data", **{**_auth(jwks_file), **settings})) as broker:
        yield broker


async def test_valid_rs256_and_es256_tokens_are_accepted(tmp_path: Path, clients) -> None:
    async with authenticating_broker(tmp_path) as broker:
        client = clients(f"127.0.0.1:{broker.gateway_port}")
        for token in (RSA.token(), EC.token(), RSA.token(audience=["other-api", AUDIENCE]), RSA.token(kid=None)):
            assert (await client.topology(token=token)).clusterSize == 1


# Tokens are signed when the test runs, not at import: a suite that runs for minutes must not see
# its "valid" tokens expire.
@pytest.mark.parametrize(("make_token", "message"), [
    (lambda: None, "Expected bearer token at header with key [authorization], but found nothing"),
    (lambda: RSA.token(lifetime=-120), "Expected a valid token, but it has expired (exp); get a new one"),
    (lambda: RSA.token(not_before=time.time() + 600), "Expected a valid token, but it is not valid yet (nbf or iat is in"
                                              " the future)"),
    (lambda: RSA.token(issuer="https://evil.example"), f"Expected a token issued by '{ISSUER}', but it was issued by"
                                               " 'https://evil.example'"),
    (lambda: RSA.token(audience="operate-api"), f"Expected a token for audience '{AUDIENCE}', but its audience is"
                                        " 'operate-api'"),
    (lambda: UNKNOWN.token(), "Expected a token signed by the identity provider, but its signature does not verify"),
    (lambda: unsigned_token(), "Expected a token signed with one of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384,"
                       " ES512, but it names algorithm 'none'"),
    (lambda: hmac_token_with_public_key(RSA), "Expected a token signed with one of RS256, RS384, RS512, PS256, PS384,"
                                      " PS512, ES256, ES384, ES512, but it names algorithm 'HS256'"),
    (lambda: SigningKey("ec-1", "ES384").token(), "Expected a token whose algorithm fits its key, but key 'ec-1' cannot"
                                          " verify ES384"),
    (lambda: SigningKey("rsa-9").token(), "Expected a token signed with a key of the identity provider's key set, but its"
                                  " key id 'rsa-9' is not in it"),
    (lambda: "not-a-jwt", "Expected the bearer token to be a JWT (header.payload.signature, base64url), but it cannot be"
                  " decoded"),
], ids=["missing", "expired", "not-yet-valid", "wrong-issuer", "wrong-audience", "bad-signature", "alg-none",
        "hs256-with-public-key", "alg-does-not-fit-key", "unknown-kid", "not-a-jwt"])
async def test_calls_without_a_valid_token_are_unauthenticated(tmp_path: Path, clients,
                                                               make_token: Callable[[], str | None],
                                                               message: str) -> None:
    token = make_token()
    async with authenticating_broker(tmp_path) as broker:
        client = clients(f"127.0.0.1:{broker.gateway_port}")
        error = await client.error(metadata=[] if token is None else [("authorization", f"Bearer {token}")])
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED
        assert error.details() == message
        if token is not None:
            assert token not in error.details()
        # nothing reached the broker: a deployment is refused before its request is read
        refused = await client.error("DeployResource", pb.DeployResourceRequest(
            resources=[pb.Resource(name="x.bpmn", content=b"<x/>")]), token=token or "")
        assert refused.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_other_kinds_of_credentials_are_unauthenticated(tmp_path: Path, clients) -> None:
    async with authenticating_broker(tmp_path) as broker:
        client = clients(f"127.0.0.1:{broker.gateway_port}")
        error = await client.error(metadata=[("authorization", "Basic dXNlcjpwYXNz")])
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED
        assert "another kind of credential" in error.details()
        assert "dXNlcjpwYXNz" not in error.details()


async def test_the_health_service_stays_open(tmp_path: Path) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with authenticating_broker(tmp_path) as broker:
        with grpc.insecure_channel(f"127.0.0.1:{broker.gateway_port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            answer = await trio.to_thread.run_sync(
                functools.partial(stub.Check, health_pb2.HealthCheckRequest(service=""), timeout=10))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_pyzeebe_over_tls_with_a_token_in_call_credentials(tmp_path: Path, pki: Pki) -> None:
    """pyzeebe's secure channel, given composite credentials: TLS plus a metadata plugin that adds the
    bearer token to every call, as an OAuth-less deployment would."""
    token = RSA.token()

    class Bearer(grpc.AuthMetadataPlugin):
        def __call__(self, context: grpc.AuthMetadataContext, callback: grpc.AuthMetadataPluginCallback) -> None:
            callback((("authorization", f"Bearer {token}"),), None)

    def run(port: int, with_token: bool) -> Any:
        async def main() -> Any:
            credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
            if with_token:
                credentials = grpc.composite_channel_credentials(credentials, grpc.metadata_call_credentials(Bearer()))
            channel = create_secure_channel(f"localhost:{port}", channel_credentials=credentials)
            try:
                return await ZeebeClient(channel, max_connection_retries=1).topology()
            except Exception as error:
                return error
            finally:
                await channel.close()

        return asyncio.run(main())

    settings = {"gateway_tls_certificate": str(pki.certificate), "gateway_tls_private_key": str(pki.private_key)}
    async with authenticating_broker(tmp_path, **settings) as broker:
        accepted = await trio.to_thread.run_sync(run, broker.gateway_port, True)
        refused = await trio.to_thread.run_sync(run, broker.gateway_port, False)
    assert accepted.cluster_size == 1
    assert isinstance(refused, Exception)
    assert "UNAUTHENTICATED" in repr(refused) or "Unauthenticated" in type(refused).__name__


# -- keys from a URL --------------------------------------------------------------------------------

@asynccontextmanager
async def gateway_with(broker_tmp: Path, verifier: TokenVerifier) -> AsyncIterator[int]:
    """The gateway in front of a real broker, with a verifier the test configured itself."""
    config = broker_config(broker_tmp, embedded_gateway=False, command_api_enabled=False)
    async with running_broker(config) as broker, trio.open_nursery() as nursery:
        port = await nursery.start(functools.partial(serve_gateway, broker, host="127.0.0.1", grpc_port=0,
                                                     auth=verifier))
        yield port
        nursery.cancel_scope.cancel()


async def test_keys_from_a_url_and_a_rotation_read_once_on_an_unknown_kid(
        tmp_path: Path, clients, jwks_server: JwksServer) -> None:
    jwks_server.document = jwks(RSA)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=jwks_server.url, min_refresh_interval=0)
    async with gateway_with(tmp_path, verifier) as port:
        client = clients(f"127.0.0.1:{port}")
        assert (await client.topology(token=RSA.token())).clusterSize == 1
        fetches = jwks_server.fetches
        assert fetches == 1  # read when the gateway started, then cached
        await client.topology(token=RSA.token())
        assert jwks_server.fetches == fetches

        rotated = SigningKey("rsa-2")
        jwks_server.document = jwks(rotated)  # the provider rotated: rsa-1 is gone, rsa-2 signs now
        assert (await client.topology(token=rotated.token())).clusterSize == 1
        assert jwks_server.fetches == fetches + 1  # the unknown kid made it read the keys again, once

        error = await client.error(token=SigningKey("rsa-3").token())  # a kid the provider does not have either
        assert error.code() is grpc.StatusCode.UNAUTHENTICATED
        assert "key id 'rsa-3' is not in it" in error.details()
        assert jwks_server.fetches == fetches + 2

        stale = await client.error(token=RSA.token())  # rsa-1's tokens are refused once its key is withdrawn
        assert stale.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_unknown_kids_read_the_keys_at_most_once_per_min_refresh_interval(
        tmp_path: Path, clients, jwks_server: JwksServer) -> None:
    jwks_server.document = jwks(RSA)
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=jwks_server.url, min_refresh_interval=3600)
    async with gateway_with(tmp_path, verifier) as port:
        client = clients(f"127.0.0.1:{port}")
        await client.topology(token=RSA.token())
        for n in range(5):
            error = await client.error(token=SigningKey(f"made-up-{n}").token())
            assert error.code() is grpc.StatusCode.UNAUTHENTICATED
        assert jwks_server.fetches == 1


async def test_an_unreachable_jwks_url_is_unavailable_naming_it(tmp_path: Path, clients,
                                                               jwks_server: JwksServer) -> None:
    jwks_server.status = 503
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=jwks_server.url, min_refresh_interval=3600)
    async with gateway_with(tmp_path, verifier) as port:
        error = await clients(f"127.0.0.1:{port}").error(token=RSA.token())
    assert error.code() is grpc.StatusCode.UNAVAILABLE
    assert error.details() == f"The gateway cannot check tokens yet: the JWKS at {jwks_server.url} answered HTTP 503"\
                              " Service Unavailable"


# -- settings ---------------------------------------------------------------------------------------

def _load(**settings: Any) -> BrokerConfig:
    return BrokerConfig.load(environ={f"ZEEBE_TRIO_{name.upper()}": str(value).lower() if isinstance(value, bool)
                                      else str(value) for name, value in settings.items()})


def test_auth_is_off_by_default() -> None:
    assert BrokerConfig().gateway_auth_enabled is False


@pytest.mark.parametrize("missing", ["gateway_auth_jwks", "gateway_auth_issuer", "gateway_auth_audience"])
def test_auth_without_one_of_its_settings_is_an_error_naming_it(tmp_path: Path, missing: str) -> None:
    settings = _auth(write_jwks(tmp_path / "jwks.json", RSA))
    del settings[missing]
    with pytest.raises(ConfigError, match=f"^{missing} is not set, and authentication needs it: set it to .*"
                                          r" \(gateway_auth_enabled is true\)$"):
        _load(**settings)


def test_a_jwks_file_is_read_at_startup(tmp_path: Path) -> None:
    assert _load(**_auth(write_jwks(tmp_path / "jwks.json", RSA))).gateway_auth_enabled
    with pytest.raises(ConfigError, match=r"^gateway_auth_jwks: cannot read the JWKS file '.*nope.json': No such"
                                          " file or directory"):
        _load(**_auth(tmp_path / "nope.json"))
    (tmp_path / "empty.json").write_text('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}')
    with pytest.raises(ConfigError, match=r"^gateway_auth_jwks: the JWKS at .*empty.json holds no RSA or EC"
                                          r" signature key \(key type 'oct' is not supported\)"):
        _load(**_auth(tmp_path / "empty.json"))


def test_a_jwks_url_is_not_fetched_at_load(tmp_path: Path) -> None:
    config = _load(**_auth("https://idp.example.test/realms/camunda/protocol/openid-connect/certs"))
    assert config.gateway_auth_jwks.startswith("https://")
