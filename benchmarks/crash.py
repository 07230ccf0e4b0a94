"""Kill -9 an ingest at many random instants; count broken indexes and lost or duplicated chunks.

    python benchmarks/crash.py [--kills 100] [--files 160] [--seed 0]

A writer subprocess (HashEmbedder, commits every 8 chunks, so kills land before, during and after
commits) ingests a generated corpus into one index; it is killed with SIGKILL at a random instant
within the span a clean run takes, then started again, ``--kills`` times. After every kill the index
must open and pass ``Index.check()`` (else it counts as broken). At the end one clean ingest finishes
the job and the index is compared with a reference built without interruption: every chunk id present
exactly once (targets: 0 broken, 0 lost, 0 duplicated). Minutes, not part of the test suite; the
suite runs a fast 6-point version (tests/test_crash.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from indexes import HashEmbedder, Index, IndexFormatError  # noqa: E402
from ingest import IngestOptions, ingest_paths  # noqa: E402

WRITER = """
import sys
from indexes import HashEmbedder
from ingest import IngestOptions, ingest_paths
opts = IngestOptions(workers=0, embed_batch=8, commit_every=8, commit_seconds=0.0)
report = ingest_paths(sys.argv[1], [sys.argv[2]], HashEmbedder(dimension=128), opts)
print(report.exit_code)
"""
WORDS = ("harbour lantern keeper tide storm granite ferry beacon signal chart compass anchor rope "
         "gull mist reef pier hull mast sail").split()


def corpus(folder: Path, files: int) -> Path:
    rng = random.Random(7)
    folder.mkdir()
    for i in range(files):
        paragraphs = [" ".join(rng.choice(WORDS) for _ in range(60)) + "." for _ in range(6)]
        (folder / f"note-{i:03d}.md").write_text(f"# Note {i}\n\nunique{i} " + "\n\n".join(paragraphs), "utf-8")
    return folder


def writer(index: Path, docs: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(index), str(docs)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


def chunk_ids(index_dir: Path) -> list[str]:
    """Chunk ids visible in the committed generation (duplicates kept, to be counted)."""
    with Index.open(index_dir) as index:
        generation = index.generation
    db = sqlite3.connect(f"file:{index_dir / 'chunks.sqlite'}?mode=ro", uri=True)
    try:
        columns = {row[1] for row in db.execute("PRAGMA table_info(chunks)")}
        if {"added_gen", "removed_gen"} <= columns:
            rows = db.execute("SELECT id FROM chunks WHERE added_gen <= ? AND (removed_gen IS NULL OR removed_gen > ?)",
                              (generation, generation))
        else:
            rows = db.execute("SELECT id FROM chunks")
        return [r[0] for r in rows]
    finally:
        db.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--files", type=int, default=160)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        docs = corpus(root / "corpus", args.files)
        started = time.perf_counter()
        proc = writer(root / "clean", docs)
        proc.communicate(timeout=600)
        clean_s = time.perf_counter() - started
        reference = ingest_paths(root / "ref", [docs], HashEmbedder(dimension=128), IngestOptions(workers=0))
        expected = sorted(chunk_ids(root / "ref"))
        index_dir = root / "idx"
        broken = opened = finished_runs = 0
        problems: list[str] = []
        for n in range(args.kills):
            proc = writer(index_dir, docs)
            time.sleep(rng.uniform(0.0, clean_s))
            if proc.poll() is not None:
                finished_runs += 1  # it finished before the kill: the next run has nothing to do
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            if not (index_dir / "manifest.json").exists():
                continue  # killed before the index was created: nothing to break
            opened += 1
            try:
                with Index.open(index_dir) as index:
                    found = index.check()
            except IndexFormatError as exc:
                found = [str(exc)]
            if found:
                broken += 1
                problems.append(f"kill {n}: {found[:3]}")
            if finished_runs and len(chunk_ids(index_dir)) == len(expected):
                # the job completed: start over so the kills keep landing mid-ingest
                shutil.rmtree(index_dir)
                finished_runs = 0
        resumed = ingest_paths(index_dir, [docs], HashEmbedder(dimension=128), IngestOptions(workers=0))
        got = chunk_ids(index_dir)
        lost = sorted(set(expected) - set(got))
        duplicated = len(got) - len(set(got))
        result = {"kills": args.kills, "clean_run_s": round(clean_s, 2), "indexes_checked": opened, "broken": broken,
                  "lost_chunks": len(lost), "duplicated_chunks": duplicated, "extra_chunks": len(set(got) - set(expected)),
                  "expected_chunks": len(expected), "files": len(reference.files), "resume_exit_code": resumed.exit_code,
                  "problems": problems[:10]}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{args.kills} kills at random instants within a {result['clean_run_s']} s clean run; "
              f"{opened} indexes checked after a kill: {broken} broken; after resuming: {len(lost)} chunks lost, "
              f"{duplicated} duplicated, {result['extra_chunks']} extra, of {len(expected)}")
        for line in problems[:10]:
            print("  ", line)
    return 0 if broken == 0 and not lost and not duplicated else 1


if __name__ == "__main__":
    raise SystemExit(main())
