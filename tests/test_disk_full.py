"""A disk that fills up mid-ingest: one line, exit code 3, and the last committed generation intact.

The writer runs as a real `rag ingest` child process whose file-size limit (RLIMIT_FSIZE, with SIGXFSZ
ignored so a write fails with EFBIG as on a full disk) stops the index files from growing.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from indexes import HashEmbedder, Index

resource = pytest.importorskip("resource")
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
WORDS = "harbour lantern keeper tide storm granite ferry beacon signal chart compass anchor".split()


def _rag(*argv: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:
        import signal

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    # No bytecode writes: under the size limit Python would silently save truncated .pyc files into the checkout.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-m", "rag", "--embedder", "hash", *argv], preexec_fn=limit, cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("fsize", [150_000, 600_000])
def test_a_full_disk_fails_in_one_line_and_keeps_the_last_generation(tmp_path: Path, fsize: int) -> None:
    rng = random.Random(fsize)
    (tmp_path / "small").mkdir()
    (tmp_path / "small" / "keeper.md").write_text("# Keeper\n\nThe keeper trims the lamp wick every night.\n")
    big = tmp_path / "big"
    big.mkdir()
    for i in range(30):
        (big / f"n{i}.md").write_text(f"# Note {i}\n\n" + " ".join(f"{rng.choice(WORDS)}{rng.randint(0, 10**6)}"
                                                                   for _ in range(2500)))
    idx = str(tmp_path / "idx")
    assert _rag("ingest", str(tmp_path / "small"), "--index", idx).returncode == 0
    with Index.open(idx) as index:
        before = index.generation

    full = _rag("ingest", str(big), "--index", idx, fsize=fsize)
    assert full.returncode == 3, full.stderr
    assert full.stderr.count("\n") == 1 and full.stderr.startswith("rag: error: writing the index")
    assert "disk is full" in full.stderr and "Traceback" not in full.stderr

    with Index.open(idx) as index:  # whatever was committed before the failure is whole and searchable
        assert index.generation >= before and index.check() == []
        hits = index.search(HashEmbedder().embed(["keeper trims the lamp wick"])[0], 1)
        assert Path(hits[0].chunk.source).name == "keeper.md"
    done = _rag("ingest", str(big), "--index", idx, "--json")  # space again: the next run finishes the job
    assert done.returncode == 0, done.stderr
    with Index.open(idx) as index:
        assert index.check() == [] and len(index.sources()) == 31
    assert json.loads(done.stdout)["totals"]


def test_a_full_disk_while_creating_the_index_is_one_line_too(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "keeper.md").write_text("# Keeper\n\n" + "The keeper trims the lamp wick every night. " * 400)
    full = _rag("ingest", str(tmp_path / "docs"), "--index", str(tmp_path / "idx"), fsize=3000)
    assert full.returncode == 3, full.stderr
    assert full.stderr.count("\n") == 1 and "disk is full" in full.stderr and "Traceback" not in full.stderr


def test_a_short_write_from_numpy_counts_as_a_full_disk(tmp_path: Path) -> None:
    """np.save past the file size limit raises an OSError without errno that counts the bytes it could not
    write ("183058 requested and 149968 written"): that is a full disk too (a real write, in a child)."""
    code = ("import numpy as np, resource, signal, sys\n"
            "from indexes.errors import is_storage_failure\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
            "try:\n"
            f"    np.save({str(tmp_path / 'big.npy')!r}, np.zeros(100_000), allow_pickle=False)\n"
            "except OSError as exc:\n"
            "    print(exc.errno, is_storage_failure(exc))\n")
    child = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert child.stdout.split() == ["None", "True"], child.stdout + child.stderr
    from indexes.errors import is_storage_failure

    assert not is_storage_failure(OSError("cannot parse 12 requested and 3 written lines"))
    assert not is_storage_failure(ValueError("183058 requested and 149968 written"))
