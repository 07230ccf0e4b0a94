"""rag eval docqa: the pdf_dev scoring rules, and a real run over a real PDF with the packaged models."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from rag.evaluation.docqa import answer_correct, evaluate_docqa, load_questions, page_correct

from .conftest import shared

ATTENTION = "paper_attention_is_all_you_need_1706.03762v5.pdf"


@pytest.mark.parametrize(("answer", "gold"), [
    ("It uses 8 heads.", ["8"]), ("1345 games", ["134"]), ("134 games", ["134"]), ("5년으로", ["5년"]),
    ("ﬁrst ONE", ["first one"]), ("BLEU  41.29.", ["41.29"]), ("x41.29", ["41.29"]), ("", ["8"]),
    ("Es sind  sechs", ["sechs", "6"]),
])
def test_answer_rule_agrees_with_the_sets_reference_matcher(answer: str, gold: list[str]) -> None:
    sys.path.insert(0, str(shared("qa", "pdf_dev")))
    try:
        from verify import answer_correct as reference  # type: ignore[import-not-found]
        from verify import page_correct as reference_page
    finally:
        sys.path.pop(0)
    assert answer_correct(answer, gold) == reference(answer, gold)
    cited = [("/x/" + ATTENTION, 5), ("other.pdf", 4)]
    for page in (4, 5):
        assert page_correct(cited, ATTENTION, page) == reference_page(cited, ATTENTION, page)


def test_questions_file_is_read(tmp_path: Path) -> None:
    items = load_questions(shared("qa", "pdf_dev", "questions.jsonl"))
    assert len(items) == 75 and sum(q.answerable for q in items) == 60
    assert {q.lang for q in items} >= {"en", "de", "ko"}


@pytest.mark.slow
def test_real_run_on_a_real_pdf(tmp_path: Path, real_embedder: Any, real_generator: Any) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(shared("pdfs", "real", ATTENTION), docs / ATTENTION)
    questions = tmp_path / "q.jsonl"
    rows = [{"id": "d1", "question": "How many attention heads does the base Transformer model use?",
             "answers": ["8"], "file": ATTENTION, "page": 5, "lang": "en", "kind": "answerable"},
            {"id": "d2", "question": "Wie viele Schichten hat der Encoder des Transformers?",
             "answers": ["N = 6", "6"], "file": ATTENTION, "page": 3, "lang": "de", "kind": "answerable"},
            {"id": "n1", "question": "What dropout rate did the authors use for the CRAN baseline?",
             "answers": [], "file": None, "page": None, "lang": "en", "kind": "unanswerable"}]
    questions.write_text("\n".join(json.dumps(r) for r in rows))
    report = evaluate_docqa(questions, docs, embedder=real_embedder, generator=real_generator)
    data = report.to_json(details=True)
    assert data["answerable"] == 2 and data["unanswerable"] == 1
    assert set(data["by_lang"]) == {"de", "en"} and data["by_lang"]["de"]["answerable"] == 1
    first = data["results"][0]
    # retrieval reaches the page that says "h = 8 parallel attention layers, or heads"
    assert first["page_hit"] and (ATTENTION, 5) in [tuple(x) for x in first["retrieved"]]
    assert data["page_hit@5"] == sum(r["page_hit"] for r in data["results"][:2]) / 2
    assert data["latency_ms"]["p95"] >= data["latency_ms"]["p50"] > 0
    # the folder went into a cache under $RAG_HOME/eval, not into the user's index
    assert "/eval/docqa-docs-" in data["settings"]["workdir"]


def test_retrieval_only_searches_and_loads_no_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli import main

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tides.txt").write_text("High tide at the harbour is at noon. Low tide follows at six.", encoding="utf-8")
    (docs / "lamp.txt").write_text("The lighthouse lamp is lit at dusk by the keeper.", encoding="utf-8")
    questions = tmp_path / "q.jsonl"
    rows = [{"id": "a", "question": "When is high tide at the harbour?", "answers": ["noon"], "file": "tides.txt",
             "page": None, "lang": "en"},
            {"id": "b", "question": "Wer zündet die Lampe an?", "answers": ["keeper"], "file": "missing.txt",
             "page": None, "lang": "de"},
            {"id": "n", "question": "What is the ferry fare?", "answers": [], "file": None, "page": None, "lang": "en"}]
    questions.write_text("\n".join(json.dumps(r) for r in rows))
    # A model path that does not exist: any attempt to generate would fail the run.
    code = main(["--embedder", "hash", "eval", "docqa", str(questions), str(docs), "--retrieval-only", "--json",
                 "--model", str(tmp_path / "none.gguf"), "--top-k", "1"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["settings"]["retrieval_only"] is True
    assert data["page_hit@1"] == 0.5 and data["by_lang"]["en"]["page_hit@1"] == 1.0
    assert data["by_lang"]["de"]["page_hit@1"] == 0.0
    assert data["answer_correct"] is None and data["abstention"] is None and data["unanswerable"] == 1
