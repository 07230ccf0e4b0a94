"""Map an answer's ``[n]`` markers back to sources, and check them against the text.

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

__all__ = [
    "CJK_CHARS",
    "STOP_WORDS",
    "SUPPORT_THRESHOLD",
    "SentenceCheck",
    "build_citations",
    "check_sentences",
    "cited_numbers",
    "content_words",
    "drop_invalid_markers",
    "numbers",
    "split_sentences",
    "support",
]

_MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SENTENCE = re.compile(r"(?<=[.!?。！？])\s+|\n\s*\n|(?<=[。！？])")
_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_LIST_MARKER = re.compile(r"(?m)^\s*\d{1,2}[.)](?=\s)")
# A short line without end punctuation followed by a capitalised line is a heading, not a wrapped sentence.
_HEADING_BREAK = re.compile(r"(?m)^(#+ [^\n]*|[^\n.!?:;,]{1,60})\n(?=\s*[#A-Z0-9\u00C0-\u024F*-])")
_LEADING_MARKERS = re.compile(r"(?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*[.!?]?\s*)+")
# Kana, CJK ideographs, Hangul: scripts written without spaces between words.
CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK = re.compile(f"[{CJK_CHARS}]+")
_STOP = frozenset(
    "a an the and or but of to in on at by for with from as is are was were be been being it its this that "
    "these those there their they them he she his her we you your i not no yes do does did has have had "
    "which who whom what when where why how than then so such can could would should will may might must "
    "also into about over under more most other some any all each per via "
    "der die das den dem des ein eine einer eines einem einen und oder ist sind war waren wurde wurden "
    "von zu im in mit auf für als auch nicht wie was wer wann wo welche welcher welches".split())
STOP_WORDS = _STOP
# Function characters of Chinese: a bigram holding one says nothing about the topic ("是什", "的学").
_CJK_FUNCTION = frozenset("的了是在有和与及或这那个也都就而被把对于为以之其所等吗呢吧啊什么哪谁何怎样")
_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly")
SUPPORT_THRESHOLD = 0.8


def cited_numbers(text: str, count: int) -> list[int]:
    """Source numbers the text cites, in order of first mention, within ``1..count``."""
    seen: list[int] = []
    for match in _MARKER.finditer(text):
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

    return re.sub(r" +([.,;!?])", r"\1", _MARKER.sub(keep, text)).strip()


def split_sentences(text: str) -> list[str]:
    """Sentences (or paragraphs without end punctuation), with line breaks inside them folded.

    List enumerators ("1. ", "2) ") at the start of a line are dropped rather than read as sentences.
    """
    text = _HEADING_BREAK.sub("\\1\n\n", _LIST_MARKER.sub("", text))
    out: list[str] = []
    for piece in _SENTENCE.split(text):
        piece = " ".join(piece.split()) if piece else ""
        lead = _LEADING_MARKERS.match(piece)
        if out and lead:  # "... 1887. [1] Next": the marker belongs to the sentence before
            out[-1] = f"{out[-1]} {lead.group(0).strip()}"
            piece = piece[lead.end():].strip()
        if piece:
            out.append(piece)
    return out


def _stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if len(word) >= len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    """Lower-cased, stemmed words that carry meaning (no stop words, no citation markers);
    runs of CJK characters become their character bigrams."""
    text = _MARKER.sub(" ", text)
    words: set[str] = set()
    for run in _CJK.findall(text):
        pairs = [run[i:i + 2] for i in range(max(1, len(run) - 1))]
        words.update(p for p in pairs if not _CJK_FUNCTION.intersection(p))
    for word in _WORD.findall(_CJK.sub(" ", text).lower()):
        if word not in _STOP and len(word) > 1 and not word.isdigit():  # numbers are checked on their own
            words.add(_stem(word))
    return words


def numbers(text: str) -> set[str]:
    """Numbers in ``text`` without citation markers or list enumerators, thousands separators removed."""
    text = _LIST_MARKER.sub(" ", _MARKER.sub(" ", text))
    out = set()
    for raw in _NUMBER.findall(text):
        out.add(re.sub(r"(?<=\d),(?=\d{3}\b)", "", raw).rstrip(".,"))
    return out


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
            quote=quote, verified=verified, cited=n in cited, inferred=n == inferred_n))
    # Cited sources first (in order of mention), then the rest by rank.
    order = {n: i for i, n in enumerate(cited)}
    return tuple(sorted(out, key=lambda c: (c.n not in order and not c.inferred, order.get(c.n, c.n))))
