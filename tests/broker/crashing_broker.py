"""``zeebe-trio broker``, except that processing a process instance creation whose variables hold
``"crashTheBroker": true`` kills the process on the spot (exit 137, as the kernel's OOM killer does).

Test-only: tests/broker/test_storage_processes.py runs it as a real process to show that a command
whose processing crashes the broker does not crash it forever (the crash guard). Not a test module.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from zeebe_trio.cli import main
from zeebe_trio.engine import Engine
from zeebe_trio.protocol import ValueType

_process = Engine.process


def _process_or_die(self: Engine, command: Any, now: int, first_position: int) -> Any:
    if command.value_type is ValueType.PROCESS_INSTANCE_CREATION and \
            (command.value.get("variables") or {}).get("crashTheBroker"):
        os._exit(137)
    return _process(self, command, now, first_position)


Engine.process = _process_or_die  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
