"""``rag eval qa FILE``: answer quality end to end on SQuAD-format data (see ``rag.evaluation.qa``).

    rag eval qa FILE [--sample N] [--seed S] [--no-negatives] [--workdir DIR] [--model GGUF] [--top-k N]
                     [--mode M] [--threads N] [--abstain-threshold T] [--json] [--details]

Builds its indexes under ``$RAG_HOME/eval`` (or ``--workdir``) and reuses them on the next run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rag.cli.common import emit_json, question_progress, retrieval_args

__all__ = ["add_qa_parser", "cmd_eval_qa"]

_JSON_KEYS = ("retrieval_hit@5", "contains_gold", "f1", "citation_accuracy", "abstention", "false_abstention",
              "latency_ms", "questions")


def add_qa_parser(kinds: Any) -> None:
    qa = kinds.add_parser("qa", help="answers end to end on SQuAD-format data: contains-gold, F1, citations, "
                          "abstention, latency")
    qa.add_argument("path", metavar="FILE", help="SQuAD JSON ({\"data\": [...]}) or flat JSON lines")
    qa.add_argument("--sample", type=int, metavar="N", help="ask random.Random(S).sample(range(total), N) questions")
    qa.add_argument("--seed", type=int, default=0, metavar="S", help="sampling seed (default 0)")
    qa.add_argument("--no-negatives", action="store_true",
                    help="skip asking each question against an index lacking its article (halves the time)")
    qa.add_argument("--workdir", metavar="DIR", help="articles and indexes (default: cached under $RAG_HOME/eval)")
    qa.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    qa.add_argument("--details", action="store_true", help="with --json: every question's answer and scores")
    qa.add_argument("--model", metavar="GGUF", help="GGUF model file (default: SmolLM2-135M-Instruct)")
    qa.add_argument("--n-ctx", type=int, metavar="N", help="context length in tokens (default 4096)")
    qa.add_argument("--threads", dest="n_threads", type=int, metavar="N", help="llama.cpp threads")
    qa.add_argument("--max-tokens", dest="max_answer_tokens", type=int, metavar="N", help="answer length cap")
    qa.add_argument("--top-k", type=int, metavar="N", help="sources retrieved per question (default 5)")
    qa.add_argument("--abstain-threshold", type=float, metavar="T",
                    help="evidence threshold (default: calibrated for the default embedder; 0 = off)")
    retrieval_args(qa, where=False)


def cmd_eval_qa(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    from rag.evaluation.qa import evaluate_qa

    if args.abstain_threshold is not None:
        settings["abstain_threshold"] = args.abstain_threshold
    settings.pop("index", None)
    report = evaluate_qa(args.path, sample=args.sample, seed=args.seed, negatives=not args.no_negatives,
                         workdir=args.workdir, settings=settings,
                         progress=question_progress(sys.stderr.isatty() and not args.json))
    data = report.to_json(details=args.details)
    if args.json:
        emit_json(data)
        return 0
    s = report.settings
    print(f"{s['file']}: {data['questions']} of {s['questions_total']} questions"
          + (f" (sample {s['sample']}, seed {s['seed']})" if s["sample"] else "")
          + f"; model {s['model']}, top-k {s['top_k']}, mode {s['mode']}, threshold {s['abstain_threshold']}")
    for key in _JSON_KEYS[:-2]:
        name = key if key in data else f"retrieval_hit@{report.k}"
        value = data.get(name)
        print(f"  {name:<20} {'-' if value is None else f'{value:.3f}'}")
    print(f"  {'model_contains_gold':<20} {data['model_contains_gold']:.3f}  (the model's own words, before "
          "unsupported replies were replaced by quotes)")
    print(f"  {'grounding':<20} {data['grounding']}")
    print(f"  {'latency':<20} p50 {data['latency_ms']['p50'] / 1000:.2f} s, p95 {data['latency_ms']['p95'] / 1000:.2f} s")
    print(f"  {'workdir':<20} {s['workdir']}")
    return 0
