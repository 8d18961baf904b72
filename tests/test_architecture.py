"""The module map holds: dependencies point one way, asyncio lives in the gateway hosts, and every public
name is exported by exactly one package (STYLE.md, sections 1 and 3)."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "zeebe_trio"

# package -> the zeebe_trio packages it may import (besides itself)
ALLOWED = {
    "protocol": set(),
    "log": {"protocol"},
    "raft": {"log", "protocol"},
    "state": {"protocol"},
    "stream": {"log", "state", "protocol"},
    "engine": {"protocol", "state"},
    "exporters": {"protocol"},
    "gateway": {"protocol"},
    "cluster": {"protocol", "raft"},
    "broker": {"protocol", "log", "raft", "state", "stream", "engine", "exporters", "gateway", "cluster"},
}
NO_TRIO = {"protocol", "engine", "state"}


def _modules(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*.py") if "_generated" not in p.parts)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolved_imports(path: Path) -> set[str]:
    """The zeebe_trio modules ``path`` imports, relative imports resolved (``from . import x`` names the
    module ``x`` when there is one, else the package)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("zeebe_trio"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if not module.startswith("zeebe_trio"):
                continue
            for alias in node.names:
                candidate = f"{module}.{alias.name}"
                found.add(candidate if _is_module(candidate) else module)
    return found


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    nodes: list[ast.AST] = []
    pending = [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and isinstance(child.test, ast.Name) and child.test.id == "TYPE_CHECKING":
                pending.extend(child.orelse)
                continue
            pending.append(child)
    return nodes


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def test_no_module_imports_itself_through_others() -> None:
    """No import circles between modules, counting imports inside functions and a package's
    ``__init__`` (importing ``a.b`` runs ``a``): a circle means two modules are one concern, or one of
    them reaches back for a service it should have been handed."""
    graph: dict[str, set[str]] = {}
    for path in _modules(PACKAGE):
        name = _module_name(path)
        edges = set()
        for target in _resolved_imports(path):
            parts = target.split(".")
            # importing a.b.c runs a/__init__ and a/b/__init__ first
            edges.update(".".join(parts[:i]) for i in range(2, len(parts) + 1))
        edges.discard(name)
        # a package's __init__ importing its own submodules is how packages export; a submodule
        # importing a sibling through the package is what would close a circle
        graph[name] = {e for e in edges if not (e.startswith(name + ".") and path.name == "__init__.py")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in graph:
                continue
            if state.get(target) == 1:
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not cycles, "import circles:\n" + "\n".join(" -> ".join(c) for c in cycles[:10])


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_the_packages_below_it(package: str) -> None:
    violations = []
    for path in _modules(PACKAGE / package):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "zeebe_trio" or len(parts) < 2:
                continue
            target = parts[1]
            if target != package and target not in ALLOWED[package]:
                violations.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not violations, "\n".join(violations)


@pytest.mark.parametrize("package", sorted(NO_TRIO))
def test_the_deterministic_core_never_imports_trio_or_reads_the_wall_clock(package: str) -> None:
    for path in _modules(PACKAGE / package):
        imports = _imports(path)
        # No clock module, no randomness: time arrives on the record or as an injected clock (the FEEL
        # budget's ``monotonic``, which only decides when to give up, as an incident on the log).
        assert not {"trio", "asyncio", "random", "threading", "time", "secrets", "uuid"} & {
            n.split(".")[0] for n in imports}, path
        text = path.read_text()
        for reading in ("datetime.now(", "datetime.utcnow(", "date.today(", "os.urandom(", "os.getrandom("):
            assert reading not in text, f"{path} reads the wall clock or the system's randomness: {reading}"


def test_asyncio_lives_only_in_the_gateway_hosts() -> None:
    # grpclib runs on asyncio on both ends: the gateway's server host (bridged to Trio) and the
    # command line's client host (one asyncio.run per call, no Trio). Nowhere else.
    users = sorted(p.relative_to(ROOT).as_posix() for p in _modules(PACKAGE)
                   if "asyncio" in {n.split(".")[0] for n in _imports(p)})
    assert users == ["zeebe_trio/gateway/_client_host.py", "zeebe_trio/gateway/_host.py"]


def test_the_duckdb_plugin_sees_only_the_exporter_api_and_protocol() -> None:
    for path in _modules(ROOT / "plugins" / "duckdb_exporter" / "zeebe_trio_duckdb"):
        for name in _imports(path):
            if name.startswith("zeebe_trio."):
                assert name.split(".")[1] in {"exporters", "protocol"}, f"{path} imports {name}"


PUBLIC_PACKAGES = ["protocol", "log", "raft", "state", "stream", "engine", "engine.bpmn", "engine.feel", "exporters",
                   "gateway", "broker", "testing"]


def test_every_public_name_is_exported_once() -> None:
    exported: dict[str, str] = {}
    duplicates = []
    for package in PUBLIC_PACKAGES:
        module = importlib.import_module(f"zeebe_trio.{package}")
        names = list(getattr(module, "__all__", []))
        assert names, f"zeebe_trio.{package} has no __all__"
        assert len(names) == len(set(names)), f"zeebe_trio.{package}.__all__ lists a name twice"
        for name in names:
            assert hasattr(module, name), f"zeebe_trio.{package}.__all__ names missing {name}"
            owner = getattr(module, name)
            if name in exported and getattr(importlib.import_module(f"zeebe_trio.{exported[name]}"), name) is not owner:
                duplicates.append(f"{name}: zeebe_trio.{exported[name]} and zeebe_trio.{package}")
            exported.setdefault(name, package)
    assert not duplicates, "different objects exported under one name:\n" + "\n".join(duplicates)


TEST_TOOLS = {"pytest", "pytest_trio", "hypothesis"}


def test_the_package_needs_no_test_tools_at_run_time() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {dep.split(">")[0].split("=")[0].split("[")[0].strip().replace("-", "_") for dep in project["dependencies"]}
    assert not runtime & TEST_TOOLS, f"run-time dependencies include test tools: {runtime & TEST_TOOLS}"
    assert {"pytest", "pytest-trio"} <= {d.split(">")[0] for d in project["optional-dependencies"]["testing"]}
    for path in _modules(PACKAGE):
        used = {name.split(".")[0] for name in _imports(path)} & TEST_TOOLS
        assert not used, f"{path.relative_to(ROOT)} imports {used}"
