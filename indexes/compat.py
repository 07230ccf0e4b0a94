"""Whether an embedder's inference backend may search and extend an index built on another.

An index records its backend in its manifest settings (``embed_backend``; an index
without the record was built by ``torch``). The same model on another backend makes
slightly different vectors (``onnx`` matches torch to 1e-6, ``onnx-int8`` to ~0.99
cosine), so a different backend is measured before it is used: a sample of the index's
own chunks is embedded by both backends, and the mean cosine between the two must be at
least ``MIN_AGREEMENT``. Below that it is refused with an ``embed_backend_mismatch``
error that names both backends and the measured figure.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from indexes.embedders import DEFAULT_EMBEDDER, Embedder, load_embedder
from indexes.errors import EmbedderMismatchError
from indexes.index import Index

__all__ = ["BACKEND_KEY", "MIN_AGREEMENT", "SAMPLE", "agreement", "backend_of", "recorded_backend", "require_backend"]

log = logging.getLogger(__name__)

BACKEND_KEY = "embed_backend"
MIN_AGREEMENT = 0.99
SAMPLE = 32  # chunks compared: enough for the mean to settle (int8: 0.992 +- 0.001 over 32 chunks)
_accepted: dict[tuple[str, str, str], float] = {}  # (index, its backend, ours) -> measured mean, once per process


def backend_of(embedder: Embedder) -> str:
    """The backend an embedder runs on; objects that do not say (fakes, custom embedders) count as torch."""
    return str(getattr(embedder, "backend", "torch"))


def recorded_backend(settings: Mapping[str, Any]) -> str:
    """The backend an index's manifest settings record; none recorded means torch."""
    return str(settings.get(BACKEND_KEY) or "torch")


def agreement(index: Index, embedder: Embedder, reference: Embedder, sample: int = SAMPLE) -> tuple[float, float]:
    """``(mean, min)`` cosine between ``embedder`` and ``reference`` on up to ``sample`` of the index's
    chunks, spread evenly over the index."""
    ids = index.chunk_ids()
    if not ids:
        return 1.0, 1.0
    step = max(1, len(ids) // sample)
    chosen = ids[::step][:sample]
    chunks = index.chunks(chosen)
    texts = [chunks[i].text for i in chosen if i in chunks]
    cosines = np.sum(embedder.embed(texts) * reference.embed(texts), axis=1)
    return float(cosines.mean()), float(cosines.min())


def require_backend(index: Index, embedder: Embedder, *, min_agreement: float = MIN_AGREEMENT) -> None:
    """Refuse ``embedder`` on ``index`` if it runs on another backend than the index's and their vectors
    agree less than ``min_agreement`` (mean cosine) on a sample of the index's own chunks."""
    recorded, ours = recorded_backend(index.manifest.settings), backend_of(embedder)
    if recorded == ours or (str(index.directory), recorded, ours) in _accepted:
        return
    info = index.manifest.embedder
    reference = load_embedder(None if info.name == DEFAULT_EMBEDDER else (info.path or info.name), backend=recorded)
    mean, low = agreement(index, embedder, reference)
    if mean < min_agreement:
        raise EmbedderMismatchError(
            f"index {index.directory} was built with the {recorded} backend; the {ours} backend agrees with it to a "
            f"mean cosine of {mean:.4f} (min {low:.4f}) on {SAMPLE} of its chunks, below {min_agreement}: use "
            f"--embed-backend {recorded}, or ingest into a new --index", code="embed_backend_mismatch")
    _accepted[(str(index.directory), recorded, ours)] = mean
    log.info("index %s was built with the %s backend; the %s backend agrees with it (mean cosine %.4f, min %.4f "
             "on a sample of its chunks): accepted", index.directory, recorded, ours, mean, low)
