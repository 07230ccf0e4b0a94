"""Records the query stage returns: citations and answers, and how a place in a file is shown."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from indexes import Hit, SourceRecord
from ingest.formats import UNIT_NAMES

__all__ = ["CLAIM_LABELS", "Answer", "Citation", "Claim", "GenerationStats", "hit_json", "place_label", "place_suffix",
           "source_json"]

CLAIM_LABELS = ("supported", "unsupported", "contradicted")


def place_label(file: str, page: int | None, locator: str | None = None, ocr: bool = False) -> str:
    """How a citation names its place: ``report.pdf, page 3`` (``, OCR`` when the text was
    recognised from an image), ``deck.pptx, slide 4``, or the file name alone."""
    return file.replace("\\", "/").rsplit("/", 1)[-1] + place_suffix(page, locator, ocr)


def place_suffix(page: int | None, locator: str | None = None, ocr: bool = False) -> str:
    """The part of ``place_label`` after the file name: ``", page 3"``, ``", slide 4"``, ``", page 3, OCR"`` or ``""``."""
    where = f", page {page}" if page is not None else f", {locator}" if locator else ""
    return where + (", OCR" if ocr and where else "")


def hit_json(rank: int, hit: Hit) -> dict[str, Any]:
    """A search hit as ``rag search --json`` and ``POST /v1/search`` give it."""
    c = hit.chunk
    return {"rank": rank, "file": c.source, "page": c.page, "locator": c.locator, "section": c.section, "ocr": c.ocr,
            "chunk_id": c.id, "score": round(hit.score, 4), "start": c.start, "end": c.end, "text": c.text}


def source_json(record: SourceRecord) -> dict[str, Any]:
    """A file's record as ``rag sources --json`` and ``GET /v1/sources`` give it: ``pages`` counts
    its ``units`` (pages of a PDF, slides, chapters, ... see ``ingest.formats.UNIT_NAMES``)."""
    return {**record.__dict__, "units": UNIT_NAMES.get(record.kind or "", "pages")}


@dataclass(frozen=True)
class Citation:
    """A source given to the model, numbered ``n`` as in the prompt and the answer's ``[n]``.

    ``cited``: the answer marks it. ``inferred``: the model cited nothing and this
    is the source that best supports the answer. ``verified``: the answer's
    sentences that cite it are supported by its text. ``quote``: its best supporting sentence.
    ``page`` is a PDF's physical page; a file without pages has ``locator`` instead ("slide 4");
    ``section`` is the heading the text sits under, when known; ``ocr``: the text came from OCR.
    """

    n: int
    file: str
    page: int | None
    chunk_id: str
    score: float
    quote: str
    verified: bool = False
    cited: bool = False
    inferred: bool = False
    locator: str | None = None
    section: str | None = None
    ocr: bool = False

    def label(self) -> str:
        return place_label(self.file, self.page, self.locator, self.ocr)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["score"] = round(self.score, 4)
        return data


@dataclass(frozen=True)
class Claim:
    """One claim of a reply, its label, the sources of its evidence and the evidence sentence quoted.

    ``label`` is ``"supported"``, ``"unsupported"`` or ``"contradicted"`` (a source says otherwise;
    ``quote`` is that sentence).
    """

    text: str
    label: str
    sources: tuple[int, ...]  # the sources of its evidence sentence(s)
    quote: str
    cites: tuple[int, ...] = ()  # the sources its markers cite

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "label": self.label, "sources": list(self.sources), "quote": self.quote}


@dataclass(frozen=True)
class GenerationStats:
    """Where one reply's model time went (what ``rag ask --explain`` shows under "timings").

    The prompt is ``reused_tokens`` taken from the prefix cache (the system prompt's state, kept
    between questions) plus the tokens evaluated now, in ``prompt_ms``. ``first_token_ms`` runs
    from the generator's call to its first piece of text; ``tokens`` were sampled in ``generate_ms``
    (from the first piece to the last).
    """

    prompt_tokens: int
    reused_tokens: int
    prompt_ms: float
    first_token_ms: float
    tokens: int
    generate_ms: float

    @property
    def evaluated_tokens(self) -> int:
        return self.prompt_tokens - self.reused_tokens

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / (self.generate_ms / 1000) if self.generate_ms > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"prompt_tokens": self.prompt_tokens, "reused_tokens": self.reused_tokens,
                "evaluated_tokens": self.evaluated_tokens, "prompt_ms": round(self.prompt_ms, 1),
                "first_token_ms": round(self.first_token_ms, 1), "tokens": self.tokens,
                "generate_ms": round(self.generate_ms, 1), "tokens_per_s": round(self.tokens_per_s, 1)}


@dataclass(frozen=True)
class Answer:
    """A grounded answer: text with ``[n]`` markers, the sources behind it, timings in ms.

    ``grounding`` says where ``text`` comes from: ``"model"`` (the model's reply, at
    least one sentence of it supported by the sources), ``"quote"`` (a source sentence
    quoted with its citation, the reply kept in ``model_text``) or ``"abstained"``.
    ``quote_reason`` says why a quote replaced the reply: ``"unsupported"`` (no source
    supports it; the best-ranked sentence is quoted), ``"refusal_overruled"`` (the model
    said the documents don't answer, against strong evidence), ``"cut_short"`` (the reply
    copies the opening of a source sentence and stops before the asked part; that
    sentence is quoted whole) or ``"restates_question"`` (every word and number of the reply
    is the question's own; the best-ranked sentence is quoted).
    ``unsupported`` lists the answer's sentences (claims) that no source supports.
    ``style`` is the answer style used (``"extractive"`` or ``"generative"``); ``claims`` the
    reply's claims, each labelled against its best-supporting source sentence.
    ``evidence`` is the retrieval evidence score the abstention threshold is applied to.
    ``generation`` says where the model's time went (None when the model did not run, or when the
    generator does not report it).
    ``query`` is the text retrieval searched for when it differs from the question
    (a rewritten follow-up in a conversation). ``hits`` are the retrieved chunks.
    """

    text: str
    citations: tuple[Citation, ...]
    abstained: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    question: str = ""
    grounding: str = "model"
    model_text: str = ""
    unsupported: tuple[str, ...] = ()
    evidence: float | None = None
    query: str | None = None
    hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)
    quote_reason: str = ""
    style: str = "extractive"
    claims: tuple[Claim, ...] = ()
    generation: GenerationStats | None = field(default=None, compare=False)

    @property
    def cited(self) -> tuple[Citation, ...]:
        return tuple(c for c in self.citations if c.cited or c.inferred)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "question": self.question, "answer": self.text, "abstained": self.abstained,
            "style": self.style, "grounding": self.grounding, "model_answer": self.model_text,
            "unsupported": list(self.unsupported),
            "evidence": None if self.evidence is None else round(self.evidence, 4),
            "claims": [c.to_json() for c in self.claims],
            "citations": [c.to_json() for c in self.citations],
            "timings": {k: round(v, 1) for k, v in self.timings.items()}}
        if self.quote_reason:
            data["quote_reason"] = self.quote_reason
        if self.query is not None:
            data["query"] = self.query
        return data
