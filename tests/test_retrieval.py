"""Hybrid retrieval: fusion, modes, filters, near-duplicates, reranking, contextual headers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexes import Chunk, ConfigError, EmbedderInfo, HashEmbedder, Index, SourceRecord, chunk_id
from ingest.headers import HEADER_SETTINGS, document_title, embedding_text, embedding_texts
from rag import RAG, load_config
from rag.cli import main
from rag.retrieval import RetrievalSettings, Retriever, fuse_rrf, fuse_scores

EMB = HashEmbedder()


def _lists() -> list[tuple[np.ndarray, np.ndarray]]:
    return [(np.array([3.0, 2.0, 1.0]), np.array([1, 2, 3])), (np.array([10.0, 0.0]), np.array([3, 4]))]


def test_score_fusion_by_hand() -> None:
    # Over the union [1, 2, 3, 4], missing ids take the list's lowest score:
    # list 1: [3, 2, 1, 1] -> mean 1.75, std 0.829156 -> z = 1.50756, 0.30151, -0.90453, -0.90453
    # list 2: [0, 0, 10, 0] -> mean 2.5, std 4.330127 -> z = -0.57735, -0.57735, 1.73205, -0.57735
    # fused = mean of (z / 6 + 0.5) = (z1 + z2) / 12 + 0.5
    fused = dict(fuse_scores(_lists(), (1.0, 1.0)))
    assert fused == pytest.approx({1: 0.577518, 2: 0.477013, 3: 0.568960, 4: 0.376510}, abs=1e-5)
    assert [i for i, _ in fuse_scores(_lists(), (1.0, 1.0))] == [1, 3, 2, 4]
    assert fuse_scores(_lists(), (1.0, 3.0))[0][0] == 3  # weights move the balance
    assert [i for i, _ in fuse_scores([_lists()[0], (np.zeros(0), np.zeros(0, np.int64))], (1, 1))] == [1, 2, 3]


def test_a_single_strong_match_keeps_its_weight() -> None:
    dense = (0.60 - 0.01 * np.arange(20), np.arange(20))
    bm25 = (np.array([7.5]), np.array([10]))  # the only chunk sharing a term with the query
    assert fuse_scores([dense, bm25], (1.0, 1.0), (None, 0.0))[0][0] == 10
    # Normalised within a one-entry list, the same match would count for nothing:
    assert fuse_scores([dense, bm25], (1.0, 1.0), (None, 7.5))[0][0] == 0


def test_rrf_fusion_by_hand() -> None:
    fused = fuse_rrf(_lists(), (1.0, 1.0), k=60)
    best = 2 / 61
    assert [i for i, _ in fused] == [3, 1, 2, 4]  # 2 and 4 tie at 1/62: the lower id first
    assert [s for _, s in fused] == pytest.approx([(1 / 63 + 1 / 61) / best, (1 / 61) / best, (1 / 62) / best,
                                                   (1 / 62) / best])
    assert fuse_rrf([_lists()[0]], (1.0,), k=60)[0] == (1, 1.0)  # first everywhere scores 1


def _index(tmp_path: Path, files: dict[str, list[str]]) -> Index:
    index = Index.create(tmp_path / "idx", EmbedderInfo(EMB.name, EMB.dimension, EMB.max_tokens))
    with index.writer() as writer:
        for source, texts in files.items():
            chunks = [Chunk(chunk_id(source, None, i, t), source, None, t, i, i + len(t)) for i, t in enumerate(texts)]
            writer.replace_source(SourceRecord(source, "text", 1, 1, "sha" + source, "indexed", chunks=len(texts)),
                                  chunks, EMB.embed(texts))
        writer.commit()
    return Index.open(index.directory)


def _texts(hits: Sequence[Any]) -> list[str]:
    return [h.chunk.text for h in hits]


def test_modes_differ_where_stemming_matters(tmp_path: Path) -> None:
    index = _index(tmp_path, {"/docs/a.md": ["keepers were painting the lighthouses"],
                              "/docs/b.md": ["painted fence beside the harbour lighthouse"],
                              "/docs/c.txt": ["tide tables for the winter months"]})
    retriever = Retriever(index, EMB)
    # "keeper painted lighthouse" shares no exact word with a.md, only stems: BM25 finds it, dense cannot.
    query = "keeper painted lighthouse"
    assert _texts(retriever.search(query, 1, mode="dense")) == ["painted fence beside the harbour lighthouse"]
    assert _texts(retriever.search(query, 1, mode="bm25")) == ["keepers were painting the lighthouses"]
    hybrid = _texts(retriever.search(query, 3))
    assert set(hybrid[:2]) == {"keepers were painting the lighthouses", "painted fence beside the harbour lighthouse"}
    assert _texts(retriever.search("zzz qqq", 3, mode="bm25")) == []


def test_a_large_index_searches_both_sides_at_once_with_the_same_result(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import rag.retrieval.retriever as retriever_module

    files = {f"/docs/n{i}.md": [f"harbour note {i} about the lighthouse lamp", f"tide table {i} for winter"]
             for i in range(30)}
    index = _index(tmp_path, files)
    retriever = Retriever(index, EMB)
    query = "lighthouse lamp note 7"
    sequential = [(h.chunk.id, h.score) for h in retriever.search(query, 8)]
    threads: list[str] = []
    search_bm25 = index.search_bm25

    def spy(text: str, k: int) -> Any:
        threads.append(threading.current_thread().name)
        return search_bm25(text, k)

    monkeypatch.setattr(index, "search_bm25", spy)
    monkeypatch.setattr(retriever_module, "PARALLEL_FROM", 10)  # this index of 60 chunks counts as large
    assert [(h.chunk.id, h.score) for h in retriever.search(query, 8)] == sequential
    assert threads and threads[0].startswith("rag-bm25")  # BM25 ran beside the dense scan
    monkeypatch.setattr(retriever_module, "PARALLEL_FROM", 1000)
    retriever.search(query, 8)
    assert threads[-1] == threading.current_thread().name  # a small index searches in turn


def test_threads_asking_at_once_load_bm25_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    import indexes.index as index_module

    words = ("harbour", "quay", "beacon", "lantern", "jetty")
    index = _index(tmp_path, {f"/docs/{w}.md": [f"a note about the {w} by the lighthouse"] for w in words})
    loads: list[int] = []
    load = index_module.Bm25Index.load

    def slow_load(directory: Path) -> Any:
        loads.append(1)
        time.sleep(0.2)  # long enough for the other thread to ask meanwhile
        return load(directory)

    monkeypatch.setattr(index_module.Bm25Index, "load", staticmethod(slow_load))
    got: list[Any] = []
    threads = [threading.Thread(target=lambda: got.append(index.bm25())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and got[0] is got[1]
    assert _texts(Retriever(index, EMB).search("beacon", 1, mode="bm25")) == ["a note about the beacon by the lighthouse"]


def test_near_duplicates_are_dropped(tmp_path: Path) -> None:
    text = ("The keeper lights the lamp at dusk and trims the wick at midnight, then logs the weather, "
            "the passing ships and the state of the sea before dawn.")
    index = _index(tmp_path, {"/a.txt": [text], "/b.txt": [text.replace("midnight", "midnight,")],
                              "/c.txt": [text.upper()], "/d.txt": ["Ferries leave the harbour every hour."]})
    hits = Retriever(index, EMB).search("keeper lamp wick weather", 4)
    assert len(hits) == 2 and hits[0].chunk.source == "/a.txt" and hits[1].chunk.source == "/d.txt"


def test_where_filters_by_path_or_name_and_looks_deeper(tmp_path: Path) -> None:
    files = {f"/docs/n{i}.md": [f"harbour note {i} about the lighthouse lamp"] for i in range(12)}
    files["/archive/old.txt"] = ["a harbour"]  # ranks last for the query below
    index = _index(tmp_path, files)
    retriever = Retriever(index, EMB, RetrievalSettings(depth=2))
    assert {h.chunk.source for h in retriever.search("harbour lighthouse lamp", 5, where="*.md")} <= set(files) - {
        "/archive/old.txt"}
    assert _texts(retriever.search("harbour lighthouse lamp", 5, where="/archive/*")) == ["a harbour"]
    assert _texts(retriever.search("harbour lighthouse lamp", 5, where="old.txt", mode="dense")) == ["a harbour"]
    assert retriever.search("harbour", 5, where="*.pdf") == []


class _PreferZebra:
    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        return [1.0 if "zebra" in t else 0.0 for t in texts]


def test_reranker_reorders_candidates(tmp_path: Path) -> None:
    index = _index(tmp_path, {"/a.txt": ["harbour lamp harbour lamp"], "/b.txt": ["harbour zebra crossing"]})
    plain = Retriever(index, EMB).search("harbour lamp", 2)
    assert plain[0].chunk.source == "/a.txt"
    reranked = Retriever(index, EMB, reranker=_PreferZebra()).search("harbour lamp", 2)
    assert [h.chunk.source for h in reranked] == ["/b.txt", "/a.txt"] and reranked[0].score == 1.0


def _tiny_cross_encoder(directory: Path) -> Path:
    """A random-weight BERT cross-encoder with a 17-word vocabulary: no download."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    directory.mkdir()
    words = "the a lamp keeper tower storm harbour ferry red button press zebra".split()
    (directory / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]) + "\n")
    BertTokenizer(vocab_file=str(directory / "vocab.txt")).save_pretrained(str(directory))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=17, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, num_labels=1)
    BertForSequenceClassification(config).save_pretrained(str(directory))
    return directory


def test_cross_encoder_from_a_path_reranks(tmp_path: Path) -> None:
    from sentence_transformers import CrossEncoder

    model = _tiny_cross_encoder(tmp_path / "ce")
    texts = ["the lamp keeper", "red button press", "storm tower ferry", "a zebra harbour"]
    index = _index(tmp_path, {f"/{i}.txt": [t] for i, t in enumerate(texts)})
    rag_hits = Retriever(index, EMB, RetrievalSettings(reranker=str(model))).search("the lamp keeper", 4)
    expected = CrossEncoder(str(model), device="cpu").predict([("the lamp keeper", t) for t in _texts(rag_hits)])
    assert [h.score for h in rag_hits] == pytest.approx(sorted(expected.tolist(), reverse=True), abs=1e-5)
    assert set(_texts(rag_hits)) == set(texts)


def test_settings_are_validated() -> None:
    with pytest.raises(ConfigError, match="mode 'sparse'"):
        load_config({"mode": "sparse"})
    with pytest.raises(ConfigError, match="not both 0"):
        load_config({"dense_weight": 0, "bm25_weight": 0})
    assert load_config({}).mode == "hybrid"
    assert load_config({}, env={"RAG_MODE": "bm25", "RAG_BM25_WEIGHT": "2"}).bm25_weight == 2.0


def test_cli_search_with_mode_and_where(tmp_path: Path, sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    idx = str(tmp_path / "idx")
    assert main(["--embedder", "hash", "ingest", str(sample_dir), "--index", idx, "--json"]) == 0
    capsys.readouterr()
    assert main(["search", "lighthouse tower", "--index", idx, "--json", "--mode", "bm25", "--where", "*.md"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert hits and {Path(h["file"]).name for h in hits} == {"harbor-lighthouse.md"}
    with RAG.open(idx, embedder=EMB) as rag:
        assert all(h.chunk.source.endswith(".pdf") for h in rag.search("exit code", 3, where="*.pdf"))
        assert rag.index.manifest.settings["header"]["title"] == "file name"


# -- contextual headers -------------------------------------------------------------------

def _chunk(text: str, source: str = "/docs/lease_agreement-2023.pdf") -> Chunk:
    return Chunk(chunk_id(source, 1, 0, text), source, 1, text, 0, len(text))


def test_document_title_from_file_name() -> None:
    assert document_title("/docs/lease_agreement-2023.pdf") == "lease agreement 2023"
    assert document_title("notes") == "notes" and document_title("/x/.profile") == ".profile"


def test_header_goes_first_and_gives_way_to_the_limit() -> None:
    emb = HashEmbedder(max_tokens=20)  # 18 tokens once the 2 special tokens are counted
    assert embedding_text(_chunk("the term ends in May"), "lease agreement", emb) == "lease agreement\nthe term ends in May"
    assert embedding_text(_chunk("the term ends"), "lease", emb, section="Term") == "lease Term\nthe term ends"
    text = " ".join(["word"] * 14)  # 14 tokens: room for 4 header words
    out = embedding_text(_chunk(text), "one two three four five six seven", emb)
    assert out == "one two three four\n" + text and len(emb.tokenize(out)) <= 18
    full = " ".join(["word"] * 18)
    assert embedding_text(_chunk(full), "title", emb) == full  # no room: the chunk alone, never cut
    assert embedding_text(_chunk("text"), None, emb) == "text" and embedding_text(_chunk("text"), "  ", emb) == "text"


def test_index_settings_decide_whether_headers_are_used() -> None:
    chunks = [_chunk("the rent is due monthly")]
    assert embedding_texts(chunks, {"chunker": {}}, EMB) == ["the rent is due monthly"]  # an index from before
    assert embedding_texts(chunks, {"header": {"version": 1}}, EMB) == ["lease agreement 2023\nthe rent is due monthly"]
    # Header version 2 adds the section heading; an index made with version 1 keeps the title alone.
    with_section = [replace(chunks[0], section="Payment terms")]
    assert embedding_texts(with_section, {"header": {"version": 1}}, EMB) == ["lease agreement 2023\nthe rent is due monthly"]
    assert embedding_texts(with_section, HEADER_SETTINGS, EMB) == ["lease agreement 2023 Payment terms\nthe rent is due monthly"]


def test_ingested_chunks_carry_the_file_name_into_bm25_but_not_into_text(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "zebra-crossing-rules.md").write_text("Wait for the green signal before you walk.\n")
    with RAG.open(tmp_path / "idx", create=True, embedder=EMB) as rag:
        rag.ingest([tmp_path / "docs"])
        hits = rag.search("zebra crossing", 1, mode="bm25")
    assert hits and hits[0].chunk.text == "Wait for the green signal before you walk."


def test_a_chunk_without_a_word_is_never_a_hit(tmp_path: Path) -> None:
    """A slide holding only its page number, or a chart's axis ticks, can top a search (short chunks
    gain from BM25's length normalisation and from the file name's header): it answers nothing."""
    index = _index(tmp_path, {"/docs/slides.md": ["29", "0.2 0.4 0.6 0.8 1.0", "Slide 29 lists the ferry times."]})
    retriever = Retriever(index, EMB)
    for mode in ("bm25", "dense", "hybrid"):
        assert _texts(retriever.search("29 0.2 0.4", 5, mode=mode)) == ["Slide 29 lists the ferry times."]


@pytest.mark.model
def test_real_model_hybrid_finds_the_known_passage(tmp_path: Path, sample_dir: Path, real_embedder: Any) -> None:
    with RAG.open(tmp_path / "idx", create=True, embedder=real_embedder) as rag:
        rag.ingest([sample_dir])
        for mode in ("dense", "bm25", "hybrid"):
            top = rag.search("How tall is the Kestrel Point tower?", 3, mode=mode)
            assert Path(top[0].chunk.source).name == "harbor-lighthouse.md", mode
        assert rag.status(check=True)["problems"] == []
