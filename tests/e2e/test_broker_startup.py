"""A broker that cannot start says why in one line: the data directory is another broker's, or a
port is taken. Real processes, since the lock is an OS lock held for a process's lifetime."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import trio

from zeebe_trio.broker import Broker, BrokerConfig, StartupError

from .test_crash import _free_port, broker_process


def _start_broker(data_dir: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ZEEBE_TRIO_DATA_DIR": str(data_dir), "ZEEBE_TRIO_HOST": "127.0.0.1",
           "ZEEBE_TRIO_GATEWAY_PORT": "0", "ZEEBE_TRIO_COMMAND_API_PORT": "0", "ZEEBE_TRIO_COMMAND_API_HOST": "127.0.0.1",
           **{f"ZEEBE_TRIO_{name.upper()}": value for name, value in settings.items()}}
    return subprocess.run([sys.executable, "-m", "zeebe_trio.cli", "broker"], env=env, text=True,
                          capture_output=True, timeout=60)


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("zeebe-trio broker:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_a_second_broker_on_the_same_data_directory_exits_naming_the_directory_and_the_holder(tmp_path: Path) -> None:
    with broker_process(tmp_path, _free_port()) as first:
        second = _start_broker(tmp_path)
        assert second.returncode == 1
        line = _error_line(second)
        assert str(tmp_path.resolve()) in line and f"PID {first.pid}" in line and "ZEEBE_TRIO_DATA_DIR" in line
        assert "broker ready" not in second.stdout
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    # kill -9 released the lock: the directory is usable again at once.
    with broker_process(tmp_path, _free_port()) as third:
        assert third.poll() is None


@pytest.mark.parametrize(("setting", "variable"), [("gateway_port", "ZEEBE_TRIO_GATEWAY_PORT"),
                                                   ("command_api_port", "ZEEBE_TRIO_COMMAND_API_PORT")])
def test_a_taken_port_is_one_line_naming_the_address_and_its_setting(tmp_path: Path, setting: str,
                                                                       variable: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = _start_broker(tmp_path, **{setting: str(port)})
    assert result.returncode == 1
    line = _error_line(result)
    assert f"127.0.0.1:{port}" in line and "already in use" in line and variable in line


async def test_two_brokers_in_one_process_cannot_share_a_data_directory(tmp_path: Path) -> None:
    config = BrokerConfig(data_dir=tmp_path, gateway_port=0, host="127.0.0.1", exporters={}, command_api_port=0,
                          command_api_host="127.0.0.1")
    async with trio.open_nursery() as nursery:
        await nursery.start(Broker(config).run)
        with pytest.raises(StartupError, match="is in use by the broker with PID"):
            await Broker(config).run()
        nursery.cancel_scope.cancel()
    # Stopped cleanly: the lock is free for the next broker.
    async with trio.open_nursery() as nursery:
        await nursery.start(Broker(config).run)
        nursery.cancel_scope.cancel()


def test_a_data_directory_that_is_a_file_is_one_line_naming_it(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "data"
    not_a_directory.write_text("")
    result = _start_broker(not_a_directory)
    assert result.returncode == 1
    line = _error_line(result)
    assert f"'{not_a_directory}' is not a directory" in line and "ZEEBE_TRIO_DATA_DIR" in line
