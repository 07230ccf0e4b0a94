"""The dense index that grows: flat below a threshold, IVF above it, on real FAISS files on disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexes import Chunk, EmbedderInfo, Index, SourceRecord, chunk_id
from indexes.vectors import LISTS_PER_ROOT, TARGET_RECALL, VectorIndex, _exact, calibrate, calibration_queries, recall_at

DIM = 32
LIMIT = 400  # flat_limit of the test indexes: IVF above 400 vectors
_rng = np.random.default_rng(5)
CENTRES = _rng.normal(size=(60, DIM)).astype(np.float32)


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _vectors(n: int, seed: int) -> np.ndarray:
    """Clustered unit vectors, like real embeddings (random ones say nothing about IVF)."""
    rng = np.random.default_rng(seed)
    return _unit(_unit(CENTRES[rng.integers(0, len(CENTRES), n)]) + rng.normal(0, 0.6 / np.sqrt(DIM), (n, DIM)))


def _add_file(index: Index, name: str, vectors: np.ndarray) -> list[int]:
    texts = [f"{name} chunk {i}" for i in range(len(vectors))]
    chunks = [Chunk(chunk_id(name, None, i, t), name, None, t, i, i + len(t)) for i, t in enumerate(texts)]
    record = SourceRecord(name, "text", 1, 1, "sha-" + name, "indexed", pages=1, chunks=len(chunks))
    with index.writer() as writer:
        writer.replace_source(record, chunks, vectors)
        writer.commit()
    return sorted(i for i, c in Index.open(index.directory).chunks(range(1, 100_000)).items() if c.source == name)


@pytest.fixture
def index(tmp_path: Path) -> Index:
    return Index.create(tmp_path / "idx", EmbedderInfo("test-embedder", DIM, 256), settings={"flat_limit": LIMIT})


def _recall(reader: Index, queries: np.ndarray, ids: np.ndarray, vectors: np.ndarray) -> float:
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    found = [set(reader.search_dense(q, 10)[1].tolist()) for q in queries]
    return float(np.mean([len(f & set(ids[e].tolist())) / 10 for f, e in zip(found, exact, strict=True)]))


def test_flat_below_the_threshold_ivf_above_with_recall_against_exact(index: Index) -> None:
    first = _vectors(300, 1)
    _add_file(index, "a.txt", first)
    assert Index.open(index.directory).dense_kind == "flat"
    second = _vectors(900, 2)
    _add_file(index, "b.txt", second)
    reader = Index.open(index.directory)
    assert reader.dense_kind == "ivf"
    assert len(reader) == 1200 and reader.check() == []
    ids = np.arange(1, 1201)
    everything = np.concatenate([first, second])
    queries = _unit(everything[::12] + np.random.default_rng(9).normal(0, 1 / np.sqrt(DIM), (100, DIM)))
    assert _recall(reader, queries, ids, everything) >= 0.95
    hits = reader.search(everything[7], 1)  # a stored vector finds itself, with its chunk
    assert hits[0].chunk.text == "a.txt chunk 7" and hits[0].score == pytest.approx(1.0, abs=1e-5)


def test_deletes_and_replacements_after_the_switch(index: Index) -> None:
    _add_file(index, "a.txt", _vectors(500, 3))
    b_ids = _add_file(index, "b.txt", _vectors(200, 4))
    assert Index.open(index.directory).dense_kind == "ivf"
    with index.writer() as writer:
        assert writer.remove_source("b.txt") == 200
        writer.commit()
    reader = Index.open(index.directory)
    assert len(reader) == 500 and reader.check() == []
    for vector in _vectors(200, 4)[:20]:  # b's own vectors no longer find b's chunks
        assert not set(reader.search_dense(vector, 10)[1].tolist()) & set(b_ids)
    new_ids = _add_file(index, "a.txt", _vectors(450, 5))  # replace a: still IVF (450 > 400)
    reader = Index.open(index.directory)
    assert reader.dense_kind == "ivf" and len(reader) == 450 and reader.check() == []
    assert set(reader.search_dense(_vectors(450, 5)[0], 1)[1].tolist()) == {new_ids[0]}


def test_back_to_flat_when_it_shrinks_below_half(index: Index) -> None:
    _add_file(index, "a.txt", _vectors(500, 6))
    _add_file(index, "a.txt", _vectors(100, 7))
    reader = Index.open(index.directory)
    assert reader.dense_kind == "flat" and len(reader) == 100 and reader.check() == []


def test_a_reader_keeps_its_generation_while_the_writer_trains(index: Index) -> None:
    vectors = _vectors(350, 8)
    _add_file(index, "a.txt", vectors)
    before = Index.open(index.directory)  # memory-mapped flat file of generation 1
    expected = before.search_dense(vectors[3], 5)
    _add_file(index, "b.txt", _vectors(300, 9))  # generation 2 switches to IVF
    _add_file(index, "c.txt", _vectors(10, 10))  # generation 3: generation 1's file is deleted
    assert not (index.directory / "vectors-1.faiss").exists()
    again = before.search_dense(vectors[3], 5)
    assert again[1].tolist() == expected[1].tolist()
    assert Index.open(index.directory).dense_kind == "ivf"


def test_nprobe_is_recorded_in_the_file(tmp_path: Path) -> None:
    vectors = VectorIndex(DIM, flat_limit=100)
    vectors.add(np.arange(1, 1001), _vectors(1000, 11))
    ivf = vectors.fitted()
    nlist = int(ivf._index.nlist)
    assert ivf.kind == "ivf" and nlist == int(LISTS_PER_ROOT * 1000 ** 0.5)
    assert ivf.nprobe is not None and 1 <= ivf.nprobe < nlist
    ivf.save(tmp_path / "v.faiss")
    loaded = VectorIndex.load(tmp_path / "v.faiss", mmap=True)
    assert loaded.kind == "ivf" and loaded.nprobe == ivf.nprobe and len(loaded) == 1000
    assert sorted(loaded.ids().tolist()) == list(range(1, 1001))
    np.testing.assert_allclose(loaded.vectors(np.array([5, 900])), _vectors(1000, 11)[[4, 899]], atol=1e-6)


def test_nprobe_is_the_smallest_reaching_the_target_recall_to_within_an_eighth() -> None:
    import faiss

    vectors = _vectors(20_000, 12)
    ids = np.arange(1, 20_001)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, 256, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors)
    ivf.add_with_ids(vectors, ids)
    nprobe = calibrate(ivf, ids, vectors, np.random.default_rng(5))
    assert int(ivf.nprobe) == nprobe
    queries = calibration_queries(vectors, np.random.default_rng(5))  # the queries calibrate drew
    exact = _exact(queries, ids, vectors, 10)
    assert recall_at(ivf, queries, exact, nprobe) >= TARGET_RECALL
    # an eighth fewer lists falls short (doubling alone may stop at up to 2x the lists needed)
    assert recall_at(ivf, queries, exact, nprobe - max(1, nprobe // 8)) < TARGET_RECALL


def test_an_inverted_file_of_the_earlier_shape_is_retrained_once(caplog: pytest.LogCaptureFixture) -> None:
    import faiss

    vectors, ids = _vectors(4000, 13), np.arange(1, 4001)
    nlist = int(4000 ** 0.5)  # sqrt(n) lists: what indexes written before LISTS_PER_ROOT hold
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.train(vectors)
    ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    ivf.add_with_ids(vectors, ids)
    old = VectorIndex(DIM, ivf, flat_limit=1000)
    with caplog.at_level("INFO", logger="indexes.vectors"):
        new = old.fitted()
    assert new is not old and int(new._index.nlist) == int(LISTS_PER_ROOT * 4000 ** 0.5)
    assert "retraining the inverted file of 4000 vectors" in caplog.text
    assert sorted(new.ids().tolist()) == ids.tolist()
    assert new.fitted() is new  # once: the new shape is kept until the count grows 4x
