"""An index directory: open, search, and write new generations atomically.

Layout::

    idx/manifest.json          committed generation, embedder, settings, counts
    idx/chunks.sqlite          sources, chunk text/metadata/vectors (WAL mode)
    idx/vectors-<gen>.faiss    FAISS ids -> vectors of that generation
    idx/bm25-<gen>/            BM25 over the same chunk ids (see ``indexes.bm25``)
    idx/write.lock             held (flock) by the one writer, holds its pid

A write happens in an ``IndexWriter``: changes go into one SQLite transaction,
a private copy of the FAISS index and a list of BM25 changes. ``commit()``
writes the next ``vectors-<gen>.faiss`` and ``bm25-<gen>/``, commits SQLite
(the commit point: it records the new generation), then replaces the manifest.
A crash before the SQLite commit leaves the previous generation untouched; a
crash after it is rolled forward by the next writer. Readers never take the
lock, and load BM25 only when a lexical search first needs it.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np

from indexes.bm25 import Bm25Changes, Bm25Index
from indexes.errors import EmbedderMismatchError, IndexFormatError, IndexLockedError
from indexes.manifest import EmbedderInfo, Manifest, is_index_file, read_manifest, write_manifest
from indexes.records import Chunk, Hit, text_hash
from indexes.store import ChunkStore, SourceRecord
from indexes.vectors import VectorIndex

__all__ = ["Index", "IndexWriter"]

log = logging.getLogger(__name__)

DB = "chunks.sqlite"
LOCK = "write.lock"
_ID_BATCH = 5000  # ids per SQLite query (SQLite allows 32,766 parameters)


def bm25_dir(directory: Path, generation: int) -> Path:
    return directory / f"bm25-{generation}"


def _generation_of(path: Path) -> int | None:
    """The generation in ``vectors-<g>.faiss`` / ``bm25-<g>``; None for temp files and strays."""
    stem = path.name.split(".")[0]
    number = stem.split("-", 1)[1] if "-" in stem else ""
    return int(number) if number.isdigit() and not path.name.endswith(".tmp") else None


class Index:
    """A read view of one committed generation, and the door to writing."""

    def __init__(self, directory: Path, manifest: Manifest, store: ChunkStore, vectors: VectorIndex) -> None:
        self.directory = directory
        self.manifest = manifest
        self._store = store
        self._vectors = vectors
        self._bm25: Bm25Index | None = None

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def create(cls, directory: str | Path, embedder: EmbedderInfo, settings: dict[str, Any] | None = None) -> Index:
        """Make a new, empty index in ``directory`` (which must not hold one already)."""
        directory = Path(directory).expanduser().resolve()
        if (directory / "manifest.json").exists():
            raise IndexFormatError(f"an index already exists at {directory}")
        directory.mkdir(parents=True, exist_ok=True)
        for leftover in directory.iterdir():  # an earlier creation that died before its manifest
            if is_index_file(leftover.name) and leftover.is_file():
                leftover.unlink()
        store = ChunkStore(directory / DB)
        store.set_meta("generation", "0")
        store.close()
        VectorIndex(embedder.dimension).save(directory / "vectors-0.faiss")
        Bm25Index.build([], []).save(bm25_dir(directory, 0))
        now = time.time()
        write_manifest(directory, Manifest(embedder=embedder, generation=0, settings=dict(settings or {}),
                                           counts={"sources": 0, "chunks": 0}, created=now, updated=now))
        return cls.open(directory)

    @classmethod
    def open(cls, directory: str | Path) -> Index:
        """Open the committed generation of the index in ``directory`` for reading."""
        directory = Path(directory).expanduser().resolve()
        for _attempt in range(3):
            manifest = read_manifest(directory)
            vectors_path = directory / manifest.vectors_file
            try:
                vectors = VectorIndex.load(vectors_path)
            except RuntimeError:
                if not vectors_path.exists():
                    continue  # a writer switched generations under us: read the new manifest
                raise IndexFormatError(f"{vectors_path} is damaged; rebuild the index with `rag ingest`") from None
            if not (directory / DB).exists():
                raise IndexFormatError(f"{directory / DB} is missing; rebuild the index with `rag ingest`")
            return cls(directory, manifest, ChunkStore(directory / DB), vectors)
        raise IndexFormatError(f"{directory}: the committed vectors file is missing; run `rag status --check`")

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def generation(self) -> int:
        return self.manifest.generation

    @property
    def embedder(self) -> EmbedderInfo:
        return self.manifest.embedder

    def require_embedder(self, name: str, dimension: int) -> None:
        """Refuse an embedder other than the one that built this index."""
        info = self.manifest.embedder
        if name != info.name or dimension != info.dimension:
            raise EmbedderMismatchError(
                f"index {self.directory} was built with embedder {info.name!r} ({info.dimension} dims), "
                f"not {name!r} ({dimension} dims): use that embedder, or ingest into a new --index")

    # -- reading -----------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._vectors)

    def search(self, query: np.ndarray, k: int) -> list[Hit]:
        """The ``k`` chunks nearest to a unit query vector, best first."""
        scores, ids = self.search_dense(query, k)
        found = self.chunks(ids.tolist())
        return [Hit(found[int(i)], float(s)) for s, i in zip(scores, ids, strict=False) if int(i) in found]

    def search_dense(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(cosine scores, chunk ids)`` of the ``k`` nearest chunks, best first."""
        return self._vectors.search(np.asarray(query, dtype=np.float32), k)

    def search_bm25(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(BM25 scores, chunk ids)`` of the ``k`` best lexical matches, best first."""
        return self.bm25().search(query, k)

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """The stored unit vectors of chunks ``ids`` of this generation, one row each."""
        return self._vectors.vectors(np.asarray(ids, dtype=np.int64))

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """The chunks with these ids that this generation can see."""
        return self._store.chunks_by_ids(ids, self.generation)

    def bm25(self) -> Bm25Index:
        """This generation's BM25 index, loaded on first use.

        An index written before BM25 existed has none on disk: it is built in memory
        (and written by the next commit)."""
        if self._bm25 is None:
            try:
                self._bm25 = Bm25Index.load(bm25_dir(self.directory, self.generation))
            except FileNotFoundError:
                if read_manifest(self.directory).generation > self.generation + 2:
                    raise IndexFormatError(f"{self.directory} moved on by several generations while open; "
                                           "open it again") from None
                log.warning("%s has no BM25 index for generation %d: building it in memory "
                            "(the next `rag ingest` writes it)", self.directory, self.generation)
                ids = sorted(self._store.visible_ids(self.generation))
                self._bm25 = Bm25Index.build(ids, _texts(self._store, ids, self.generation))
        return self._bm25

    def sources(self) -> list[SourceRecord]:
        return self._store.sources()

    def source(self, path: str) -> SourceRecord | None:
        return self._store.source(path)

    def check(self) -> list[str]:
        """Consistency problems of the committed generation (empty list = healthy)."""
        problems: list[str] = []
        sql_gen = int(self._store.get_meta("generation") or -1)
        # A database one generation ahead is a commit in progress (or interrupted: the
        # next writer rolls it forward); behind the manifest is damage.
        if sql_gen < self.generation:
            problems.append(f"manifest generation {self.generation} is ahead of database generation {sql_gen}")
        faiss_ids = set(self._vectors.ids().tolist())
        row_ids = self._store.visible_ids(self.generation)
        if faiss_ids - row_ids:
            problems.append(f"{len(faiss_ids - row_ids)} vector ids have no chunk row")
        if row_ids - faiss_ids:
            problems.append(f"{len(row_ids - faiss_ids)} chunk rows have no vector")
        if self._vectors.dimension != self.embedder.dimension:
            problems.append(f"vectors have {self._vectors.dimension} dims, manifest says {self.embedder.dimension}")
        return problems + self._check_bm25(row_ids)

    def _check_bm25(self, row_ids: set[int]) -> list[str]:
        try:
            bm25 = Bm25Index.load(bm25_dir(self.directory, self.generation), with_tokens=True)
        except FileNotFoundError:
            return [f"no BM25 index for generation {self.generation}; the next `rag ingest` builds it"]
        except IndexFormatError as exc:
            return [exc.message]
        problems = []
        bm25_ids = set(bm25.ids().tolist())
        if len(bm25_ids) != len(bm25):
            problems.append("BM25 lists a chunk id twice")
        if bm25_ids - row_ids:
            problems.append(f"{len(bm25_ids - row_ids)} BM25 ids have no chunk row")
        if row_ids - bm25_ids:
            problems.append(f"{len(row_ids - bm25_ids)} chunk rows are missing from BM25")
        return problems

    # -- writing -----------------------------------------------------------------------
    def writer(self, *, wait: float = 0.0) -> IndexWriter:
        """Take the write lock (waiting up to ``wait`` seconds) and return a writer."""
        return IndexWriter(self.directory, wait=wait)


def _take_lock(directory: Path, wait: float) -> IO[str]:
    handle = open(directory / LOCK, "a+", encoding="utf-8")
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                handle.close()
                raise IndexLockedError(f"index {directory} is being written by pid {holder}; "
                                       "wait for it to finish and try again") from None
            time.sleep(0.1)
    handle.seek(0)
    handle.truncate()
    handle.write(str(os.getpid()))
    handle.flush()
    return handle


class IndexWriter:
    """The one writer of an index. Use as a context manager; call ``commit()``."""

    def __init__(self, directory: Path, *, wait: float = 0.0) -> None:
        self.directory = directory
        self._lock = _take_lock(directory, wait)
        try:
            self._store = ChunkStore(directory / DB)
            self._recover()
            self.manifest = read_manifest(directory)
            self._vectors = VectorIndex.load(directory / self.manifest.vectors_file)
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
            gen = _generation_of(path)
            if gen is None or gen > sql_gen:
                _delete(path)

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
            old_gen = _generation_of(path)
            if old_gen is not None and old_gen < gen - 1:
                path.unlink(missing_ok=True)
        # Readers load BM25 lazily: keep it as long as the chunk rows of its generation.
        for path in self.directory.glob("bm25-*"):
            old_gen = _generation_of(path)
            if old_gen is not None and old_gen < gen - 2:
                _delete(path)
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
        stored = iter(_texts(self._store, [i for i in ids if i not in pending], next_gen))
        texts = [pending[i] if i in pending else next(stored) for i in ids]
        self._bm25_changes.clear()
        return Bm25Index.build(ids, texts)

    def rollback(self) -> None:
        """Drop uncommitted changes."""
        if self._dirty:
            self._store.rollback()
            self._dirty = False
            self._vectors = VectorIndex.load(self.directory / self.manifest.vectors_file)
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


def _texts(store: ChunkStore, ids: Sequence[int], gen: int) -> list[str]:
    """Texts of the chunks ``ids`` (all visible at ``gen``), in the same order."""
    texts: list[str] = []
    for start in range(0, len(ids), _ID_BATCH):
        batch = ids[start:start + _ID_BATCH]
        found = store.chunks_by_ids(batch, gen)
        texts.extend(found[i].text for i in batch)
    return texts


def _delete(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
