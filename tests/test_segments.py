"""Delta segments: commits that cost the change (delta + tombstones), compaction, old indexes, recovery."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from indexes import FORMAT_VERSION, Chunk, EmbedderInfo, HashEmbedder, Index, IndexWriter, SourceRecord, chunk_id
from indexes.bm25 import Bm25Index, Tokenizer

EMB = HashEmbedder()
WORDS = "harbour lantern keeper tide storm granite ferry beacon signal chart compass anchor rope gull mist".split()
# Deltas from 40 chunks on; compaction once delta + tombstones exceed half the base.
SETTINGS = {"delta_from": 40, "compact_ratio": 0.5}


def _texts(name: str, n: int) -> list[str]:
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    return [f"{name} " + " ".join(rng.choice(WORDS, 12)) for _ in range(n)]


def _replace(writer: IndexWriter, name: str, texts: list[str]) -> None:
    chunks = [Chunk(chunk_id(name, None, i, t), name, None, t, i, i + len(t)) for i, t in enumerate(texts)]
    writer.replace_source(SourceRecord(name, "text", 1, 1, "sha-" + name, "indexed", pages=1, chunks=len(chunks)),
                          chunks, EMB.embed(texts))


def _put(index: Index, name: str, texts: list[str]) -> int:
    with index.writer() as writer:
        _replace(writer, name, texts)
        return writer.commit()


def _names(index: Index) -> list[str]:
    return sorted(p.name for p in index.directory.iterdir() if p.name.split("-")[0] in ("vectors", "bm25", "delta"))


def _sources(reader: Index, ids: np.ndarray) -> set[str]:
    return {c.source for c in reader.chunks(ids.tolist()).values()}


@pytest.fixture
def index(tmp_path: Path) -> Index:
    created = Index.create(tmp_path / "idx", EmbedderInfo(EMB.name, EMB.dimension, EMB.max_tokens), SETTINGS)
    _put(created, "base.txt", _texts("base.txt", 60))  # 60 chunks: the next commits write deltas
    return created


def test_a_commit_on_a_large_base_writes_only_a_delta(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    base_file = index.directory / "vectors-1.faiss"
    stamp = base_file.stat().st_mtime_ns
    seen: list[str] = []
    original = Tokenizer.__call__
    monkeypatch.setattr(Tokenizer, "__call__", lambda self, text: seen.append(text) or original(self, text))
    _put(index, "new.txt", ["zeppelin moored over the harbour"])
    assert seen == ["zeppelin moored over the harbour"]  # only the new chunk was tokenized
    assert _names(index) == ["bm25-0", "bm25-1", "delta-2", "vectors-1.faiss"]
    assert base_file.stat().st_mtime_ns == stamp  # the base was not rewritten
    reader = Index.open(index.directory)
    assert reader.generation == 2 and reader.manifest.base == 1 and len(reader) == 61
    assert reader.check() == []
    assert _sources(reader, reader.search_bm25("zeppelin", 3)[1]) == {"new.txt"}
    hit = reader.search(EMB.embed(["zeppelin moored over the harbour"])[0], 1)[0]
    assert hit.chunk.source == "new.txt" and hit.score == pytest.approx(1.0, abs=1e-5)


def test_replaced_and_removed_chunks_are_tombstoned_until_compaction(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "idx", EmbedderInfo(EMB.name, EMB.dimension, EMB.max_tokens), SETTINGS)
    small = ["a lighthouse on the quarry", "quarry quay", "quarry steps", "more quarry", "the quarry again"]
    with index.writer() as writer:
        _replace(writer, "big.txt", _texts("big.txt", 60))
        _replace(writer, "small.txt", small)
        writer.commit()  # one base of 65 chunks
    old_ids = set(Index.open(index.directory).search_bm25("quarry", 10)[1].tolist())
    assert len(old_ids) == 5
    _put(index, "small.txt", ["only a lighthouse now"])  # 5 tombstones + 1 chunk: a delta
    _put(index, "other.txt", ["a timetable"])
    reader = Index.open(index.directory)
    assert reader.manifest.delta_dir == "delta-3" and reader.check() == []
    assert len(reader) == 62 and len(reader.bm25()) == 62
    for vector in EMB.embed(small):  # tombstoned vectors are not found, though still in the base file
        found = reader.search_dense(vector, 10)[1].tolist()
        assert len(found) == 10 and not set(found) & old_ids
    assert reader.search_bm25("quarry", 5)[1].tolist() == []
    assert _sources(reader, reader.search_bm25("lighthouse", 5)[1]) == {"small.txt"}
    with index.writer() as writer:
        assert writer.remove_source("other.txt") == 1
        writer.commit()
    reader = Index.open(index.directory)
    assert len(reader) == 61 and reader.check() == [] and reader.search_bm25("timetable", 5)[1].tolist() == []


def test_delta_bm25_scores_equal_a_full_rebuild_of_base_and_delta(index: Index) -> None:
    added = _texts("added.txt", 8)
    _put(index, "added.txt", added)
    reader = Index.open(index.directory)
    assert reader.manifest.delta_dir is not None
    every = sorted(reader._store.visible_ids(reader.generation))
    full = Bm25Index.build(every, [reader.chunks([i])[i].text for i in every])
    for word in ("lantern", "added.txt gull", "storm beacon"):
        got = dict(zip(*reversed(reader.search_bm25(word, 100)), strict=True))
        want = dict(zip(*reversed(full.search(word, 100)), strict=True))
        delta_ids = [i for i in want if reader.chunks([i])[i].source == "added.txt"]
        assert delta_ids and all(got[i] == pytest.approx(want[i], rel=1e-5) for i in delta_ids)


def test_document_frequencies_add_base_and_delta(index: Index) -> None:
    _put(index, "added.txt", ["zeppelin moored over the harbour", "a second zeppelin and a lantern"])
    with Index.open(index.directory) as reader:
        assert reader.manifest.delta_dir is not None
        every = sorted(reader._store.visible_ids(reader.generation))
        full = Bm25Index.build(every, [reader.chunks([i])[i].text for i in every])
        terms = [t for word in ("zeppelin", "lantern", "harbour", "nowhere") for t in full.tokenizer(word)]
        assert reader.bm25().document_frequencies(terms) == full.document_frequencies(terms)
        assert full.document_frequencies(terms)[0] == 2


def test_compaction_folds_the_delta_into_a_new_base_and_old_files_go(index: Index) -> None:
    for n in range(4):
        _put(index, f"f{n}.txt", _texts(f"f{n}.txt", 10))  # 10, 20, 30: deltas; 40 > 30: compaction
    reader = Index.open(index.directory)
    assert reader.manifest.delta_dir is None and reader.generation == 5 and reader.manifest.base == 5
    assert len(reader) == 100 and reader.check() == []
    _put(index, "g.txt", ["one more"])
    _put(index, "h.txt", ["and one more"])
    _put(index, "i.txt", ["and another"])
    assert _names(index) == ["bm25-5", "delta-6", "delta-7", "delta-8", "vectors-5.faiss"]
    reader = Index.open(index.directory)
    assert len(reader) == 103 and reader.check() == []
    assert _sources(reader, reader.search_bm25("another", 3)[1]) == {"i.txt"}


def test_a_reader_keeps_its_generation_across_delta_commits_and_compaction(index: Index) -> None:
    _put(index, "a.txt", ["first delta chunk about anchors"])
    before = Index.open(index.directory)
    expected = before.search_bm25("anchors", 5)[1].tolist()
    _put(index, "b.txt", _texts("b.txt", 40))  # compaction
    assert before.search_bm25("anchors", 5)[1].tolist() == expected  # lazily loaded BM25 of its generation
    assert before.check() == []


def test_an_index_of_format_1_is_migrated_on_open_and_then_takes_delta_commits(index: Index) -> None:
    manifest = json.loads((index.directory / "manifest.json").read_text())
    manifest["version"] = 1
    manifest.pop("base")
    (index.directory / "manifest.json").write_text(json.dumps(manifest))
    reader = Index.open(index.directory)  # migrated in a new generation, same chunks
    assert len(reader) == 60 and reader.check() == []
    migrated = json.loads((index.directory / "manifest.json").read_text())
    assert migrated["version"] == FORMAT_VERSION and migrated["generation"] == 2
    _put(index, "new.txt", ["a new chunk"])
    written = json.loads((index.directory / "manifest.json").read_text())
    assert written["version"] == FORMAT_VERSION and written["generation"] == 3 and written["base"] in (1, 2)
    after = Index.open(index.directory)
    assert after.check() == [] and len(after) == 61


def test_a_crash_after_the_commit_point_of_a_delta_is_rolled_forward(index: Index) -> None:
    saved = (index.directory / "manifest.json").read_text()
    _put(index, "new.txt", ["a new chunk"])
    (index.directory / "manifest.json").write_text(saved)  # died between the SQLite commit and the manifest
    with index.writer():
        pass
    reader = Index.open(index.directory)
    assert reader.generation == 2 and reader.manifest.base == 1 and len(reader) == 61 and reader.check() == []


def test_a_delta_written_but_not_committed_is_discarded(index: Index) -> None:
    (index.directory / "delta-2").mkdir()  # a writer died after writing it, before its commit point
    (index.directory / "delta-3.tmp").mkdir()
    with index.writer():
        pass
    assert _names(index) == ["bm25-0", "bm25-1", "vectors-0.faiss", "vectors-1.faiss"]
    assert Index.open(index.directory).check() == []


def test_tombstones_on_an_ivf_base(tmp_path: Path) -> None:
    index = Index.create(tmp_path / "idx", EmbedderInfo(EMB.name, EMB.dimension, EMB.max_tokens),
                         {**SETTINGS, "flat_limit": 100})
    small = [f"quarry note {i}" for i in range(5)]
    with index.writer() as writer:
        _replace(writer, "big.txt", _texts("big.txt", 300))
        _replace(writer, "small.txt", small)
        writer.commit()
    reader = Index.open(index.directory)
    assert reader.dense_kind == "ivf"
    old_ids = set(reader.search_bm25("quarry", 10)[1].tolist())
    _put(index, "small.txt", ["a single quarry note"])  # 5 tombstones in an IVF base
    reader = Index.open(index.directory)
    assert reader.manifest.delta_dir is not None and reader.dense_kind == "ivf" and reader.check() == []
    for vector in EMB.embed(small):
        assert not set(reader.search_dense(vector, 10)[1].tolist()) & old_ids
    hit = reader.search(EMB.embed(["a single quarry note"])[0], 1)[0]
    assert hit.chunk.text == "a single quarry note"
