"""Sentences sampled from an index, and the queries made from them, for ``rag eval self``.

Sampling is stratified by file so that one long book does not stand for the collection:
the files are visited in a seeded random order, round after round, each round taking one
more sentence from every file that still has one, until the sample is full. Inside a file,
chunks are visited in a seeded random order and one unused sentence is drawn from each. A
sentence is skipped (and counted, per reason) when it makes no fair query:

- ``too_short``: under 8 words (15 characters of Chinese, Japanese or Korean), or cut by a
  chunk boundary; ``too_long``: over 60 words, usually a table or a run-on without full stops;
- ``debris``: under 70 % letters, or under 60 % of its words real words: numbers, table
  cells and formula debris ("x i = W Q h t - 1");
- ``instruction_like``: text that addresses a language model (``ingest.injection``);
- ``few_terms``: fewer than 3 words that BM25 knows (after stop words).

Two queries are made of each sentence, with the index's own BM25 tokenizer and document
frequencies (how many chunks hold a term):

- ``rare_terms``: the sentence's rarest words, in their order, the rest dropped (a third of
  its content words, 3 to 6), e.g. "multi-head attention jointly representation subspaces";
- ``key_phrase``: the run of 1 to 3 adjacent content words (no stop word or punctuation
  between) with the highest summed idf, asked about: "What does it say about dot-product
  attention?" (German and French sentences get a German or French question).

Numbers are never query words: a user asks about things, not about "0.3 17 48".
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from indexes import Chunk, Index
from indexes.text import CJK_CHARS, cjk_bigrams, is_cjk, sentence_spans
from ingest.injection import looks_like_instructions
from rag.text import SENTENCE_ENDS, STOP_WORDS, language_of

__all__ = ["QUERY_KINDS", "FileSample", "Probe", "Sampling", "TermStats", "make_queries", "sample_probes", "skip_reason"]

QUERY_KINDS = ("rare_terms", "key_phrase")
MIN_WORDS, MAX_WORDS, MIN_CJK_CHARS, MIN_TERMS = 8, 60, 15, 3
_UNIT = re.compile(rf"[{CJK_CHARS}]+|\w+(?:[-'’]\w+)*", re.UNICODE)
# Function words of the other languages the report names (BM25's stop words are English): never a key phrase's word.
_FUNCTION_WORDS = STOP_WORDS | frozenset(
    "wird werden hat haben sich sein seine ihr ihre zwischen über unter nach bei aus durch noch nur so dann wenn dass "
    "daß diese dieser dieses jede jeder man kann können muss soll sei manchmal sowie bzw "
    "nous vous ils elles il elle le la les un une des du de et est sont sur dans avec pour par que qui ce cette ces son "
    "sa ses leur leurs plus pas ne se au aux ou mais comme maintenant donc ainsi très "
    "el los las una del y en con por para es son su sus al lo como más pero".split())
_QUESTION = {"de": "Was steht im Text über {}?", "fr": "Que dit le texte sur {} ?"}
_DEFAULT_QUESTION = "What does it say about {}?"
_BATCH = 2000  # chunks read per query while grouping chunks by file
_ENDS = frozenset(SENTENCE_ENDS + "\"'”’»")


@dataclass(frozen=True)
class Probe:
    """One sampled sentence and the place it was taken from."""

    source: str
    file_type: str          # as ingestion sniffed it: pdf, text, markdown, html, docx ...
    page: int | None
    locator: str | None
    start: int              # character span in the text of its page (or unit)
    end: int
    text: str               # whitespace folded
    lang: str
    ocr: bool
    queries: tuple[tuple[str, str], ...] = ()   # (query kind, query text)


@dataclass(frozen=True)
class TermStats:
    """The index's BM25 tokenizer and document frequencies: what makes a word rare *here*."""

    tokenizer: Callable[[str], list[str]]
    frequencies: Callable[[Sequence[str]], list[int]]
    documents: int

    @classmethod
    def of(cls, index: Index) -> TermStats:
        bm25 = index.bm25()
        return cls(bm25.tokenizer, bm25.document_frequencies, max(1, len(bm25)))

    def idf(self, df: int) -> float:
        return math.log(1 + (self.documents - df + 0.5) / (df + 0.5))


@dataclass
class FileSample:
    """What sampling saw of one file."""

    file_type: str
    chunks: int
    examined: int = 0           # chunks whose sentences were looked at
    ocr_chunks: int = 0
    eligible: int = 0           # sentences a query could be made from, in the examined chunks
    skipped: dict[str, int] = field(default_factory=dict)
    sampled: int = 0


@dataclass
class Sampling:
    probes: list[Probe]
    files: dict[str, FileSample]

    def skipped(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for f in self.files.values():
            for reason, n in f.skipped.items():
                total[reason] = total.get(reason, 0) + n
        return dict(sorted(total.items()))


def skip_reason(sentence: str) -> str | None:
    """Why ``sentence`` makes no fair query (see the module docstring), or None when it does."""
    chars = [c for c in sentence if not c.isspace()]
    cjk = sum(1 for c in chars if is_cjk(c))
    words = sentence.split()
    if cjk * 2 > max(1, len(chars)):
        if cjk < MIN_CJK_CHARS:
            return "too_short"
        if len(chars) > 4 * MAX_WORDS:
            return "too_long"
    else:
        if len(words) < MIN_WORDS:
            return "too_short"
        if len(words) > MAX_WORDS:
            return "too_long"
        if sum(1 for c in chars if c.isalpha()) < 0.7 * len(chars):
            return "debris"
        real = sum(1 for w in words if len(core := w.strip(".,;:!?()[]{}\"'’“”«»")) >= 2 and core.replace("-", "").isalpha())
        if real < 0.6 * len(words):
            return "debris"
    if looks_like_instructions(sentence):
        return "instruction_like"
    return None


def _sentences(chunk: Chunk) -> list[tuple[int, int, str]]:
    """``(start, end, text)`` of the whole sentences of a chunk, spans relative to the chunk."""
    spans = sentence_spans(chunk.text)
    out = []
    for n, (start, end) in enumerate(spans):
        text = " ".join(chunk.text[start:end].split())
        if n == 0 and chunk.start > 0 and not (text[:1].isupper() or is_cjk(text[:1])):
            continue  # begins mid-sentence: the chunk boundary cut it
        if n == len(spans) - 1 and text[-1:] not in _ENDS:
            continue  # ends mid-sentence (or is a heading)
        out.append((start, end, text))
    return out


@dataclass(frozen=True)
class _Unit:
    text: str
    start: int
    end: int
    df: int        # 0: a stop word, a number or punctuation (breaks a phrase)


def _units(sentence: str, terms: TermStats) -> list[_Unit]:
    pieces: list[tuple[str, int, int, list[str]]] = []
    for match in _UNIT.finditer(sentence):
        word, start = match.group(), match.start()
        if is_cjk(word[0]):
            pieces.extend((b, start + i, start + i + len(b), terms.tokenizer(b)) for i, b in enumerate(cjk_bigrams(word)))
        elif not word[0].isdigit() and word.lower() not in _FUNCTION_WORDS:  # "1https", "3In": footnote marks glued on
            pieces.append((word, start, match.end(), terms.tokenizer(word)))
        else:
            pieces.append((word, start, match.end(), []))
    known = sorted({t for *_rest, ts in pieces for t in ts})
    df = dict(zip(known, terms.frequencies(known), strict=True))
    return [_Unit(w, s, e, min(df[t] for t in ts) if ts and all(df[t] for t in ts) else 0) for w, s, e, ts in pieces]


def _solid(word: str) -> bool:
    return len(word) > 3 or word.isupper() or is_cjk(word[0])


def make_queries(sentence: str, lang: str, terms: TermStats) -> tuple[tuple[str, str], ...]:
    """The ``rare_terms`` and ``key_phrase`` queries of ``sentence`` (empty when it has too few known terms)."""
    units = _units(sentence, terms)
    content: dict[str, _Unit] = {}
    for u in units:
        if u.df:
            content.setdefault(u.text.lower(), u)
    if len(content) < MIN_TERMS:
        return ()
    keep = min(6, max(3, math.ceil(len(content) / 3)))
    rarest = sorted(content.values(), key=lambda u: (u.df, u.start))[:keep]
    rare = " ".join(u.text for u in sorted(rarest, key=lambda u: u.start))
    best: tuple[bool, float, int, int] = (False, -1.0, 0, 0)  # (two words or more, summed idf, first, last)
    for i, first in enumerate(units):
        score = 0.0
        for j in range(i, min(i + 3, len(units)) if first.df else i):
            u = units[j]
            if not u.df or (j > i and sentence[units[j - 1].end:u.start].strip()):
                break  # a stop word, a number or punctuation ends the phrase
            score += terms.idf(u.df)
            if _solid(first.text) and _solid(u.text):  # "focalisons maintenant sur": no phrase ends on a small word
                best = max(best, (j > i, score, i, j))
    phrase = sentence[units[best[2]].start:units[best[3]].end] if best[1] >= 0 else rarest[0].text
    return (("rare_terms", rare), ("key_phrase", _QUESTION.get(lang, _DEFAULT_QUESTION).format(phrase)))


def sample_probes(index: Index, n: int, seed: int) -> Sampling:
    """Up to ``n`` sentences of ``index``, stratified by file (see the module docstring), with their queries."""
    rng = random.Random(seed)
    terms = TermStats.of(index)
    records = {s.path: s for s in index.sources() if s.status == "indexed" and s.chunks}
    by_file: dict[str, list[int]] = {}
    ids = index.chunk_ids()
    for start in range(0, len(ids), _BATCH):
        for i, chunk in index.chunks(ids[start:start + _BATCH]).items():
            by_file.setdefault(chunk.source, []).append(i)
    files = {path: FileSample(records[path].kind or "unknown", len(by_file.get(path, []))) for path in sorted(records)}
    draws = {path: _FileDraw(index, files[path], sorted(by_file.get(path, [])), rng, terms) for path in files}
    order = list(files)
    rng.shuffle(order)
    probes: list[Probe] = []
    while len(probes) < n and order:
        for path in list(order):
            if len(probes) >= n:
                break
            probe = draws[path].next()
            if probe is None:
                order.remove(path)
            else:
                probes.append(probe)
                files[path].sampled += 1
    return Sampling(probes, files)


class _FileDraw:
    """One file's sentences, drawn one per chunk per pass over its chunks (in a seeded order)."""

    def __init__(self, index: Index, stats: FileSample, chunk_ids: list[int], rng: random.Random,
                 terms: TermStats) -> None:
        self.index, self.stats, self.rng, self.terms = index, stats, rng, terms
        self.queue = chunk_ids
        rng.shuffle(self.queue)
        self.pending: dict[int, list[Probe]] = {}  # chunk id -> its unused eligible sentences
        self.seen: set[tuple[int | None, str | None, str]] = set()  # a sentence in two overlapping chunks is one

    def next(self) -> Probe | None:
        while self.queue:
            chunk_id = self.queue.pop(0)
            if chunk_id not in self.pending:
                self.pending[chunk_id] = self._eligible(self.index.chunks([chunk_id]).get(chunk_id))
            options = self.pending[chunk_id]
            if not options:
                continue
            probe = options.pop(self.rng.randrange(len(options)))
            if options:
                self.queue.append(chunk_id)
            return probe
        return None

    def _eligible(self, chunk: Chunk | None) -> list[Probe]:
        if chunk is None:
            return []
        self.stats.examined += 1
        self.stats.ocr_chunks += chunk.ocr
        out = []
        for start, end, text in _sentences(chunk):
            place = (chunk.page, chunk.locator, text)
            if place in self.seen:
                continue
            self.seen.add(place)
            reason = skip_reason(text)
            lang = language_of(text)
            queries = make_queries(text, lang, self.terms) if reason is None else ()
            if reason is None and not queries:
                reason = "few_terms"
            if reason is None:
                out.append(Probe(chunk.source, self.stats.file_type, chunk.page, chunk.locator, chunk.start + start,
                                 chunk.start + end, text, lang, chunk.ocr, queries))
            else:
                self.stats.skipped[reason] = self.stats.skipped.get(reason, 0) + 1
        self.stats.eligible += len(out)
        return out
