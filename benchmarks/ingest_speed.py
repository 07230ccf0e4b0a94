"""Ingestion throughput on the shared real documents, with the default embedder.

For each corpus (copied to a temporary folder first, since the last step edits a
file): a first ingest into a fresh index (pages/s, chunks/s); a second, unchanged
ingest of the same folder (must read and embed nothing; target < 5 % of the
first); then one changed file (target: time proportional to that file, reported
against the first run's per-chunk rate). The embedder is loaded before timing.

    python benchmarks/ingest_speed.py [--corpus pdfs/real text/real] [--workers 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from indexes import Embedder, load_embedder
from ingest import IngestOptions, ingest_paths

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _timed(index: Path, folder: Path, embedder: Embedder, options: IngestOptions) -> tuple[Any, float]:
    started = time.perf_counter()
    report = ingest_paths(index, [folder], embedder, options)
    return report, time.perf_counter() - started


def bench(corpus: Path, embedder: Embedder, workers: int) -> dict[str, Any]:
    options = IngestOptions(workers=workers)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        shutil.copytree(corpus, folder)
        index = Path(tmp) / "idx"
        first, first_s = _timed(index, folder, embedder, options)
        second, second_s = _timed(index, folder, embedder, options)
        added = [f for f in first.files if f.status == "added" and f.chunks > 1]
        target = Path(sorted(added, key=lambda f: f.chunks)[len(added) // 2].path)  # a median-sized file
        if target.suffix == ".pdf":  # appending to a PDF breaks it: give it new bytes at the end instead
            target.write_bytes(target.read_bytes() + b"\n% edited\n")
        else:
            target.write_text(target.read_text(encoding="utf-8", errors="replace") + "\n\nAn added closing line.\n",
                              encoding="utf-8")
        third, third_s = _timed(index, folder, embedder, options)
    totals = first.summary()
    changed = [f for f in third.files if f.status == "updated"]
    per_chunk = first_s / max(totals["chunks"], 1)
    return {
        "corpus": corpus.name if corpus.name != "real" else f"{corpus.parent.name}/real",
        "files": len(first.files), "indexed": totals.get("added", 0), "failed": totals.get("failed", 0),
        "skipped": totals.get("skipped", 0), "pages": totals["pages"], "chunks": totals["chunks"],
        "seconds": round(first_s, 2), "pages_per_s": round(totals["pages"] / first_s, 1),
        "chunks_per_s": round(totals["chunks"] / first_s, 1),
        "unchanged_seconds": round(second_s, 3), "unchanged_fraction": round(second_s / first_s, 4),
        "unchanged_all": all(f.status in ("unchanged", "failed", "skipped") for f in second.files),
        "changed_file": target.name, "changed_chunks": sum(f.chunks for f in changed),
        "changed_seconds": round(third_s, 3),
        "changed_expected_seconds": round(per_chunk * sum(f.chunks for f in changed), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", nargs="+", default=["pdfs/real", "text/real"])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    embedder = load_embedder(None)
    embedder.embed(["warm up"])
    rows = []
    for name in args.corpus:
        corpus = DATA / name
        if not corpus.exists():
            print(f"skipping {name}: {corpus} not found", file=sys.stderr)
            continue
        rows.append(bench(corpus, embedder, args.workers))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.json:
        print(json.dumps({"machine": machine, "results": rows}, indent=2))
        return 0
    print(f"machine: {machine}; embedder: {embedder.name}; parser workers: {args.workers}\n")
    print("| corpus | files | pages | chunks | first ingest | pages/s | chunks/s | unchanged re-run "
          "| one changed file |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['corpus']} | {r['files']} ({r['failed']} failed) | {r['pages']} | {r['chunks']} "
              f"| {r['seconds']:.1f} s | {r['pages_per_s']} | {r['chunks_per_s']} "
              f"| {r['unchanged_seconds']:.2f} s ({100 * r['unchanged_fraction']:.2f} %) "
              f"| {r['changed_file']}: {r['changed_chunks']} chunks in {r['changed_seconds']:.2f} s "
              f"(first-run rate predicts {r['changed_expected_seconds']:.2f} s) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
