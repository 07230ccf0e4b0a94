"""Retrieval: dense (FAISS), lexical (BM25), or both fused; filtered, de-duplicated, reranked.

Hybrid is the default. Each retriever proposes ``depth`` candidates; their scores are put
on one scale per query (z-scores: how far above this query's typical candidate) and
combined with weights, so a very strong match on one side keeps its lead. Reciprocal-rank
fusion, which looks at ranks only, is the alternative (``fusion = "rrf"``). On SciFact score
fusion gains 0.014 nDCG@10 over RRF. Where one side has no clear answer (an English embedder
on Chinese questions) its best candidate sits barely above the rest and moves the result little,
while RRF gives its ranks equal say (XQuAD zh hit@5 0.988 against 0.737; README, Benchmarks).

Then: an optional ``where`` glob keeps only chunks of matching files; chunks that repeat a
better-ranked one, exactly or nearly (embedding cosine >= 0.97), and chunks without a word (a page
number, axis ticks) are dropped; an optional cross-encoder reorders the survivors.

In a large index (``PARALLEL_FROM`` chunks and up) the two sides of a hybrid search run at the same time:
BM25 on a pool thread while FAISS, which releases the GIL, scans the dense side on the caller's.
"""

from __future__ import annotations

import fnmatch
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

from indexes import Chunk, ConfigError, Embedder, Hit, Index, embed_queries
from indexes.compat import require_backend
from rag.config import MODES, validate_retrieval
from rag.retrieval.fusion import Ranked, fuse_rrf, fuse_scores
from rag.retrieval.reranking import Reranker
from rag.text import has_word

__all__ = ["NEAR_DUPLICATE", "RetrievalSettings", "Retriever"]

NEAR_DUPLICATE = 0.97  # embedding cosine above which a chunk repeats a better-ranked one
PARALLEL_FROM = 50_000  # chunks: from here a hybrid search runs its two sides at once (each takes milliseconds;
                        # below it the thread handoff costs more than it saves)

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _lexical_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="rag-bm25")
        return _pool


@dataclass(frozen=True)
class RetrievalSettings:
    mode: str = "hybrid"
    fusion: str = "score"
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    rrf_k: int = 60
    depth: int = 100                  # candidates each retriever proposes
    where: str | None = None          # glob on the file path or name
    reranker: str | None = None       # CrossEncoder directory
    rerank_depth: int = 30            # candidates the reranker reads

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> RetrievalSettings:
        """From a ``rag.config.Config`` (or anything with the same attribute names)."""
        values = {name: getattr(config, name) for name in cls.__dataclass_fields__ if hasattr(config, name)}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def validate(self) -> None:
        validate_retrieval(self.mode, self.fusion, self.dense_weight, self.bm25_weight, self.rrf_k)




class _Dedup:
    """Admits a chunk unless it repeats one already kept: the same text, or a nearly
    identical embedding (cosine >= ``threshold``; this also catches case and spacing variants).

    Measured with all-MiniLM-L6-v2: a chunk under another file name's header, with its
    punctuation changed, or with 15 of 200 words cut stays above 0.98; among SciFact's
    11,433 chunks no two distinct texts reach 0.95. One matrix-vector product per chunk:
    a batched matrix product would go to a multi-threaded BLAS, which stalls on a busy machine.
    """

    def __init__(self, threshold: float = NEAR_DUPLICATE) -> None:
        self.threshold = threshold
        self._texts: set[str] = set()
        self._kept = np.zeros((0, 0), dtype=np.float32)
        self._n = 0

    def admit(self, text: str, vector: np.ndarray) -> bool:
        if text in self._texts:
            return False
        if self._n and float((self._kept[:self._n] @ vector).max()) >= self.threshold:
            return False
        if self._n == len(self._kept):  # grow by doubling
            grown = np.zeros((max(16, 2 * self._n), len(vector)), dtype=np.float32)
            if self._n:
                grown[:self._n] = self._kept[:self._n]
            self._kept = grown
        self._kept[self._n] = vector
        self._n += 1
        self._texts.add(text)
        return True


# A chunk without one word of two letters (a slide holding only its page number "29", a chart's axis ticks
# "0.2 0.4 0.6") answers nothing; BM25's length normalisation and its file-name header would rank it high.
def _matches(source: str, pattern: str) -> bool:
    return fnmatch.fnmatch(source, pattern) or fnmatch.fnmatch(PurePath(source).name, pattern)


class Retriever:
    """Search one index with the embedder that built it."""

    def __init__(self, index: Index, embedder: Embedder, settings: RetrievalSettings | None = None, *,
                 reranker: Reranker | None = None) -> None:
        index.require_embedder(embedder.name, embedder.dimension)
        require_backend(index, embedder)
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self.settings.validate()
        self._reranker = reranker

    @property
    def reranker(self) -> Reranker | None:
        if self._reranker is None and self.settings.reranker:
            from rag.retrieval.reranking import load_reranker

            self._reranker = load_reranker(self.settings.reranker)
        return self._reranker

    def search(self, query: str, k: int, *, mode: str | None = None, where: str | None = None) -> list[Hit]:
        """The ``k`` best distinct chunks for ``query``, best first.

        ``mode`` (dense, bm25, hybrid) and ``where`` (a glob on file path or name) override
        the settings for this call."""
        mode = mode or self.settings.mode
        if mode not in MODES:
            raise ConfigError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        where = where if where is not None else self.settings.where
        if k <= 0 or len(self.index) == 0:
            return []
        depth = max(self.settings.depth, k, self.settings.rerank_depth if self.reranker else 0)
        vector = embed_queries(self.embedder, [query])[0] if mode != "bm25" else None
        while True:
            lists = self._candidates(query, vector, mode, depth)
            # BM25 returns every chunk sharing a term unless cut at depth: the rest truly score 0.
            fills = (None, 0.0 if len(lists[-1][1]) < depth else None)
            cache: dict[int, Chunk] = {}
            if where:
                lists = self._filter(lists, where, cache)
            complete = depth >= len(self.index) or not where
            if complete or min(len(ids) for _s, ids in lists) >= k:
                break
            depth *= 4  # a narrow filter left too few: look deeper
        hits = self._distinct(self._fuse(lists, fills), max(k, self.settings.rerank_depth if self.reranker else k),
                              cache)
        return self._rerank(query, hits)[:k] if self.reranker else hits[:k]

    def _candidates(self, query: str, vector: np.ndarray | None, mode: str, depth: int) -> list[Ranked]:
        if vector is not None and mode != "dense" and len(self.index) >= PARALLEL_FROM:
            lexical = _lexical_pool().submit(self.index.search_bm25, query, depth)
            dense = self.index.search_dense(vector, depth)
            return [dense, lexical.result()]
        lists: list[Ranked] = []
        if vector is not None:
            lists.append(self.index.search_dense(vector, depth))
        if mode != "dense":
            lists.append(self.index.search_bm25(query, depth))
        return lists

    def _filter(self, lists: list[Ranked], where: str, cache: dict[int, Chunk]) -> list[Ranked]:
        wanted = {int(i) for _s, ids in lists for i in ids.tolist()} - set(cache)
        cache.update(self.index.chunks(sorted(wanted)))
        out: list[Ranked] = []
        for scores, ids in lists:
            keep = np.array([int(i) in cache and _matches(cache[int(i)].source, where) for i in ids.tolist()], dtype=bool)
            out.append((scores[keep] if len(keep) else scores, ids[keep] if len(keep) else ids))
        return out

    def _fuse(self, lists: list[Ranked], fills: tuple[float | None, float | None]) -> list[tuple[int, float]]:
        if len(lists) == 1:
            scores, ids = lists[0]
            return list(zip(ids.tolist(), scores.tolist(), strict=True))
        weights = (self.settings.dense_weight, self.settings.bm25_weight)
        if self.settings.fusion == "rrf":
            return fuse_rrf(lists, weights, self.settings.rrf_k)
        return fuse_scores(lists, weights, fills)

    def _distinct(self, ranked: list[tuple[int, float]], k: int, cache: dict[int, Chunk]) -> list[Hit]:
        """Walk the ranking, fetching chunks in batches, until ``k`` distinct ones are kept."""
        dedup = _Dedup()
        out: list[Hit] = []
        position = 0
        while position < len(ranked) and len(out) < k:
            batch = ranked[position:position + k - len(out) + 8]
            position += len(batch)
            missing = [i for i, _s in batch if i not in cache]
            if missing:
                cache.update(self.index.chunks(missing))
            found = [(i, score) for i, score in batch if i in cache]
            vectors = self.index.vectors([i for i, _s in found])
            for (i, score), vector in zip(found, vectors, strict=True):
                if has_word(cache[i].text) and dedup.admit(cache[i].text, vector):
                    out.append(Hit(cache[i], float(score)))
        return out[:k]

    def _rerank(self, query: str, hits: list[Hit]) -> list[Hit]:
        reranker = self.reranker
        assert reranker is not None
        scores = reranker.score(query, [h.chunk.text for h in hits])
        order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))
        return [Hit(hits[i].chunk, scores[i]) for i in order]
