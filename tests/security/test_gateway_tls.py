"""TLS on the gateway's gRPC port: real grpcio and pyzeebe clients over TLS, wrong trust refused, and
the settings checked at startup with one line that names the setting."""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import sys
from pathlib import Path

import grpc
import pytest
import trio
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pyzeebe import ZeebeClient, create_secure_channel

from zeebe_trio.broker import Broker, BrokerConfig, ConfigError, StartupError

from ._material import Pki
from .conftest import broker_config, running_broker


def _tls(pki: Pki) -> dict[str, str]:
    return {"gateway_tls_certificate": str(pki.certificate), "gateway_tls_private_key": str(pki.private_key)}


async def test_grpc_client_trusting_the_ca_talks_to_the_gateway_over_tls(tmp_path: Path, pki: Pki, clients) -> None:
    async with running_broker(broker_config(tmp_path, **_tls(pki))) as broker:
        for host in ("127.0.0.1", "localhost"):  # the certificate names both
            topology = await clients(f"{host}:{broker.gateway_port}", ca=pki.ca).topology()
            assert [p.partitionId for p in topology.brokers[0].partitions] == [1]


async def test_pyzeebe_secure_channel_deploys_and_starts_an_instance(tmp_path: Path, pki: Pki) -> None:
    bpmn = (Path(__file__).parents[2] / "examples" / "order" / "order.bpmn")

    def run(port: int) -> tuple[int, int]:
        async def main() -> tuple[int, int]:
            credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
            channel = create_secure_channel(f"localhost:{port}", channel_credentials=credentials)
            try:
                client = ZeebeClient(channel)
                topology = await client.topology()
                deployment = await client.deploy_resource(str(bpmn))
                return topology.cluster_size, deployment.key
            finally:
                await channel.close()

        return asyncio.run(main())

    async with running_broker(broker_config(tmp_path, **_tls(pki))) as broker:
        cluster_size, deployment_key = await trio.to_thread.run_sync(functools.partial(run, broker.gateway_port))
    assert cluster_size == 1
    assert deployment_key > 0


async def test_clients_that_do_not_trust_the_certificate_or_speak_plaintext_get_nothing(
        tmp_path: Path, pki: Pki, clients) -> None:
    async with running_broker(broker_config(tmp_path, **_tls(pki))) as broker:
        address = f"127.0.0.1:{broker.gateway_port}"
        refused = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)  # the latter on a loaded machine
        untrusting = await clients(address, ca=pki.other_ca).error(timeout=5)
        assert untrusting.code() in refused
        plaintext = await clients(address).error(timeout=5)
        assert plaintext.code() in refused
        wrong_name = await clients(address, ca=pki.ca, server_name="gateway.example.org").error(timeout=5)
        assert wrong_name.code() in refused
        # and the gateway still serves those who do trust it
        assert (await clients(address, ca=pki.ca).topology()).clusterSize == 1


async def test_without_tls_settings_the_gateway_stays_plaintext(tmp_path: Path, clients) -> None:
    async with running_broker(broker_config(tmp_path)) as broker:
        assert (await clients(f"127.0.0.1:{broker.gateway_port}").topology()).clusterSize == 1


# -- settings -------------------------------------------------------------------------------------

def _load(**environ: str) -> BrokerConfig:
    return BrokerConfig.load(environ={f"ZEEBE_TRIO_{name.upper()}": value for name, value in environ.items()})


def test_tls_settings_load_from_the_environment(pki: Pki) -> None:
    config = _load(**_tls(pki))
    assert config.gateway_tls_certificate == str(pki.certificate)
    assert config.gateway_tls_private_key == str(pki.private_key)


@pytest.mark.parametrize("prefix", ["gateway_tls", "command_api_tls"])
def test_only_one_of_the_pair_is_an_error_naming_both(pki: Pki, prefix: str) -> None:
    with pytest.raises(ConfigError, match=f"^{prefix}_certificate is set but {prefix}_private_key is not: set both"):
        _load(**{f"{prefix}_certificate": str(pki.certificate)})
    with pytest.raises(ConfigError, match=f"^{prefix}_private_key is set but {prefix}_certificate is not"):
        _load(**{f"{prefix}_private_key": str(pki.private_key)})


def test_a_missing_file_names_the_setting_and_the_file(pki: Pki, tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(ConfigError) as caught:
        _load(gateway_tls_certificate=str(missing), gateway_tls_private_key=str(pki.private_key))
    assert str(caught.value) == (f"gateway_tls_certificate: cannot read '{missing}': No such file or directory;"
                                 " set it to the server's certificate chain (a PEM file this process may read)")


def test_files_that_are_not_what_they_should_be(pki: Pki, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(ConfigError, match=r"^gateway_tls_certificate: '.*garbage.pem' holds no PEM certificate"):
        _load(gateway_tls_certificate=str(garbage), gateway_tls_private_key=str(pki.private_key))
    with pytest.raises(ConfigError, match=r"^gateway_tls_private_key: '.*' holds no PEM private key"):
        _load(gateway_tls_certificate=str(pki.certificate), gateway_tls_private_key=str(pki.certificate))

    encrypted = tmp_path / "encrypted.pem"
    encrypted.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"password")))
    with pytest.raises(ConfigError, match=r"^gateway_tls_private_key: the private key in '.*' is encrypted"):
        _load(gateway_tls_certificate=str(pki.certificate), gateway_tls_private_key=str(encrypted))

    other_key = tmp_path / "other-key.pem"
    other_key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ConfigError, match=r"^command_api_tls_private_key: the private key in '.*' does not"
                                          r" belong to the certificate"):
        _load(command_api_tls_certificate=str(pki.certificate), command_api_tls_private_key=str(other_key))


async def test_a_broker_built_without_load_checks_the_files_at_startup(tmp_path: Path, pki: Pki) -> None:
    config = broker_config(tmp_path / "data", gateway_tls_certificate=str(pki.certificate))
    with pytest.raises(StartupError, match="^gateway_tls_certificate is set but gateway_tls_private_key is not"):
        await Broker(config).run()
    assert not (tmp_path / "data" / "broker.lock").exists()  # refused before it opened anything


async def test_the_gateway_stops_cleanly_with_a_tls_handshake_still_open(tmp_path: Path, pki: Pki) -> None:
    """A connection whose TLS handshake never finished has no HTTP/2 processor yet: shutting down
    must pass it by (it once raised AttributeError there)."""
    async with running_broker(broker_config(tmp_path, **_tls(pki))) as broker:
        stream = await trio.open_tcp_stream("127.0.0.1", broker.gateway_port)  # and then not a byte
        await stream.send_all(b"\x16\x03\x01")  # the start of a ClientHello, never finished
        await trio.sleep(0.2)  # for the asyncio side to accept it (nothing to wait on from here)
    await stream.aclose()


_ZBCTL = (shutil.which("zbctl-cli.linux", path=str(Path(__file__).resolve().parents[2] / ".ci" / "tools"
                                                    / "node_modules" / ".bin")) if sys.platform == "linux" else None)


@pytest.mark.skipif(_ZBCTL is None, reason="zbctl is not installed (.ci/run installs it: npm install --prefix .ci/tools)")
async def test_zbctl_with_cert_path_or_its_environment_variable(tmp_path: Path, pki: Pki) -> None:
    assert _ZBCTL is not None
    async with running_broker(broker_config(tmp_path, **_tls(pki))) as broker:
        address = f"localhost:{broker.gateway_port}"
        flag = await trio.run_process([_ZBCTL, "--address", address, "--certPath", str(pki.ca), "status"],
                                      capture_stdout=True, capture_stderr=True, check=False)
        assert flag.returncode == 0, flag.stderr
        assert b"Partition 1 : Leader, Healthy" in flag.stdout
        env = {**os.environ, "ZEEBE_CA_CERTIFICATE_PATH": str(pki.ca)}
        variable = await trio.run_process([_ZBCTL, "--address", address, "status"], env=env,
                                          capture_stdout=True, capture_stderr=True, check=False)
        assert variable.returncode == 0, variable.stderr
        untrusting = await trio.run_process([_ZBCTL, "--address", address, "--certPath", str(pki.other_ca),
                                             "status", "--requestTimeout", "3s"],
                                            capture_stdout=True, capture_stderr=True, check=False)
        assert untrusting.returncode != 0
        assert b"certificate" in untrusting.stderr, untrusting.stderr
