"""Text handling for the query side: the one word tokeniser, stop words, stemmer, numbers, sentences.

Built on ``indexes.text`` (script ranges, CJK bigrams, sentence boundaries), so BM25, ingestion
and answering agree on what a word, a CJK run and a sentence end are. Words are compared by a
light suffix stem; CJK and Hangul runs by character bigrams (Chinese function characters dropped).
"""

from __future__ import annotations

import re
import unicodedata
from itertools import pairwise

from indexes.text import CJK_CHARS, SENTENCE_END, cjk_bigrams, fold, is_cjk, sentence_spans

__all__ = [
    "CJK_CHARS",
    "MARKER",
    "NEGATIONS",
    "SENTENCE_ENDS",
    "STOP_WORDS",
    "content_words",
    "fold",
    "has_word",
    "is_cjk",
    "is_cjk_token",
    "language_of",
    "numbers",
    "refers_back",
    "sentence_spans",
    "split_sentences",
    "stem",
    "strip_markers",
    "tokens",
    "words",
]

# A citation marker: [1], [2, 3], [1; 4].
MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_SPACED_MARKER = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
SENTENCE_ENDS = ".!?。！？"
_TOKEN = re.compile(rf"[{CJK_CHARS}]|[^\W{CJK_CHARS}]+", re.UNICODE)
_WORD = re.compile(r"\w+", re.UNICODE)
_SURFACE_WORD = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_CJK_RUN = re.compile(f"[{CJK_CHARS}]+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_LIST_MARKER = re.compile(r"(?m)^\s*\d{1,2}[.)](?=\s)")
# A short line without end punctuation followed by a capitalised line is a heading, not a wrapped sentence.
_HEADING_BREAK = re.compile(r"(?m)^(#+ [^\n]*|[^\n.!?:;,]{1,60})\n(?=\s*[#A-Z0-9\u00C0-\u024F*-])")
# Words a heading does not end with: a line ending so is a sentence wrapped before a number or a name
# ("The grant starts on 1 April 2025 and ends on" / "31 March 2028.").
_WRAPPED = frozenset("a an the and or but nor of to in on at by for with from as than into onto per via is are was "
                     "were be been has have had will would can could may might must shall should".split())


def _heading_break(match: re.Match[str]) -> str:
    line = match.group(1)
    last = line.split()[-1].lower() if line.split() else ""
    return f"{line}\n" if not line.startswith("#") and last in _WRAPPED else f"{line}\n\n"


_LEADING_MARKERS = re.compile(r"(?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*[.!?]?\s*)+")
# English words that negate what follows (claim checks compare them; German and French ones in rag.answering.replies).
NEGATIONS = frozenset("not no never none cannot nothing neither nor without".split())
STOP_WORDS = frozenset(
    "a an the and or but of to in on at by for with from as is are was were be been being it its this that "
    "these those there their they them he she his her we you your i not no yes do does did has have had "
    "which who whom what when where why how than then so such can could would should will may might must "
    "also into about over under more most other some any all each per via "
    "der die das den dem des ein eine einer eines einem einen und oder ist sind war waren wurde wurden "
    "von zu im in mit auf für als auch nicht wie was wer wann wo welche welcher welches".split())
# Function characters of Chinese: a bigram holding one says nothing about the topic ("是什", "的学").
_CJK_FUNCTION = frozenset("的了是在有和与及或这那个也都就而被把对于为以之其所等吗呢吧啊什么哪谁何怎样")
_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly")


def has_word(text: str) -> bool:
    """Whether ``text`` holds a word of two letters or more: a letter followed by a letter or by a
    vowel sign ("ने" in Hindi is a letter and a mark). A slide's page number, a chart's axis ticks
    ("0.002 0.004") or a run of symbols hold none."""
    return any(a.isalpha() and (b.isalpha() or unicodedata.category(b).startswith("M")) for a, b in pairwise(text))


def strip_markers(text: str) -> str:
    """``text`` without its citation markers (and the spaces before them): "fact [1]." -> "fact."."""
    return _SPACED_MARKER.sub("", text)


def _unmarked(text: str) -> str:
    """For comparing words: markers out, NFKC-folded ("ﬁrst" matches "first")."""
    return fold(MARKER.sub(" ", text))


def tokens(text: str, *, lower: bool = True) -> list[str]:
    """The word tokeniser: words in order, citation markers dropped, each CJK character a token."""
    text = _unmarked(text)
    return _TOKEN.findall(text.lower() if lower else text)


def words(text: str) -> list[str]:
    """Words as written (case kept, "follow-up" and "it's" whole, a CJK run one word): the pieces
    a retrieval query is rebuilt from."""
    return _SURFACE_WORD.findall(_unmarked(text))


def stem(word: str) -> str:
    """A light English suffix stem: enough to match "checks" with "checked", never a wrong merge of short words."""
    for suffix in _SUFFIXES:
        if len(word) >= len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    """Lower-cased, stemmed words that carry meaning (no stop words, no citation markers);
    runs of CJK characters become their character bigrams."""
    text = _unmarked(text)
    words: set[str] = set()
    for run in _CJK_RUN.findall(text):
        words.update(p for p in cjk_bigrams(run) if not _CJK_FUNCTION.intersection(p))
    for word in _WORD.findall(_CJK_RUN.sub(" ", text).lower()):
        if word not in STOP_WORDS and len(word) > 1 and not word.isdigit():  # numbers are checked on their own
            words.add(stem(word))
    return words


def numbers(text: str) -> set[str]:
    """Numbers in ``text`` without citation markers or list enumerators, thousands separators removed."""
    text = _LIST_MARKER.sub(" ", _unmarked(text))
    out = set()
    for raw in _NUMBER.findall(text):
        out.add(re.sub(r"(?<=\d),(?=\d{3}\b)", "", raw).rstrip(".,"))
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences (or paragraphs without end punctuation), with line breaks inside them folded.

    List enumerators ("1. ", "2) ") at the start of a line are dropped rather than read as sentences;
    a marker opening a sentence ("... 1887. [1] Next") is given back to the sentence before.
    """
    text = _HEADING_BREAK.sub(_heading_break, _LIST_MARKER.sub("", text))
    out: list[str] = []
    for piece in SENTENCE_END.split(text):
        piece = " ".join(piece.split()) if piece else ""
        lead = _LEADING_MARKERS.match(piece)
        if out and lead:
            out[-1] = f"{out[-1]} {lead.group(0).strip()}"
            piece = piece[lead.end():].strip()
        if piece:
            out.append(piece)
    return out


# A sentence that opens by pointing at what came before ("It contains 161,443 messages", "Among these
# tables, 36 were consistent") says nothing on its own: its subject is in the sentence before it.
_REFERS_BACK = re.compile(
    r"^\W*(?:(?:it|its|this|these|those|they|them|their|he|she|his|her|such|both|here|there)\b(?!-)"
    r"|(?:among|of|in|for|from|with|of all|of both|all of|each of|both of|none of|most of|some of)"
    r"\s+(?:these|those|them|this|it|which)\b"
    r"|the (?:latter|former|same|rest|remaining)\b"
    r"|(?:es|sie|er|dies|diese[rsmn]?|dabei|davon|darunter|hierbei)\b"
    r"|(?:il|elle|ils|elles|ce|cet|cette|ces|parmi eux|parmi elles|parmi ceux-ci)\b)",
    re.IGNORECASE)


def refers_back(sentence: str) -> bool:
    """Does ``sentence`` open with a word that stands for something said before it (a pronoun,
    "these", "among them"; English, German, French)?"""
    return bool(_REFERS_BACK.match(sentence))


def is_cjk_token(token: str) -> bool:
    """A token of :func:`tokens` that is one CJK character."""
    return len(token) == 1 and is_cjk(token)


_PROFILES = {
    "en": frozenset("the of and to in is are was were what which how does do for with that this by on".split()),
    "de": frozenset("der die das und ist sind wie welche welcher welches von zu mit im den dem des nicht auf".split()),
    "fr": frozenset("le la les et est sont de des du un une quel quelle quels quelles pour dans avec sur que qui".split()),
}
_SCRIPTS = (("cjk", re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")), ("hangul", re.compile("[\uac00-\ud7af]")),
            ("arabic", re.compile("[\u0600-\u06ff]")), ("cyrillic", re.compile("[\u0400-\u04ff]")))


def language_of(text: str) -> str:
    """A rough language (``en``, ``de``, ``fr``, ``latin`` for other Latin-script text) or script
    (``cjk``, ``hangul``, ``arabic``, ``cyrillic``): the script of most letters, then stop words."""
    letters = sum(1 for c in text if c.isalpha()) or 1
    for name, pattern in _SCRIPTS:
        if len(pattern.findall(text)) * 2 > letters:
            return name
    lowered = [w.lower() for w in _WORD.findall(text)]
    counts = {lang: sum(1 for w in lowered if w in profile) for lang, profile in _PROFILES.items()}
    best = max(counts, key=lambda lang: counts[lang])
    return best if counts[best] > 0 else "latin"
