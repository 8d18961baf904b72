"""Writes tests/bpmn/corpus_verdict.json: for every BPMN file of the shared corpus, whether Camunda's own
Modeler lint calls it executable on Zeebe 8.8, and whether zeebe-trio deploys it today.

    python tests/bpmn/regenerate_corpus_verdict.py

Executable: bpmnlint with bpmnlint-plugin-camunda-compat's ``camunda-cloud-8-8`` config reports no
error-level problem (tests/bpmn/lint_corpus.js; Node and ``npm ci`` in .ci/tools). Deploys: a
DEPLOYMENT.CREATE command of that one file, processed by a fresh in-process engine, is accepted; the
engine's deployment runs every check a broker makes (parsing, expression compilation, limits).
test_corpus_verdict.py holds the file to both: a changed lint or a changed engine fails it until this
script runs again and the difference is committed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zeebe_trio.engine import COLUMN_FAMILIES, Engine, EngineState
from zeebe_trio.engine.bpmn import BpmnValidationError, parse_bpmn
from zeebe_trio.protocol import DeploymentIntent, Record, RecordType, ValueType
from zeebe_trio.state import StateStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "bpmn"
VERDICT = HERE / "corpus_verdict.json"
LINT_SCRIPT = HERE / "lint_corpus.js"
TOOLS = ROOT / ".ci" / "tools"
LINT_PACKAGES = ("bpmnlint", "bpmnlint-plugin-camunda-compat", "zeebe-bpmn-moddle")
LINT_TIMEOUT = 300  # seconds for the whole corpus; it takes about 6
#: The words every rejection for a feature zeebe-trio lacks carries (and no other rejection does).
NOT_SUPPORTED = "not supported yet"
_LISTED_LINT_ERRORS = 5
_SHORT = 160


def corpus_files(corpus: Path = CORPUS) -> list[Path]:
    return sorted(corpus.rglob("*.bpmn"))


def resource_name(path: Path, corpus: Path = CORPUS) -> str:
    return path.relative_to(corpus).as_posix()


def lint_unavailable() -> str | None:
    """Why the lint cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    missing = [p for p in LINT_PACKAGES if not (TOOLS / "node_modules" / p / "package.json").is_file()]
    if missing:
        return f"{', '.join(missing)} not installed in {TOOLS}/node_modules (run `npm ci` there)"
    return None


def run_lint(corpus: Path = CORPUS) -> dict[str, list[str]]:
    """{resource name: error-level lint reports}, from lint_corpus.js over the whole corpus."""
    result = subprocess.run(
        ["node", str(LINT_SCRIPT), str(corpus), "--tools", str(TOOLS), "--deadline", str(LINT_TIMEOUT - 30)],
        capture_output=True, text=True, timeout=LINT_TIMEOUT, check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{LINT_SCRIPT.name} exited with {result.returncode}: {result.stderr.strip()[-2000:]}")
    return json.loads(result.stdout)


@dataclass(frozen=True)
class Outcome:
    deploys: bool
    #: Every problem of a refused file, without the resource name in front (parse problems all of them;
    #: problems found after parsing as far as the rejection lists them).
    problems: tuple[str, ...] = ()

    @property
    def rejection(self) -> str | None:
        return self.problems[0] if self.problems else None

    @property
    def only_unsupported(self) -> bool:
        return bool(self.problems) and all(NOT_SUPPORTED in problem for problem in self.problems)


_HEADER = "Expected to deploy new resources, but encountered the following errors:"


def deploy_outcome(name: str, data: bytes) -> Outcome:
    """What a broker answers to deploying this one resource: a fresh engine processes DEPLOYMENT.CREATE."""
    with tempfile.TemporaryDirectory(prefix="zeebe-trio-verdict-") as directory:
        store = StateStore.open(Path(directory), COLUMN_FAMILIES, map_size=64 << 20)
        try:
            engine = Engine(EngineState(store, 1))
            command = Record(record_type=RecordType.COMMAND, value_type=ValueType.DEPLOYMENT,
                             intent=DeploymentIntent.CREATE, key=-1, position=1, timestamp=1_700_000_000_000,
                             partition_id=1, value={"resources": [{"resourceName": name, "resource": data}]})
            with store.transaction() as txn:
                engine.state.bind(txn)
                batch = engine.process(command, 1_700_000_000_000, 2)
        finally:
            store.close()
    rejections = [r for r in batch.records if r.record_type is RecordType.COMMAND_REJECTION]
    if not rejections:
        return Outcome(deploys=True)
    try:
        parse_bpmn(name, data)
    except BpmnValidationError as error:  # the whole list, not only the first MAX_LISTED_PROBLEMS
        return Outcome(deploys=False, problems=tuple(problem.text() for problem in error.problems))
    lines = rejections[0].rejection_reason.splitlines()
    prefix = f"'{name}': "
    problems = tuple(line.removeprefix(prefix) for line in lines if line != _HEADER)
    return Outcome(deploys=False, problems=problems)


def _short(text: str) -> str:
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def verdicts(lint: dict[str, list[str]], corpus: Path = CORPUS) -> dict[str, dict]:
    files = {}
    for path in corpus_files(corpus):
        name = resource_name(path, corpus)
        errors = lint[name]
        listed = [_short(e) for e in errors[:_LISTED_LINT_ERRORS]]
        if len(errors) > _LISTED_LINT_ERRORS:
            listed.append(f"and {len(errors) - _LISTED_LINT_ERRORS} more")
        outcome = deploy_outcome(name, path.read_bytes())
        files[name] = {
            "executable": not errors,
            "lint_errors": listed,
            "deploys": outcome.deploys,
            "rejection": None if outcome.rejection is None else _short(outcome.rejection),
        }
    return files


def main() -> int:
    if not CORPUS.is_dir():
        print(f"regenerate_corpus_verdict.py: the BPMN corpus is not at {CORPUS}", file=sys.stderr)
        return 1
    reason = lint_unavailable()
    if reason:
        print(f"regenerate_corpus_verdict.py: cannot run the lint: {reason}", file=sys.stderr)
        return 1
    files = verdicts(run_lint())
    executable = [f for f in files.values() if f["executable"]]
    counts = {
        "files": len(files),
        "executable": len(executable),
        "executable_and_deploy": sum(f["deploys"] for f in executable),
        "deploy": sum(f["deploys"] for f in files.values()),
    }
    document = {
        "about": "Written by tests/bpmn/regenerate_corpus_verdict.py; checked by test_corpus_verdict.py. "
                 "executable: bpmnlint-plugin-camunda-compat camunda-cloud-8-8 reports no error "
                 "(lint_errors lists them); deploys: zeebe-trio accepts the file (rejection: its first problem).",
        "counts": counts,
        "files": files,
    }
    VERDICT.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{VERDICT.relative_to(ROOT)}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
