"""The architecture rules: imports point rag -> ingest -> indexes, rooms inside rag/ import downward,
no module takes part in an import cycle, and heavy libraries stay lazy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ALLOWED = {"indexes": set(), "ingest": {"indexes"}, "rag": {"indexes", "ingest"}}
HEAVY = ("torch", "faiss", "llama_cpp", "sentence_transformers", "llama_index", "transformers")


# Rooms of rag/ by floor: a module may import its own room and rooms on lower floors only.
# Faces (cli, serve) sit on top and nothing imports them, except that the `rag serve` command launches
# the HTTP face (so cli is one floor above serve); evaluation and integrations build on the facade.
FLOORS = {"text": 0, "config": 0, "records": 0, "generation": 1, "retrieval": 1, "answering": 2,
          "conversation": 2, "engine": 3, "__init__": 4, "__main__": 8, "evaluation": 5, "integrations": 5,
          "doctor": 5,
          "serve": 6, "cli": 7}
LAUNCHERS = {"rag.serve": {"rag.cli.serve"}}  # the one module that may import a face: the command starting it


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _our_imports(path: Path) -> set[str]:
    """Every module of ours that ``path`` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:  # "from rag.cli import commands" names a module
                sub = f"{base}.{alias.name}"
                found.add(sub if _exists(sub) else base)
    return {name for name in found if name.split(".")[0] in ALLOWED and _exists(name)}


def _exists(module: str) -> bool:
    path = REPO.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _graph() -> dict[str, set[str]]:
    return {_module_name(p): _our_imports(p) - {_module_name(p)}
            for package in ALLOWED for p in (REPO / package).rglob("*.py")}


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_rag_rooms_import_downward() -> None:
    offenders = {}
    for module, imports in _graph().items():
        if not module.startswith("rag"):
            continue
        room = _room(module)
        assert room in FLOORS, f"{module} is in no known room of rag/: add it to FLOORS"
        bad = sorted(i for i in imports if i.startswith("rag") and _room(i) != room
                     and FLOORS[_room(i)] >= FLOORS[room])
        if bad:
            offenders[module] = bad
    assert offenders == {}, f"rooms of rag/ must import only lower floors {FLOORS}: {offenders}"


def test_faces_are_imported_by_nothing() -> None:
    graph = _graph()
    for face in ("rag.cli", "rag.serve"):
        users = sorted(m for m, imports in graph.items() if not m.startswith(face)
                       and any(i == face or i.startswith(face + ".") for i in imports) and m != "rag.__main__"
                       and m not in LAUNCHERS.get(face, set()))
        assert users == [], f"{face} is a face: nothing may import it, but {users} do"


def test_no_import_cycles() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert cycles == [], f"import cycles: {cycles}"


def test_modules_say_their_job_and_stay_small() -> None:
    problems = []
    for package in ALLOWED:
        for path in (REPO / package).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            doc = ast.get_docstring(ast.parse(source))
            name = str(path.relative_to(REPO))
            if path.name != "__main__.py" and not doc:
                problems.append(f"{name}: no docstring saying its job")
            if source.count("\n") > 300 and "300 lines" not in (doc or ""):
                problems.append(f"{name}: {source.count(chr(10))} lines without a reason at its top")
    assert problems == []


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
    code = ("import sys, rag, rag.cli, rag.cli.commands, ingest, indexes; "
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


def test_readme_module_map_is_current() -> None:
    out = subprocess.run([sys.executable, str(REPO / "scripts" / "architecture.py"), "--check"],
                         capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr


def test_indexes_and_ingest_import_no_unix_only_module() -> None:
    """``import indexes`` must work on Windows: the write lock comes from filelock, not fcntl."""
    offenders = [str(path.relative_to(REPO)) for package in ("indexes", "ingest")
                 for path in (REPO / package).rglob("*.py") if "fcntl" in _imports(path)]
    assert offenders == []
