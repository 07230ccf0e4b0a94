"""The one writer of an index: changes in one SQLite transaction, published as a new generation.

Changes go into one SQLite transaction, the delta segment since the base (``indexes.segments``)
and a list of BM25 changes. ``commit()`` writes either the next ``delta-<gen>/`` (the usual case
on a large index: its cost follows the change) or, when the compaction policy says so, a whole
new base ``vectors-<gen>.faiss`` + ``bm25-<gen>/``; then commits SQLite (the commit point: it
records the new generation and its base), then replaces the manifest. A crash before the SQLite
commit leaves the previous generation untouched; a crash after it is rolled forward by the next
writer (``IndexWriter._recover``).

An index of an older, additively different format version is migrated by the
writer that opens it: the new columns are added and the same chunks, vectors
and BM25 are published as a new generation of the current version, so a reader
sees either the old generation whole or the migrated one.

Over 300 lines on purpose: recovery, migration, delta commits and compaction share one commit point and its
crash-safety argument, so they stay in one module.
"""

from __future__ import annotations

import json
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
from indexes.manifest import FORMAT_VERSION, Manifest, read_manifest, write_manifest
from indexes.records import Chunk, text_hash
from indexes.segments import COMPACT_RATIO, DELTA_FROM, Delta, base_stats, rescore
from indexes.store import ChunkStore, SourceRecord
from indexes.vectors import FLAT_LIMIT, VectorIndex

__all__ = ["IndexWriter", "take_lock"]

log = logging.getLogger(__name__)


def take_lock(directory: Path, wait: float) -> IO[str]:
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
        self._lock = take_lock(directory, wait)
        self._dirty = False
        self._bm25_changes = Bm25Changes()
        self._bm25: Bm25Index | None = None  # the committed generation's, with its token store
        try:
            self._store = ChunkStore(directory / DB)
            self._recover()
            self.manifest = read_manifest(directory)
            self._use(self._load_delta())
            if self.manifest.version != FORMAT_VERSION:
                self._migrate()
        except BaseException:
            if hasattr(self, "_store"):
                self._store.rollback()
                self._store.close()
            self._lock.close()
            raise

    def _migrate(self) -> None:
        """Bring an index of an older format version (``MIGRATABLE``) to this one, in a new generation."""
        old = self.manifest.version
        self._begin()
        added = self._store.add_columns()
        self.manifest = Manifest(**{**self.manifest.__dict__, "version": FORMAT_VERSION})
        gen = self.commit()
        log.warning("migrated %s from index format version %d to %d (generation %d; added chunk columns %s)",
                    self.directory, old, FORMAT_VERSION, gen, ", ".join(added) or "none")

    def _recover(self) -> None:
        """Finish or discard what a crashed writer left behind."""
        sql_gen = int(self._store.get_meta("generation") or 0)
        manifest = read_manifest(self.directory)
        written = (self.directory / f"vectors-{sql_gen}.faiss").exists() or (self.directory / f"delta-{sql_gen}").is_dir()
        if sql_gen > manifest.generation and written:
            log.warning("rolling %s forward to generation %d after an interrupted commit", self.directory, sql_gen)
            counts = {"sources": self._count_indexed(), "chunks": self._store.count_chunks(sql_gen)}
            base = int(self._store.get_meta("base") or sql_gen)
            write_manifest(self.directory, Manifest(**{**manifest.__dict__, "generation": sql_gen, "counts": counts,
                                                       "base": base}))
        for path in [*self.directory.glob("vectors-*.faiss*"), *self.directory.glob("bm25-*"),
                     *self.directory.glob("delta-*")]:
            gen = generation_of(path)
            if gen is None or gen > sql_gen:
                delete_path(path)

    def _setting(self, name: str, default: float) -> float:
        return float(self.manifest.settings.get(name, default))

    def _load_delta(self) -> Delta:
        """The committed delta (empty on a base generation), in memory to be changed."""
        if self.manifest.delta_dir:
            return Delta.load(self.directory / self.manifest.delta_dir, with_bm25=True)
        delta = Delta.empty(self.manifest.base_generation, self.manifest.embedder.dimension,
                            int(self.manifest.counts.get("chunks", 0)))
        try:
            delta.bm25 = Bm25Index.load(bm25_dir(self.directory, delta.base), empty=True)
        except (FileNotFoundError, IndexFormatError):
            delta.bm25 = Bm25Index.build([], [])  # no usable base BM25: the next commit compacts
        return delta

    def _use(self, delta: Delta) -> None:
        self._delta = delta
        self._tombstones: set[int] = set(delta.tombstones.tolist())
        self._delta_ids: set[int] = set(delta.vectors.ids().tolist())

    def _load_base(self) -> VectorIndex:
        """The base's vectors, in memory to be changed (only a compaction needs them);
        ``settings["flat_limit"]`` (optional) overrides when they become IVF (``indexes.vectors``)."""
        limit = int(self._setting("flat_limit", FLAT_LIMIT))
        return VectorIndex.load(self.directory / self.manifest.vectors_file, flat_limit=limit)

    def _count_indexed(self) -> int:
        return sum(1 for s in self._store.sources() if s.status == "indexed")

    @property
    def next_generation(self) -> int:
        return self.manifest.generation + 1

    def __len__(self) -> int:
        return self._delta.base_chunks - len(self._tombstones) + len(self._delta.vectors)

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
        header (default: the chunk text). This is also the way to store vectors computed
        elsewhere (``benchmarks/scale.py`` feeds its vectors in here, below the embedder).
        """
        if len(chunks) != len(vectors):
            raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors")
        if texts is not None and len(texts) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(texts)} texts")
        if len(chunks) and vectors.shape[1] != self._delta.vectors.dimension:
            raise ValueError(f"vectors have {vectors.shape[1]} dims, index has {self._delta.vectors.dimension}")
        self._begin()
        self._hide(record.path)
        hashes = list(embed_hashes) if embed_hashes is not None else [text_hash(c.text) for c in chunks]
        ids = self._store.insert_chunks(chunks, vectors, self.next_generation, hashes)
        self._delta.vectors.add(np.array(ids, dtype=np.int64), vectors)
        self._delta_ids.update(ids)
        self._bm25_changes.add(ids, [c.text for c in chunks] if texts is None else texts)
        self._store.upsert_source(record)

    def _hide(self, path: str) -> list[int]:
        old = self._store.hide_source_chunks(path, self.next_generation)
        in_delta = {i for i in old if i in self._delta_ids}
        self._delta.vectors.remove(np.array(sorted(in_delta), dtype=np.int64))
        self._delta_ids -= in_delta
        self._tombstones.update(i for i in old if i not in in_delta)
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

    def _compaction_due(self) -> bool:
        changes = len(self._delta.vectors) + len(self._tombstones)
        return (len(self) < self._setting("delta_from", DELTA_FROM)
                or changes > self._setting("compact_ratio", COMPACT_RATIO) * self._delta.base_chunks
                or not bm25_dir(self.directory, self._delta.base).is_dir())

    def commit(self) -> int:
        """Publish all changes as the next generation; return its number."""
        if not self._dirty:
            return self.manifest.generation
        gen = self.next_generation
        total = len(self)
        self._delta.tombstones = np.array(sorted(self._tombstones), dtype=np.int64)
        delta_bm25 = self._bm25_changes.apply_to_delta(self._delta.bm25)
        if self._compaction_due():
            base_gen = gen  # fold the delta into a new base: readers use the old generation meanwhile
            vectors = self._load_base()
            vectors.remove(self._delta.tombstones)
            delta_ids = self._delta.vectors.ids()
            vectors.add(delta_ids, self._delta.vectors.vectors(delta_ids))
            vectors = vectors.fitted()  # flat or IVF by count
            vectors.save(self.directory / f"vectors-{gen}.faiss")
            self._compacted_bm25(delta_bm25, gen).save(bm25_dir(self.directory, gen))
        else:
            base_gen = self._delta.base
            self._delta.bm25 = rescore(delta_bm25, base_stats(bm25_dir(self.directory, base_gen)))
            self._delta.save(self.directory / f"delta-{gen}")
        self._store.set_meta("generation", str(gen))
        self._store.set_meta("base", str(base_gen))
        self._store.purge_hidden(before_gen=self.manifest.generation)
        self._store.commit()  # the commit point
        self._dirty = False
        self._bm25_changes = Bm25Changes()
        previous = self.manifest
        counts = {"sources": self._count_indexed(), "chunks": total}
        self.manifest = Manifest(**{**self.manifest.__dict__, "generation": gen, "counts": counts, "base": base_gen,
                                    "version": FORMAT_VERSION})
        write_manifest(self.directory, self.manifest)
        if base_gen == gen:
            self._use(self._load_delta())
        self._delete_old(gen, previous.base_generation)
        log.info("committed generation %d of %s (%d chunks, base %d)", gen, self.directory, total, base_gen)
        return gen

    def _delete_old(self, gen: int, previous_base: int) -> None:
        """Keep what readers of the two previous generations may still load: vectors of
        generation gen-1 (readers open them at once), BM25 of gen-2 (readers load it lazily)."""
        before = self.directory / f"delta-{gen - 2}" / "segment.json"
        bm25_floor = int(json.loads(before.read_text())["base"]) if before.exists() else min(gen - 2, previous_base)
        for path in self.directory.iterdir():
            old = generation_of(path)
            if old is None:
                continue
            floor = {"vectors": previous_base, "bm25": bm25_floor, "delta": gen - 2}.get(path.name.split("-")[0])
            if floor is not None and old < floor:
                delete_path(path)

    def _compacted_bm25(self, delta: Bm25Index, next_gen: int) -> Bm25Index:
        """The base BM25 without the tombstones, with the delta's chunks: a new base.

        If the base BM25 is missing (an index from before BM25, or a damaged one), it is
        rebuilt from the chunk rows of the next generation (pending texts as given)."""
        try:
            base = Bm25Index.load(bm25_dir(self.directory, self._delta.base), with_tokens=True)
        except (FileNotFoundError, IndexFormatError) as exc:
            log.warning("rebuilding BM25 of %s from its chunks (%s)", self.directory, exc)
            ids = sorted(self._store.visible_ids(next_gen))
            pending = self._bm25_changes.added
            stored = iter(stored_texts(self._store, [i for i in ids if i not in pending], next_gen))
            return Bm25Index.build(ids, [pending[i] if i in pending else next(stored) for i in ids])
        tokens, offsets = delta.token_store()
        terms = np.array(sorted(delta.vocab, key=delta.vocab.__getitem__), dtype=object)
        added = [terms[tokens[offsets[n]:offsets[n + 1]]].tolist() for n in range(len(delta))]
        return base.updated(set(self._delta.tombstones.tolist()), delta.ids().tolist(), [], added_terms=added)

    def rollback(self) -> None:
        """Drop uncommitted changes."""
        if self._dirty:
            self._store.rollback()
            self._dirty = False
            self._use(self._load_delta())
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
