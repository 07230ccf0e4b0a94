"""The answer path with fakes: verification, the quote fallback, abstention, the reply guard, --explain."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from indexes import Chunk, HashEmbedder, Hit
from rag import ABSTAIN_TEXT, RAG
from rag.answering.excerpts import Sentence, rank_sentences
from rag.answering.replies import cut_short, guard_reply
from rag.cli import main
from rag.generation import EchoGenerator, Message
from rag.text import has_word, refers_back

LIGHTHOUSE = "harbor-lighthouse.md"


def _source_number(messages: Sequence[Message], name: str) -> int:
    match = re.search(rf"\[(\d+)\] {re.escape(name)}", messages[-1][1])
    assert match, f"{name} not among the sources"
    return int(match.group(1))


def _about_lighthouse(template: str) -> Callable[[Sequence[Message]], str]:
    """A reply citing the lighthouse notes by whatever number the prompt gave them."""
    return lambda messages: template.format(n=_source_number(messages, LIGHTHOUSE))


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    directory = tmp_path_factory.mktemp("answering") / "idx"
    with RAG.open(directory, create=True, embedder=HashEmbedder(), workers=0) as rag:
        assert rag.ingest([sample_dir]).exit_code == 0
    return directory


@pytest.fixture
def ask(index_dir: Path) -> Iterator[Callable[..., tuple[RAG, EchoGenerator]]]:
    opened: list[RAG] = []

    def make(reply: str | Callable[[Sequence[Message]], str], **settings: object) -> tuple[RAG, EchoGenerator]:
        generator = EchoGenerator(reply)
        rag = RAG.open(index_dir, embedder=HashEmbedder(), generator=generator, **settings)
        opened.append(rag)
        return rag, generator

    yield make
    for rag in opened:
        rag.close()


QUESTION = "How tall is the Kestrel Point tower?"


def test_a_supported_reply_is_the_answer_with_a_verified_citation(ask: Callable[..., tuple[RAG, EchoGenerator]]) -> None:
    rag, _ = ask(_about_lighthouse("The Kestrel Point tower is 31 metres tall [{n}]."))
    answer = rag.ask(QUESTION)
    assert answer.grounding == "model" and not answer.abstained and answer.unsupported == ()
    assert answer.text == answer.model_text and "31 metres" in answer.text
    (cited,) = [c for c in answer.citations if c.cited]
    assert cited.file.endswith(LIGHTHOUSE) and cited.verified
    assert cited.quote == "The Kestrel Point tower is 31 metres tall and was first lit on 14 March 1887."


def test_an_unsupported_reply_is_replaced_by_the_best_source_sentence(
        ask: Callable[..., tuple[RAG, EchoGenerator]]) -> None:
    rag, _ = ask("The tower is 95 metres tall and made of glass.")
    answer = rag.ask(QUESTION)
    assert answer.grounding == "quote" and answer.model_text == "The tower is 95 metres tall and made of glass."
    assert answer.quote_reason == "unsupported"
    assert answer.text.startswith("The Kestrel Point tower is 31 metres tall") and not answer.abstained
    (cited,) = [c for c in answer.citations if c.cited]
    assert cited.file.endswith(LIGHTHOUSE) and cited.verified and f"[{cited.n}]" in answer.text


def test_a_reply_that_copies_a_sentence_but_stops_before_the_asked_part_gives_the_whole_sentence(
        ask: Callable[..., tuple[RAG, EchoGenerator]]) -> None:
    rag, _ = ask(_about_lighthouse("The Kestrel Point tower is 31 metres tall [{n}]."))
    answer = rag.ask("When was the Kestrel Point tower first lit?")
    assert answer.grounding == "quote" and answer.quote_reason == "cut_short"
    assert answer.model_text.startswith("The Kestrel Point tower is 31 metres tall")
    assert answer.to_json()["quote_reason"] == "cut_short"
    assert answer.text.startswith("The Kestrel Point tower is 31 metres tall and was first lit on 14 March 1887 [")
    (cited,) = [c for c in answer.citations if c.cited]
    assert cited.file.endswith(LIGHTHOUSE) and cited.verified
    # The same copy answers a question about what it holds, and an extracted span is kept as it is.
    assert rag.ask(QUESTION).grounding == "model"
    rag, _ = ask(_about_lighthouse("It was first lit on 14 March 1887 [{n}]."))
    assert rag.ask("When was the Kestrel Point tower first lit?").grounding == "model"


def test_cut_short_needs_a_copied_opening_that_leaves_out_the_questions_terms() -> None:
    sentence = Sentence(0, 0, "The exit code of rag ingest is 0 when every readable file was ingested, "
                              "2 when some files failed.", 3, 0.5)
    question = "Which exit code does rag ingest return when some files fail?"
    assert cut_short("The exit code of rag ingest is 0 [1].", question, [sentence]) is sentence
    assert cut_short("The exit code of rag ingest is 2 when some files failed.", question, [sentence]) is None
    assert cut_short("It is 2 [1].", question, [sentence]) is None            # not a copy of the opening
    assert cut_short("The exit", question, [sentence]) is None                # too short to call a copy
    assert cut_short("The exit code of rag ingest is 0", "What is the exit code of rag ingest?", [sentence]) is None
    # A cut-off copy of the same opening ranked higher (a chunk break inside the sentence) does not hide it.
    fragment = Sentence(0, 1, "The exit code of rag ingest is 0 when every", 3, 0.6)
    assert cut_short("The exit code of rag ingest is 0.", question, [fragment, sentence]) is sentence
    # Citation markers in the source are not words of it.
    marked = Sentence(1, 0, "The exit code [3] of rag ingest is 0 when all went well, 2 when some files failed.", 3, 0.5)
    assert cut_short("The exit code of rag ingest is 0 [2].", question, [marked]) is marked
    # Chinese: characters are the units, and six of them make a copy.
    chinese = Sentence(0, 0, "灯塔高三十一米，于一八八七年三月十四日首次点亮。", 2, 0.5)
    assert cut_short("灯塔高三十一米 [1]。", "灯塔何时首次点亮？", [chinese]) is chinese
    assert cut_short("灯塔高 [1]。", "灯塔何时首次点亮？", [chinese]) is None


def test_unsupported_sentences_of_a_partly_supported_reply_are_flagged(
        ask: Callable[..., tuple[RAG, EchoGenerator]]) -> None:
    rag, _ = ask(_about_lighthouse("The Kestrel Point tower is 31 metres tall [{n}]. Aliens painted it green."))
    answer = rag.ask(QUESTION)
    assert answer.grounding == "model" and answer.unsupported == ("Aliens painted it green.",)
    assert next(c for c in answer.citations if c.cited).verified  # the sentence that cites it is supported


def test_out_of_range_markers_are_dropped(ask: Callable[..., tuple[RAG, EchoGenerator]]) -> None:
    rag, _ = ask(_about_lighthouse("The Kestrel Point tower is 31 metres tall [{n}][9]."))
    answer = rag.ask(QUESTION)
    assert "[9]" not in answer.text and answer.model_text.endswith("[9].")


def test_the_models_own_refusal_is_an_abstention_with_the_closest_sources(
        ask: Callable[..., tuple[RAG, EchoGenerator]]) -> None:
    rag, _ = ask("The sources do not mention the tower's height.")
    answer = rag.ask(QUESTION)
    assert answer.abstained and answer.grounding == "abstained" and answer.text == ABSTAIN_TEXT
    assert answer.citations and not any(c.cited or c.inferred for c in answer.citations)
    assert all(c.quote for c in answer.citations)


def test_weak_evidence_abstains_without_calling_the_model(ask: Callable[..., tuple[RAG, EchoGenerator]]) -> None:
    rag, generator = ask("should never be generated", abstain_threshold=5.0)
    answer = rag.ask(QUESTION)
    assert answer.abstained and answer.text == ABSTAIN_TEXT and generator.calls == []
    assert answer.evidence is not None and answer.evidence < 5.0
    assert len(answer.citations) == 5 and answer.citations[0].quote  # the closest sources, to check by hand
    assert set(answer.timings) == {"load_ms", "retrieve_ms", "plan_ms", "total_ms"}  # no prompt_ms: no model run


def test_stream_yields_the_reply_then_the_checked_answer(ask: Callable[..., tuple[RAG, EchoGenerator]]) -> None:
    rag, _ = ask("The tower is 95 metres tall.\nSource: [1] something else")
    *pieces, answer = list(rag.stream(QUESTION))
    assert "".join(str(p) for p in pieces).strip() == answer.model_text == "The tower is 95 metres tall."
    assert answer.grounding == "quote"


def test_reply_guard_stops_at_the_first_line_break_and_on_loops() -> None:
    assert "".join(guard_reply([" The", " tower", " is 31 m", " tall [1].\nSource", ": x"])) == " The tower is 31 m tall [1]."
    assert "".join(guard_reply(["\n", " The", " answer."])) == "\n The answer."  # leading breaks are kept
    looping = "".join(guard_reply(["It is big. "] * 50))
    assert looping.count("It is big.") <= 3
    assert len("".join(guard_reply(["la "] * 500))) < 120


def test_cli_ask_explain_shows_prompt_parts_and_decision(index_dir: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.generation

    monkeypatch.setattr(rag.generation, "LlamaCppGenerator",
                        lambda *a, **k: EchoGenerator("The tower is 95 metres tall and made of glass."))
    code = main(["--embedder", "hash", "ask", QUESTION, "--index", str(index_dir), "--explain", "--top-k", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "decision:  answer (no evidence threshold for this embedder" in out
    assert re.search(r"^\s+\d+  rules and question$", out, re.M) and re.search(r"^\s+\d+  \[1\] ", out, re.M)
    assert "<system>" in out and "Question: How tall is the Kestrel Point tower?" in out
    assert "No source supports the model's answer above" in out and "Kestrel Point tower is 31 metres tall" in out

    code = main(["--embedder", "hash", "ask", QUESTION, "--index", str(index_dir), "--explain", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["grounding"] == "quote" and data["model_answer"].startswith("The tower is 95")
    explain = data["explain"]
    assert explain["prompt"]["tokens"] == sum(p["tokens"] for p in explain["prompt"]["parts"])
    assert explain["prompt"]["messages"][0]["role"] == "system" and explain["retrieved"] == 5
    timings = explain["timings"]  # the fake reports no prompt or generation costs; the rest is measured
    assert timings["prompt"] is None and timings["generation"] is None
    assert timings["first_token_ms"] is not None and timings["total_ms"] >= timings["first_token_ms"]


def test_strong_evidence_overrules_a_refusal_with_the_best_sentence(ask: Callable[..., tuple[RAG, EchoGenerator]],
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import rag.engine
    from rag.answering.abstention import Calibration

    monkeypatch.setattr(rag.engine, "calibration_for", lambda *a: Calibration(weight=0.75, threshold=0.01, strong=0.02))
    rag_, _ = ask("The documents don't answer this.")
    answer = rag_.ask(QUESTION)
    assert not answer.abstained and answer.grounding == "quote" and answer.model_text.startswith("The documents")
    assert answer.text.startswith("The Kestrel Point tower is 31 metres tall")
    monkeypatch.setattr(rag.engine, "calibration_for", lambda *a: Calibration(weight=0.75, threshold=0.01, strong=50.0))
    assert rag_.ask(QUESTION).abstained


def test_a_sentence_that_points_back_is_ranked_and_quoted_with_the_sentence_before_it() -> None:
    """"It has 52,310 of them" says nothing alone: it is scored with, and quoted after, the sentence it refers to,
    so the answer to "how many" is the quote, not the sentence that merely repeats the question's words."""
    chunk = Chunk(id="harbor-1", source="/docs/harbor.txt", page=None, start=0, end=0,
                  text="The Harbor corpus gathers unique messages from volunteers. It has 52,310 of them, in 12 "
                       "languages. Volunteers rated every reply twice.")
    ranked = rank_sentences("How many unique messages does the Harbor corpus hold?", [Hit(chunk, 1.0)], None)
    best = ranked[0]
    assert best.text.startswith("It has 52,310")
    assert best.lead == "The Harbor corpus gathers unique messages from volunteers."
    assert best.quote == "The Harbor corpus gathers unique messages from volunteers. It has 52,310 of them, in 12 languages."
    # A sentence that does not point back keeps its own words and no lead.
    assert next(s for s in ranked if s.text.startswith("Volunteers")).lead == ""


def test_a_sentence_holding_the_number_asked_for_outranks_one_that_only_repeats_the_words() -> None:
    """"How many sentences": the sentence with "17M sentences" beats one that shares as many of its words
    but holds no number; without the gain for values the earlier one wins the tie."""
    text = ("The parsing experiment drew on two corpora. The WSJ corpora for parsing held 17M sentences. "
            "We trained the model on both.")
    chunk = Chunk(id="wsj-1", source="/docs/paper.txt", page=None, start=0, end=0, text=text)
    question = "How many sentences were in the corpora of the parsing experiment?"
    ranked = rank_sentences(question, [Hit(chunk, 1.0)], None)
    assert ranked[0].text.startswith("The WSJ corpora for parsing held 17M sentences") and ranked[0].value == 1.0
    assert rank_sentences(question, [Hit(chunk, 1.0)], None, values=False)[0].text.startswith("The parsing experiment")
    assert all(s.value == 0.0 for s in rank_sentences("Who ran the parsing experiment?", [Hit(chunk, 1.0)], None))


@pytest.mark.parametrize(("sentence", "points_back"), [
    ("It contains 161,443 unique messages.", True), ("Among these tables, 36 were consistent.", True),
    ("Of them, two failed.", True), ("The latter ran faster.", True), ("Diese Methode ist schneller.", True),
    ("Parmi eux, trois ont échoué.", True), ("Cette méthode est plus rapide.", True),
    ("Italy won in 2006.", False), ("Theresa had the privileges.", False), ("Item-level checks ran.", False),
    ("These-days notation differs.", False), ("The corpus has 12 languages.", False)])
def test_refers_back(sentence: str, points_back: bool) -> None:
    assert refers_back(sentence) is points_back


@pytest.mark.parametrize("reply", ["31.", "1.", "31 [{n}]."])
def test_a_bare_number_is_not_kept_as_the_answer(ask: Callable[..., tuple[RAG, EchoGenerator]], reply: str) -> None:
    """A reply of a number alone (a list the model started, cut at its line break) names nothing, even when the
    number occurs in a source: the source sentence that says what it counts is the answer."""
    rag, _ = ask(_about_lighthouse(reply))
    answer = rag.ask(QUESTION)
    assert answer.grounding == "quote" and answer.quote_reason == "unsupported"
    assert answer.text.startswith("The Kestrel Point tower is 31 metres tall")


@pytest.mark.parametrize("reply", ["How tall is the Kestrel Point tower [{n}]?", "Is the Kestrel Point tower 31 metres tall？"])
def test_a_question_is_not_kept_as_the_answer(ask: Callable[..., tuple[RAG, EchoGenerator]], reply: str) -> None:
    """A reply that asks (the question echoed, or one copied from a source) asserts nothing, even when every
    word of it is in a source: the best source sentence answers."""
    rag, _ = ask(_about_lighthouse(reply))
    answer = rag.ask(QUESTION)
    assert answer.grounding == "quote" and answer.quote_reason == "unsupported"
    assert answer.text.startswith("The Kestrel Point tower is 31 metres tall")


def test_a_reply_that_only_restates_the_question_is_not_kept(ask: Callable[..., tuple[RAG, EchoGenerator]]) -> None:
    """"The Kestrel Point tower is tall." for "How tall is the Kestrel Point tower?" is all in the sources
    because the question is: it says nothing, and the best source sentence answers."""
    rag, _ = ask(_about_lighthouse("The Kestrel Point tower is tall [{n}]."))
    answer = rag.ask(QUESTION)
    assert answer.grounding == "quote" and answer.quote_reason == "restates_question"
    assert answer.text.startswith("The Kestrel Point tower is 31 metres tall")
    assert answer.model_text.startswith("The Kestrel Point tower is tall")


def test_restates_needs_every_word_and_number_of_the_reply_in_what_was_asked() -> None:
    from rag.answering.replies import restates
    asked = "Who stripped the ball from Newton on a 3rd and nine?"
    assert restates("The ball was stripped from Newton on a 3rd and nine.", asked)
    assert not restates("Miller stripped the ball from Newton.", asked)
    assert not restates("It flows at 2,300 m3/s.", "How fast does the Rhine flow?")
    # Yes/no and either/or questions are answered in their own words; so is a denial.
    assert not restates("The exit code is 2 [1].", "Is the exit code 0 or 2 when some files fail?")
    assert not restates("It was 2001.", "Was it 1998 or 2001?")
    assert not restates("北京是中国的首都。", "北京还是上海是中国的首都？")
    assert not restates("SmolLM2 does not support German [1].", "Which languages does SmolLM2 support, German?")
    assert not restates("SmolLM2 supports German.", "Does SmolLM2 support German?")


def test_a_short_reply_in_words_is_kept(ask: Callable[..., tuple[RAG, EchoGenerator]]) -> None:
    rag, _ = ask(_about_lighthouse("31 metres [{n}]."))
    answer = rag.ask(QUESTION)
    assert answer.grounding == "model" and answer.text.startswith("31 metres")


def _fifth_answers() -> list[Hit]:
    """Five retrieved chunks about a harbour; only the fifth says when the ferry leaves."""
    texts = ["The harbour has two piers. Fishing boats moor at the north pier.",
             "The harbour office opens at eight. It sells fishing permits.",
             "The lighthouse stands on the south pier. Its lamp was electrified in 1921.",
             "Seals rest on the breakwater. Visitors watch them from the promenade.",
             "The ferry to the island leaves the harbour at 7:40 every morning. Tickets are sold on board."]
    return [Hit(Chunk(f"c{i}", f"/d/harbour{i}.md", None, text, 0, 10), 1.0 - i / 10) for i, text in enumerate(texts)]


def test_the_extractive_prompt_shows_three_sources_and_moves_up_the_one_with_the_best_sentence() -> None:
    from rag.answering.explain import explain_json
    from rag.answering.plan import EXTRACTIVE_SOURCES, answer_stream, make_plan
    hits = _fifth_answers()
    question = "When does the ferry to the island leave the harbour?"
    generator = EchoGenerator("Boats are nice [1].")  # a reply no source supports
    plan = make_plan(question, question, hits, embedder=None, generator=generator, answer_tokens=64,
                     calibration=None, retrieve_ms=0.0)
    assert plan.packed is not None and EXTRACTIVE_SOURCES == 3
    # The fifth chunk holds the best sentence: it follows the first three as [4]; the fourth is left out.
    assert [h.chunk.id for h in plan.packed.hits] == ["c0", "c1", "c2", "c4"]
    assert [h.chunk.id for h in plan.packed.dropped] == ["c3"]
    assert "[4] harbour4.md" in plan.packed.messages[-1][1] and "harbour3.md" not in plan.packed.messages[-1][1]
    assert plan.sentences[0].source == 3 and "7:40" in plan.sentences[0].text
    assert plan.ranks == (0, 1, 2, 4, 3)
    assert explain_json(plan)["prompt"]["left_out"] == [
        {"rank": 4, "source": "harbour3.md", "reason": "the extractive prompt shows at most 4 sources"}]
    *_, answer = answer_stream(plan, generator, max_tokens=64, temperature=0.0, started=0.0)
    # The unsupported reply is replaced by the best sentence, cited by the number the model saw it under.
    assert answer.grounding == "quote" and "7:40" in answer.text and answer.text.rstrip(".").endswith("[4]")
    cited = [c for c in answer.citations if c.cited]
    assert [c.n for c in cited] == [4] and cited[0].file.endswith("harbour4.md") and cited[0].chunk_id == "c4"


def test_the_extractive_prompt_keeps_three_sources_when_they_hold_the_best_sentence_and_generative_keeps_all() -> None:
    from rag.answering.plan import make_plan
    hits = _fifth_answers()
    question = "When was the lighthouse lamp electrified?"
    plan = make_plan(question, question, hits, embedder=None, generator=EchoGenerator("ok"), answer_tokens=64,
                     calibration=None, retrieve_ms=0.0)
    assert plan.packed is not None and [h.chunk.id for h in plan.packed.hits] == ["c0", "c1", "c2"]
    assert plan.hits == tuple(hits) and plan.sentences[0].source == 2 and plan.ranks == (0, 1, 2, 3, 4)
    generative = make_plan(question, question, hits, embedder=None, generator=EchoGenerator("ok"), answer_tokens=64,
                           calibration=None, retrieve_ms=0.0, style="generative")
    assert generative.packed is not None and list(generative.packed.hits) == hits


def test_the_quote_comes_from_the_document_not_from_a_file_that_describes_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "manual.txt").write_text("The server listens on port 8080 by default. It can be changed with --port.\n")
    (docs / "README.md").write_text(
        "# Files in this folder\n\n| file | summary |\n|---|---|\n"
        "| `manual.txt` | which port does the server listen on by default: 8080 |\n")
    index = tmp_path / "idx"
    with RAG.open(index, create=True, embedder=HashEmbedder(), workers=0) as rag:
        assert rag.ingest([docs]).exit_code == 0
    question = "Which port does the server listen on by default?"
    with RAG.open(index, embedder=HashEmbedder(), generator=EchoGenerator("The sky is green [1].")) as rag:
        answer = rag.ask(question)
    assert answer.grounding == "quote"
    assert "The server listens on port 8080 by default" in answer.text
    cited = [c for c in answer.citations if c.cited]
    assert [Path(c.file).name for c in cited] == ["manual.txt"]


def test_a_question_in_the_source_is_never_the_quote(tmp_path: Path) -> None:
    """A paper's example prompt repeats the question's words best, but a question answers nothing."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ferry.txt").write_text("Question: In which year did the harbour ferry line open to passengers?\n"
                                    "The harbour ferry line opened to passengers in 1921.\n")
    index = tmp_path / "idx"
    with RAG.open(index, create=True, embedder=HashEmbedder(), workers=0) as rag:
        assert rag.ingest([docs]).exit_code == 0
    with RAG.open(index, embedder=HashEmbedder(), generator=EchoGenerator("The sky is green [1].")) as rag:
        answer = rag.ask("In which year did the harbour ferry line open to passengers?")
    assert answer.grounding == "quote"
    assert answer.text.startswith("The harbour ferry line opened to passengers in 1921")


@pytest.mark.parametrize(("text", "statement"), [
    ('The harbour ferry line opened to passengers in 1921.', True),
    ('He asked: "Did the harbour ferry line open to passengers in 1921?"', False),  # a question in quotes
    ("هل افتتح خط العبارات في الميناء للركاب عام ١٩٢١؟", False),                  # an Arabic question mark
    ("0.002 0.004 0.006 0.008 0.01 1921 1922 1923 1924 1925 1926 1927", False),
])
def test_what_counts_as_a_statement_worth_quoting(text: str, statement: bool) -> None:
    from rag.answering.plan import _is_statement
    assert _is_statement(Sentence(0, 0, text, overlap=1, similarity=0.0)) is statement


@pytest.mark.parametrize(("text", "worded"), [
    ("ने की दी है", True),           # Hindi: each word a letter and a vowel sign
    ("0.002 0.004 0.006", False), ("12 — 3 · 4", False), ("x 1 y 2", False), ("ok", True), ("数据", True),
])
def test_a_word_is_two_letters_or_a_letter_and_its_vowel_sign(text: str, worded: bool) -> None:
    assert has_word(text) is worded


def test_axis_ticks_are_quoted_only_when_nothing_else_is_left() -> None:
    from rag.answering.plan import _best_quote
    ticks = Sentence(0, 0, "0.002 0.004 0.006 0.008 0.01 1921 1922 1923", overlap=3, similarity=0.0)
    statement = Sentence(0, 1, "Ferry traffic doubled between 1921 and 1923.", overlap=2, similarity=0.0)
    heading = Sentence(0, 2, "Ferry traffic", overlap=2, similarity=0.0)
    assert _best_quote([ticks, heading, statement]) == statement
    assert _best_quote([ticks, heading]) == ticks  # nothing says anything: the best-scored one


def test_a_describing_statement_is_quoted_before_a_primary_source_that_says_nothing() -> None:
    from rag.answering.plan import _best_quote
    ticks_text, row_text = "0.002 0.004 0.006 0.008 0.01 100 200", "slides.pdf holds the word-pair table of the evaluation."
    slides = Hit(Chunk("c0", "/docs/slides.pdf", 24, ticks_text, 0, len(ticks_text)), 1.0)
    readme = Hit(Chunk("c1", "/docs/README.md", None, row_text, 0, len(row_text)), 0.9)
    ticks = Sentence(0, 0, slides.chunk.text, overlap=3, similarity=0.0)
    row = Sentence(1, 0, readme.chunk.text, overlap=2, similarity=0.0)
    assert _best_quote([ticks, row], [slides, readme]) == row
