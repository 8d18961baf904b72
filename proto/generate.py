"""Regenerate the betterproto (grpclib) code in zeebe_trio/gateway/_generated from proto/.

    python proto/generate.py           # rewrite the generated package
    python proto/generate.py --check   # exit 1 (with a diff summary) if it is out of date

Generation always goes to a fresh temporary directory first, so both modes see exactly the
same output. The output depends on the pinned betterproto (2.0.0b7), black and isort versions
in the venv; a version bump of those shows up in --check as a diff, on purpose.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PROTO_DIR = Path(__file__).resolve().parent
REPO_ROOT = PROTO_DIR.parent
OUTPUT_DIR = REPO_ROOT / "zeebe_trio" / "gateway" / "_generated"
PLUGIN_NAME = "protoc-gen-python_betterproto"

# betterproto leaves the top-level __init__.py empty; we give it a docstring instead.
PACKAGE_DOCSTRING = '"""Code generated from proto/ by `python proto/generate.py`. Do not edit."""\n'

MAX_DIFF_LINES_PER_FILE = 40


def proto_files() -> list[str]:
    """Every .proto under proto/, relative to it, in a stable order."""
    return sorted(path.relative_to(PROTO_DIR).as_posix() for path in PROTO_DIR.rglob("*.proto"))


def find_plugin() -> str:
    """The betterproto protoc plugin, preferring the one installed next to this interpreter."""
    candidates = [Path(sys.executable).parent / PLUGIN_NAME]
    on_path = shutil.which(PLUGIN_NAME)
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    sys.exit(
        f"proto/generate.py: cannot find {PLUGIN_NAME} next to {sys.executable} or on PATH; "
        "install the compiler extra into this environment: pip install 'betterproto[compiler]==2.0.0b7'"
    )


def generate_into(out_dir: Path) -> None:
    """Run protoc with the betterproto plugin, writing the package into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"--proto_path={PROTO_DIR}",
        f"--plugin={PLUGIN_NAME}={find_plugin()}",
        f"--python_betterproto_out={out_dir}",
        *proto_files(),
    ]
    result = subprocess.run(command, cwd=PROTO_DIR, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"proto/generate.py: protoc failed (exit {result.returncode}):\n{result.stderr}")
    (out_dir / "__init__.py").write_text(PACKAGE_DOCSTRING)


def generated_files(root: Path) -> dict[str, str]:
    """Relative path -> text of every generated file under root (caches ignored)."""
    if not root.is_dir():
        return {}
    return {
        path.relative_to(root).as_posix(): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    """Human-readable summary of how the committed files (actual) differ from fresh output."""
    report = []
    for name in sorted(expected.keys() | actual.keys()):
        if name not in actual:
            report.append(f"missing:  {name}")
        elif name not in expected:
            report.append(f"stale:    {name} (no longer generated)")
        elif expected[name] != actual[name]:
            diff = list(
                difflib.unified_diff(
                    actual[name].splitlines(),
                    expected[name].splitlines(),
                    f"committed/{name}",
                    f"generated/{name}",
                    lineterm="",
                )
            )
            shown = diff[:MAX_DIFF_LINES_PER_FILE]
            if len(diff) > len(shown):
                shown.append(f"... ({len(diff) - len(shown)} more diff lines)")
            report.append(f"changed:  {name}\n" + "\n".join(shown))
    return report


def check() -> list[str]:
    """Differences between the committed generated code and what proto/ produces now."""
    with tempfile.TemporaryDirectory(prefix="zeebe-trio-proto-") as tmp:
        fresh = Path(tmp) / "_generated"
        generate_into(fresh)
        return differences(generated_files(fresh), generated_files(OUTPUT_DIR))


def write() -> None:
    """Replace the generated package with fresh output (removing files no longer generated)."""
    with tempfile.TemporaryDirectory(prefix="zeebe-trio-proto-") as tmp:
        fresh = Path(tmp) / "_generated"
        generate_into(fresh)
        if OUTPUT_DIR.exists():
            shutil.rmtree(OUTPUT_DIR)
        shutil.copytree(fresh, OUTPUT_DIR)
    for name in generated_files(OUTPUT_DIR):
        print(f"wrote {OUTPUT_DIR.relative_to(REPO_ROOT) / name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="do not write; exit 1 if the committed generated code is out of date",
    )
    args = parser.parse_args(argv)
    if not args.check:
        write()
        return 0
    report = check()
    if report:
        print(
            f"{OUTPUT_DIR.relative_to(REPO_ROOT)} is out of date with proto/; "
            "run `python proto/generate.py` and commit the result:",
            file=sys.stderr,
        )
        print("\n".join(report), file=sys.stderr)
        return 1
    print(f"{OUTPUT_DIR.relative_to(REPO_ROOT)} is up to date with proto/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
