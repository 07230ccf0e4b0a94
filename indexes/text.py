"""Text rules shared by every layer: script ranges, CJK bigrams, BM25 terms and sentence boundaries.

``indexes/`` imports nothing of ours, so the rules that BM25 (here) and the query side
(``rag.text``) and ingestion (``ingest.injection``) must agree on are defined once, here,
and imported downward.

Scripts written without spaces between words (Japanese kana, CJK ideographs) and Korean
Hangul, whose words carry attached particles ("모델은" is "모델" + "은"), are compared by
overlapping character bigrams, as Lucene's CJK analyzer does.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

__all__ = [
    "CJK_CHARS",
    "HANGUL",
    "KANA_HAN",
    "SENTENCE_END",
    "bm25_terms",
    "cjk_bigrams",
    "fold",
    "is_cjk",
    "sentence_spans",
]

KANA_HAN = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # kana, CJK ideographs, compatibility ideographs
HANGUL = "\uac00-\ud7af"                                          # Hangul syllables
CJK_CHARS = KANA_HAN + HANGUL
_CJK_CHAR = re.compile(f"[{CJK_CHARS}]")
# Where one sentence ends: after end punctuation and space, at a blank line, or right after a CJK full stop.
# Titles and abbreviations whose full stop does not end a sentence ("Dr. Vos", "e.g. this", "approx. 5").
_ABBREVIATIONS = ("Dr", "Mr", "Mrs", "Ms", "Prof", "St", "Jr", "Sr", "Fig", "e.g", "i.e", "approx", "vs", "cf", "al",
                  "Nr", "ca")
SENTENCE_END = re.compile(r"(?<=[.!?。！？])" + "".join(rf"(?<!\b{re.escape(a)}\.)" for a in _ABBREVIATIONS)
                          + r"\s+|\n\s*\n|(?<=[。！？])")


def is_cjk(char: str) -> bool:
    """Is ``char`` (one character) kana, a CJK ideograph or Hangul?"""
    return _CJK_CHAR.match(char) is not None


def cjk_bigrams(run: str) -> list[str]:
    """Overlapping character pairs of a CJK run; a single character stays itself."""
    return [run[i:i + 2] for i in range(max(1, len(run) - 1))]


def _term_pattern(chars: str) -> re.Pattern[str]:
    return re.compile(rf"[{chars}]+|[^\W{chars}]{{2,}}", re.UNICODE)


_TERMS = {True: _term_pattern(CJK_CHARS), False: _term_pattern(KANA_HAN)}
_BIGRAMMED = {True: _CJK_CHAR, False: re.compile(f"[{KANA_HAN}]")}


def fold(text: str) -> str:
    """Unicode NFKC: ligatures ("ﬁrst" -> "first"), full-width forms and compatibility characters
    become what people type. Applied to terms, never to stored text (spans keep pointing into pages)."""
    return unicodedata.normalize("NFKC", text)


def bm25_terms(text: str, stopwords: Collection[str] = (), *, hangul: bool = True, nfkc: bool = True) -> list[str]:
    """Unstemmed BM25 terms: lower-cased words of two or more characters not in ``stopwords``,
    CJK runs as character bigrams, after NFKC. ``hangul=False, nfkc=False`` are the rules of BM25
    files before format 2 (Hangul read as words, no NFKC)."""
    words: list[str] = []
    for match in _TERMS[hangul].finditer((fold(text) if nfkc else text).lower()):
        token = match.group()
        if _BIGRAMMED[hangul].match(token):
            words.extend(cjk_bigrams(token))
        elif token not in stopwords:
            words.append(token)
    return words


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text`` (surrounding space excluded, empty ones skipped)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in [*SENTENCE_END.finditer(text), None]:
        end = match.start() if match else len(text)
        piece = text[start:end]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            spans.append((start + lead, start + len(piece.rstrip())))
        if match:
            start = match.end()
    return spans
