"""Chunk text, metadata, vectors and per-file records in one SQLite file.

Rows are never edited in place: a chunk is added in generation ``added_gen``
and hidden from generation ``removed_gen`` on, so a reader pinned to an older
committed generation still sees a whole, consistent set. Rows hidden before the
previous generation are purged. The integer ``rowid`` of a chunk is its FAISS id.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexes.records import Chunk

__all__ = ["ChunkStore", "SourceRecord"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
    path TEXT PRIMARY KEY,
    kind TEXT,
    size INTEGER,
    mtime_ns INTEGER,
    sha256 TEXT,
    status TEXT NOT NULL,
    reason TEXT,
    message TEXT,
    pages INTEGER NOT NULL DEFAULT 0,
    chunks INTEGER NOT NULL DEFAULT 0,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    source TEXT NOT NULL,
    page INTEGER,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB NOT NULL,
    embed_hash TEXT NOT NULL,
    added_gen INTEGER NOT NULL,
    removed_gen INTEGER,
    locator TEXT,
    section TEXT,
    ocr INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
CREATE INDEX IF NOT EXISTS chunks_removed ON chunks(removed_gen);
CREATE INDEX IF NOT EXISTS chunks_embed_hash ON chunks(embed_hash);
"""

# Columns added after format version 1, with their declarations: ``add_columns`` migrates an older file.
_ADDED_COLUMNS = (("locator", "TEXT"), ("section", "TEXT"), ("ocr", "INTEGER NOT NULL DEFAULT 0"))

# Values per IN (...) list: SQLite limits the variables of one statement (999 before 3.32).
_BATCH = 900

_VISIBLE = "added_gen <= ? AND (removed_gen IS NULL OR removed_gen > ?)"


@dataclass(frozen=True)
class SourceRecord:
    """What the index knows about one file: its fingerprint and its verdict.

    ``status`` is ``indexed`` or ``failed``; ``reason`` is a stable code for failures.
    """

    path: str
    kind: str | None
    size: int
    mtime_ns: int
    sha256: str
    status: str
    reason: str | None = None
    message: str | None = None
    pages: int = 0
    chunks: int = 0
    updated_at: float = 0.0


class _Connection(sqlite3.Connection):
    """A connection that can be weakly referenced (the base class cannot)."""


class ChunkStore:
    """Thin typed access to ``chunks.sqlite``: one connection per thread that uses it.

    A SQLite connection must not be shared by threads running queries at once, and
    readers in threads (an HTTP server) are normal. Each thread gets its own
    connection on first use; it closes when that thread ends, or at ``close()``.
    A write transaction lives on the connection of the thread that began it.
    """

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        self._readonly = readonly
        self._local = threading.local()
        self._open: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._guard = threading.Lock()
        self._closed = False
        if not readonly:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)

    @property
    def _db(self) -> sqlite3.Connection:
        db: _Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._connect()
            self._local.db = db
        return db

    def _connect(self) -> _Connection:
        with self._guard:
            if self._closed:
                raise sqlite3.ProgrammingError(f"{self.path} is closed")
            # check_same_thread=False only so that close() may close it from another thread:
            # each connection is used by the one thread that opened it.
            if self._readonly:
                db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, factory=_Connection)
            else:
                db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None, factory=_Connection)
                db.execute("PRAGMA synchronous=FULL")
            db.execute("PRAGMA busy_timeout=10000")
            self._open.add(db)
        return db

    def close(self) -> None:
        with self._guard:
            self._closed = True
            for db in list(self._open):
                db.close()
            self._open.clear()

    # -- transactions (writer only) -------------------------------------------------
    def begin(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # -- meta ------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def add_columns(self) -> list[str]:
        """Add the chunk columns a format-version-1 file lacks (inside the open transaction); return their names."""
        have = {row[1] for row in self._db.execute("PRAGMA table_info(chunks)")}
        added = [(name, decl) for name, decl in _ADDED_COLUMNS if name not in have]
        for name, decl in added:
            self._db.execute(f"ALTER TABLE chunks ADD COLUMN {name} {decl}")
        return [name for name, _decl in added]

    # -- chunks ----------------------------------------------------------------------
    def insert_chunks(self, chunks: Sequence[Chunk], vectors: np.ndarray, gen: int,
                      embed_hashes: Sequence[str]) -> list[int]:
        """Store chunks with their vectors; return their new integer ids.

        ``embed_hashes`` identify the exact text each vector was computed from,
        so identical text elsewhere (a moved or copied file) reuses the vector.
        """
        ids: list[int] = []
        cur = self._db.cursor()
        for chunk, vector, embed_hash in zip(chunks, vectors, embed_hashes, strict=True):
            cur.execute(
                'INSERT INTO chunks(id, source, page, start, "end", text, vector, embed_hash, added_gen, '
                "locator, section, ocr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (chunk.id, chunk.source, chunk.page, chunk.start, chunk.end, chunk.text,
                 np.asarray(vector, dtype=np.float32).tobytes(), embed_hash, gen,
                 chunk.locator, chunk.section, int(chunk.ocr)),
            )
            ids.append(int(cur.lastrowid or 0))
        return ids

    def cached_vectors(self, embed_hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Vectors already computed for these embedding-text hashes (any generation)."""
        wanted = list(dict.fromkeys(embed_hashes))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), _BATCH):
            part = wanted[start:start + _BATCH]
            marks = ",".join("?" * len(part))
            for embed_hash, blob in self._db.execute(
                    f"SELECT embed_hash, vector FROM chunks WHERE embed_hash IN ({marks})", part):
                found.setdefault(embed_hash, np.frombuffer(blob, dtype=np.float32))
        return found

    def hide_source_chunks(self, source: str, gen: int) -> list[int]:
        """Hide every live chunk of ``source`` from ``gen`` on; return their ids."""
        rows = self._db.execute(
            "SELECT rowid FROM chunks WHERE source = ? AND removed_gen IS NULL", (source,)).fetchall()
        self._db.execute("UPDATE chunks SET removed_gen = ? WHERE source = ? AND removed_gen IS NULL",
                         (gen, source))
        return [int(r[0]) for r in rows]

    def purge_hidden(self, before_gen: int) -> int:
        """Delete rows hidden before ``before_gen`` (no reader can still need them)."""
        cur = self._db.execute("DELETE FROM chunks WHERE removed_gen IS NOT NULL AND removed_gen < ?",
                               (before_gen,))
        return cur.rowcount

    def chunks_by_ids(self, ids: Iterable[int], gen: int) -> dict[int, Chunk]:
        """The chunks with these ids visible at ``gen`` (any number of ids: queried in batches)."""
        id_list = list(dict.fromkeys(int(i) for i in ids))
        found: dict[int, Chunk] = {}
        for start in range(0, len(id_list), _BATCH):
            part = id_list[start:start + _BATCH]
            marks = ",".join("?" * len(part))
            for r in self._db.execute(
                    f'SELECT rowid, id, source, page, start, "end", text, locator, section, ocr FROM chunks '
                    f"WHERE rowid IN ({marks}) AND {_VISIBLE}", (*part, gen, gen)):
                found[int(r[0])] = Chunk(id=r[1], source=r[2], page=r[3], start=r[4], end=r[5], text=r[6],
                                         locator=r[7], section=r[8], ocr=bool(r[9]))
        return found

    def source_texts(self, source: str, gen: int) -> list[str]:
        """The texts of ``source``'s chunks visible at ``gen``, in reading order."""
        rows = self._db.execute(f"SELECT text FROM chunks WHERE source = ? AND {_VISIBLE} ORDER BY page, start",
                                (source, gen, gen)).fetchall()
        return [str(r[0]) for r in rows]

    def visible_vectors(self, gen: int) -> tuple[np.ndarray, np.ndarray]:
        """All (ids, vectors) visible at ``gen``: used to rebuild or check FAISS."""
        rows = self._db.execute(f"SELECT rowid, vector FROM chunks WHERE {_VISIBLE} ORDER BY rowid",
                                (gen, gen)).fetchall()
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        if not rows:
            return ids, np.zeros((0, 0), dtype=np.float32)
        vectors = np.stack([np.frombuffer(r[1], dtype=np.float32) for r in rows])
        return ids, vectors

    def visible_ids(self, gen: int) -> set[int]:
        rows = self._db.execute(f"SELECT rowid FROM chunks WHERE {_VISIBLE}", (gen, gen)).fetchall()
        return {int(r[0]) for r in rows}

    def count_chunks(self, gen: int) -> int:
        row = self._db.execute(f"SELECT COUNT(*) FROM chunks WHERE {_VISIBLE}", (gen, gen)).fetchone()
        return int(row[0])

    # -- sources ---------------------------------------------------------------------
    def upsert_source(self, record: SourceRecord) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO sources(path, kind, size, mtime_ns, sha256, status, reason, message, "
            "pages, chunks, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record.path, record.kind, record.size, record.mtime_ns, record.sha256, record.status,
             record.reason, record.message, record.pages, record.chunks, record.updated_at or time.time()),
        )

    def delete_source(self, path: str) -> None:
        self._db.execute("DELETE FROM sources WHERE path = ?", (path,))

    def source(self, path: str) -> SourceRecord | None:
        row = self._db.execute(
            "SELECT path, kind, size, mtime_ns, sha256, status, reason, message, pages, chunks, updated_at "
            "FROM sources WHERE path = ?", (path,)).fetchone()
        return None if row is None else SourceRecord(*row)

    def sources(self) -> list[SourceRecord]:
        rows = self._db.execute(
            "SELECT path, kind, size, mtime_ns, sha256, status, reason, message, pages, chunks, updated_at "
            "FROM sources ORDER BY path").fetchall()
        return [SourceRecord(*row) for row in rows]
