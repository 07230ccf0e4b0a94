"""The held-out docqa set (tests/data/docqa_heldout): readable by `rag eval docqa`, and every rule of its
verify.py holds on the real PDFs; the verifier itself rejects broken items."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from rag.evaluation.docqa import load_questions

from .conftest import shared

HERE = Path(__file__).parent / "data" / "docqa_heldout"
QUESTIONS = HERE / "questions.jsonl"


def _verify_module() -> ModuleType:
    # Imported by path under its own name: pdf_dev's verify.py is imported as "verify" elsewhere.
    spec = importlib.util.spec_from_file_location("docqa_heldout_verify", HERE / "verify.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


verify = _verify_module()


def _items() -> list[dict[str, Any]]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def pages() -> dict[str, list[str]]:
    return verify.extract_pages(shared("pdfs", "real"))


def test_the_eval_reads_the_set_with_its_extra_field() -> None:
    items = load_questions(QUESTIONS)
    assert len(items) == 70
    assert sum(q.answerable for q in items) == 40
    assert {q.lang for q in items} >= {"en", "fr", "de", "ko", "fa", "ar"}


@pytest.mark.slow
def test_every_rule_holds_on_the_real_pdfs(pages: dict[str, list[str]]) -> None:
    errors, notes = verify.check_items(_items(), pages)
    assert errors == []
    assert len(notes) == 30


@pytest.mark.slow
def test_the_verifier_rejects_broken_items(pages: dict[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    items = _items()
    by_id = {o["id"]: o for o in items}

    def errors_after(change: Any) -> list[str]:
        broken = copy.deepcopy(items)
        change({o["id"]: o for o in broken})
        return verify.check_items(broken, pages)[0]

    # A gold string printed on three pages of the paper does not identify one page.
    def on_many_pages(b: dict[str, Any]) -> None:
        b["h14"]["answers"] = ["P100"]

    assert any("also on other pages" in e for e in errors_after(on_many_pages))

    def gives_away(b: dict[str, Any]) -> None:
        b["h15"]["question"] = "Was the BPE vocabulary 37000 tokens?"

    assert any("contains its own gold answer" in e for e in errors_after(gives_away))

    def wrong_page(b: dict[str, Any]) -> None:
        b["h37"]["page"] = 2

    assert any("h37: page 2 out of range" in e for e in errors_after(wrong_page))

    # Negatives: a term that is in the collection, an anchor the page lacks, an answer the PDF states.
    monkeypatch.setitem(verify.ABSENT_TERMS, "u01", ["Transformer"])
    attention = "paper_attention_is_all_you_need_1706.03762v5.pdf"
    monkeypatch.setitem(verify.NEAR_MISS, "u11", (attention, 1, ["ByteNet", "EN-FR"]))
    monkeypatch.setitem(verify.UNSTATED, "u26", (attention, ["GPU"]))
    errors = verify.check_items(items, pages)[0]
    assert any(e.startswith("u01: key term 'Transformer' occurs") for e in errors)
    assert any(e.startswith("u11: anchor term 'ByteNet' not on") for e in errors)
    assert any(e.startswith("u26: answer-bearing string 'GPU' occurs") for e in errors)
    assert by_id["u11"]["neg"] == "near_miss"
