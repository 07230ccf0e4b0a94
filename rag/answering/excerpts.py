"""Excerpts: the sentences of the retrieved chunks that best match the question.

A small model answers better, and reads faster, from a few relevant sentences
than from five whole chunks; a larger one loses little. So each source shown to
the model is cut to its best ``per_source`` sentences, kept in document order,
with ``…`` where sentences were left out.

A sentence's score is the number of the question's content words and numbers it
shares (words stemmed) plus its embedding cosine with the question. On 200 XQuAD
English questions outside the benchmark sample (hybrid top 5), the best-scored
sentence holds the gold answer for 0.75 of questions (an earlier dense-only
version: 0.72, against 0.68 for words alone and 0.66 for cosine alone). The
same ranking picks the quote an answer falls back to when the
model's own words are not supported by the sources (see ``rag.answering.plan``).

A sentence that opens by pointing back ("It contains 161,443 unique messages",
"Among these tables, 36 were consistent": ``rag.text.refers_back``) is read with
the sentence before it, its *lead*: it is scored on the words of both and the
better cosine, and quoted with it, since alone it does not say what "it" is. The
answer often sits right there, one sentence after the one that repeats the
question's terms. On the sentences of the top 5 chunks of 300 XQuAD English
questions outside the benchmark sample, the best-scored sentence (with its lead)
holds the gold answer for 0.820 of them instead of 0.807; on pdf_dev's 60
answerable questions it is on the gold page for 0.750 instead of 0.733, on the
held-out set's 40 for 0.650 instead of 0.600 (``benchmarks/sentences.py``).

A question whose answer is a number ("how many sentences") adds up to 1 to a sentence holding a number
of what it counts ("17M sentences"; ``rag.answering.asked.value_weight``): on pdf_dev the best sentence
is on the gold page for 0.750 instead of 0.733, on the held-out set it holds the answer for 0.425
instead of 0.400, XQuAD unchanged.

One embedding call per question covers the question and the sentences of the
top ``EMBED_DEPTH`` chunks; sentences of lower-ranked chunks are scored by
words only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from indexes import Embedder, Hit, embed_queries
from ingest.injection import looks_like_instructions
from rag.answering.asked import value_weight
from rag.text import content_words, numbers, refers_back, split_sentences

__all__ = ["EMBED_DEPTH", "GAP", "Sentence", "best_source_shown", "excerpt", "rank_sentences"]

EMBED_DEPTH = 3
GAP = " … "


@dataclass(frozen=True)
class Sentence:
    """A sentence of retrieved chunk ``source`` (0-based rank), ``position`` in that chunk."""

    source: int
    position: int
    text: str
    overlap: int          # question content words it shares (with its lead)
    similarity: float     # embedding cosine with the question (the better of its own and its lead's); 0 when not embedded
    lead: str = ""        # the sentence before it, when it opens by pointing back to it; else ""
    value: float = 0.0    # it holds the kind of value the question asks for (rag.answering.asked.value_weight)

    @property
    def score(self) -> float:
        return self.overlap + self.similarity + self.value

    @property
    def quote(self) -> str:
        """The sentence as it can be quoted alone: with its lead when it has one."""
        return f"{self.lead} {self.text}" if self.lead else self.text


def rank_sentences(question: str, hits: Sequence[Hit], embedder: Embedder | None,
                   embed_depth: int = EMBED_DEPTH, *, leads: bool = True, values: bool = True) -> list[Sentence]:
    """Every sentence of ``hits``, best first (ties: better-ranked chunk, earlier sentence).

    Sentences that read like instructions to a model (``ingest.injection``) are left out;
    ``leads=False`` scores every sentence on its own, ``values=False`` without the gain for holding the
    kind of value asked for (``benchmarks/sentences.py`` compares)."""
    wanted = content_words(question) | numbers(question)
    # Sentences addressed to a model are not evidence: never ranked, quoted or shown (rag.answering.prompting).
    found: list[tuple[int, int, str]] = [(rank, position, text) for rank, hit in enumerate(hits)
                                         for position, text in enumerate(split_sentences(hit.chunk.text))
                                         if not looks_like_instructions(text)]
    similarity = np.zeros(len(found), dtype=np.float32)
    embedded = [n for n, (rank, _, _) in enumerate(found) if rank < embed_depth]
    if embedder is not None and embedded:
        # The question is a query, the sentences passages (E5 embeds the two with different prefixes).
        vectors = np.concatenate([np.asarray(embed_queries(embedder, [question]), dtype=np.float32),
                                  np.asarray(embedder.embed([found[n][2] for n in embedded]), dtype=np.float32)])
        norms = np.linalg.norm(vectors, axis=1)
        norms[norms == 0] = 1.0
        vectors = vectors / norms[:, None]
        similarity[embedded] = vectors[1:] @ vectors[0]
    terms = [content_words(text) | numbers(text) for _, _, text in found]
    value = value_weight(question) if values else (lambda text: 0.0)
    sentences = []
    for n, (rank, position, text) in enumerate(found):
        before = n - 1 if leads and n and found[n - 1][:2] == (rank, position - 1) and refers_back(text) else None
        if before is None:
            sentences.append(Sentence(rank, position, text, len(wanted & terms[n]), float(similarity[n]),
                                      value=value(text)))
        else:
            sentences.append(Sentence(rank, position, text, len(wanted & (terms[n] | terms[before])),
                                      float(max(similarity[n], similarity[before])), found[before][2], value(text)))
    # On a tie a sentence goes before its lead: quoted, it says what the lead says and what follows.
    return sorted(sentences, key=lambda s: (-s.score, s.source, s.position - (1.5 if s.lead else 0)))


def excerpt(hit: Hit, ranked: Sequence[Sentence], rank: int, per_source: int) -> str:
    """The chunk of ``hits[rank]`` cut to its ``per_source`` best sentences (0 = the whole chunk)."""
    own = [s for s in ranked if s.source == rank]
    if per_source <= 0 or len(own) <= per_source:
        return " ".join(hit.chunk.text.split())
    keep = sorted(own[:per_source], key=lambda s: s.position)
    last = max(s.position for s in own)
    parts: list[str] = []
    previous = -1
    for s in keep:
        if s.position != previous + 1:
            parts.append(GAP.strip())
        parts.append(s.text)
        previous = s.position
    if previous != last:
        parts.append(GAP.strip())
    return " ".join(parts)


def best_source_shown(sentences: Sequence[Sentence], count: int, shown: int,
                      quotable: Callable[[Sentence], bool] = lambda s: True) -> tuple[tuple[int, ...], int]:
    """The order of ``count`` retrieved chunks for the prompt, and how many of them it shows: the first
    ``shown``, then the chunk of the best ``quotable`` sentence when it ranked lower (the quote that answers
    when the model's reply is not supported must be among the sources the model saw), then the rest."""
    best = next((s.source for s in sentences if quotable(s)), sentences[0].source if sentences else 0)
    if best < shown or best >= count:
        return tuple(range(count)), min(shown, count)
    return (*range(shown), best, *(i for i in range(shown, count) if i != best)), shown + 1
