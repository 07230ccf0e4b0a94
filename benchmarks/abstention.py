"""Abstention decided before generation, on pdf_dev and XQuAD: how each signal contributes.

    python benchmarks/abstention.py [--xquad ../shared/data/qa/xquad/xquad.en.json] [--sample 200]

No model output is involved (only what ``RAG.prepare`` decides before generating), so it runs in
minutes: for every question, the evidence score against the calibrated threshold, and the terms the
question names that no retrieved chunk holds (``rag.answering.anchors``). Printed: abstention on the
unanswerable questions and false abstention on the answerable ones, for the evidence score alone and
with the named-term check, on pdf_dev (its 15 unanswerable questions ask about the indexed documents)
and on XQuAD (negatives: the question against the half of the articles lacking its own).
Caches under ``$RAG_HOME/eval`` like ``rag eval``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from indexes import DEFAULT_EMBEDDER  # noqa: E402
from rag import RAG  # noqa: E402
from rag.evaluation.docqa import load_questions, workdir_for  # noqa: E402
from rag.evaluation.qa import _Indexes  # noqa: E402
from rag.evaluation.squad import load_squad, sample_indices  # noqa: E402

DATA = REPO.parent / "shared" / "data"


def _decision(rag: RAG, question: str) -> dict[str, Any]:
    plan = rag.prepare(question)
    threshold = plan.calibration.threshold if plan.calibration else None
    low = threshold is not None and plan.evidence.score < threshold
    return {"evidence": round(plan.evidence.score, 4), "low_evidence": low or not plan.hits,
            "missing": list(plan.evidence.missing), "abstain": plan.abstain}


def _rates(rows: list[dict[str, Any]], key: str) -> float:
    return sum(1 for r in rows if r[key]) / max(1, len(rows))


def pdf_dev(docs: Path, questions: Path) -> dict[str, Any]:
    items = load_questions(questions)
    with RAG.open(workdir_for(docs, DEFAULT_EMBEDDER, {}), create=True) as rag:
        rag.ingest([docs])  # the same cached index as `rag eval docqa`; unchanged files cost nothing
        rows = [{"id": q.id, "lang": q.lang, "answerable": q.answerable, **_decision(rag, q.question)} for q in items]
    return _summary(rows)


def xquad(path: Path, sample: int) -> dict[str, Any]:
    dataset = load_squad(path)
    indexes = _Indexes(path, dataset, negatives=True, workdir=None, settings={}, embedder=None, generator=None)
    rows = []
    try:
        for i in sample_indices(len(dataset.questions), sample, 0):
            q = dataset.questions[i]
            rows.append({"id": str(i), "lang": path.stem, "answerable": True, **_decision(indexes.rags["all"], q.question)})
            rows.append({"id": f"{i}-neg", "lang": path.stem, "answerable": False,
                         **_decision(indexes.lacking(q), q.question)})
    finally:
        indexes.close()
    return _summary(rows)


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    pos = [r for r in rows if r["answerable"]]
    neg = [r for r in rows if not r["answerable"]]
    for r in rows:
        r["anchor_only"] = bool(r["missing"]) and not r["low_evidence"]
    return {"answerable": len(pos), "unanswerable": len(neg),
            "evidence_only": {"abstention": _rates(neg, "low_evidence"), "false_abstention": _rates(pos, "low_evidence")},
            "with_named_terms": {"abstention": _rates(neg, "abstain"), "false_abstention": _rates(pos, "abstain")},
            "false_by_named_terms": [(r["id"], r["missing"]) for r in pos if r["anchor_only"]],
            "rows": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xquad", default=str(DATA / "qa" / "xquad" / "xquad.en.json"))
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--skip-xquad", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = {"pdf_dev": pdf_dev(DATA / "pdfs" / "real", DATA / "qa" / "pdf_dev" / "questions.jsonl")}
    if not args.skip_xquad:
        results["xquad"] = xquad(Path(args.xquad), args.sample)
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    print("| set | answerable / unanswerable | signal | abstention | false abstention |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        for signal in ("evidence_only", "with_named_terms"):
            print(f"| {name} | {r['answerable']} / {r['unanswerable']} | {signal.replace('_', ' ')} | "
                  f"{r[signal]['abstention']:.3f} | {r[signal]['false_abstention']:.3f} |")
    for name, r in results.items():
        for qid, missing in r["false_by_named_terms"]:
            print(f"  {name} {qid}: answerable, but no retrieved chunk names {missing}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
