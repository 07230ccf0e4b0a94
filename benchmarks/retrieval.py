"""Retrieval quality and latency on the shared evaluation data, every mode on the same index.

SciFact (BEIR; nDCG@10, Recall@10/100, MRR@10) and XQuAD en/de/zh (SQuAD format; hit@1/@5
of each question's paragraph), with each embedder loaded before timing. Each corpus
is indexed once per embedder (cached under $RAG_HOME/eval, as `rag eval` does), then searched in
each mode: dense only, BM25 only, hybrid with the default score fusion, and hybrid with RRF.
``--embedder`` names one or more embedders (as ``rag --embedder``), measured one after the other
in the same run: e.g. ``--embedder default multilingual-e5-small``.

    python benchmarks/retrieval.py [--sets scifact xquad.en xquad.de xquad.zh] [--embedder NAME ...]
                                   [--max-queries N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from indexes import load_embedder
from rag.evaluation.beir import EvalData, build_corpus_index, eval_index_dir, evaluate, load_beir, load_squad
from rag.retrieval import RetrievalSettings

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RUNS = {"dense": RetrievalSettings(mode="dense"), "bm25": RetrievalSettings(mode="bm25"),
        "hybrid": RetrievalSettings(), "hybrid (rrf)": RetrievalSettings(fusion="rrf")}


def _load(name: str) -> EvalData | None:
    path = DATA / "beir" / name if name == "scifact" else DATA / "qa" / "xquad" / f"{name}.json"
    if not path.exists():
        print(f"skipping {name}: {path} not found", file=sys.stderr)
        return None
    return load_beir(path) if name == "scifact" else load_squad(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=["scifact", "xquad.en", "xquad.de", "xquad.zh"])
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=list(RUNS))
    parser.add_argument("--embedder", nargs="+", default=["default"], metavar="NAME",
                        help="embedders to measure, one after the other (default: all-MiniLM-L6-v2)")
    parser.add_argument("--max-queries", type=int)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    for spec in args.embedder:
        embedder = load_embedder(None if spec == "default" else spec)
        embedder.embed(["warm up"])
        for name in args.sets:
            data = _load(name)
            if data is None:
                continue
            index = build_corpus_index(eval_index_dir(data, embedder), data.corpus, embedder)
            with index:
                for run in args.runs:
                    result = evaluate(index, embedder, data, RUNS[run], max_queries=args.max_queries)
                    rows.append({"embedder": embedder.name, "set": name, "run": run, **result})
                    print(f"{embedder.name} {name} {run}: done", file=sys.stderr)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    if args.json:
        print(json.dumps({"machine": machine, "results": rows}, indent=2))
        return 0
    print(f"machine: {machine}\n")
    print("| embedder | set | queries | mode | nDCG@10 | Recall@10 | Recall@100 | MRR@10 | hit@1 | hit@5 | p50 ms "
          "| p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        cells = [f"{r[k]:.3f}" if k in r else "" for k in ("ndcg@10", "recall@10", "recall@100", "mrr@10", "hit@1", "hit@5")]
        print(f"| {r['embedder']} | {r['set']} | {r['queries']} | {r['run']} | {' | '.join(cells)} "
              f"| {r['latency_ms']['p50']:.1f} | {r['latency_ms']['p95']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
