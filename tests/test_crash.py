"""Crash safety and concurrency: kill -9 an ingest at several points; readers during a write.

The writer runs in a real subprocess (HashEmbedder, small commit batches, so
that kills land before, during and after commits). After each kill the index
must open, pass its consistency check and answer searches; the next ingest
must finish the job.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexes import HashEmbedder, Index, IndexLockedError
from ingest import IngestOptions, ingest_paths
from ingest.pipeline import embedder_info

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]  # writers import this checkout, not an installed copy

EMB = HashEmbedder(dimension=128)
WORDS = ("harbour lantern keeper tide storm granite ferry beacon signal chart compass anchor rope "
         "gull mist reef pier hull mast sail").split()

WRITER = """
import sys
from indexes import HashEmbedder
from ingest import IngestOptions, ingest_paths
opts = IngestOptions(workers=0, embed_batch=8, commit_every=8, commit_seconds=0.0)
report = ingest_paths(sys.argv[1], [sys.argv[2]], HashEmbedder(dimension=128), opts)
print(report.exit_code)
"""


def _corpus(folder: Path, files: int = 160) -> Path:
    rng = random.Random(7)
    folder.mkdir()
    for i in range(files):
        paragraphs = [" ".join(rng.choice(WORDS) for _ in range(60)) + "." for _ in range(6)]
        (folder / f"note-{i:03d}.md").write_text(f"# Note {i}\n\nunique{i} " + "\n\n".join(paragraphs), "utf-8")
    return folder


def _start_writer(index: Path, corpus: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(index), str(corpus)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})


def _wait_for_lock(index_dir: Path, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    """Return once ``proc`` holds the write lock (or has already exited)."""
    deadline = time.monotonic() + timeout
    lock = index_dir / "write.lock"
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if lock.read_text(encoding="utf-8").strip() == str(proc.pid):
                return
        except OSError:
            pass
        time.sleep(0.005)


def _generation(index_dir: Path) -> int:
    try:
        return int(json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))["generation"])
    except (OSError, ValueError, KeyError):
        return -1


def _wait_for_commit(index_dir: Path, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    """Return once ``proc`` has committed a generation (or has already exited)."""
    start = _generation(index_dir)
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline and _generation(index_dir) <= start:
        time.sleep(0.005)


def _assert_healthy(index_dir: Path) -> int:
    with Index.open(index_dir) as index:
        assert index.check() == []
        hits = index.search(EMB.embed(["harbour lantern"])[0], 3)
        assert len(hits) == min(3, len(index))
        for source in index.sources():
            assert source.status == "indexed"
        return len(index.sources())


@pytest.mark.parametrize("segments", [None, {"delta_from": 50, "compact_ratio": 0.3}], ids=["bases", "deltas"])
def test_kill_at_many_points_then_resume(tmp_path: Path, segments: dict[str, float] | None) -> None:
    corpus = _corpus(tmp_path / "corpus")
    reference = ingest_paths(tmp_path / "ref", [corpus], EMB, IngestOptions(workers=0))
    with Index.open(tmp_path / "ref") as ref:
        expected_chunks = len(ref)
    index_dir = tmp_path / "idx"
    if segments:  # commits write delta segments past 50 chunks, compacting past 30 % of the base
        Index.create(index_dir, embedder_info(EMB), {**ref.manifest.settings, **segments}).close()
    seen_partial = False
    # The first kill lands as soon as the writer holds the lock (before it commits anything);
    # the others count from its first commit, so that a slow start on a loaded machine
    # (imports, loading the tokenizer) does not push every kill past the end of the job.
    for delay in (None, 0.0, 0.05, 0.2, 0.5, 1.0):
        proc = _start_writer(index_dir, corpus)
        _wait_for_lock(index_dir, proc)
        if delay is not None:
            _wait_for_commit(index_dir, proc)
            time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        if (index_dir / "manifest.json").exists():
            done = _assert_healthy(index_dir)
            seen_partial |= 0 < done < len(reference.files)
    resumed = ingest_paths(index_dir, [corpus], EMB, IngestOptions(workers=0))
    assert resumed.exit_code == 0
    assert _assert_healthy(index_dir) == len(reference.files)
    with Index.open(index_dir) as index:
        assert len(index) == expected_chunks  # nothing lost, nothing duplicated
    assert seen_partial, "no kill landed mid-ingest; the corpus is too small for this machine"


def test_readers_see_whole_generations_during_a_write(tmp_path: Path) -> None:
    corpus = _corpus(tmp_path / "corpus", files=120)
    index_dir = tmp_path / "idx"
    ingest_paths(index_dir, [corpus / "note-000.md"], EMB, IngestOptions(workers=0))
    proc = _start_writer(index_dir, corpus)
    generations: set[int] = set()
    locked_out = False
    try:
        while proc.poll() is None:
            with Index.open(index_dir) as index:
                assert index.check() == []
                assert index.search(EMB.embed(["storm reef"])[0], 2)
                generations.add(index.generation)
                if not locked_out and index.generation > 1:
                    try:
                        index.writer().close()
                    except IndexLockedError as exc:
                        locked_out = "being written by pid" in exc.message
    finally:
        _out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert len(generations) >= 3, generations  # readers saw commits land while the writer worked
    assert locked_out, "a second writer must be refused while the first holds the lock"
    assert _assert_healthy(index_dir) == 120
