"""The inverted file's shape, side by side on the same vectors: lists per sqrt(n) and how nprobe is calibrated.

    python benchmarks/ivf_lists.py [--size 1000000] [--train 250000] [--json]

The vectors are ``benchmarks/scale.py``'s (its cached ``base.npz``: real chunk vectors of
``../shared/data/text/real`` plus the same perturbation, batch by batch, with ``--bulk-commits 4``'s
numbering), in memory. Each variant is trained and calibrated on the first ``--train`` vectors, as the bulk
build trains at its first commit, then grown to ``--size``, and searched one query at a time (one thread)
with scale.py's real questions; recall@10 is against an exact scan. Variants:

- ``sqrt(n) lists, nprobe a power of two``: the code before this round;
- ``sqrt(n) lists, nprobe to within an eighth``;
- ``4 sqrt(n) lists, nprobe to within an eighth``: ``indexes.vectors`` now.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from indexes.vectors import TARGET_RECALL, _exact, calibrate, calibration_queries, recall_at  # noqa: E402

NOISE, BATCH, DIM = 0.6, 2000, 384


def corpus(base: np.ndarray, size: int, step: int) -> np.ndarray:
    """scale.py's vectors, batch for batch: bulk batches of ``step`` up to the last ``BATCH``, then those,
    batch number ``first_chunk // BATCH`` drawn with ``default_rng(1000 + number)`` (``scale.batch``)."""
    out = np.empty((size, base.shape[1]), dtype=np.float32)
    done = 0
    while done < size:
        count = min(step, size - BATCH - done) if done < size - BATCH else size - done
        rng = np.random.default_rng(1000 + done // BATCH)
        picks = rng.integers(0, len(base), count)
        vectors = base[picks] + rng.normal(0, NOISE / np.sqrt(base.shape[1]), (count, base.shape[1])).astype(np.float32)
        out[done:done + count] = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        done += count
    return out


def powers_of_two(ivf: Any, ids: np.ndarray, vectors: np.ndarray, rng: np.random.Generator) -> int:
    """The calibration before this round: the smallest power of two reaching the target."""
    queries = calibration_queries(vectors, rng)
    exact = _exact(queries, ids, vectors, 10)
    nprobe = 1
    while nprobe < ivf.nlist and recall_at(ivf, queries, exact, nprobe) < TARGET_RECALL:
        nprobe *= 2
    return min(nprobe, int(ivf.nlist))


def main(argv: list[str] | None = None) -> int:
    import faiss

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--train", type=int, default=250_000)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rag-scale")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.cache / "base.npz").exists():
        sys.exit(f"{args.cache / 'base.npz'} is missing: run benchmarks/scale.py --sizes 10k once first")
    faiss.omp_set_num_threads(1)
    with np.load(args.cache / "base.npz") as data:
        base, questions = data["vectors"], data["query_vectors"].astype(np.float32)
    vectors = corpus(base, args.size, max(BATCH, args.size // 4))
    ids = np.arange(args.size, dtype=np.int64)
    exact = _exact(questions, ids, vectors, 10)
    variants = [("sqrt(n) lists, nprobe a power of two", 1, powers_of_two),
                ("sqrt(n) lists, nprobe to within an eighth", 1, calibrate),
                ("4 sqrt(n) lists, nprobe to within an eighth (now)", 4, calibrate)]
    rows = []
    for name, per_root, calibration in variants:
        rng = np.random.default_rng(0)
        nlist = max(16, int(per_root * math.sqrt(args.train)))
        started = time.perf_counter()
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.niter = 10
        ivf.train(np.ascontiguousarray(vectors[rng.choice(args.train, min(args.train, 40 * nlist), replace=False)]))
        ivf.add_with_ids(vectors[:args.train], ids[:args.train])
        nprobe = calibration(ivf, ids[:args.train], vectors[:args.train], rng)
        trained = time.perf_counter() - started
        ivf.add_with_ids(vectors[args.train:], ids[args.train:])
        ivf.nprobe = nprobe
        for _warm in range(2):  # the second pass counts: the first pages the lists in
            times, found = [], []
            for q in questions:
                t = time.perf_counter()
                found.append(ivf.search(q[None], 10)[1][0])
                times.append(time.perf_counter() - t)
        recall = float(np.mean([len(set(f.tolist()) & set(e.tolist())) / 10 for f, e in zip(found, exact, strict=True)]))
        rows.append({"variant": name, "nlist": nlist, "nprobe": nprobe, "scanned": round(nprobe / nlist, 3),
                     "train_and_calibrate_s": round(trained, 1), "dense_p50_ms": round(1000 * float(np.median(times)), 2),
                     "dense_p95_ms": round(1000 * float(np.percentile(times, 95)), 2), "recall_at_10": round(recall, 4)})
        if not args.json:
            print(rows[-1], file=sys.stderr)
        del ivf
    report = {"size": args.size, "trained_at": args.train, "questions": len(questions), "variants": rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'variant':<52}{'nlist':>7}{'nprobe':>8}{'scanned':>9}{'p50 ms':>9}{'p95 ms':>9}{'recall@10':>11}")
    for r in rows:
        print(f"{r['variant']:<52}{r['nlist']:>7}{r['nprobe']:>8}{r['scanned']:>9.3f}{r['dense_p50_ms']:>9.2f}"
              f"{r['dense_p95_ms']:>9.2f}{r['recall_at_10']:>11.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
