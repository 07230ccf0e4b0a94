"""The architecture rule: imports point rag -> ingest -> indexes, heavy libraries stay lazy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ALLOWED = {"indexes": set(), "ingest": {"indexes"}, "rag": {"indexes", "ingest"}}
HEAVY = ("torch", "faiss", "llama_cpp", "sentence_transformers", "llama_index", "transformers")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_packages_import_only_downward(package: str) -> None:
    ours = set(ALLOWED)
    offenders = {}
    for path in (REPO / package).rglob("*.py"):
        bad = (_imports(path) & ours) - ALLOWED[package] - {package}
        if bad:
            offenders[str(path.relative_to(REPO))] = sorted(bad)
    assert offenders == {}, f"{package} may import only {sorted(ALLOWED[package])}: {offenders}"


def test_heavy_libraries_are_imported_lazily() -> None:
    code = ("import sys, rag, rag.cli, rag.cli_commands, ingest, indexes; "
            f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == ""


def test_help_is_instant_and_light() -> None:
    code = ("import sys, runpy; sys.argv = ['rag', '--help']\n"
            "try:\n    runpy.run_module('rag', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY:' + ','.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert "usage: rag" in out.stdout
    assert out.stdout.strip().endswith("HEAVY:")


def test_indexes_and_ingest_import_no_unix_only_module() -> None:
    """``import indexes`` must work on Windows: the write lock comes from filelock, not fcntl."""
    offenders = [str(path.relative_to(REPO)) for package in ("indexes", "ingest")
                 for path in (REPO / package).rglob("*.py") if "fcntl" in _imports(path)]
    assert offenders == []
