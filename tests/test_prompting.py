"""Prompt building and packing into the generator's context."""

from __future__ import annotations

import pytest

from indexes import Chunk, Hit, ModelError
from rag.generation import EchoGenerator
from rag.prompting import build_messages, pack_prompt


def _hits(n: int, words: int = 50) -> list[Hit]:
    return [Hit(Chunk(f"c{i}", f"/d/doc{i}.pdf", i + 1, " ".join(["word"] * words), 0, 10), 1.0 - i / 100)
            for i in range(n)]


def test_sources_numbered_with_file_and_page() -> None:
    hits = [*_hits(2), Hit(Chunk("t", "/d/notes.txt", None, "plain text", 0, 10), 0.1)]
    system, user = build_messages("What?", hits)
    assert system[0] == "system" and "only the numbered sources" in system[1]
    assert "[1] doc0.pdf, page 1\n" in user[1] and "[2] doc1.pdf, page 2\n" in user[1]
    assert "[3] notes.txt\nplain text" in user[1]
    assert user[1].index("[1]") < user[1].index("Question: What?")


@pytest.mark.parametrize("context", [300, 500, 800, 2000])
def test_packing_never_over_budget_and_drops_lowest_ranked(context: int) -> None:
    generator = EchoGenerator("ok", context_length=context)
    hits = _hits(10)
    packed = pack_prompt("How many words?", hits, generator, answer_tokens=100)
    assert packed.prompt_tokens + 100 <= context
    assert generator.count_tokens(packed.messages) == packed.prompt_tokens
    assert list(packed.hits) == hits[:len(packed.hits)]
    assert list(packed.dropped) == hits[len(packed.hits):]
    if packed.dropped:  # one more source would not have fitted
        bigger = build_messages("How many words?", hits[:len(packed.hits) + 1])
        assert generator.count_tokens(bigger) + 100 > context


def test_question_too_long_for_context_is_a_clear_error() -> None:
    generator = EchoGenerator("ok", context_length=100)
    with pytest.raises(ModelError, match="n_ctx 100"):
        pack_prompt("word " * 500, _hits(1), generator, answer_tokens=50)
