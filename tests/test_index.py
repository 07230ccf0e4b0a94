"""The on-disk index: generations, readers, writers, recovery, refusals."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import numpy as np
import pytest

from indexes import (
    Chunk,
    EmbedderInfo,
    EmbedderMismatchError,
    HashEmbedder,
    Index,
    IndexFormatError,
    IndexLockedError,
    IndexMissingError,
    SourceRecord,
    chunk_id,
)

EMB = HashEmbedder()


def _chunks(source: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(chunk_id(source, 1, i, t), source, 1, t, i, i + len(t)) for i, t in enumerate(texts)]


def _record(source: str, n: int) -> SourceRecord:
    return SourceRecord(source, "text", 10, 1, "sha-" + source, "indexed", pages=1, chunks=n)


def _add(index: Index, source: str, texts: list[str]) -> int:
    chunks = _chunks(source, texts)
    with index.writer() as writer:
        writer.replace_source(_record(source, len(chunks)), chunks, EMB.embed(texts))
        return writer.commit()


@pytest.fixture
def index(tmp_path: Path) -> Index:
    return Index.create(tmp_path / "idx", EmbedderInfo(EMB.name, EMB.dimension, EMB.max_tokens))


def test_add_search_and_counts(index: Index) -> None:
    _add(index, "/a.txt", ["cats purr on warm windows", "rockets burn liquid oxygen"])
    reader = Index.open(index.directory)
    hits = reader.search(EMB.embed(["liquid oxygen rockets"])[0], 2)
    assert hits[0].chunk.text == "rockets burn liquid oxygen"
    assert hits[0].score > hits[1].score
    assert reader.manifest.counts == {"sources": 1, "chunks": 2}
    assert reader.check() == []


def test_replace_hides_old_chunks_and_reader_keeps_its_generation(index: Index) -> None:
    _add(index, "/a.txt", ["old text about tulips"])
    old_reader = Index.open(index.directory)
    _add(index, "/a.txt", ["new text about volcanoes"])
    new_reader = Index.open(index.directory)
    query = EMB.embed(["tulips volcanoes"])[0]
    assert [h.chunk.text for h in new_reader.search(query, 5)] == ["new text about volcanoes"]
    assert [h.chunk.text for h in old_reader.search(query, 5)] == ["old text about tulips"]
    assert new_reader.check() == [] and len(new_reader) == 1


def test_remove_source(index: Index) -> None:
    _add(index, "/a.txt", ["alpha beta"])
    _add(index, "/b.txt", ["gamma delta"])
    with index.writer() as writer:
        assert writer.remove_source("/a.txt") == 1
        writer.commit()
    reader = Index.open(index.directory)
    assert [s.path for s in reader.sources()] == ["/b.txt"]
    assert {h.chunk.source for h in reader.search(EMB.embed(["alpha gamma"])[0], 5)} == {"/b.txt"}
    assert reader.check() == []


def test_uncommitted_changes_are_invisible_and_rolled_back(index: Index) -> None:
    _add(index, "/a.txt", ["kept text"])
    with index.writer() as writer:
        writer.replace_source(_record("/b.txt", 1), _chunks("/b.txt", ["never committed"]),
                              EMB.embed(["never committed"]))
        assert len(Index.open(index.directory)) == 1
    reader = Index.open(index.directory)
    assert [s.path for s in reader.sources()] == ["/a.txt"] and reader.check() == []


def test_crash_after_database_commit_rolls_forward(index: Index) -> None:
    _add(index, "/a.txt", ["first"])
    saved = (index.directory / "manifest.json").read_text()
    _add(index, "/b.txt", ["second"])
    # Simulate dying between the SQLite commit and the manifest switch.
    (index.directory / "manifest.json").write_text(saved)
    assert Index.open(index.directory).generation == 1
    with index.writer():
        pass  # the next writer repairs the head
    reader = Index.open(index.directory)
    assert reader.generation == 2 and reader.check() == [] and len(reader) == 2


def test_stray_next_generation_file_is_discarded(index: Index) -> None:
    _add(index, "/a.txt", ["first"])
    (index.directory / "vectors-2.faiss").write_bytes(b"half written")
    with index.writer():
        pass
    assert not (index.directory / "vectors-2.faiss").exists()
    assert Index.open(index.directory).check() == []


def _hold_lock(directory: str, ready: multiprocessing.synchronize.Event, done: multiprocessing.synchronize.Event) -> None:
    with Index.open(directory).writer():
        ready.set()
        done.wait(10)


def test_second_writer_is_refused_with_holder_pid(index: Index) -> None:
    ctx = multiprocessing.get_context("spawn")
    ready, done = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(index.directory), ready, done))
    proc.start()
    try:
        assert ready.wait(30)
        with pytest.raises(IndexLockedError, match=f"pid {proc.pid}"):
            index.writer()
        assert Index.open(index.directory).search(EMB.embed(["x"])[0], 1) == []  # readers still work
    finally:
        done.set()
        proc.join(10)
    with index.writer():
        pass  # free again


def test_embedder_mismatch_is_refused(index: Index) -> None:
    with pytest.raises(EmbedderMismatchError, match="was built with embedder"):
        index.require_embedder("some-other-model", 384)


def test_missing_and_foreign_directories(tmp_path: Path) -> None:
    with pytest.raises(IndexMissingError, match="rag ingest"):
        Index.open(tmp_path / "nothing-here")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.txt").write_text("hi")
    with pytest.raises(IndexFormatError, match="not an index"):
        Index.open(tmp_path / "notes")


def test_future_format_version_is_refused(index: Index) -> None:
    path = index.directory / "manifest.json"
    data = json.loads(path.read_text())
    data["version"] = 99
    path.write_text(json.dumps(data))
    with pytest.raises(IndexFormatError, match="version 99"):
        Index.open(index.directory)


def test_no_pickle_in_index(index: Index) -> None:
    _add(index, "/a.txt", ["some words"])
    files = [p for p in index.directory.rglob("*") if p.is_file()]
    assert any(p.parent.name.startswith("bm25-") for p in files)
    for path in files:
        assert b"\x80\x04\x95" not in path.read_bytes()[:4096], path  # pickle protocol 4 header
    assert np.isfinite(Index.open(index.directory).search(EMB.embed(["words"])[0], 1)[0].score)


def _create(directory: str, start: multiprocessing.synchronize.Event) -> None:
    start.wait(30)
    with Index.create(directory, EmbedderInfo(EMB.name, EMB.dimension, EMB.max_tokens), exist_ok=True) as index:
        assert index.chunk_ids() == []


def test_two_processes_creating_one_index_make_it_once(tmp_path: Path) -> None:
    """`rag eval` runs started together share one cached index: both creations succeed, one index results."""
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Event()
    directory = tmp_path / "idx"
    workers = [ctx.Process(target=_create, args=(str(directory), start)) for _ in range(3)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    with Index.open(directory) as index:
        assert index.chunk_ids() == [] and index.generation == 0
    _add(Index.open(directory), "a.txt", ["alpha beta"])
    with pytest.raises(IndexFormatError, match="already exists"):
        Index.create(directory, EmbedderInfo(EMB.name, EMB.dimension, EMB.max_tokens))
