"""The README's Python API example works in an ordinary script: no ``if __name__ == "__main__":``
guard, run as a file, from standard input and with ``python -c``. Parser workers must not import
the caller's main module (multiprocessing's spawn would, and each worker would run the script)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, shared

pytestmark = [pytest.mark.slow, pytest.mark.model]

PDFS = ("transcript_scotus_p1.pdf", "form_libreoffice_fillable.pdf")

# The README's example, as a user would save it: top-level code, no main guard.
EXAMPLE = """
import json
from rag import RAG

rag = RAG.open("idx", create=True)
report = rag.ingest(["docs/"])
hits = rag.search("Supreme Court argument", 2)
print(json.dumps({"files": [[f.path, f.status, f.reason, f.message] for f in report.files],
                  "exit_code": report.exit_code, "hits": len(hits)}))
rag.close()
"""


@pytest.mark.parametrize("how", ["file", "stdin", "-c"])
def test_readme_example_runs_without_a_main_guard(tmp_path: Path, how: str) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in PDFS:
        shutil.copy(shared("pdfs", "real", name), docs / name)
    script = tmp_path / "example.py"
    script.write_text(EXAMPLE, encoding="utf-8")
    args = {"file": [str(script)], "stdin": ["-"], "-c": ["-c", EXAMPLE]}[how]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = subprocess.run([sys.executable, *args], input=EXAMPLE if how == "stdin" else None, capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert sorted((Path(p).name, s, r) for p, s, r, _m in result["files"]) == sorted((n, "added", None) for n in PDFS)
    assert result["exit_code"] == 0 and result["hits"] == 2
    assert "parse_error" not in run.stderr and "Traceback" not in run.stderr
