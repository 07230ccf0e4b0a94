"""How the index grows: ingest, search, RAM, disk, open and one-file sync at 10k, 100k and 1M chunks.

    python benchmarks/scale.py [--sizes 10k,100k,1M] [--label segments] [--cache DIR] [--queries 200]

Text is sampled from ``../shared/data/text/real/``: its files are chunked the way ingest does
(``PageChunker``, 200 tokens) and ~9k real chunks are embedded once with the default embedder
(cached in ``--cache``, default ``$TMPDIR/rag-scale``, never in the repository). Chunk ``i`` of a
size-N index is real chunk ``b`` with 10% of its words replaced by other corpus words, and its vector
is b's vector plus a small random perturbation, renormalised (cosine ~0.85 to b): clusters the shape
of real data, since random unit vectors say nothing about approximate search. Queries are real
questions (SciFact, pdf_dev) embedded with the same model.

The vectors go in below the embedder, through the writer API ingest itself uses
(``IndexWriter.replace_source(record, chunks, vectors, texts=...)``), as files of 20 chunks.
For each size: the bulk build (``--bulk-commits`` commits, 10 by default), then **ingest per 1,000 chunks** measured on
the last 2,000 chunks committed at once (ingest's default ``commit_every``), recall@10 of the dense
index against exact search, then in a fresh process (``measure``): time to open, time to the first
hybrid answer (BM25 loads lazily), search p50/p95 through ``rag``'s ``Retriever`` (dense, bm25,
hybrid, top 10), resident memory; then disk use and a **one-file sync** (20 chunks of one file
replaced and committed, median of 3). Results are merged into ``benchmarks/results/scale.json``
under ``--label`` and plotted to ``benchmarks/results/scale.png`` (needs the ``bench`` extra).
Indexes stay in the cache; ``--reuse`` measures an existing one again without rebuilding it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from indexes import DEFAULT_EMBEDDER, Chunk, EmbedderInfo, Index, SourceRecord, chunk_id  # noqa: E402

DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results"
PER_FILE = 20
LAST_BATCH = 2000
NOISE = 0.6   # norm of the perturbation added to a unit vector
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}


# -- the corpus --------------------------------------------------------------------------------------
def base(cache: Path) -> dict[str, Any]:
    """Real chunk texts and their vectors, real query texts and theirs (computed once, cached)."""
    path = cache / "base.npz"
    if not path.exists():
        from indexes import load_embedder
        from ingest.chunking import PageChunker
        from ingest.readers import read_document

        embedder = load_embedder()
        chunker = PageChunker(embedder.tokenize, embedder.max_tokens)
        texts: list[str] = []
        for file in sorted((DATA / "text" / "real").rglob("*")):
            if file.is_file() and file.name != "README.md":
                doc = read_document(file)
                texts += [c.text for c in chunker.chunk(file.name, doc.pages)]
        queries = [json.loads(line)["text"] for line in (DATA / "beir" / "scifact" / "queries.jsonl").open()]
        queries = [json.loads(line)["question"] for line in (DATA / "qa" / "pdf_dev" / "questions.jsonl").open()] \
            + queries[:300]
        print(f"embedding {len(texts)} chunks and {len(queries)} queries once", file=sys.stderr)
        np.savez(path, texts=np.array(texts), vectors=embedder.embed(texts),
                 queries=np.array(queries), query_vectors=embedder.embed(queries))
    with np.load(path, allow_pickle=False) as data:
        out = {k: data[k] for k in data.files}
    out["words"] = np.array(" ".join(out["texts"].tolist()).split())
    return out


def batch(data: dict[str, Any], number: int, size: int) -> tuple[list[str], np.ndarray]:
    """Chunks ``number*size ..`` of the synthetic corpus: the same for the same arguments."""
    rng = np.random.default_rng(1000 + number)
    picks = rng.integers(0, len(data["texts"]), size)
    vectors = data["vectors"][picks] + rng.normal(0, NOISE / np.sqrt(data["vectors"].shape[1]),
                                                  (size, data["vectors"].shape[1])).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = []
    for pick in picks:
        words = data["texts"][pick].split()
        swap = rng.random(len(words)) < 0.1
        for at in np.flatnonzero(swap):
            words[at] = data["words"][rng.integers(len(data["words"]))]
        texts.append(" ".join(words))
    return texts, vectors.astype(np.float32)


def write_files(index: Index, texts: list[str], vectors: np.ndarray, first_chunk: int) -> None:
    """Store chunks as files of ``PER_FILE`` chunks (file ``doc-<n>.txt`` holds chunks 20n..20n+19)."""
    with index.writer(wait=60) as writer:
        for at in range(0, len(texts), PER_FILE):
            n = (first_chunk + at) // PER_FILE
            source = f"doc-{n:07d}.txt"
            part = texts[at:at + PER_FILE]
            chunks = [Chunk(id=chunk_id(source, None, i, t), source=source, page=None, text=t, start=i, end=i + len(t))
                      for i, t in enumerate(part)]
            record = SourceRecord(path=source, kind="text", size=sum(map(len, part)), mtime_ns=n,
                                  sha256=f"{n:064x}", status="indexed", pages=1, chunks=len(part))
            writer.replace_source(record, chunks, vectors[at:at + PER_FILE], texts=part)
        writer.commit()


def build(data: dict[str, Any], directory: Path, n: int, step: int) -> dict[str, float]:
    info = EmbedderInfo(name=DEFAULT_EMBEDDER, dimension=int(data["vectors"].shape[1]), max_tokens=256)
    index = Index.create(directory, info)
    started = time.perf_counter()
    done = 0
    while done < n - LAST_BATCH:
        size = min(step, n - LAST_BATCH - done)
        texts, vectors = batch(data, done // LAST_BATCH, size)
        write_files(index, texts, vectors, done)
        done += size
        print(f"  {done:,} chunks, {time.perf_counter() - started:.0f} s", file=sys.stderr)
    bulk = time.perf_counter() - started
    texts, vectors = batch(data, done // LAST_BATCH, LAST_BATCH)
    started = time.perf_counter()
    write_files(index, texts, vectors, done)
    last = time.perf_counter() - started
    index.close()
    return {"bulk_s_per_1k": bulk / (n - LAST_BATCH) * 1000 if n > LAST_BATCH else 0.0,
            "ingest_s_per_1k": last / LAST_BATCH * 1000}


def exact_top(data: dict[str, Any], n: int, step: int, k: int = 10) -> np.ndarray:
    """The exact top-``k`` chunks of every query, as positions in the corpus (0 .. n-1)."""
    queries = data["query_vectors"].astype(np.float32)
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    done = 0
    while done < n:
        size = min(step, n - LAST_BATCH - done) if done < n - LAST_BATCH else LAST_BATCH
        _texts, vectors = batch(data, done // LAST_BATCH, size)
        scores = queries @ vectors.T
        s = np.concatenate([best_s, scores], axis=1)
        i = np.concatenate([best_i, np.arange(done, done + size)[None, :].repeat(len(queries), 0)], axis=1)
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(s, top, 1), np.take_along_axis(i, top, 1)
        done += size
    return best_i


# -- measuring in a fresh process ---------------------------------------------------------------------
class QueryVectors:
    """The default embedder's vectors of the benchmark questions, looked up instead of recomputed,
    so that search timings measure the index, not the model."""

    def __init__(self, queries: np.ndarray, vectors: np.ndarray) -> None:
        self.name, self.dimension, self.max_tokens = DEFAULT_EMBEDDER, int(vectors.shape[1]), 256
        self._by_text = dict(zip(queries.tolist(), vectors, strict=True))

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.stack([self._by_text[t] for t in texts])

    def tokenize(self, text: str) -> list[int]:
        raise NotImplementedError


def position(chunk: Chunk) -> int:
    """Where a chunk sits in the synthetic corpus (``doc-<n>.txt``, chunk ``start``)."""
    return int(chunk.source[4:11]) * PER_FILE + chunk.start


def rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def measure(directory: Path, cache: Path, exact_path: Path, count: int) -> dict[str, float]:
    from rag.retrieval import RetrievalSettings, Retriever

    data = base(cache)
    queries, qvec = data["queries"][:count], data["query_vectors"][:count]
    exact = np.load(exact_path)[:count]
    before = rss_mb()
    started = time.perf_counter()
    index = Index.open(directory)
    out = {"open_s": time.perf_counter() - started}
    retriever = Retriever(index, QueryVectors(queries, qvec), RetrievalSettings())
    retriever.search(str(queries[0]), 10, mode="hybrid")
    out["first_answer_s"] = time.perf_counter() - started
    for mode in ("dense", "bm25", "hybrid"):
        times = []
        for q in queries.tolist():
            t = time.perf_counter()
            retriever.search(q, 10, mode=mode)
            times.append(time.perf_counter() - t)
        out[f"{mode}_p50_ms"] = float(np.percentile(times, 50) * 1000)
        out[f"{mode}_p95_ms"] = float(np.percentile(times, 95) * 1000)
    found = [{position(c) for c in index.chunks(index.search_dense(v, 10)[1].tolist()).values()} for v in qvec]
    out["recall_at_10"] = float(np.mean([len(f & set(e.tolist())) / 10 for f, e in zip(found, exact, strict=True)]))
    out["rss_mb"] = rss_mb()
    out["index_rss_mb"] = rss_mb() - before
    return out


def sync(data: dict[str, Any], directory: Path, n: int, step: int, repeats: int = 3) -> float:
    """Median seconds to replace one file's ``PER_FILE`` chunks and commit, writer opening included.

    The files get their own content again (new rows, same chunks), so the exact answers stay true."""
    times = []
    first, first_vectors = batch(data, 0, step if n > LAST_BATCH else LAST_BATCH)
    for r in range(repeats):
        texts, vectors = first[PER_FILE * r:PER_FILE * (r + 1)], first_vectors[PER_FILE * r:PER_FILE * (r + 1)]
        index = Index.open(directory)
        started = time.perf_counter()
        write_files(index, texts, vectors, PER_FILE * r)
        times.append(time.perf_counter() - started)
        index.close()
    return float(np.median(times))


def disk_mb(directory: Path) -> float:
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file()) / 2**20


def run(size: str, args: argparse.Namespace) -> dict[str, float]:
    n = SIZES[size]
    data = base(args.cache)
    directory = args.cache / f"index-{args.label}-{size}"
    step = max(LAST_BATCH, n // args.bulk_commits)  # the corpus depends on it: chunks come in batches
    exact_path = args.cache / f"exact-{size}-{args.bulk_commits}.npy"
    row: dict[str, float] = {"chunks": n}
    if not (args.reuse and (directory / "manifest.json").exists()):
        import shutil

        shutil.rmtree(directory, ignore_errors=True)
        print(f"building {size} in {directory}", file=sys.stderr)
        row.update(build(data, directory, n, step))
    if not exact_path.exists():
        np.save(exact_path, exact_top(data, n, step))
    result = subprocess.run([sys.executable, __file__, "--measure", str(directory), "--cache", str(args.cache),
                             "--exact", str(exact_path), "--queries", str(args.queries)],
                            check=True, capture_output=True, text=True, cwd=REPO)
    row.update(json.loads(result.stdout))
    row["disk_mb"] = disk_mb(directory)
    row["sync_s"] = sync(data, directory, n, step)
    return row


def plot(results: dict[str, dict[str, dict[str, float]]], path: Path, current: str) -> None:
    """Growth curves: one colour per measure, solid for the ``current`` label, dashed for the others."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("search p50 (ms)", ["hybrid_p50_ms", "dense_p50_ms", "bm25_p50_ms"]),
              ("seconds", ["sync_s", "ingest_s_per_1k", "first_answer_s", "open_s"]),
              ("MB", ["rss_mb", "disk_mb"]), ("dense recall@10", ["recall_at_10"])]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.2))
    for ax, (title, keys) in zip(axes, panels, strict=True):
        for label, rows in results.items():
            ordered = sorted(rows.values(), key=lambda r: r["chunks"])
            for n, key in enumerate(keys):
                xs = [r["chunks"] for r in ordered if key in r]
                ax.plot(xs, [r[key] for r in ordered if key in r], marker="o", color=f"C{n}",
                        linestyle="-" if label == current else "--", label=f"{key} ({label})")
        ax.set_xscale("log")
        if title != "dense recall@10":
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("chunks")
        ax.legend(fontsize=6)
    fig.suptitle("rag-local index growth (benchmarks/scale.py, 2 cores)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10k,100k,1M")
    parser.add_argument("--label", default="segments", help="the code measured (a line of the plot)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "rag-scale")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--bulk-commits", type=int, default=10, help="commits of the bulk build")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where scale.json and scale.png go")
    parser.add_argument("--reuse", action="store_true", help="measure existing indexes again")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--exact", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.measure:
        print(json.dumps(measure(args.measure, args.cache, args.exact, args.queries)))
        return
    args.results.mkdir(exist_ok=True)
    out = args.results / "scale.json"
    results = json.loads(out.read_text()) if out.exists() else {}
    for size in filter(None, args.sizes.split(",")):  # --sizes "": only redraw the plot
        row = run(size, args)
        results.setdefault(args.label, {}).setdefault(size, {}).update(row)
        out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
        print(json.dumps({"label": args.label, "size": size, **row}))
    plot(results, args.results / "scale.png", args.label)


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
