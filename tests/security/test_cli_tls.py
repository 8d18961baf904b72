"""The command line over TLS: ``zeebe-trio status --certPath`` (zbctl's flag), ``ZEEBE_CA_CERTIFICATE_PATH``,
``https://`` addresses, ``--insecure``; and one line naming the fix when trust and transport do not match."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import trio

from zeebe_trio import cli

from ._material import Pki
from .conftest import broker_config, running_broker


async def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = await trio.to_thread.run_sync(functools.partial(cli.main, list(argv)))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    out, err = capsys.readouterr()
    return code, out, " ".join(err.split())


def _tls(pki: Pki) -> dict[str, str]:
    return {"gateway_tls_certificate": str(pki.certificate), "gateway_tls_private_key": str(pki.private_key)}


async def test_status_over_tls_with_cert_path_or_the_environment(tmp_path: Path, pki: Pki,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZEEBE_CA_CERTIFICATE_PATH", raising=False)
    async with running_broker(broker_config(tmp_path, **_tls(pki))) as broker:
        address = f"localhost:{broker.gateway_port}"
        for flag in ("--certPath", "--cert-path"):
            code, out, err = await _run(capsys, "status", "--address", address, flag, str(pki.ca))
            assert (code, err) == (0, "") and "partition 1: LEADER HEALTHY" in out
        code, out, _ = await _run(capsys, "status", "--address", f"https://{address}", "--certPath", str(pki.ca))
        assert code == 0
        monkeypatch.setenv("ZEEBE_CA_CERTIFICATE_PATH", str(pki.ca))
        code, out, _ = await _run(capsys, "deploy", "--address", address,
                                  str(Path(__file__).parents[2] / "examples" / "order" / "order.bpmn"))
        assert code == 0 and "deployed order-process version 1" in out


async def test_trust_and_transport_mismatches_are_one_line_naming_the_fix(tmp_path: Path, pki: Pki,
                                                                          capsys: pytest.CaptureFixture[str],
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZEEBE_CA_CERTIFICATE_PATH", raising=False)
    async with running_broker(broker_config(tmp_path / "tls", **_tls(pki))) as tls_broker, \
            running_broker(broker_config(tmp_path / "plain")) as plain_broker:
        tls_address = f"localhost:{tls_broker.gateway_port}"
        code, _, err = await _run(capsys, "status", "--address", tls_address, "--certPath", str(pki.other_ca))
        assert code == 1
        assert err == (f"zeebe-trio status: TLS with the gateway at {tls_address} failed: the certificate did not"
                       " verify: unable to get local issuer certificate (pass --certPath (or"
                       " ZEEBE_CA_CERTIFICATE_PATH) with the CA that issued the gateway's certificate)")
        code, _, err = await _run(capsys, "status", "--address", f"https://{tls_address}", "--timeout", "3")
        assert code == 1 and "the certificate did not verify" in err  # the system's CAs know nothing of ours

        code, _, err = await _run(capsys, "status", "--address", tls_address, "--timeout", "3")
        assert code == 1
        assert "does the gateway serve TLS? then pass --certPath" in err or "speaks TLS: pass --certPath" in err

        plain_address = f"localhost:{plain_broker.gateway_port}"
        code, _, err = await _run(capsys, "status", "--address", plain_address, "--certPath", str(pki.ca),
                                  "--timeout", "3")
        assert code == 1
        assert err.startswith(f"zeebe-trio status: TLS with the gateway at {plain_address} failed:")
        assert err.endswith("(is it a plaintext gateway? then drop --certPath / ZEEBE_CA_CERTIFICATE_PATH, or pass"
                            " --insecure)")

        monkeypatch.setenv("ZEEBE_CA_CERTIFICATE_PATH", str(pki.ca))
        code, out, _ = await _run(capsys, "status", "--address", plain_address, "--insecure")
        assert code == 0 and "LEADER" in out  # --insecure wins over the environment, as in zbctl


@pytest.mark.parametrize(("argv", "says"), [
    (["--certPath", "/no/such/ca.pem"], "zeebe-trio status: --certPath: cannot read '/no/such/ca.pem': No such file"
                                        " or directory; set it to the CA certificate(s) the server's certificate"
                                        " was issued by (a PEM file this process may read)"),
    (["--certPath", "ca.pem", "--insecure"], "zeebe-trio status: --insecure and --certPath contradict each other:"
                                             " drop one"),
    (["--address", "https://localhost:1", "--insecure"], "zeebe-trio status: --insecure with an https:// address:"
                                                         " drop one"),
])
async def test_tls_usage_errors(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                argv: list[str], says: str) -> None:
    monkeypatch.delenv("ZEEBE_CA_CERTIFICATE_PATH", raising=False)
    assert await _run(capsys, "status", *argv) == (2, "", says)


async def test_an_unreadable_environment_certificate_names_the_variable(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZEEBE_CA_CERTIFICATE_PATH", "/no/such/ca.pem")
    code, _, err = await _run(capsys, "status")
    assert code == 2 and err.startswith("zeebe-trio status: ZEEBE_CA_CERTIFICATE_PATH: cannot read '/no/such/ca.pem'")


@pytest.mark.slow
def test_broker_and_standalone_gateway_processes_with_every_security_flag(tmp_path: Path, pki: Pki) -> None:
    """Real processes: a broker whose command API serves TLS, and ``zeebe-trio gateway --broker-ca ...
    --tls-certificate ... --auth-jwks ...`` in front of it; a grpcio client with the CA and a token."""
    import os
    import socket
    import subprocess
    import sys
    import threading

    import grpc
    from pyzeebe.proto import gateway_pb2 as pb
    from pyzeebe.proto import gateway_pb2_grpc

    from ._material import AUDIENCE, ISSUER, SigningKey, write_jwks

    def free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return int(s.getsockname()[1])

    def start(args: list[str], env: dict[str, str], *ready: str) -> subprocess.Popen[str]:
        """Start a process and read its output until every one of ``ready`` has appeared (any order)."""
        process = subprocess.Popen([sys.executable, "-m", "zeebe_trio.cli", *args], env={**os.environ, **env},
                                   text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        processes.append(process)
        assert process.stdout is not None
        waiting = set(ready)
        for line in process.stdout:
            waiting = {text for text in waiting if text not in line}
            if not waiting:
                threading.Thread(target=process.stdout.read, daemon=True).start()  # keep draining it
                return process
        raise AssertionError(f"{args[0]} exited with {process.wait()} before printing {waiting}")

    key = SigningKey("rsa-1")
    jwks_file = write_jwks(tmp_path / "jwks.json", key)
    command_api_port, grpc_port = free_port(), free_port()
    processes: list[subprocess.Popen[str]] = []
    try:
        start(["broker"], {
            "ZEEBE_TRIO_DATA_DIR": str(tmp_path / "data"), "ZEEBE_TRIO_EMBEDDED_GATEWAY": "false",
            "ZEEBE_TRIO_COMMAND_API_PORT": str(command_api_port),
            "ZEEBE_TRIO_COMMAND_API_TLS_CERTIFICATE": str(pki.certificate),
            "ZEEBE_TRIO_COMMAND_API_TLS_PRIVATE_KEY": str(pki.private_key)}, "broker ready")
        start([
            "gateway", "--broker", f"localhost:{command_api_port}", "--broker-ca", str(pki.ca),
            "--host", "127.0.0.1", "--port", str(grpc_port),
            "--tls-certificate", str(pki.certificate), "--tls-private-key", str(pki.private_key),
            "--auth-jwks", str(jwks_file), "--auth-issuer", ISSUER, "--auth-audience", AUDIENCE,
        ], {}, "gateway ready", "connected to broker")
        credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca.read_bytes())
        with grpc.secure_channel(f"localhost:{grpc_port}", credentials) as channel:
            stub = gateway_pb2_grpc.GatewayStub(channel)
            topology = stub.Topology(pb.TopologyRequest(), timeout=10,
                                     metadata=[("authorization", f"Bearer {key.token()}")])
            assert [b.nodeId for b in topology.brokers] == [0]
            with pytest.raises(grpc.RpcError) as refused:
                stub.Topology(pb.TopologyRequest(), timeout=10)
            assert refused.value.code() is grpc.StatusCode.UNAUTHENTICATED
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)
