"""From retrieved chunks to a checked answer: plan, generate, verify, fall back, abstain.

1. **Plan** (no model): rank the sentences of the retrieved chunks against the
   question (``rag.answering.excerpts``), score the evidence (``rag.answering.abstention``), and, unless
   the evidence is below the threshold, pack one prompt of excerpts
   (``rag.answering.prompting``).
2. **Generate** once, greedy by default, through a guard that ends the reply at its
   first line break (the prompt asks for one sentence; what a small model writes
   after it is a new "source" or "question") and when it starts repeating itself
   (``rag.answering.replies``, which also judges what a small model's reply is worth).
3. **Check**: a reply that says the documents don't answer is an abstention. Every
   other sentence is checked against the sources (``rag.answering.citations``). When no
   sentence of the reply is supported by any source, the reply is not shown as the
   answer: the source sentence that best answers the question is, quoted with its
   citation, and ``grounding`` says so (the reply stays in ``model_text``). When
   some sentences are supported, the reply stands and the others are listed as
   unsupported.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from indexes import Embedder, Hit
from rag.answering.abstention import (
    CALIBRATED,
    Calibration,
    Evidence,
    evidence_for,
    is_refusal,
    overrules_refusal,
    script_of,
    should_abstain,
)
from rag.answering.citations import build_citations, check_sentences, drop_invalid_markers
from rag.answering.claims import check_claims
from rag.answering.excerpts import Sentence, best_source_shown, excerpt, rank_sentences
from rag.answering.prompting import PackedPrompt, pack_prompt
from rag.answering.replies import cut_short, guard_reply, restates, states, without_repeats
from rag.generation import Generator, Message
from rag.records import Answer, Citation, Claim, GenerationStats
from rag.text import SENTENCE_ENDS, has_word, is_cjk_token, tokens

__all__ = ["ABSTAIN_TEXT", "ANSWER_STOPS", "EXTRACTIVE_SOURCES", "GENERATIVE_STOPS", "SENTENCES_PER_SOURCE", "Plan",
           "answer_stream", "make_plan"]

ABSTAIN_TEXT = "The documents don't answer this."
# A small model that starts writing a new source block or question has finished its answer.
ANSWER_STOPS = ("\nSources:", "\nSource:", "\nQuestion:", "\n[", '\n"""')
# A capable model writes lists and paragraphs; it has finished when it starts a new turn or source block.
GENERATIVE_STOPS = ("\nSources:", "\nQuestion:", '\n"""')
SENTENCES_PER_SOURCE = 2
# The extractive prompt shows the best-ranked chunks and the one holding the best sentence: a small model's
# one sentence rarely rests on a fourth source (pdf_dev: the gold page is among the first 3 of 5 retrieved for
# 0.917 of questions, 0.933 among all 5), and every source costs ~70 prompt tokens (~0.25 s on 2 cores).
EXTRACTIVE_SOURCES = 3
MIN_QUOTE_WORDS = 3
_CLOSING = "\"'”’»)]）」』"  # after a sentence's last mark: "Was it?" ends in "?"
_LEAD = re.compile(r"^\s*(?:answer\s*:|the answer is\s*:?)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Plan:
    """Everything decided before the model runs (what ``rag ask --explain`` shows)."""

    question: str
    query: str                       # what retrieval searched for
    hits: tuple[Hit, ...]            # retrieved, best first (in prompt order: see ``ranks``)
    sentences: tuple[Sentence, ...]  # their sentences, best first
    evidence: Evidence
    calibration: Calibration | None  # the thresholds applied (None: abstain only on the model's word)
    abstain: bool                    # decided before generation: no hits or evidence below threshold
    packed: PackedPrompt | None      # None when abstaining before generation
    retrieve_ms: float
    plan_ms: float
    style: str = "extractive"        # "extractive" | "generative" (rag.generation.policy)
    style_reason: str = ""           # why that style was chosen
    load_ms: float = 0.0             # loading models for this question (0 when they were loaded already)
    ranks: tuple[int, ...] = ()      # each hit's 0-based retrieval rank (the extractive prompt moves one up)

    @property
    def threshold(self) -> float | None:
        return self.calibration.threshold if self.calibration is not None else None


def make_plan(question: str, query: str, hits: Sequence[Hit], *, embedder: Embedder | None, generator: Generator,
              answer_tokens: int, calibration: Calibration | None, retrieve_ms: float,
              history: Sequence[Message] = (), per_source: int = SENTENCES_PER_SOURCE,
              style: str = "extractive", style_reason: str = "", load_ms: float = 0.0,
              extractive_sources: int = EXTRACTIVE_SOURCES) -> Plan:
    """Rank sentences, score evidence, decide on early abstention, pack the prompt.

    The extractive style shows the model the first ``extractive_sources`` chunks (and the chunk
    holding the best sentence, moved up behind them), each cut to its best ``per_source`` sentences,
    and asks for one sentence; the generative style shows whole chunks and asks for a complete answer."""
    started = time.perf_counter()
    sentences = rank_sentences(query, hits, embedder)
    weight = (calibration or CALIBRATED[script_of(query)]).weight
    evidence = evidence_for(query, hits, sentences, weight)  # on the retrieval order
    abstain = not hits or should_abstain(evidence, calibration.threshold if calibration is not None else None)
    packed, ranks = None, tuple(range(len(hits)))
    if not abstain:
        generative = style == "generative"
        ranks, shown = best_source_shown(sentences, len(hits), len(hits) if generative else extractive_sources,
                                         _is_statement)
        number = {old: new for new, old in enumerate(ranks)}
        hits = [hits[i] for i in ranks]
        sentences = [replace(s, source=number[s.source]) for s in sentences]
        excerpts = None if generative else [excerpt(hit, sentences, rank, per_source) for rank, hit in enumerate(hits)]
        packed = pack_prompt(question, hits, generator, answer_tokens, excerpts=excerpts, history=history,
                             generative=generative, limit=shown)
        abstain = not packed.hits
    return Plan(question, query, tuple(hits), tuple(sentences), evidence, calibration, abstain, packed, retrieve_ms,
                (time.perf_counter() - started) * 1000, style, style_reason, load_ms, ranks)


def _is_statement(sentence: Sentence) -> bool:
    """A sentence that says something: not a heading ("How documents are split", "## Visiting"), not a
    question (a paper's example prompt: "Question: Was Vanderbilt or Emory founded first?") and not a
    run of numbers without a word (a chart's axis ticks "0.002 0.004 0.006"). Two CJK characters count
    as one word."""
    found = tokens(sentence.text)
    cjk = sum(1 for t in found if is_cjk_token(t))
    words = len(found) - cjk + cjk // 2
    end = sentence.text.rstrip().rstrip(_CLOSING)[-1:]
    worded = cjk > 1 or has_word(sentence.text)
    return words >= MIN_QUOTE_WORDS and worded and end not in "?？؟" and (end in SENTENCE_ENDS or words >= 12)


def _quotable(sentences: Iterable[Sentence]) -> list[Sentence]:
    """Sentences worth quoting, best first; headings only when nothing else is left."""
    ordered = list(sentences)
    return [s for s in ordered if _is_statement(s)] + [s for s in ordered if not _is_statement(s)]


def _best_quote(sentences: Iterable[Sentence], hits: Sequence[Hit] = ()) -> Sentence | None:
    """The best quotable sentence; one from a source that describes another retrieved file (names it: a
    folder's README listing its files, an email about its attachment) only when no primary source has one,
    and a sentence that is no statement (a heading, axis ticks) only when no source has one."""
    about = _describing(hits)
    ranked = sorted(enumerate(sentences), key=lambda n_s: (not _is_statement(n_s[1]), n_s[1].source in about, n_s[0]))
    return ranked[0][1] if ranked else None


def _describing(hits: Sequence[Hit]) -> set[int]:
    """Indices of the hits whose text names the file of another retrieved hit ("`report.pdf` | 12 pages")."""
    names = {Path(h.chunk.source).name for h in hits}
    return {i for i, h in enumerate(hits)
            if any(name != Path(h.chunk.source).name and name in h.chunk.text for name in names)}


def _closest_quotes(sentences: Sequence[Sentence]) -> dict[int, str]:
    """Each retrieved chunk's best sentence for the question, by 1-based source number."""
    quotes: dict[int, str] = {}
    for s in _quotable(sentences):
        quotes.setdefault(s.source + 1, s.quote)
    return quotes


def _quoted(sentence: Sentence) -> str:
    """A source sentence (with its lead, see ``Sentence.quote``) as an answer, cited: ``Text [n].``"""
    text = sentence.quote
    body, end = (text[:-1], text[-1]) if text[-1:] in SENTENCE_ENDS else (text, "")
    return f"{body} [{sentence.source + 1}]{end}"


def _with_claims(citations: Sequence[Citation], claims: Sequence[Claim]) -> tuple[Citation, ...]:
    """``verified`` from the claims: true only when every claim citing a source is supported by it
    (a claim without markers counts for the source its evidence comes from, unless nothing supports
    or contradicts it)."""
    out = []
    for c in citations:
        relevant = [k for k in claims
                    if c.n in k.cites or (not k.cites and k.label != "unsupported" and c.n in k.sources)]
        verified = bool(relevant) and all(k.label == "supported" and c.n in k.sources for k in relevant)
        out.append(replace(c, verified=verified))
    return tuple(out)


def answer_stream(plan: Plan, generator: Generator, *, max_tokens: int, temperature: float,
                  started: float, embedder: Embedder | None = None,
                  documents: Mapping[str, str] | None = None) -> Iterator[str | Answer]:
    """Generate from ``plan`` and yield the reply's pieces, then the checked ``Answer``.

    ``started`` is the ``time.perf_counter()`` at which the question arrived. ``embedder``, when
    given, helps find each claim's best-supporting sentence by meaning; ``documents`` (source path ->
    all its indexed text) let claims be read with the file's title and names given elsewhere in it.
    """
    timings = {"load_ms": plan.load_ms, "retrieve_ms": plan.retrieve_ms, "plan_ms": plan.plan_ms}
    quotes = _closest_quotes(plan.sentences)
    query = plan.query if plan.query != plan.question else None
    generative = plan.style == "generative"

    def abstention(model_text: str = "", run: GenerationStats | None = None) -> Answer:
        timings["total_ms"] = (time.perf_counter() - started) * 1000
        citations = build_citations("", plan.hits, quotes=quotes)
        return Answer(ABSTAIN_TEXT, citations, abstained=True, timings=timings, question=plan.question,
                      grounding="abstained", model_text=model_text, evidence=plan.evidence.score, query=query,
                      hits=plan.hits, style=plan.style, generation=run)

    if plan.abstain or plan.packed is None:
        yield ABSTAIN_TEXT
        yield abstention()
        return
    packed = plan.packed
    pieces: list[str] = []
    stops = GENERATIVE_STOPS if generative else ANSWER_STOPS
    earlier_run = getattr(generator, "last_run", None)  # generators that report their costs (LlamaCppGenerator)
    raw = generator.stream(packed.messages, max_tokens=max_tokens, temperature=temperature, stop=stops)
    for piece in guard_reply(raw, one_line=not generative):
        if not pieces:
            timings["first_token_ms"] = (time.perf_counter() - started) * 1000
        pieces.append(piece)
        yield piece
    if hasattr(raw, "close"):
        raw.close()  # stop llama.cpp when the guard ended the reply early
    run = getattr(generator, "last_run", None)
    run = run if isinstance(run, GenerationStats) and run is not earlier_run else None
    if run is not None:
        timings["prompt_ms"] = run.prompt_ms
    model_text = "".join(pieces).strip()
    text = drop_invalid_markers(_LEAD.sub("", model_text), len(packed.hits))
    if not generative:
        text = without_repeats(text)
    claims = tuple(check_claims(text, packed.hits, embedder, plan.question, documents)) if generative else ()
    supported = any(k.label == "supported" for k in claims)
    refused = bool(text) and is_refusal(text) and not supported
    if refused and not overrules_refusal(plan.evidence, plan.calibration):
        yield abstention(model_text, run)
        return
    checks = check_sentences(text, packed.hits)
    grounding, reason = "model", ""
    packed_sentences = [s for s in plan.sentences if s.source < len(packed.hits)]
    kept = supported if generative else any(c.supported for c in checks) and states(text)
    quote, why = None, ""  # the source sentence that answers instead of the reply, and why
    weak = plan.calibration is not None and plan.calibration.weak is not None and plan.evidence.score < plan.calibration.weak
    if generative and weak and not supported:
        yield abstention(model_text, run)  # weak evidence, and the reply found none: the documents don't answer
        return
    if refused or not kept:
        quote, why = _best_quote(packed_sentences, packed.hits), "refusal_overruled" if refused else "unsupported"
        if quote is None:
            yield abstention(model_text, run)
            return
    elif not generative and restates(text, plan.question):
        quote, why = _best_quote(packed_sentences, packed.hits), "restates_question"
    elif not generative:
        # The question as asked: a rewritten follow-up carries earlier terms the reply need not hold.
        quote, why = cut_short(text, plan.question, packed_sentences), "cut_short"
    if quote is not None:
        text, grounding, reason = _quoted(quote), "quote", why
        checks = check_sentences(text, packed.hits)
    # The generative style reports the reply's claims (why it was kept or replaced); ✓ follows the shown text.
    shown = claims if generative and grounding == "model" else tuple(
        check_claims(text, packed.hits, embedder, plan.question, documents))
    if not generative:
        claims = shown
    unsupported = (tuple(k.text for k in claims if k.label != "supported") if generative
                   else tuple(c.text for c in checks if not c.supported))
    timings["total_ms"] = (time.perf_counter() - started) * 1000
    citations = _with_claims(build_citations(text, packed.hits, quotes=quotes), shown)
    yield Answer(text, citations, abstained=False, timings=timings, question=plan.question, grounding=grounding,
                 model_text=model_text, unsupported=unsupported, evidence=plan.evidence.score, query=query,
                 hits=plan.hits, quote_reason=reason, style=plan.style, claims=claims, generation=run)
