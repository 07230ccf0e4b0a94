"""FAISS adapter: inner-product search over unit vectors (= cosine) with stable int64 ids.

Two structures, chosen by count (``fitted``, called by every compaction, ``indexes.segments``):

- up to ``FLAT_LIMIT`` vectors, an exact flat scan (``IndexIDMap2(IndexFlatIP)``);
- above it, an inverted file (``IndexIVFFlat``): a k-means coarse quantiser of ``4 sqrt(n)``
  lists (FAISS's guideline is 4 to 16 sqrt(n); at ``sqrt(n)`` a query had to scan twice the vectors for the
  same recall, ``benchmarks/ivf_lists.py``), trained on a sample of the stored vectors; a query scans the
  ``nprobe`` nearest lists. An inverted file trained with fewer lists per root (earlier code) counts as
  trained on a sixteenth of its count, so its next compaction retrains it once.
  ``nprobe`` is the smallest (to within an eighth) whose recall@10 against the exact scan reaches
  ``TARGET_RECALL`` on calibration queries (stored vectors moved by noise as far as off-topic
  questions sit from their best chunk: the hard case, whose top 10 spreads over many lists).
  It deletes with ``remove_ids`` (a hashtable direct map also gives ``reconstruct`` of any id).
  It is retrained when the count has grown 4x since training.

Training happens inside a writer's commit, before the new generation's file is written: readers
keep searching the previous generation meanwhile. Readers load the file memory-mapped
(``IO_FLAG_MMAP``): opening reads no vector data, and the OS shares pages between processes.

faiss is imported here and nowhere else, and only when first needed. The file
format is FAISS's own binary serialisation: no pickle.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["FLAT_LIMIT", "TARGET_RECALL", "VectorIndex"]

FLAT_LIMIT = 50_000      # vectors: above this, an inverted file (IVF) replaces the flat scan (a flat scan
                         # of 100k took 52 ms p50 on 2 busy cores: benchmarks/scale.py)
LISTS_PER_ROOT = 4       # IVF lists per square root of the count trained on
TARGET_RECALL = 0.99     # recall@10 vs exact on the calibration queries (0.97 gave real questions 0.90 at 100k)
_CALIBRATION = 200       # calibration queries
_QUERY_NOISE = 3.0       # norm of the noise moving a stored vector to a calibration query: its best cosine
                         # is then ~0.3, as far as off-topic questions (real SciFact and pdf_dev questions over
                         # text/real: 0.27); at noise 1.0 (cosine 0.7) nprobe came out 8, real recall 0.63


def _faiss() -> Any:
    import faiss

    # One thread: a single query over a flat index gains nothing from more, and OpenMP's
    # spin-waiting makes it ~50x slower (0.4 -> 25 ms on SciFact) when another process
    # holds one of the cores.
    faiss.omp_set_num_threads(1)
    return faiss


class VectorIndex:
    """Inner-product search with stable int64 ids (add / remove / search / save), flat or IVF."""

    def __init__(self, dimension: int, index: Any | None = None, *, flat_limit: int = FLAT_LIMIT) -> None:
        self.dimension = dimension
        self.flat_limit = flat_limit
        if index is None:
            faiss = _faiss()
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._index = index

    @classmethod
    def load(cls, path: Path, *, mmap: bool = False, flat_limit: int = FLAT_LIMIT) -> VectorIndex:
        """Read ``path``; ``mmap`` maps it read-only instead of reading it (for readers)."""
        faiss = _faiss()
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        index = faiss.read_index(str(path), flags)
        return cls(int(index.d), index, flat_limit=flat_limit)

    def save(self, path: Path) -> None:
        """Write to ``path`` durably: temp file, fsync, rename."""
        tmp = path.with_name(path.name + ".tmp")
        _faiss().write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @property
    def kind(self) -> str:
        """``flat`` (exact) or ``ivf`` (approximate)."""
        return "ivf" if hasattr(self._index, "nprobe") else "flat"

    @property
    def nprobe(self) -> int | None:
        return int(self._index.nprobe) if self.kind == "ivf" else None

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32),
                                 np.ascontiguousarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray) -> None:
        if len(ids) == 0:
            return
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        self._index.remove_ids(_faiss().IDSelectorArray(len(ids), _faiss().swig_ptr(ids)))

    def ids(self) -> np.ndarray:
        faiss = _faiss()
        if self.kind == "flat":
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        lists = self._index.invlists
        parts = [faiss.rev_swig_ptr(lists.get_ids(n), lists.list_size(n)).copy()
                 for n in range(lists.nlist) if lists.list_size(n)]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids`` (each must be in the index), one row each."""
        if len(ids) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64)), dtype=np.float32)

    def search(self, query: np.ndarray, k: int, params: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(scores, ids)`` of the ``k`` nearest, best first; ``params``: FAISS search
        parameters (e.g. an id selector that leaves tombstones out)."""
        if len(self) == 0 or k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, len(self)), params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def search_params(self, excluded: np.ndarray) -> tuple[Any, ...]:
        """FAISS search parameters leaving ``excluded`` ids out (with this index's nprobe), first of a
        tuple that also holds the selectors it points to (FAISS does not keep them alive)."""
        faiss = _faiss()
        dead = faiss.IDSelectorBatch(np.ascontiguousarray(excluded, dtype=np.int64))
        alive = faiss.IDSelectorNot(dead)
        params: Any = faiss.SearchParametersIVF() if self.kind == "ivf" else faiss.SearchParameters()
        params.sel = alive
        if self.kind == "ivf":
            params.nprobe = int(self._index.nprobe)
        return params, alive, dead

    def copy(self) -> VectorIndex:
        faiss = _faiss()
        return VectorIndex(self.dimension, faiss.clone_index(self._index), flat_limit=self.flat_limit)

    # -- growing -------------------------------------------------------------------------------
    def fitted(self) -> VectorIndex:
        """This index, or the structure its count calls for: IVF above ``flat_limit`` (retrained
        once the count has grown 4x since training), flat again below half of it."""
        n = len(self)
        if self.kind == "flat":
            return self._to_ivf() if n > self.flat_limit else self
        if n < self.flat_limit // 2:
            return self._rebuilt(_faiss().IndexIDMap2(_faiss().IndexFlatIP(self.dimension)))
        trained_at = (int(self._index.nlist) / LISTS_PER_ROOT) ** 2  # the count its lists were made for
        if n <= 4 * trained_at:
            return self
        if n <= 4 * int(self._index.nlist) ** 2:  # not grown 4x since a sqrt(n)-list training: the earlier shape
            log.info("retraining the inverted file of %d vectors with %d lists instead of %d (once)", n,
                     int(LISTS_PER_ROOT * math.sqrt(n)), int(self._index.nlist))
        return self._to_ivf()

    def _all(self) -> tuple[np.ndarray, np.ndarray]:
        ids = np.sort(self.ids())
        return ids, self.vectors(ids)

    def _rebuilt(self, index: Any) -> VectorIndex:
        ids, vectors = self._all()
        out = VectorIndex(self.dimension, index, flat_limit=self.flat_limit)
        out.add(ids, vectors)
        return out

    def _to_ivf(self) -> VectorIndex:
        faiss = _faiss()
        ids, vectors = self._all()
        nlist = max(16, int(LISTS_PER_ROOT * math.sqrt(len(ids))))
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(len(vectors), min(len(vectors), 40 * nlist), replace=False)]
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dimension), self.dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.niter = 10
        ivf.train(np.ascontiguousarray(sample))
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.add_with_ids(np.ascontiguousarray(vectors), ids)
        ivf.nprobe = calibrate(ivf, ids, vectors, rng)
        return VectorIndex(self.dimension, ivf, flat_limit=self.flat_limit)

    def close(self) -> None:
        """Drop the FAISS index (and with it a memory map of its file)."""
        with contextlib.suppress(AttributeError):
            del self._index


def calibrate(ivf: Any, ids: np.ndarray, vectors: np.ndarray, rng: np.random.Generator, k: int = 10) -> int:
    """The smallest ``nprobe`` whose recall@k vs exact reaches ``TARGET_RECALL``, to within an eighth:
    doubling until it does, then halving the gap to the last that did not. (Powers of two alone
    overshoot by up to 2x: at 1M chunks 64 fell short and 128 scanned a quarter of the vectors.)"""
    queries = calibration_queries(vectors, rng)
    exact = _exact(queries, ids, vectors, k)
    low, high = 0, 1  # low: the largest nprobe known to fall short; high: the smallest known to reach
    while high < ivf.nlist and recall_at(ivf, queries, exact, high) < TARGET_RECALL:
        low, high = high, 2 * high
    high = min(high, int(ivf.nlist))  # scanning every list is exact
    while high - low > max(1, high // 8):
        middle = (low + high) // 2
        if recall_at(ivf, queries, exact, middle) >= TARGET_RECALL:
            high = middle
        else:
            low = middle
    ivf.nprobe = high
    return high


def calibration_queries(vectors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Stored vectors moved by noise as far as off-topic questions sit from their best chunk."""
    picks = rng.choice(len(vectors), min(_CALIBRATION, len(vectors)), replace=False)
    noise = rng.normal(0, 1, (len(picks), vectors.shape[1])).astype(np.float32)
    queries = vectors[picks] + _QUERY_NOISE * noise / np.linalg.norm(noise, axis=1, keepdims=True)
    return np.ascontiguousarray(queries / np.linalg.norm(queries, axis=1, keepdims=True), dtype=np.float32)


def recall_at(ivf: Any, queries: np.ndarray, exact: np.ndarray, nprobe: int) -> float:
    """Mean recall@k of ``ivf`` scanning ``nprobe`` lists against ``exact`` (ids, one row per query)."""
    ivf.nprobe = nprobe
    k = exact.shape[1]
    _s, found = ivf.search(queries, k)
    return float(np.mean([len(set(f.tolist()) & set(e.tolist())) / k for f, e in zip(found, exact, strict=True)]))


def _exact(queries: np.ndarray, ids: np.ndarray, vectors: np.ndarray, k: int) -> np.ndarray:
    """Ids of the exact top ``k`` of each query (scored in blocks, to bound memory)."""
    best_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, len(vectors), 100_000):
        scores = np.concatenate([best_s, queries @ vectors[start:start + 100_000].T], axis=1)
        block = np.broadcast_to(ids[start:start + 100_000], (len(queries), len(ids[start:start + 100_000])))
        both = np.concatenate([best_i, block], axis=1)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(scores, top, 1), np.take_along_axis(both, top, 1)
    return best_i
