"""Parser workers log through the parent's logging settings: pypdf's complaints about a malformed
PDF stay off stderr during `rag ingest`, and appear, formatted by the parent, when asked for."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, shared

MALFORMED = ("wrong_startxref_naacl06.pdf", "garbled_xref_offsets_naacl06.pdf")
PYPDF_NOISE = ("startxref", "xref", "wrong pointing object", "Token exceeds", "Object Streams", "EOF marker", "pypdf")

SCRIPT = """
import logging, sys
from indexes import HashEmbedder
from ingest import IngestOptions, ingest_paths
logging.basicConfig(level=logging.INFO, format="PARENT %(levelname)s %(name)s: %(message)s")
if sys.argv[3] == "quiet":
    logging.getLogger("pypdf").setLevel(logging.ERROR)
report = ingest_paths(sys.argv[1], [sys.argv[2]], HashEmbedder(dimension=64), IngestOptions(workers=1))
print(sorted((f.status, f.reason) for f in report.files))
"""


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in MALFORMED:
        shutil.copy(shared("pdfs", "adversarial", name), folder / name)
    return folder


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def test_worker_records_go_through_the_parents_handlers_and_levels(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    loud = _run(["-c", SCRIPT, str(tmp_path / "idx1"), str(folder), "loud"], tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert "('added', None)" in loud.stdout
    noise = [line for line in loud.stderr.splitlines() if "startxref" in line]
    assert noise, "the malformed PDFs no longer make pypdf warn: pick others"
    assert all(line.startswith("PARENT WARNING pypdf") for line in noise), noise  # the parent's format
    quiet = _run(["-c", SCRIPT, str(tmp_path / "idx2"), str(folder), "quiet"], tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert not [line for line in quiet.stderr.splitlines() if any(word in line for word in PYPDF_NOISE)]


@pytest.mark.slow
@pytest.mark.model
def test_rag_ingest_keeps_pypdf_noise_off_stderr(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    quiet = _run(["-m", "rag", "ingest", str(folder), "--index", str(tmp_path / "idx"), "--json"], tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert not [line for line in quiet.stderr.splitlines() if any(word in line for word in PYPDF_NOISE)], quiet.stderr
