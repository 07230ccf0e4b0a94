"""Ingestion throughput on the shared real documents, with the default embedder.

For each corpus: a first ingest into a fresh index (pages/s, chunks/s), then a
second, unchanged ingest of the same paths (which must read and embed nothing),
reported as a fraction of the first. The embedder is loaded once, before timing.

    python benchmarks/ingest_speed.py [--corpus pdfs/real text/real] [--workers 1] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from indexes import load_embedder
from ingest import IngestOptions, ingest_paths

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


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
        with tempfile.TemporaryDirectory() as tmp:
            options = IngestOptions(workers=args.workers)
            started = time.perf_counter()
            first = ingest_paths(Path(tmp) / "idx", [corpus], embedder, options)
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            second = ingest_paths(Path(tmp) / "idx", [corpus], embedder, options)
            second_s = time.perf_counter() - started
        totals = first.summary()
        rows.append({
            "corpus": name, "files": len(first.files), "indexed": totals.get("added", 0),
            "failed": totals.get("failed", 0), "skipped": totals.get("skipped", 0),
            "pages": totals["pages"], "chunks": totals["chunks"], "seconds": round(first_s, 2),
            "pages_per_s": round(totals["pages"] / first_s, 1), "chunks_per_s": round(totals["chunks"] / first_s, 1),
            "unchanged_seconds": round(second_s, 3), "unchanged_fraction": round(second_s / first_s, 4),
            "unchanged_all": all(f.status in ("unchanged", "failed", "skipped") for f in second.files),
        })
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.json:
        print(json.dumps({"machine": machine, "results": rows}, indent=2))
        return 0
    print(f"machine: {machine}; embedder: {embedder.name}; parser workers: {args.workers}\n")
    print("| corpus | files | indexed | failed/skipped | pages | chunks | first ingest | pages/s | chunks/s "
          "| unchanged re-run |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['corpus']} | {r['files']} | {r['indexed']} | {r['failed']}/{r['skipped']} | {r['pages']} "
              f"| {r['chunks']} | {r['seconds']:.1f} s | {r['pages_per_s']} | {r['chunks_per_s']} "
              f"| {r['unchanged_seconds']:.2f} s ({100 * r['unchanged_fraction']:.1f} %) |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
