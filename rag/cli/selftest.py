"""``rag eval self``: how well retrieval finds your own documents' sentences (``rag.evaluation.selftest``).

    rag eval self [--index DIR] [--sample N] [--seed S] [--top-k K] [--mode M] [--json] [--details]

Reads the index read-only: nothing is written into it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rag.cli.common import emit_json, question_progress, retrieval_args

__all__ = ["add_self_parser", "cmd_eval_self"]

_KINDS = {"rare_terms": "rare terms", "key_phrase": "key phrase", "all": "all"}


def add_self_parser(kinds: Any) -> None:
    p = kinds.add_parser("self", help="a self-test on your own index: queries made from its sentences, hit@1/@k and "
                         "MRR per retrieval mode, file type and language, the files it fails on")
    p.add_argument("--index", metavar="DIR", help="the index to test, read-only (default: $RAG_INDEX, rag.toml, "
                   "~/.local/share/rag/index)")
    p.add_argument("--sample", type=int, default=200, metavar="N", help="sentences sampled, stratified by file (default 200)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="sampling seed (default 0)")
    p.add_argument("--top-k", type=int, default=5, metavar="K", help="a hit is the sentence's place in the top K (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--details", action="store_true", help="every query: its sentence, text, mode, rank, retrieved places")
    retrieval_args(p, where=False, mode_help="test only this retrieval mode (default: dense, bm25 and hybrid, each)")


def cmd_eval_self(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    from rag.evaluation.selftest import evaluate_self

    mode = settings.pop("mode", None)
    report = evaluate_self(settings.pop("index", None), sample=args.sample, seed=args.seed, top_k=args.top_k,
                           modes=(mode,) if mode else None, settings=settings,
                           progress=question_progress(sys.stderr.isatty() and not args.json))
    data = report.to_json(details=args.details)
    if args.json:
        emit_json(data)
        return 0 if report.probes else 3
    _print_report(data, report.k)
    if args.details:
        for q in data.get("queries", []):
            where = f"p. {q['page']}" if q["page"] is not None else q["locator"] or "passage"
            print(f"  {q['mode']:<6} {q['kind']:<10} rank {q['rank'] or '-':<2} {Path(q['file']).name} {where}: "
                  f"{q['query']!r}")
    return 0 if report.probes else 3


def _print_report(data: dict[str, Any], k: int) -> None:
    files = data["files"]
    print(f"Self-test of {data['index']}: {data['sentences']} sentences from {files['sampled']} of "
          f"{files['indexed']} indexed files (seed {data['seed']}), top {k}, embedder {data['embedder']}")
    if not data["sentences"]:
        print("  no sentence a query can be made from: the index holds no prose (see `rag sources`)")
        return
    modes = data["modes"]
    print(f"  {'':<12}" + "".join(f"{m:>24}" for m in modes))
    print(f"  {'query':<12}" + "".join(f"{'hit@1':>8}{f'hit@{k}':>8}{'MRR':>8}" for _m in modes))
    for kind, label in _KINDS.items():
        print(f"  {label:<12}" + "".join(f"{s['hit@1']:>8.3f}{s[f'hit@{k}']:>8.3f}{s[f'mrr@{k}']:>8.3f}"
                                         for s in (data["by_mode"][m][kind] for m in modes)))
    latencies = [data["by_mode"][m]["latency_ms"] for m in modes]
    print(f"  {'latency ms':<12}" + "".join(f"{_latency(lat['p50'], lat['p95']):>24}" for lat in latencies))
    for title, groups in (("file type", data["by_type"]), ("language", data["by_lang"])):
        print(f"\n  hit@{k} by {title:<9} {'sentences':>9}" + "".join(f"{m:>8}" for m in modes))
        for name, g in groups.items():
            print(f"  {name:<19} {g['sentences']:>9}" + "".join(f"{_rate(g[m]):>8}" for m in modes))
    failing = data["failing_files"]
    if failing:
        print(f"\n  files with the lowest hit@{k} ({data['mode']}):")
        for f in failing:
            print(f"  {_rate(f[f'hit@{k}']):>6}  {Path(f['file']).name} ({f['type']}, {f['sentences']} sentences): "
                  f"{f['reason']}")
    skipped = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in data["skipped"].items())
    print(f"\n  sentences skipped while sampling: {skipped or 'none'}")
    if files["failed"]:
        print(f"  {files['failed']} files failed ingestion and are not in the test (see `rag sources`)")


def _latency(p50: float, p95: float) -> str:
    return f"p50 {p50:.1f}  p95 {p95:.1f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
