"""Claim checks: map an answer's ``[n]`` markers back to sources, and check them against the text.

Each sentence of the answer is checked against the chunks it cites (or, if it
cites none, against every source): it is *supported* when every number in it
appears in one chunk and at least ``SUPPORT_THRESHOLD`` of its content words do
(words compared by a light stem, CJK text by character bigrams). A citation is
``verified`` when all the sentences citing it are supported by its chunk. Each
citation's ``quote`` is the chunk sentence that best supports the claims made
with it. Markers pointing past the last source are dropped from the answer. If
the model cited nothing, the source that best supports the answer is attached
and marked ``inferred``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from indexes import Hit
from rag.records import Citation
from rag.text import MARKER, content_words, numbers, split_sentences

__all__ = [
    "SUPPORT_THRESHOLD",
    "SentenceCheck",
    "build_citations",
    "check_sentences",
    "cited_numbers",
    "drop_invalid_markers",
    "support",
]

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
SUPPORT_THRESHOLD = 0.8


def cited_numbers(text: str, count: int) -> list[int]:
    """Source numbers the text cites, in order of first mention, within ``1..count``."""
    seen: list[int] = []
    for match in MARKER.finditer(text):
        for part in re.split(r"[,;]", match.group(1)):
            n = int(part)
            if 1 <= n <= count and n not in seen:
                seen.append(n)
    return seen


def drop_invalid_markers(text: str, count: int) -> str:
    """Remove markers (or the numbers inside them) that point to no source: ``[7]`` with 5 sources."""
    def keep(match: re.Match[str]) -> str:
        valid = [p.strip() for p in re.split(r"[,;]", match.group(1)) if 1 <= int(p) <= count]
        return f"[{', '.join(valid)}]" if valid else ""

    return re.sub(r" +([.,;!?])", r"\1", MARKER.sub(keep, text)).strip()


def support(claim: str, evidence: str) -> float:
    """Share of the claim's content words found in the evidence; 0 if one of its numbers is missing."""
    claimed = numbers(claim)
    if claimed and not claimed <= numbers(evidence):
        return 0.0
    words = content_words(claim)
    if not words:
        return 1.0 if claimed else 0.0
    return len(words & content_words(evidence)) / len(words)


@dataclass(frozen=True)
class SentenceCheck:
    """One answer sentence: the sources it cites, the best-supporting source and how well it supports it."""

    text: str
    cites: tuple[int, ...]
    best: int | None       # source number (1-based) that supports it best
    score: float
    supported: bool


def check_sentences(answer: str, hits: Sequence[Hit], threshold: float = SUPPORT_THRESHOLD) -> list[SentenceCheck]:
    """Check each sentence of ``answer`` against the sources it cites, or all sources if it cites none."""
    checks = []
    for sentence in split_sentences(answer):
        cites = tuple(cited_numbers(sentence, len(hits)))
        candidates = list(cites) or list(range(1, len(hits) + 1))
        if not content_words(sentence) and not numbers(sentence):
            continue  # a bare marker or punctuation: nothing to check
        scores = {n: support(sentence, hits[n - 1].chunk.text) for n in candidates}
        best = max(candidates, key=lambda n: (scores[n], -n)) if candidates else None
        score = scores[best] if best is not None else 0.0
        checks.append(SentenceCheck(sentence, cites, best, score, score >= threshold))
    return checks


def _best_quote(claim: str, chunk_text: str) -> str:
    sentences = split_sentences(chunk_text) or [" ".join(chunk_text.split())]
    wanted = content_words(claim)
    claimed = numbers(claim)
    return max(sentences, key=lambda s: (len(wanted & content_words(s)) + len(claimed & numbers(s)), -len(s)))


def build_citations(answer: str, hits: Sequence[Hit], *, threshold: float = SUPPORT_THRESHOLD,
                    quotes: dict[int, str] | None = None) -> tuple[Citation, ...]:
    """One citation per source in the prompt, numbered as in the prompt.

    ``quotes`` (by source number) are the quotes of sources the answer neither cites nor
    is inferred from, e.g. each chunk's sentence closest to the question; without one, such
    a source's quote is its sentence closest to the answer.
    """
    cited = cited_numbers(answer, len(hits))
    checks = check_sentences(answer, hits, threshold)
    inferred_n = None
    if not cited and answer.strip() and hits:
        scores = [support(answer, hit.chunk.text) for hit in hits]
        if max(scores) == 0:  # every source lacks some number of the answer: rank on words
            scores = [support(_NUMBER.sub(" ", answer), hit.chunk.text) for hit in hits]
        best = max(range(len(hits)), key=lambda i: (scores[i], -i))
        if scores[best] > 0:
            inferred_n = best + 1
    out: list[Citation] = []
    for n, hit in enumerate(hits, start=1):
        claims = [c.text for c in checks if n in c.cites]
        if n == inferred_n:
            claims = [c.text for c in checks] or [answer]
        claim_text = " ".join(claims) if claims else answer
        verified = bool(claims) and all(support(c, hit.chunk.text) >= threshold for c in claims)
        used = n in cited or n == inferred_n
        quote = (None if used else (quotes or {}).get(n)) or _best_quote(claim_text, hit.chunk.text)
        out.append(Citation(
            n=n, file=str(Path(hit.chunk.source)), page=hit.chunk.page, chunk_id=hit.chunk.id, score=hit.score,
            quote=quote, verified=verified, cited=n in cited, inferred=n == inferred_n,
            locator=hit.chunk.locator, section=hit.chunk.section, ocr=hit.chunk.ocr))
    # Cited sources first (in order of mention), then the rest by rank.
    order = {n: i for i, n in enumerate(cited)}
    return tuple(sorted(out, key=lambda c: (c.n not in order and not c.inferred, order.get(c.n, c.n))))
