"""Deployed processes' executable models, built once per process definition key.

The cache is derived data: it is rebuilt from the stored BPMN resource whenever it misses, so it
needs no snapshotting and replay cannot disagree with it.
"""

from __future__ import annotations

from typing import Any

from .bpmn import parse_bpmn
from .bpmn.model import ExecutableProcess, transform_process
from .state import EngineState


class ProcessCache:
    def __init__(self, state: EngineState, max_entries: int = 1024) -> None:
        self._state = state
        self._max_entries = max_entries
        self._by_key: dict[int, ExecutableProcess] = {}

    def put(self, key: int, compiled: ExecutableProcess) -> None:
        if len(self._by_key) >= self._max_entries:
            self._by_key.pop(next(iter(self._by_key)))
        self._by_key[key] = compiled

    def clear(self) -> None:
        self._by_key.clear()

    def get(self, key: int) -> ExecutableProcess | None:
        compiled = self._by_key.get(key)
        if compiled is not None:
            return compiled
        stored = self._state.process(key)
        if stored is None:
            return None
        compiled = self._compile_stored(stored)
        self.put(key, compiled)
        return compiled

    @staticmethod
    def _compile_stored(stored: dict[str, Any]) -> ExecutableProcess:
        for process in parse_bpmn(stored["resourceName"], stored["resource"]):
            if process.bpmn_process_id == stored["bpmnProcessId"]:
                return transform_process(process)
        raise LookupError(f"process '{stored['bpmnProcessId']}' is missing from its stored resource")
