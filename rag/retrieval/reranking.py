"""Optional second-stage reranking with a sentence-transformers ``CrossEncoder``.

A cross-encoder reads the question and a passage together, so it judges relevance better
than comparing two separate embeddings, at the cost of one model pass per candidate. It is
off by default; ``reranker = "PATH"`` (or ``--reranker PATH``) names a local model
directory. sentence-transformers is imported here, and only when a reranker is loaded.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from indexes import ModelError

__all__ = ["CrossEncoderReranker", "Reranker", "load_reranker"]


class Reranker(Protocol):
    """Scores passages for a query; higher is more relevant."""

    def score(self, query: str, texts: Sequence[str]) -> list[float]: ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` from a local directory."""

    def __init__(self, path: str, *, batch_size: int = 32) -> None:
        self.path = path
        self.batch_size = batch_size
        if Path(path).expanduser().is_dir():
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local model never reaches for the network
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise ModelError("sentence-transformers is not installed: pip install sentence-transformers") from exc
        try:
            self._model: Any = CrossEncoder(str(Path(path).expanduser()), device="cpu")
        except Exception as exc:  # the library raises many unrelated types here
            raise ModelError(f"cannot load reranker {path!r}: {exc} (pass --reranker PATH to a "
                             "sentence-transformers CrossEncoder directory)") from exc

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        if not texts:
            return []
        scores = self._model.predict([(query, t) for t in texts], batch_size=self.batch_size,
                                     show_progress_bar=False, convert_to_numpy=True)
        return [float(s) for s in scores.reshape(len(texts), -1)[:, -1]]


@functools.lru_cache(maxsize=2)
def load_reranker(path: str) -> CrossEncoderReranker:
    """The reranker at ``path``, loaded once per process."""
    return CrossEncoderReranker(path)
