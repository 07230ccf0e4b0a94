"""Which retrieved sentence answers: the sentence ranker's best sentence against gold answers and pages.

    python benchmarks/sentences.py [--xquad 300] [--json]

The extractive style quotes the best-ranked sentence of the retrieved chunks when the model's own
reply is not supported, and shows the model each chunk's best sentences; this measures that choice
without generating. For each question, ``RAG.prepare`` retrieves (hybrid, top 5, as ``rag ask`` does)
and the sentences of those chunks are ranked three ways: each sentence on its own words, with the
sentence before it when it points back to it (``rag.answering.excerpts``, ``leads``), and with that
and the gain for holding the kind of value the question asks for (``values``: what ``rag ask`` uses). Reported per
set: how often the best sentence, as quoted, holds a gold answer string, and (PDF sets) how often
its chunk is on the gold page. Sets: ``../shared/data/qa/pdf_dev`` (answerable questions) over
``../shared/data/pdfs/real``, ``tests/data/docqa_heldout`` over the same PDFs, and ``--xquad`` English
XQuAD questions outside the 200-question benchmark sample (every third one), each over its own index
(cached under ``$RAG_HOME/eval`` like the evaluations).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from indexes import DEFAULT_EMBEDDER
from rag import RAG
from rag.answering.excerpts import rank_sentences
from rag.evaluation import docqa
from rag.evaluation import qa as qa_eval
from rag.evaluation.squad import load_squad, sample_indices, write_articles

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def _score(rag: RAG, question: str, answers: tuple[str, ...], file: str | None, page: int | None) -> dict[str, Any]:
    plan = rag.prepare(question)
    out: dict[str, Any] = {}
    # The plan's own ranking is the one with leads; only the ranking without them is computed again.
    rankings = {"alone": rank_sentences(question, plan.hits, rag.embedder, leads=False, values=False),
                "leads": rank_sentences(question, plan.hits, rag.embedder, values=False), "values": list(plan.sentences)}
    for key, ranked in rankings.items():
        if not ranked:
            out[key] = {"answer": False, "page": False, "lead": False}
            continue
        best = ranked[0]
        chunk = plan.hits[best.source].chunk
        out[key] = {"answer": docqa.answer_correct(best.quote, answers),
                    "page": Path(chunk.source).name == file and chunk.page == page, "lead": bool(best.lead)}
    return out


def _summary(name: str, rows: list[dict[str, Any]], pages: bool) -> dict[str, Any]:
    n = len(rows)
    result: dict[str, Any] = {"set": name, "questions": n}
    for key in ("alone", "leads", "values"):
        result[f"answer_{key}"] = round(sum(r[key]["answer"] for r in rows) / n, 3) if n else None
        result[f"page_{key}"] = round(sum(r[key]["page"] for r in rows) / n, 3) if n and pages else None
    result["best_with_lead"] = sum(r["values"]["lead"] for r in rows)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xquad", type=int, default=300, help="XQuAD questions outside the benchmark sample")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    docs = DATA / "pdfs" / "real"
    if not docs.exists():
        print(f"skipping: {docs} is absent", file=sys.stderr)
        return 0
    results = []
    sets = {"pdf_dev": DATA / "qa" / "pdf_dev" / "questions.jsonl",
            "docqa_heldout": ROOT / "tests" / "data" / "docqa_heldout" / "questions.jsonl"}
    with RAG.open(docqa.workdir_for(docs, DEFAULT_EMBEDDER, {}), create=True) as rag:
        rag.ingest([docs])
        for name, path in sets.items():
            if path.exists():
                rows = [_score(rag, q.question, q.answers, q.file, q.page)
                        for q in docqa.load_questions(path) if q.answerable]
                results.append(_summary(name, rows, pages=True))
    xquad = DATA / "qa" / "xquad" / "xquad.en.json"
    if xquad.exists() and args.xquad:
        dataset = load_squad(xquad)
        sample = set(sample_indices(len(dataset.questions), 200, 0))
        chosen = [i for i in range(len(dataset.questions)) if i not in sample][::3][:args.xquad]
        root = qa_eval.workdir_for(xquad, DEFAULT_EMBEDDER, {})
        with RAG.open(root / "all", create=True) as rag:
            rag.ingest(write_articles(dataset, root / "articles"))
            rows = [_score(rag, dataset.questions[i].question, dataset.questions[i].answers, None, None)
                    for i in chosen]
        results.append(_summary("xquad.en (outside the sample)", rows, pages=False))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| set | questions | best sentence holds the answer (alone / with leads / and values) | on the gold page "
          "| best has a lead |")
    print("|---|---:|---|---|---:|")
    for r in results:
        page = (f"{r['page_alone']:.3f} / {r['page_leads']:.3f} / {r['page_values']:.3f}"
                if r["page_alone"] is not None else "n/a")
        print(f"| {r['set']} | {r['questions']} | {r['answer_alone']:.3f} / {r['answer_leads']:.3f} / "
              f"{r['answer_values']:.3f} | {page} | {r['best_with_lead']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
