"""The Raft role logic stays free of I/O, clocks and global randomness (the driver and transport hold those)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

RAFT = Path(__file__).resolve().parents[2] / "zeebe_trio" / "raft"
PURE = ["_node.py", "_messages.py", "_storage.py", "_config.py"]


@pytest.mark.parametrize("name", PURE)
def test_the_role_logic_imports_no_trio_clock_threads_or_os(name: str) -> None:
    tree = ast.parse((RAFT / name).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imported.add(node.module.split(".")[0])
    assert not imported & {"trio", "asyncio", "time", "threading", "os", "socket", "secrets", "uuid", "datetime"}


def test_the_node_draws_randomness_only_from_the_generator_it_is_handed() -> None:
    tree = ast.parse((RAFT / "_node.py").read_text())
    uses = {f"random.{node.attr}" for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "random"}
    assert uses == {"random.Random"}  # a type annotation; never the module-level generator
