"""Page-cited answering and abstention on pdf_dev (the real PDFs), beside a baseline, so each change is measured.

    python benchmarks/docqa.py [--questions FILE] [--docs DIR] [--baseline FILE] [--save FILE] [--json]
    python benchmarks/docqa.py --retrieval-only --embedder default multilingual-e5-small

``--retrieval-only`` searches each question and loads no generator: page_hit@5 per language and the
search latency, for each ``--embedder`` (one after the other, same run), in one table.

Runs ``rag eval docqa`` (``rag.evaluation.docqa.evaluate_docqa``) with the current settings and
default models: the folder ingested once into a cache under ``$RAG_HOME/eval``, every question asked
through ``RAG.ask``. Prints each measure beside the baseline (``--baseline``: a JSON file saved by an
earlier ``--save``; default: ``BASELINE``, main as of the issue, measured the same way) and the target.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from rag.evaluation.docqa import evaluate_docqa

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# main before this work (a51734e), default models: `rag eval docqa questions.jsonl pdfs/real --json`
BASELINE: dict[str, Any] = {"page_hit@5": 0.933, "page_cited": 0.683, "answer_correct": 0.400,
                            "abstention": 0.267, "false_abstention": 0.133}
TARGETS = {"page_hit@5": (">=", 0.97), "page_cited": (">=", 0.85), "answer_correct": (">=", 0.50),
           "abstention": (">=", 0.90), "false_abstention": ("<=", 0.10)}


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", default=str(DATA / "qa" / "pdf_dev" / "questions.jsonl"))
    parser.add_argument("--docs", default=str(DATA / "pdfs" / "real"))
    parser.add_argument("--baseline", metavar="FILE", help="a run saved with --save (default: main's figures)")
    parser.add_argument("--save", metavar="FILE", help="write this run's JSON (with details) here")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--retrieval-only", action="store_true", help="search only; compare --embedder on page_hit@5")
    parser.add_argument("--embedder", nargs="+", default=["default"], metavar="NAME",
                        help="with --retrieval-only: embedders to compare (default: all-MiniLM-L6-v2)")
    args = parser.parse_args()
    if args.retrieval_only:
        return _retrieval_only(args)
    report = evaluate_docqa(args.questions, args.docs)
    data = report.to_json(details=True)
    if args.save:
        Path(args.save).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    baseline = json.loads(Path(args.baseline).read_text(encoding="utf-8")) if args.baseline else BASELINE
    if args.json:
        json.dump({"current": {k: v for k, v in data.items() if k != "results"}, "baseline": baseline}, sys.stdout,
                  indent=2, ensure_ascii=False)
        print()
        return 0
    print(f"{'measure':<18} {'baseline':>8} {'current':>8}  target")
    for key, (op, target) in TARGETS.items():
        value = data.get(key)
        met = value is not None and (value >= target if op == ">=" else value <= target)
        print(f"{key:<18} {_fmt(baseline.get(key)):>8} {_fmt(value):>8}  {op} {target:.2f} {'met' if met else ''}")
    lat = data["latency_ms"]
    print(f"{'latency':<18} p50 {lat['p50'] / 1000:.2f} s, p95 {lat['p95'] / 1000:.2f} s")
    for lang, m in data["by_lang"].items():
        print(f"  {lang:<4} " + ", ".join(f"{k} {_fmt(m.get(k))}" for k in TARGETS))
    return 0


def _retrieval_only(args: argparse.Namespace) -> int:
    rows = []
    for spec in args.embedder:
        settings = {} if spec == "default" else {"embedder": spec}
        data = evaluate_docqa(args.questions, args.docs, settings=settings, retrieval_only=True).to_json()
        rows.append(data)
    if args.json:
        json.dump(rows, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    langs = sorted({lang for row in rows for lang in row["by_lang"]})
    print("| embedder | page_hit@5 | " + " | ".join(langs) + " | search p50 ms | p95 ms |")
    print("|---|---|" + "---|" * len(langs) + "---|---|")
    for row in rows:
        per = [f"{_fmt(row['by_lang'][lang]['page_hit@5'])} ({row['by_lang'][lang]['answerable']})"
               if lang in row["by_lang"] else "-" for lang in langs]
        print(f"| {row['settings']['embedder']} | {_fmt(row['page_hit@5'])} ({row['answerable']}) | "
              + " | ".join(per) + f" | {row['latency_ms']['p50']:.1f} | {row['latency_ms']['p95']:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
