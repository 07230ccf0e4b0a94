"""The SQLite chunk store at scale and under threads: any number of ids in one lookup,
concurrent readers each on their own connection."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from indexes import Chunk, EmbedderInfo, HashEmbedder, Index, SourceRecord, chunk_id
from indexes.store import ChunkStore

EMB = HashEmbedder(dimension=8)


def _chunks(source: str, n: int) -> list[Chunk]:
    texts = [f"chunk {i} of {source}" for i in range(n)]
    return [Chunk(chunk_id(source, 1, i, t), source, 1, t, i, i + len(t)) for i, t in enumerate(texts)]


@pytest.mark.slow
def test_a_lookup_of_100k_chunks_passes_sqlites_variable_limit(tmp_path: Path) -> None:
    store = ChunkStore(tmp_path / "chunks.sqlite")
    # Debian builds SQLite allowing 250,000 variables; the stock build (python.org, macOS, Windows) 32,766.
    store._db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 32_766)
    chunks = _chunks("/big.txt", 100_000)
    store.begin()
    ids = store.insert_chunks(chunks, np.zeros((len(chunks), 4), np.float32), 1, [c.id for c in chunks])
    store.commit()
    found = store.chunks_by_ids(ids + ids[:10], 1)  # every chunk (a --where over the whole index), and repeats
    assert len(found) == 100_000
    assert found[ids[-1]] == chunks[-1] and found[ids[0]] == chunks[0]
    assert store.chunks_by_ids(ids, 0) == {}  # none visible before their generation
    store.close()


def test_concurrent_readers_in_threads(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "idx", EmbedderInfo(EMB.name, EMB.dimension, EMB.max_tokens))
    sources = [f"/doc-{i}.txt" for i in range(8)]
    with index.writer() as writer:
        for source in sources:
            chunks = _chunks(source, 50)
            writer.replace_source(SourceRecord(source, "text", 1, 1, "sha", "indexed", pages=1, chunks=50), chunks,
                                  EMB.embed([c.text for c in chunks]))
        writer.commit()
    reader = Index.open(index.directory)  # one reader, shared by every thread (as an HTTP server does)
    ids = sorted(reader.chunks(list(range(1, 1000))))
    assert len(ids) == 400
    errors: list[BaseException] = []
    connections: list[object] = []  # kept alive, so that identities are not reused
    start = threading.Barrier(8)

    def read(n: int) -> None:
        try:
            start.wait()
            connections.append(reader._store._db)  # the connection this thread's queries run on
            for round_ in range(150):
                wanted = ids[(n * 37 + round_) % 350:][:50]
                found = reader.chunks(wanted)
                assert sorted(found) == wanted, "a reader got another thread's rows"
                assert all(found[i].text.startswith("chunk ") for i in wanted)
                assert len(reader.sources()) == 8
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=read, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    reader.close()
    assert errors == []
    assert len({id(c) for c in connections}) == 8  # one connection per thread, none shared
    with pytest.raises(Exception, match="closed"):
        reader.sources()
