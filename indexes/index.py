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

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexes.bm25 import Bm25Index
from indexes.errors import EmbedderMismatchError, IndexFormatError
from indexes.layout import DB, LOCK, bm25_dir, stored_texts
from indexes.manifest import FORMAT_VERSION, EmbedderInfo, Manifest, is_index_file, read_manifest, write_manifest
from indexes.records import Chunk, Hit
from indexes.segments import Delta, LayeredBm25, LayeredVectors
from indexes.store import ChunkStore, SourceRecord
from indexes.vectors import VectorIndex
from indexes.writer import IndexWriter, take_lock

__all__ = ["Index", "IndexWriter"]

log = logging.getLogger(__name__)

_MIGRATE_WAIT = 30.0  # seconds to wait for another writer before migrating an older index
_CREATE_WAIT = 600.0  # seconds another creator (or a writer of a just-created index) may hold the lock


class Index:
    """A read view of one committed generation, and the door to writing."""

    def __init__(self, directory: Path, manifest: Manifest, store: ChunkStore,
                 vectors: VectorIndex | LayeredVectors) -> None:
        self.directory = directory
        self.manifest = manifest
        self._store = store
        self._vectors = vectors
        self._bm25: Bm25Index | LayeredBm25 | None = None
        self._bm25_lock = threading.Lock()

    # -- opening -----------------------------------------------------------------------
    @classmethod
    def create(cls, directory: str | Path, embedder: EmbedderInfo, settings: dict[str, Any] | None = None, *,
               exist_ok: bool = False) -> Index:
        """Make a new, empty index in ``directory`` (which must not hold one already, unless ``exist_ok``:
        then one that another process created meanwhile is opened). Creation holds the writer's lock, so
        two processes creating the same index at once make it once."""
        directory = Path(directory).expanduser().resolve()
        if (directory / "manifest.json").exists() and not exist_ok:
            raise IndexFormatError(f"an index already exists at {directory}")
        directory.mkdir(parents=True, exist_ok=True)
        lock = take_lock(directory, _CREATE_WAIT)
        try:
            if (directory / "manifest.json").exists():
                if not exist_ok:
                    raise IndexFormatError(f"an index already exists at {directory}")
            else:
                cls._make(directory, embedder, settings)
        finally:
            lock.close()
        return cls.open(directory)

    @staticmethod
    def _make(directory: Path, embedder: EmbedderInfo, settings: dict[str, Any] | None) -> None:
        for leftover in directory.iterdir():  # an earlier creation that died before its manifest
            if is_index_file(leftover.name) and leftover.is_file() and leftover.name != LOCK:
                leftover.unlink()
        store = ChunkStore(directory / DB)
        store.set_meta("generation", "0")
        store.close()
        VectorIndex(embedder.dimension).save(directory / "vectors-0.faiss")
        Bm25Index.build([], []).save(bm25_dir(directory, 0))
        now = time.time()
        write_manifest(directory, Manifest(embedder=embedder, generation=0, settings=dict(settings or {}),
                                           counts={"sources": 0, "chunks": 0}, created=now, updated=now))

    @classmethod
    def open(cls, directory: str | Path, *, migrate: bool = True) -> Index:
        """Open the committed generation of the index in ``directory`` for reading.

        An index of an older format version is migrated first (a new generation); with
        ``migrate=False`` (a dry run, which writes nothing) it is opened as it is, and only
        its file records (``sources``) may be read.
        """
        directory = Path(directory).expanduser().resolve()
        for _attempt in range(3):
            manifest = read_manifest(directory)
            if manifest.version != FORMAT_VERSION and migrate:
                cls._migrate(directory, manifest.version)
                continue
            vectors_path = directory / manifest.vectors_file
            try:
                vectors: VectorIndex | LayeredVectors = VectorIndex.load(vectors_path, mmap=True)
                if manifest.delta_dir:
                    vectors = LayeredVectors(vectors, Delta.load(directory / manifest.delta_dir, mmap=True))  # type: ignore[arg-type]
            except (RuntimeError, FileNotFoundError):
                if not vectors_path.exists() or (manifest.delta_dir and not (directory / manifest.delta_dir).exists()):
                    continue  # a writer switched generations under us: read the new manifest
                raise IndexFormatError(f"{vectors_path} or its delta is damaged; rebuild the index with "
                                       "`rag ingest`") from None
            if not (directory / DB).exists():
                raise IndexFormatError(f"{directory / DB} is missing; rebuild the index with `rag ingest`")
            return cls(directory, manifest, ChunkStore(directory / DB), vectors)
        raise IndexFormatError(f"{directory}: the committed vectors file is missing; run `rag status --check`")

    @staticmethod
    def _migrate(directory: Path, version: int) -> None:
        """Migrate an older index (see ``indexes.writer``) before reading it: never read a mix of formats."""
        try:
            IndexWriter(directory, wait=_MIGRATE_WAIT).close()
        except (OSError, sqlite3.Error) as exc:
            raise IndexFormatError(
                f"index {directory} has format version {version} and needs migrating to {FORMAT_VERSION}, "
                f"which failed ({' '.join(str(exc).split())}): make it writable and open it again, or rebuild it "
                "with `rag ingest` into a new --index directory") from exc

    def close(self) -> None:
        self._store.close()
        self._vectors.close()

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

    @property
    def dense_kind(self) -> str:
        """``flat`` (exact scan) or ``ivf`` (inverted file, above ``settings["flat_limit"]``)."""
        return self._vectors.kind

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

    def chunk_ids(self) -> list[int]:
        """Every chunk id of this generation, ascending."""
        return sorted(int(i) for i in self._vectors.ids().tolist())

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """The chunks with these ids that this generation can see."""
        return self._store.chunks_by_ids(ids, self.generation)

    def document(self, source: str) -> str:
        """All the text of ``source`` this generation holds, chunk after chunk in reading order."""
        return "\n".join(self._store.source_texts(source, self.generation))

    def documents(self, sources: Sequence[str]) -> Mapping[str, str]:
        return _Documents(self, list(dict.fromkeys(sources)))  # each ``document`` read when first looked up

    def bm25(self) -> Bm25Index | LayeredBm25:
        """This generation's BM25 index (its base's, with its delta's), loaded on first use.

        An index written before BM25 existed has none on disk: it is built in memory
        (and written by the next commit). Threads asking at once load it once."""
        if self._bm25 is not None:
            return self._bm25
        with self._bm25_lock:
            if self._bm25 is None:  # else another thread loaded it while this one waited
                self._bm25 = self._load_bm25()
            return self._bm25

    def _load_bm25(self) -> Bm25Index | LayeredBm25:
        try:
            base = Bm25Index.load(bm25_dir(self.directory, self.manifest.base_generation))
            delta = self.manifest.delta_dir
            return base if delta is None else LayeredBm25(
                base, Bm25Index.load(self.directory / delta / "bm25"),
                np.load(self.directory / delta / "tombstones.npy", allow_pickle=False))
        except FileNotFoundError:
            if read_manifest(self.directory).generation > self.generation + 2:
                raise IndexFormatError(f"{self.directory} moved on by several generations while open; "
                                       "open it again") from None
            log.warning("%s has no BM25 index for generation %d: building it in memory "
                        "(the next `rag ingest` writes it)", self.directory, self.generation)
            ids = sorted(self._store.visible_ids(self.generation))
            return Bm25Index.build(ids, stored_texts(self._store, ids, self.generation))

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
        delta = self.manifest.delta_dir
        try:
            ids = Bm25Index.load(bm25_dir(self.directory, self.manifest.base_generation), with_tokens=True).ids()
            if delta is not None:
                tombstones = np.load(self.directory / delta / "tombstones.npy", allow_pickle=False)
                added = Bm25Index.load(self.directory / delta / "bm25", with_tokens=True).ids()
                ids = np.concatenate([ids[~np.isin(ids, tombstones)], added])
        except FileNotFoundError:
            return [f"no BM25 index for generation {self.generation}; the next `rag ingest` builds it"]
        except IndexFormatError as exc:
            return [exc.message]
        problems = []
        bm25_ids = set(ids.tolist())
        if len(bm25_ids) != len(ids):
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


class _Documents(Mapping[str, str]):
    def __init__(self, index: Index, sources: list[str]) -> None:
        self._index, self._sources, self._read = index, sources, dict[str, str]()

    def __getitem__(self, source: str) -> str:
        if source not in self._read:
            if source not in self._sources:
                raise KeyError(source)
            self._read[source] = self._index.document(source)
        return self._read[source]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)
