"""Delta segments: a generation stored as its base plus what changed since, so a commit costs the change.

``delta-<G>/`` (generation G built on base generation B < G) holds:

- ``vectors.faiss``: a flat FAISS index of the chunks added since B that are still live;
- ``tombstones.npy``: ids of B's chunks removed since B, filtered out at search time;
- ``bm25/``: BM25 of the added chunks (``indexes.bm25``'s format), weighted with the statistics of
  base and delta together (document count, document frequencies, mean length), while the base's
  weights keep the base's statistics until the next compaction (as Lucene segments do);
- ``segment.json``: B, and the counts the compaction policy needs.

Each commit rewrites only the delta (it grows with the change since the base, not with the index).
**Compaction policy**: a commit folds everything into a new base (``vectors-<G>.faiss``,
``bm25-<G>/``) when the index holds fewer than ``DELTA_FROM`` chunks (a full rewrite is cheap
there), or when the delta's chunks plus tombstones exceed ``COMPACT_RATIO`` of the base. It runs
inside the writer's commit, before the commit point, so readers keep the previous generation
meanwhile and a crash leaves it intact. Both thresholds can be set per index in the manifest's
settings (``delta_from``, ``compact_ratio``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from indexes.bm25 import Bm25Index
from indexes.vectors import VectorIndex

__all__ = ["COMPACT_RATIO", "DELTA_FROM", "Delta", "LayeredBm25", "LayeredVectors", "rescore"]

DELTA_FROM = 20_000     # chunks: below this every commit writes a whole new base
COMPACT_RATIO = 0.05    # delta chunks + tombstones above this share of the base: compact


@dataclass
class Delta:
    """What generation G adds to and removes from its base B."""

    base: int
    vectors: VectorIndex
    tombstones: np.ndarray          # sorted int64 ids of base chunks that are gone
    bm25: Bm25Index | None          # the added chunks' BM25 (None: not loaded)
    base_chunks: int = 0

    @classmethod
    def empty(cls, base: int, dimension: int, base_chunks: int) -> Delta:
        return cls(base, VectorIndex(dimension), np.zeros(0, np.int64), None, base_chunks)

    @classmethod
    def load(cls, directory: Path, *, mmap: bool = False, with_bm25: bool = False) -> Delta:
        """Read ``delta-<G>/``; raises ``FileNotFoundError`` if it is gone (a later compaction)."""
        meta = json.loads((directory / "segment.json").read_text(encoding="utf-8"))
        vectors = VectorIndex.load(directory / "vectors.faiss", mmap=mmap)
        tombstones = np.load(directory / "tombstones.npy", allow_pickle=False)
        bm25 = Bm25Index.load(directory / "bm25", with_tokens=True) if with_bm25 else None
        return cls(int(meta["base"]), vectors, tombstones, bm25, int(meta["base_chunks"]))

    def save(self, directory: Path) -> None:
        """Write durably: a temp directory, fsync, rename."""
        if self.bm25 is None:
            raise ValueError("a delta is saved with its BM25")
        tmp = directory.with_name(directory.name + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        self.vectors.save(tmp / "vectors.faiss")
        np.save(tmp / "tombstones.npy", self.tombstones, allow_pickle=False)
        self.bm25.save(tmp / "bm25")
        meta = {"base": self.base, "base_chunks": self.base_chunks, "chunks": len(self.vectors),
                "tombstones": len(self.tombstones)}
        (tmp / "segment.json").write_text(json.dumps(meta) + "\n", encoding="utf-8")
        for name in ("tombstones.npy", "segment.json"):
            with open(tmp / name, "rb") as handle:
                os.fsync(handle.fileno())
        os.rename(tmp, directory)
        fd = os.open(directory.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def changes(self) -> int:
        """Chunks added plus chunks removed since the base: what a compaction would fold in."""
        return len(self.vectors) + len(self.tombstones)


def _not_in(ids: np.ndarray, tombstones: np.ndarray) -> np.ndarray:
    return ids[~np.isin(ids, tombstones)] if len(tombstones) else ids


class LayeredVectors:
    """Dense search over a base minus its tombstones, plus a delta: the interface of ``VectorIndex``."""

    def __init__(self, base: VectorIndex, delta: Delta) -> None:
        self.base, self.delta = base, delta
        self.dimension = base.dimension
        self._delta_ids: np.ndarray | None = None  # read once: a reader's delta does not change
        self._params: tuple[Any, ...] = (None,)
        if len(delta.tombstones):
            self._params = base.search_params(delta.tombstones)

    @property
    def kind(self) -> str:
        return self.base.kind

    def __len__(self) -> int:
        return len(self.base) - len(self.delta.tombstones) + len(self.delta.vectors)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        base = self.base.search(query, k, params=self._params[0])
        delta = self.delta.vectors.search(query, k)
        scores = np.concatenate([base[0], delta[0]])
        order = np.argsort(-scores, kind="stable")[:k]
        return scores[order], np.concatenate([base[1], delta[1]])[order]

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        if self._delta_ids is None:
            self._delta_ids = self.delta.vectors.ids()
        in_delta = np.isin(ids, self._delta_ids)
        if in_delta.any():
            out[in_delta] = self.delta.vectors.vectors(ids[in_delta])
        if (~in_delta).any():
            out[~in_delta] = self.base.vectors(ids[~in_delta])
        return out

    def ids(self) -> np.ndarray:
        return np.concatenate([_not_in(self.base.ids(), self.delta.tombstones), self.delta.vectors.ids()])

    def close(self) -> None:
        self.base.close()
        self.delta.vectors.close()


class LayeredBm25:
    """BM25 over a base minus its tombstones, plus the delta's chunks: the interface of ``Bm25Index``."""

    def __init__(self, base: Bm25Index, delta: Bm25Index, tombstones: np.ndarray) -> None:
        self.base, self.delta = base, delta
        self._hidden = np.flatnonzero(np.isin(base.ids(), tombstones)) if len(tombstones) else None
        self.tokenizer = base.tokenizer

    def __len__(self) -> int:
        return len(self.base) - (0 if self._hidden is None else len(self._hidden)) + len(self.delta)

    def ids(self) -> np.ndarray:
        keep = np.ones(len(self.base), bool)
        if self._hidden is not None:
            keep[self._hidden] = False
        return np.concatenate([self.base.ids()[keep], self.delta.ids()])

    def document_frequencies(self, terms: Sequence[str]) -> list[int]:
        """Base and delta together; removed chunks still count until a compaction (as BM25's statistics do)."""
        return [a + b for a, b in zip(self.base.document_frequencies(terms), self.delta.document_frequencies(terms),
                                      strict=True)]

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        base = self.base.search(query, k, hidden=self._hidden)
        delta = self.delta.search(query, k)
        scores = np.concatenate([base[0], delta[0]])
        order = np.argsort(-scores, kind="stable")[:k]
        return scores[order], np.concatenate([base[1], delta[1]])[order]


def base_stats(directory: Path) -> tuple[dict[str, int], np.ndarray, int, int]:
    """``(vocab, document frequencies, documents, tokens)`` of the base BM25 in ``directory``,
    read without its score matrix or token store (a few small files)."""
    vocab = json.loads((directory / "vocab.index.json").read_text(encoding="utf-8"))
    documents = len(np.load(directory / "doc_ids.npy", mmap_mode="r", allow_pickle=False))
    indptr_path = directory / "indptr.csc.index.npy"
    df = np.diff(np.load(indptr_path, allow_pickle=False)) if indptr_path.exists() else np.zeros(len(vocab), np.int64)
    offsets = np.load(directory / "doc_offsets.npy", mmap_mode="r", allow_pickle=False)
    return vocab, df, documents, int(offsets[-1]) if len(offsets) else 0


def rescore(delta: Bm25Index, stats: tuple[dict[str, int], np.ndarray, int, int]) -> Bm25Index:
    """The delta's BM25 weights (bm25s's Lucene formula) with base and delta statistics together."""
    vocab, base_df, base_docs, base_tokens = stats
    tokens, offsets = delta.token_store()
    lengths = np.diff(offsets)
    n = len(lengths)
    if n == 0 or not delta.vocab:
        return delta.with_matrix((np.zeros(0, np.float32), np.zeros(0, np.int32), np.zeros(len(delta.vocab) + 1, np.int64)))
    docs = n + base_docs
    avg = (int(lengths.sum()) + base_tokens) / docs
    doc_of = np.repeat(np.arange(n, dtype=np.int64), lengths)
    keys, tf = np.unique(tokens.astype(np.int64) * n + doc_of, return_counts=True)
    term, doc = keys // n, keys % n
    terms = sorted(delta.vocab, key=delta.vocab.__getitem__)
    df = np.bincount(term, minlength=len(terms)) + np.array(
        [int(base_df[vocab[t]]) if t in vocab else 0 for t in terms], dtype=np.int64)
    idf = np.log(1 + (docs - df + 0.5) / (df + 0.5))
    k1, b = delta.settings.k1, delta.settings.b
    weights = idf[term] * tf / (k1 * ((1 - b) + b * lengths[doc] / avg) + tf)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(term, minlength=len(terms)))]).astype(np.int64)
    return delta.with_matrix((weights.astype(np.float32), doc.astype(np.int32), indptr))
