"""Map an answer's ``[n]`` markers back to sources, and check them against the text.

A citation is ``verified`` when the answer sentences that cite it are supported
by the cited chunk: every number in them appears in the chunk, and most of their
content words do. Each citation's ``quote`` is the chunk sentence that best
supports the answer. If the model cited nothing, the best-supporting source is
attached and marked ``inferred``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from indexes import Hit
from rag.records import Citation

__all__ = ["build_citations", "cited_numbers", "split_sentences", "support"]

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n\s*\n")
_WORD = re.compile(r"\w+", re.UNICODE)
_LIST_MARKER = re.compile(r"(?m)^\s*\d{1,2}[.)](?=\s)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STOP = frozenset(
    "a an the and or but of to in on at by for with from as is are was were be been being it its this that "
    "these those there their they them he she his her we you your i not no yes do does did has have had "
    "which who whom what when where why how than then so such can could would should will may might must "
    "also into about over under more most other some any all each per via".split())
SUPPORT_THRESHOLD = 0.6


def cited_numbers(text: str, count: int) -> list[int]:
    """Source numbers the text cites, in order of first mention, within ``1..count``."""
    seen: list[int] = []
    for match in _MARKER.finditer(text):
        for part in re.split(r"[,;]", match.group(1)):
            n = int(part)
            if 1 <= n <= count and n not in seen:
                seen.append(n)
    return seen


def split_sentences(text: str) -> list[str]:
    """Sentences (or paragraphs without end punctuation), with line breaks inside them folded."""
    return [" ".join(s.split()) for s in _SENTENCE.split(text) if s and s.strip()]


def _content_words(text: str) -> set[str]:
    return {w for w in (m.lower() for m in _WORD.findall(_MARKER.sub(" ", text))) if w not in _STOP and len(w) > 1}


def support(claim: str, evidence: str, *, check_numbers: bool = True) -> float:
    """Share of the claim's content words found in the evidence; 0 if a number is missing."""
    claim = _LIST_MARKER.sub(" ", claim)  # "1." opening a list item is not a claimed number
    evidence_words = _content_words(evidence)
    numbers = set(_NUMBER.findall(_MARKER.sub(" ", claim)))
    if check_numbers and numbers and not numbers <= set(_NUMBER.findall(evidence)):
        return 0.0
    words = _content_words(claim)
    if not words:
        return 1.0 if numbers else 0.0
    return len(words & evidence_words) / len(words)


def _best_quote(claim: str, chunk_text: str) -> str:
    sentences = split_sentences(chunk_text) or [chunk_text.strip()]
    return max(sentences, key=lambda s: (len(_content_words(claim) & _content_words(s)), -len(s)))


def build_citations(answer: str, hits: Sequence[Hit]) -> tuple[Citation, ...]:
    """One citation per source in the prompt, numbered as in the prompt."""
    cited = cited_numbers(answer, len(hits))
    sentences = split_sentences(answer)
    inferred_n = None
    if not cited and answer.strip() and hits:
        scores = [support(answer, hit.chunk.text) for hit in hits]
        if max(scores) == 0:  # a long answer mixing several sources' numbers: judge on words alone
            scores = [support(answer, hit.chunk.text, check_numbers=False) for hit in hits]
        best = max(range(len(hits)), key=lambda i: (scores[i], -i))
        if scores[best] > 0:
            inferred_n = best + 1
    out: list[Citation] = []
    for n, hit in enumerate(hits, start=1):
        claims = [s for s in sentences if n in cited_numbers(s, len(hits))]
        if n == inferred_n:
            claims = [answer]
        claim_text = " ".join(claims) if claims else answer
        verified = bool(claims) and all(support(c, hit.chunk.text) >= SUPPORT_THRESHOLD for c in claims)
        out.append(Citation(
            n=n, file=str(Path(hit.chunk.source)), page=hit.chunk.page, chunk_id=hit.chunk.id, score=hit.score,
            quote=_best_quote(claim_text, hit.chunk.text), verified=verified,
            cited=n in cited, inferred=n == inferred_n))
    # Cited sources first (in order of mention), then the rest by rank.
    order = {n: i for i, n in enumerate(cited)}
    return tuple(sorted(out, key=lambda c: (c.n not in order and not c.inferred, order.get(c.n, c.n))))
