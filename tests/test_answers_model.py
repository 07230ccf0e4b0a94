"""Answers with the real default models over the sample documents: the right page cited and verified,
abstention when the documents don't say, follow-up questions, `rag ask --explain`."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import ABSTAIN_TEXT, RAG

from .conftest import ingested

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def rag(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path, real_embedder: Any,
        real_generator: Any) -> Iterator[RAG]:
    with ingested(tmp_path_factory.mktemp("answers") / "idx", sample_dir, real_embedder, real_generator) as instance:
        yield instance


def _cited(answer: Any) -> list[tuple[str, int | None]]:
    return [(Path(c.file).name, c.page) for c in answer.cited]


@pytest.mark.parametrize(("question", "page", "fact"), [
    ("Which exit code does rag ingest return when some files fail?", ("user-guide.pdf", 3), "2 when some files failed"),
    ("How many tokens of overlap are there between neighbouring chunks?", ("user-guide.pdf", 5), "32 tokens"),
    ("What is the speed limit inside the Kestrel Point harbour?", ("tide-table.html", None), "5 knots"),
])
def test_an_answerable_question_cites_the_right_page_verified(rag: RAG, question: str,
                                                               page: tuple[str, int | None], fact: str) -> None:
    answer = rag.ask(question)
    assert not answer.abstained and answer.grounding in ("model", "quote")
    assert fact in answer.text, answer  # the model's words or, when they fall short, the source's
    assert _cited(answer)[0] == page, answer
    quote = answer.cited[0].quote
    assert answer.cited[0].verified and any(quote in " ".join(h.chunk.text.split()) for h in answer.hits)


@pytest.mark.parametrize("question", [
    "Who won the 2018 football World Cup?", "What is the boiling point of ethanol?",
    "How many moons does Jupiter have?"])
def test_an_unanswerable_question_abstains_and_lists_the_closest_sources(rag: RAG, question: str) -> None:
    answer = rag.ask(question)
    assert answer.abstained and answer.text == ABSTAIN_TEXT and answer.grounding == "abstained"
    assert len(answer.citations) == 5 and not answer.cited
    assert "first_token_ms" not in answer.timings  # decided on the evidence, before the model ran


def test_a_follow_up_is_rewritten_and_answered_from_the_same_document(rag: RAG) -> None:
    chat = rag.chat()
    first = chat.ask("How tall is the Kestrel Point tower?")
    assert "31" in first.text and _cited(first) == [("harbor-lighthouse.md", None)]
    second = chat.ask("And when was it first lit?")
    assert second.query is not None and "Kestrel" in second.query and "tower" in second.query
    assert not second.abstained and _cited(second) == [("harbor-lighthouse.md", None)]
    assert "1887" in second.text


def test_cli_ask_explain_with_default_models(rag: RAG) -> None:
    proc = subprocess.run([sys.executable, "-m", "rag", "ask", "How tall is the Kestrel Point tower?", "--index",
                           str(rag.directory), "--explain", "--no-stream"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "decision:  answer: evidence" in out and "rules and question" in out and "<system>" in out
    assert "Sources:" in out and "harbor-lighthouse.md" in out and "31 metres" in out
    timings = out[out.index("---- timings"):]
    load = int(re.search(r"^load:\s+(\d+) ms", timings, re.M).group(1))  # type: ignore[union-attr]
    assert load > 50  # a new process loads the model for its first question
    prompt = re.search(r"^prompt:\s+(\d+) tokens evaluated in \d+ ms, 0 reused", timings, re.M)
    assert prompt and int(prompt.group(1)) > 100, timings
    assert re.search(r"^first token: \d+ ms", timings, re.M) and re.search(r"^generation:\s+\d+ tokens in", timings, re.M)
    # the default Q4_1 model ran from its Q8_0 copy, and says so
    assert re.search(r"^model file:\s+SmolLM2-135M-Instruct\.Q4_1-\w+-\w+\.q8_0\.gguf \(Q4_1 re-encoded to Q8_0", timings,
                     re.M), timings
