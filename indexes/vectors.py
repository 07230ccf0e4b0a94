"""FAISS adapter: an ID-mapped inner-product index over unit vectors (= cosine).

faiss is imported here and nowhere else, and only when first needed. The file
format is FAISS's own binary serialisation: no pickle.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["VectorIndex"]


def _faiss() -> Any:
    import faiss

    # One thread: a single query over a flat index gains nothing from more, and OpenMP's
    # spin-waiting makes it ~50x slower (0.4 -> 25 ms on SciFact) when another process
    # holds one of the cores.
    faiss.omp_set_num_threads(1)
    return faiss


class VectorIndex:
    """Exact inner-product search with stable int64 ids (add / remove / search / save)."""

    def __init__(self, dimension: int, index: Any | None = None) -> None:
        self.dimension = dimension
        if index is None:
            faiss = _faiss()
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        self._index = index

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        index = _faiss().read_index(str(path))
        return cls(int(index.d), index)

    def save(self, path: Path) -> None:
        """Write to ``path`` durably: temp file, fsync, rename."""
        tmp = path.with_name(path.name + ".tmp")
        _faiss().write_index(self._index, str(tmp))
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)

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
        self._index.remove_ids(np.ascontiguousarray(ids, dtype=np.int64))

    def ids(self) -> np.ndarray:
        faiss = _faiss()
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids`` (each must be in the index), one row each."""
        if len(ids) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64)), dtype=np.float32)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(scores, ids)`` of the ``k`` nearest, best first; ids of -1 mean 'none'."""
        if len(self) == 0 or k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        scores, ids = self._index.search(q, min(k, len(self)))
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def copy(self) -> VectorIndex:
        faiss = _faiss()
        return VectorIndex(self.dimension, faiss.clone_index(self._index))
