"""``rag eval docqa QUESTIONS DOCS``: page-cited answers and abstention on real documents (``rag.evaluation.docqa``).

    rag eval docqa QUESTIONS.jsonl DOCS_DIR [--workdir DIR] [--model GGUF] [--top-k N] [--mode M]
                   [--ids d01,n03] [--retrieval-only] [--json] [--details]

Ingests DOCS_DIR into a cache under ``$RAG_HOME/eval`` (or ``--workdir``), never the user's index.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rag.cli.common import emit_json, question_progress, retrieval_args

__all__ = ["add_docqa_parser", "cmd_eval_docqa"]

_KEYS = ("page_hit@{k}", "page_cited", "answer_correct", "abstention", "false_abstention")


def add_docqa_parser(kinds: Any) -> None:
    p = kinds.add_parser("docqa", help="page-cited answers and abstention on a folder of documents "
                         "(pdf_dev-style JSON lines)")
    p.add_argument("questions", metavar="QUESTIONS", help="JSON lines: id, question, answers, file, page, lang")
    p.add_argument("docs", metavar="DOCS_DIR", help="the folder the questions are about")
    p.add_argument("--workdir", metavar="DIR", help="index directory (default: cached under $RAG_HOME/eval)")
    p.add_argument("--ids", metavar="ID,...", help="ask only these question ids")
    p.add_argument("--retrieval-only", action="store_true",
                   help="search each question, load no model: page_hit@k and latency only")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--details", action="store_true", help="with --json: every question's answer and scores")
    p.add_argument("--model", metavar="GGUF", help="GGUF model file (default: SmolLM2-135M-Instruct)")
    p.add_argument("--threads", dest="n_threads", type=int, metavar="N", help="llama.cpp threads")
    p.add_argument("--top-k", type=int, metavar="N", help="sources retrieved per question (default 5)")
    retrieval_args(p, where=False)


def cmd_eval_docqa(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    from rag.evaluation.docqa import evaluate_docqa

    settings.pop("index", None)
    ids = [i.strip() for i in args.ids.split(",") if i.strip()] if args.ids else None
    report = evaluate_docqa(args.questions, args.docs, settings=settings, workdir=args.workdir, ids=ids,
                            retrieval_only=args.retrieval_only, progress=question_progress(sys.stderr.isatty() and not args.json))
    data = report.to_json(details=args.details)
    if args.json:
        emit_json(data)
        return 0
    s = report.settings
    print(f"{s['questions']} over {s['docs']}: {data['answerable']} answerable, {data['unanswerable']} "
          f"unanswerable; model {'none (retrieval only)' if args.retrieval_only else s['model']}, "
          f"embedder {s['embedder']}, top-k {s['top_k']}, mode {s['mode']}")
    for key in (k.format(k=report.k) for k in _KEYS):
        value = data[key]
        print(f"  {key:<17} {'-' if value is None else f'{value:.3f}'}")
    print(f"  {'latency':<17} p50 {data['latency_ms']['p50'] / 1000:.2f} s, p95 {data['latency_ms']['p95'] / 1000:.2f} s")
    for lang, m in data["by_lang"].items():
        print(f"  {lang:<4} " + ", ".join(f"{k} {'-' if m[k] is None else f'{m[k]:.2f}'}"
                                         for k in (key.format(k=report.k) for key in _KEYS)))
    print(f"  {'workdir':<17} {s['workdir']}")
    return 0
