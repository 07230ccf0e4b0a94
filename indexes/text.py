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
    "glued_parts",
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


def bm25_terms(text: str, stopwords: Collection[str] = (), *, hangul: bool = True, nfkc: bool = True,
               parts: bool = True, letter_parts: bool = True) -> list[str]:
    """Unstemmed BM25 terms: lower-cased words of two or more characters not in ``stopwords``,
    CJK runs as character bigrams, after NFKC; with ``parts``, a word that PDF extraction glued
    together ("incomeRefundable", "1Department", "sykesvilleLOCATION3") also gives its parts
    (``glued_parts``). ``hangul=False, nfkc=False, parts=False`` are the rules of BM25 files of
    format 1; ``parts=False`` those of format 2; ``letter_parts=False`` (parts of two characters, digits
    included) those of format 3."""
    words: list[str] = []
    folded = fold(text) if nfkc else text
    for match in _TERMS[hangul].finditer(folded if parts else folded.lower()):  # parts need the case
        token = match.group()
        if _BIGRAMMED[hangul].match(token):
            words.extend(cjk_bigrams(token))
            continue
        lowered = token.lower()
        if lowered not in stopwords:
            words.append(lowered)
        if parts:
            words.extend(part for part in glued_parts(token, letters=letter_parts) if part not in stopwords)
    return words


# Where glued words part: between a letter and a digit, before a capital that follows a small letter,
# and before the last capital of a run followed by small letters ("ALICESigned": "ALICE", "Signed").
_GLUE = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\d)(?=[^\W\d_])|(?<=[a-zß-ÿ])(?=[A-ZÀ-Þ])|(?<=[A-ZÀ-Þ])(?=[A-ZÀ-Þ][a-zß-ÿ])")


def glued_parts(token: str, *, letters: bool = True) -> list[str]:
    """The lower-cased parts of a word that extraction glued together, or none.

    Table cells, footnote marks and lines run together in PDF text ("PERSON37", "Narasimhan1",
    "fromAlternative"): each part of three letters or more is a term beside the whole word. Digits
    are no part ("p53", "COVID19", "sha256" would otherwise match every 53, 19 and 256), and a split
    at a change of case (Latin letters only) needs three letters each side, so short names written in
    mixed case stay whole ("LoRA", "iPod", "PyTorch", "DeBERTa"); longer ones part ("JavaScript":
    "java", "script") and still match whole. ``letters=False``: the rule of BM25 format 3, every part of
    two characters or more, digits included."""
    pieces = [piece for piece in _GLUE.split(token) if piece]
    if len(pieces) < 2:
        return []
    merged: list[str] = [pieces[0]]
    for piece in pieces[1:]:
        previous = merged[-1]
        case_split = previous[-1].isalpha() and piece[0].isalpha()
        if case_split and (len(previous) < 3 or len(piece) < 3 or previous[-3:].isdigit()):
            merged[-1] = previous + piece
        else:
            merged.append(piece)
    if len(merged) < 2:
        return []
    if not letters:
        return [piece.lower() for piece in merged if len(piece) >= 2]
    return [piece.lower() for piece in merged if len(piece) >= 3 and not piece.isdigit()]


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
