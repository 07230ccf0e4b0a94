"""Conversations: the deterministic follow-up rewrite, history within the budget, and `rag chat`."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from indexes import HashEmbedder
from rag import RAG
from rag.cli import main
from rag.conversation import Conversation, is_follow_up, key_terms, rewrite_follow_up
from rag.generation import EchoGenerator, Message


@pytest.mark.parametrize("question", [
    "and what about the big model?", "What about its height?", "Why?", "How tall is it?",
    "And when was that?", "also the fees?", "Who built them?"])
def test_follow_ups_are_recognised(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize("question", [
    "How tall is the Kestrel Point tower?", "Which exit code does rag ingest return when some files fail?",
    "When did Agnes Moreau keep the light?"])
def test_standalone_questions_are_not_follow_ups(question: str) -> None:
    assert not is_follow_up(question)


def test_a_follow_up_carries_the_previous_querys_key_terms() -> None:
    previous = "How many parameters does the small model have?"
    assert key_terms(previous) == ["many", "parameters", "small", "model"]
    assert rewrite_follow_up("and what about the big model?", previous) == \
        "and what about the big model? many parameters small"
    assert rewrite_follow_up("How tall is the Kestrel Point tower?", previous) == "How tall is the Kestrel Point tower?"
    assert rewrite_follow_up("and what about it?", None) == "and what about it?"


def _reply(messages: Sequence[Message]) -> str:
    return "Boats up to 8 metres pay 18 euros per night." if "fee" in messages[-1][1].lower() else \
        "The harbour speed limit is 5 knots."


@pytest.fixture
def conversation(tmp_path: Path, sample_dir: Path) -> Iterator[tuple[Conversation, EchoGenerator]]:
    generator = EchoGenerator(_reply)
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), generator=generator, workers=0) as rag:
        rag.ingest([sample_dir])
        yield rag.chat(), generator


def test_conversation_rewrites_follow_ups_and_keeps_history(conversation: tuple[Conversation, EchoGenerator]) -> None:
    chat, generator = conversation
    first = chat.ask("What is the speed limit in the Kestrel Point harbour?")
    assert first.query is None and not first.abstained
    second = chat.ask("and the fees for it?")
    assert second.query is not None and "harbour" in second.query and "Kestrel" in second.query
    sent = generator.calls[-1]
    assert sent[1] == ("user", "What is the speed limit in the Kestrel Point harbour?")
    assert sent[2][0] == "assistant" and "[" not in sent[2][1]  # earlier answers go in without markers
    assert sent[-1][1].startswith("Question: and the fees for it?")
    assert chat.last is second and len(chat.turns) == 2

    chat.reset()
    assert chat.last is None and chat.rewrite("and the fees for it?") == "and the fees for it?"
    chat.ask("What is the speed limit in the Kestrel Point harbour?")
    assert [role for role, _ in generator.calls[-1]] == ["system", "user"]


def test_a_follow_up_answer_is_judged_against_the_question_as_asked(tmp_path: Path, sample_dir: Path) -> None:
    """The rewritten query carries the earlier question's terms ("first lit"); a reply that answers the
    follow-up from the opening of the sentence that also holds them is still the model's answer."""
    generator = EchoGenerator("The Kestrel Point tower is 31 metres tall.")
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), generator=generator, workers=0) as rag:
        rag.ingest([sample_dir])
        chat = rag.chat()
        assert chat.ask("When was the Kestrel Point tower first lit?").quote_reason == "cut_short"
        follow_up = chat.ask("And how tall is it?")
    assert follow_up.query is not None and "lit" in follow_up.query
    assert follow_up.grounding == "model" and follow_up.text.startswith("The Kestrel Point tower is 31 metres tall")


def test_abstained_turns_stay_out_of_the_models_history(tmp_path: Path, sample_dir: Path) -> None:
    generator = EchoGenerator(lambda m: "The documents don't answer this." if "World Cup" in m[-1][1] else "Fine.")
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), generator=generator, workers=0) as rag:
        rag.ingest([sample_dir])
        chat = rag.chat()
        assert chat.ask("Who won the 2018 World Cup?").abstained
        chat.ask("How tall is the Kestrel Point tower?")
        assert [role for role, _ in generator.calls[-1]] == ["system", "user"]
        assert chat.history() == [("user", "How tall is the Kestrel Point tower?"),
                                  ("assistant", re.sub(r"\s*\[\d+\]", "", chat.turns[-1].answer.text))]


def test_cli_chat_commands(tmp_path: Path, sample_dir: Path, capsys: pytest.CaptureFixture[str],
                           monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.generation

    idx = str(tmp_path / "idx")
    assert main(["--embedder", "hash", "ingest", str(sample_dir), "--index", idx]) == 0
    monkeypatch.setattr(rag.generation, "LlamaCppGenerator", lambda *a, **k: EchoGenerator(_reply))
    lines = iter(["/sources", "What is the speed limit in the Kestrel Point harbour?", "and the fees for it?",
                  "/sources", "/reset", "/bogus", "/quit"])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    capsys.readouterr()
    assert main(["--embedder", "hash", "chat", "--index", idx]) == 0
    out = capsys.readouterr().out
    assert "(no answer yet)" in out
    assert "The harbour speed limit is 5 knots." in out
    assert "(searching for: and the fees for it? speed limit Kestrel Point harbour)" in out
    assert out.count("Sources:") >= 3  # after each answer and for /sources
    assert "(conversation reset" in out and "unknown command /bogus" in out
