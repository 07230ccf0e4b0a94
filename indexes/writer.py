"""The one writer of an index: changes in one SQLite transaction, published as a new generation.

Changes go into one SQLite transaction, a private copy of the FAISS index and a
list of BM25 changes. ``commit()`` writes the next ``vectors-<gen>.faiss`` and
``bm25-<gen>/``, commits SQLite (the commit point: it records the new
generation), then replaces the manifest. A crash before the SQLite commit leaves
the previous generation untouched; a crash after it is rolled forward by the
next writer (``IndexWriter._recover``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

import numpy as np
from filelock import lock_descriptor

from indexes.bm25 import Bm25Changes, Bm25Index
from indexes.errors import IndexFormatError, IndexLockedError
from indexes.layout import DB, LOCK, bm25_dir, delete_path, generation_of, stored_texts
from indexes.manifest import Manifest, read_manifest, write_manifest
from indexes.records import Chunk, text_hash
from indexes.store import ChunkStore, SourceRecord
from indexes.vectors import FLAT_LIMIT, VectorIndex

__all__ = ["IndexWriter"]

log = logging.getLogger(__name__)


def _take_lock(directory: Path, wait: float) -> IO[str]:
    """Hold ``write.lock`` (an OS lock through ``filelock``: flock on Unix, LockFileEx on
    Windows; released by the OS if the process dies) and write our pid into it."""
    handle = open(directory / LOCK, "a+", encoding="utf-8")
    deadline = time.monotonic() + wait
    while not lock_descriptor(handle.fileno(), blocking=False):
        if time.monotonic() >= deadline:
            holder = _holder(handle)
            handle.close()
            raise IndexLockedError(f"index {directory} is being written by {holder}; "
                                   "wait for it to finish and try again")
        time.sleep(0.1)
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


def _holder(handle: IO[str]) -> str:
    try:
        handle.seek(0)
        pid = handle.read().strip()
    except OSError:  # Windows: the locked byte cannot be read by another process
        pid = ""
    return f"pid {pid}" if pid.isdigit() else "another process"


class IndexWriter:
    """The one writer of an index. Use as a context manager; call ``commit()``."""

    def __init__(self, directory: Path, *, wait: float = 0.0) -> None:
        self.directory = directory
        self._lock = _take_lock(directory, wait)
        try:
            self._store = ChunkStore(directory / DB)
            self._recover()
            self.manifest = read_manifest(directory)
            self._vectors = self._load_vectors()
        except BaseException:
            self._lock.close()
            raise
        self._dirty = False
        self._bm25_changes = Bm25Changes()
        self._bm25: Bm25Index | None = None  # the committed generation's, with its token store

    def _recover(self) -> None:
        """Finish or discard what a crashed writer left behind."""
        sql_gen = int(self._store.get_meta("generation") or 0)
        manifest = read_manifest(self.directory)
        if sql_gen > manifest.generation and (self.directory / f"vectors-{sql_gen}.faiss").exists():
            log.warning("rolling %s forward to generation %d after an interrupted commit", self.directory, sql_gen)
            counts = {"sources": self._count_indexed(), "chunks": self._store.count_chunks(sql_gen)}
            write_manifest(self.directory, Manifest(**{**manifest.__dict__, "generation": sql_gen, "counts": counts}))
        for path in [*self.directory.glob("vectors-*.faiss*"), *self.directory.glob("bm25-*")]:
            gen = generation_of(path)
            if gen is None or gen > sql_gen:
                delete_path(path)

    def _load_vectors(self) -> VectorIndex:
        """The committed vectors, in memory to be changed; ``settings["flat_limit"]`` (optional)
        overrides the count above which they become an IVF index (``indexes.vectors``)."""
        limit = int(self.manifest.settings.get("flat_limit", FLAT_LIMIT))
        return VectorIndex.load(self.directory / self.manifest.vectors_file, flat_limit=limit)

    def _count_indexed(self) -> int:
        return sum(1 for s in self._store.sources() if s.status == "indexed")

    @property
    def next_generation(self) -> int:
        return self.manifest.generation + 1

    def _begin(self) -> None:
        if not self._dirty:
            self._store.begin()
            self._dirty = True

    def source(self, path: str) -> SourceRecord | None:
        return self._store.source(path)

    def sources(self) -> list[SourceRecord]:
        return self._store.sources()

    def cached_vectors(self, embed_hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors for embedding-text hashes: reuse instead of re-embedding."""
        return self._store.cached_vectors(embed_hashes)

    def replace_source(self, record: SourceRecord, chunks: Sequence[Chunk], vectors: np.ndarray,
                       embed_hashes: Sequence[str] | None = None, *, texts: Sequence[str] | None = None) -> None:
        """Make ``chunks`` the whole content of ``record.path`` (old chunks are hidden).

        ``embed_hashes`` name the text each vector was computed from (default: the chunk text).
        ``texts`` are what BM25 indexes for each chunk, e.g. the embedded text with its
        header (default: the chunk text).
        """
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if texts is not None and len(texts) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(texts)} texts")
        if len(chunks) and vectors.shape[1] != self._vectors.dimension:
            raise ValueError(f"vectors have {vectors.shape[1]} dims, index has {self._vectors.dimension}")
        self._begin()
        self._hide(record.path)
        hashes = list(embed_hashes) if embed_hashes is not None else [text_hash(c.text) for c in chunks]
        ids = self._store.insert_chunks(chunks, vectors, self.next_generation, hashes)
        self._vectors.add(np.array(ids, dtype=np.int64), vectors)
        self._bm25_changes.add(ids, [c.text for c in chunks] if texts is None else texts)
        self._store.upsert_source(record)

    def _hide(self, path: str) -> list[int]:
        old = self._store.hide_source_chunks(path, self.next_generation)
        self._vectors.remove(np.array(old, dtype=np.int64))
        self._bm25_changes.remove(old)
        return old

    def record_source(self, record: SourceRecord) -> None:
        """Store a file's record without touching chunks (e.g. a failure verdict)."""
        self._begin()
        if record.status != "indexed":
            self._hide(record.path)
        self._store.upsert_source(record)

    def remove_source(self, path: str) -> int:
        """Forget a file and its chunks; return how many chunks went."""
        self._begin()
        old = self._hide(path)
        self._store.delete_source(path)
        return len(old)

    def commit(self) -> int:
        """Publish all changes as the next generation; return its number."""
        if not self._dirty:
            return self.manifest.generation
        gen = self.next_generation
        self._vectors = self._vectors.fitted()  # flat or IVF by count: readers use the old file meanwhile
        self._vectors.save(self.directory / f"vectors-{gen}.faiss")
        bm25 = self._bm25_changes.apply(self._committed_bm25(gen))
        bm25.save(bm25_dir(self.directory, gen))
        self._store.set_meta("generation", str(gen))
        self._store.purge_hidden(before_gen=self.manifest.generation)
        self._store.commit()  # the commit point
        self._dirty = False
        self._bm25, self._bm25_changes = bm25, Bm25Changes()
        counts = {"sources": self._count_indexed(), "chunks": len(self._vectors)}
        self.manifest = Manifest(**{**self.manifest.__dict__, "generation": gen, "counts": counts})
        write_manifest(self.directory, self.manifest)
        for path in self.directory.glob("vectors-*.faiss"):
            old_gen = generation_of(path)
            if old_gen is not None and old_gen < gen - 1:
                path.unlink(missing_ok=True)
        # Readers load BM25 lazily: keep it as long as the chunk rows of its generation.
        for path in self.directory.glob("bm25-*"):
            old_gen = generation_of(path)
            if old_gen is not None and old_gen < gen - 2:
                delete_path(path)
        log.info("committed generation %d of %s (%d chunks)", gen, self.directory, counts["chunks"])
        return gen

    def _committed_bm25(self, next_gen: int) -> Bm25Index:
        """The committed generation's BM25 with its token store, to derive the next one from.

        If it is missing (an index from before BM25, or a damaged one), it is rebuilt from the
        chunk rows of the next generation, and the pending changes then add nothing more."""
        if self._bm25 is not None:
            return self._bm25
        try:
            return Bm25Index.load(bm25_dir(self.directory, self.manifest.generation), with_tokens=True)
        except (FileNotFoundError, IndexFormatError) as exc:
            log.warning("rebuilding BM25 of %s from its chunks (%s)", self.directory, exc)
        ids = sorted(self._store.visible_ids(next_gen))
        pending = self._bm25_changes.added
        stored = iter(stored_texts(self._store, [i for i in ids if i not in pending], next_gen))
        texts = [pending[i] if i in pending else next(stored) for i in ids]
        self._bm25_changes.clear()
        return Bm25Index.build(ids, texts)

    def rollback(self) -> None:
        """Drop uncommitted changes."""
        if self._dirty:
            self._store.rollback()
            self._dirty = False
            self._vectors = self._load_vectors()
            self._bm25_changes = Bm25Changes()

    def close(self) -> None:
        self.rollback()
        self._store.close()
        self._lock.close()

    def __enter__(self) -> IndexWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
