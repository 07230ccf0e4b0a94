"""BM25 beside FAISS: tokenizer, its own files, and staying in sync through add/replace/remove."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from indexes import Chunk, EmbedderInfo, HashEmbedder, Index, IndexFormatError, SourceRecord, chunk_id
from indexes.bm25 import Bm25Index, Bm25Settings, Tokenizer
from indexes.text import glued_parts

EMB = HashEmbedder()
REPO = Path(__file__).resolve().parents[1]


def _chunks(source: str, texts: list[str]) -> list[Chunk]:
    return [Chunk(chunk_id(source, 1, i, t), source, 1, t, i, i + len(t)) for i, t in enumerate(texts)]


def _put(index: Index, source: str, texts: list[str]) -> int:
    chunks = _chunks(source, texts)
    with index.writer() as writer:
        writer.replace_source(SourceRecord(source, "text", 1, 1, "sha-" + source, "indexed", pages=1,
                                           chunks=len(chunks)), chunks, EMB.embed(texts))
        return writer.commit()


def _bm25_texts(index_dir: Path, query: str, k: int = 5) -> list[str]:
    with Index.open(index_dir) as reader:
        _scores, ids = reader.search_bm25(query, k)
        found = reader.chunks(ids.tolist())
        return [found[i].text for i in ids.tolist()]


@pytest.fixture
def index(tmp_path: Path) -> Index:
    return Index.create(tmp_path / "idx", EmbedderInfo(EMB.name, EMB.dimension, EMB.max_tokens))


def test_tokenizer_stems_drops_stop_words_and_splits_cjk() -> None:
    tokens = Tokenizer(Bm25Settings())("The runners are running to the harbours")
    assert tokens == ["runner", "run", "harbour"]
    assert Tokenizer(Bm25Settings())("北京大学") == ["北京", "京大", "大学"]
    assert Tokenizer(Bm25Settings(stemmer=None, stopwords=None))("The Cats") == ["the", "cats"]


def test_search_ranks_by_bm25_and_returns_only_matches() -> None:
    bm25 = Bm25Index.build([10, 20, 30], ["granite lighthouse on the reef", "tide tables for the harbour",
                                          "granite quarry, granite walls, granite steps"])
    scores, ids = bm25.search("granite", 5)
    assert ids.tolist() == [30, 10] and scores[0] > scores[1] > 0
    assert bm25.search("nothing matches this", 5)[1].tolist() == []
    assert len(Bm25Index.build([], []).search("granite", 5)[1]) == 0


def test_document_frequencies_count_the_chunks_holding_each_term(tmp_path: Path) -> None:
    bm25 = Bm25Index.build([10, 20, 30], ["granite lighthouse on the reef", "tide tables for the harbour",
                                          "granite quarry, granite walls, granite steps"])
    terms = [t for word in ("granite", "tables", "zeppelin") for t in bm25.tokenizer(word)]
    assert bm25.document_frequencies(terms) == [2, 1, 0]  # twice in one chunk counts once
    bm25.save(tmp_path / "bm25")
    assert Bm25Index.load(tmp_path / "bm25").document_frequencies(terms) == [2, 1, 0]
    assert Bm25Index.build([], []).document_frequencies(terms) == [0, 0, 0]


def test_saved_with_json_and_npy_only_and_loads_back(tmp_path: Path) -> None:
    bm25 = Bm25Index.build([7, 8], ["keeper of the light", "ferry timetable"])
    bm25.save(tmp_path / "bm25-1")
    files = sorted(p.name for p in (tmp_path / "bm25-1").iterdir())
    assert all(name.endswith((".json", ".npy")) for name in files), files
    for path in (tmp_path / "bm25-1").glob("*.npy"):
        np.load(path, allow_pickle=False)  # raises if any array needed pickle
    loaded = Bm25Index.load(tmp_path / "bm25-1")
    assert loaded.search("timetables", 2)[1].tolist() == [8]
    meta = json.loads((tmp_path / "bm25-1" / "settings.json").read_text())
    assert meta["settings"]["stemmer"] == "english" and "the" in meta["stopwords"]


def test_searching_needs_neither_bm25s_nor_scipy(tmp_path: Path) -> None:
    Bm25Index.build([7, 8], ["keeper of the light", "ferry timetable"]).save(tmp_path / "bm25-1")
    code = (f"import sys; from pathlib import Path; from indexes.bm25 import Bm25Index; "
            f"print(Bm25Index.load(Path({str(tmp_path / 'bm25-1')!r})).search('the keepers', 2)[1].tolist(), "
            "[m for m in ('bm25s', 'scipy') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[7] []"


def test_index_keeps_bm25_in_sync_on_add_replace_remove(index: Index) -> None:
    _put(index, "/a.txt", ["the keeper lights the lamp", "storm warnings for sailors"])
    _put(index, "/b.txt", ["ferry to the island"])
    assert _bm25_texts(index.directory, "keeper") == ["the keeper lights the lamp"]
    _put(index, "/a.txt", ["the new keeper paints the tower"])  # replace
    assert _bm25_texts(index.directory, "storm warnings") == []
    assert _bm25_texts(index.directory, "paints") == ["the new keeper paints the tower"]
    with index.writer() as writer:
        writer.remove_source("/b.txt")
        writer.commit()
    assert _bm25_texts(index.directory, "ferry island") == []
    with Index.open(index.directory) as reader:
        assert reader.check() == []
        assert sorted(reader.bm25().ids().tolist()) == sorted(reader._store.visible_ids(reader.generation))


def test_commit_tokenizes_only_the_new_chunks(index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    _put(index, "/a.txt", [f"old note number {i}" for i in range(50)])
    seen: list[str] = []
    original = Tokenizer.__call__
    monkeypatch.setattr(Tokenizer, "__call__", lambda self, text: seen.append(text) or original(self, text))
    _put(index, "/b.txt", ["fresh note about gulls"])
    assert seen == ["fresh note about gulls"]
    assert len(Index.open(index.directory).bm25()) == 51


def test_texts_given_to_the_writer_are_what_bm25_indexes(index: Index) -> None:
    chunks = _chunks("/guide.txt", ["press the red button"])
    with index.writer() as writer:
        writer.replace_source(SourceRecord("/guide.txt", "text", 1, 1, "s", "indexed", pages=1, chunks=1), chunks,
                              EMB.embed(["press the red button"]), texts=["Emergency stop guide\npress the red button"])
        writer.commit()
    assert _bm25_texts(index.directory, "emergency") == ["press the red button"]  # stored text stays raw


def test_uncommitted_bm25_changes_are_invisible(index: Index) -> None:
    _put(index, "/a.txt", ["anchor chain"])
    with index.writer() as writer:
        writer.replace_source(SourceRecord("/b.txt", "text", 1, 1, "s", "indexed"), _chunks("/b.txt", ["mooring rope"]),
                              EMB.embed(["mooring rope"]))
    assert _bm25_texts(index.directory, "mooring") == []
    _put(index, "/c.txt", ["signal flags"])
    assert _bm25_texts(index.directory, "mooring") == [] and _bm25_texts(index.directory, "flags") == ["signal flags"]


def test_old_generations_are_deleted_and_strays_cleaned(index: Index) -> None:
    for n in range(5):
        _put(index, f"/{n}.txt", [f"note {n}"])
    assert sorted(p.name for p in index.directory.glob("bm25-*")) == ["bm25-3", "bm25-4", "bm25-5"]
    (index.directory / "bm25-6").mkdir()  # a writer died after writing it, before its commit point
    (index.directory / "bm25-6.tmp").mkdir()
    with index.writer():
        pass
    assert not (index.directory / "bm25-6").exists() and not (index.directory / "bm25-6.tmp").exists()
    assert Index.open(index.directory).check() == []


def test_index_without_bm25_is_searchable_and_repaired_by_next_commit(index: Index) -> None:
    _put(index, "/a.txt", ["granite breakwater"])
    shutil.rmtree(index.directory / "bm25-1")  # as an index written before BM25 existed
    with Index.open(index.directory) as reader:
        assert any("no BM25 index" in p for p in reader.check())
    assert _bm25_texts(index.directory, "breakwater") == ["granite breakwater"]  # built in memory
    _put(index, "/b.txt", ["pilot boat"])
    with Index.open(index.directory) as reader:
        assert reader.check() == []
    assert sorted(_bm25_texts(index.directory, "breakwater pilot")) == ["granite breakwater", "pilot boat"]


def test_damaged_bm25_is_reported(index: Index) -> None:
    _put(index, "/a.txt", ["granite breakwater"])
    (index.directory / "bm25-1" / "doc_ids.npy").write_bytes(b"garbage")
    with Index.open(index.directory) as reader:
        assert any("damaged" in p for p in reader.check())
        with pytest.raises(IndexFormatError, match="damaged"):
            reader.bm25()


def test_token_store_that_disagrees_with_its_documents_is_reported(index: Index) -> None:
    _put(index, "/a.txt", ["granite breakwater", "pilot boat"])
    np.save(index.directory / "bm25-1" / "doc_tokens.npy", np.zeros(1, np.int32), allow_pickle=False)
    with Index.open(index.directory) as reader:
        assert any("damaged" in p and "token store" in p for p in reader.check())


def test_hangul_is_bigrammed_so_a_word_matches_with_its_particle(tmp_path: Path) -> None:
    bm25 = Bm25Index.build([1, 2], ["트랜스포머 모델은 여덟 개의 헤드를 사용합니다", "다른 문서입니다"])
    _scores, ids = bm25.search("모델", 5)
    assert ids.tolist() == [1]  # "모델" inside "모델은"
    bm25.save(tmp_path / "bm25")
    assert json.loads((tmp_path / "bm25" / "settings.json").read_text())["settings"]["hangul"] is True


def test_format_1_index_keeps_reading_hangul_as_words(tmp_path: Path) -> None:
    """An index written before Hangul bigrams: its stored tokens are whole words, so queries must be too."""
    old = Bm25Index.build([1], ["트랜스포머 모델은 여덟"], Bm25Settings(hangul=False, nfkc=False))
    old.save(tmp_path / "bm25")
    settings = tmp_path / "bm25" / "settings.json"
    meta = json.loads(settings.read_text())
    meta["format"] = 1
    del meta["settings"]["hangul"], meta["settings"]["nfkc"]
    settings.write_text(json.dumps(meta))
    loaded = Bm25Index.load(tmp_path / "bm25", with_tokens=True)
    assert loaded.settings.hangul is False and loaded.settings.nfkc is False
    assert loaded.tokenizer("트랜스포머 모델") == ["트랜스포머", "모델"]
    assert loaded.search("트랜스포머", 5)[1].tolist() == [1]
    grown = loaded.updated((), [2], ["모델은 크다"])  # the next generation keeps the index's own rule
    assert grown.settings.hangul is False and sorted(grown.search("모델은", 5)[1].tolist()) == [1, 2]


@pytest.mark.parametrize(("word", "parts"), [
    ("incomeRefundable", ["income", "refundable"]),     # two lines of the IRS instructions run together
    ("1Department", ["department"]),                    # a footnote mark glued to an affiliation
    ("sykesvilleLOCATION3", ["sykesville", "location"]),  # table cells of the NLP2004 slides
    ("ALICESigned", ["alice", "signed"]),
    ("RTX8000", ["rtx"]),
    ("p53", []), ("COVID19", ["covid"]), ("CD4", []), ("sha256", ["sha"]),  # digits match every such number
    ("JavaScript", ["java", "script"]),
    ("LoRA", []), ("iPod", []), ("PyTorch", []), ("DeBERTa", []), ("BERT", []), ("word", []),  # names stay whole
])
def test_glued_words_give_their_parts_and_names_in_mixed_case_stay_whole(word: str, parts: list[str]) -> None:
    assert glued_parts(word) == parts


def test_a_word_glued_by_extraction_is_found_by_its_part(tmp_path: Path) -> None:
    texts = ["You may claim the incomeRefundable credit.", "A credit you cannot get back.", "LoRA adapts weights."]
    bm25 = Bm25Index.build([1, 2, 3], texts)
    assert bm25.search("refundable credit", 5)[1].tolist()[0] == 1
    assert bm25.search("LoRA", 5)[1].tolist() == [3]
    assert bm25.search("lo", 5)[1].tolist() == []  # a mixed-case name is not cut into "lo" and "ra"
    bm25.save(tmp_path / "bm25")
    assert json.loads((tmp_path / "bm25" / "settings.json").read_text())["format"] == 4


def _saved_as(tmp_path: Path, index: Bm25Index, version: int, unknown: str) -> Bm25Index:
    """``index`` saved, its settings file rewritten as BM25 format ``version`` wrote it (without the setting
    ``unknown``, which that format did not have), and loaded back."""
    index.save(tmp_path / "bm25")
    settings = tmp_path / "bm25" / "settings.json"
    meta = json.loads(settings.read_text())
    meta["format"] = version
    del meta["settings"][unknown]
    settings.write_text(json.dumps(meta))
    return Bm25Index.load(tmp_path / "bm25", with_tokens=True)


def test_format_2_index_keeps_glued_words_whole(tmp_path: Path) -> None:
    """An index written before glued parts: its stored tokens are whole words, so queries must be too,
    in every later generation."""
    loaded = _saved_as(tmp_path, Bm25Index.build([1], ["the incomeRefundable credit"], Bm25Settings(parts=False)),
                       2, "parts")
    assert loaded.settings.parts is False
    assert loaded.tokenizer("incomeRefundable") == ["incomerefund"]
    grown = loaded.updated((), [2], ["the refundable part"])
    assert grown.settings.parts is False and grown.search("refundable", 5)[1].tolist() == [2]


def test_format_3_index_keeps_its_digit_parts(tmp_path: Path) -> None:
    """Format 3 parted glued words into pieces of two characters, digits included: its queries must too."""
    loaded = _saved_as(tmp_path, Bm25Index.build([1], ["the COVID19 wave"], Bm25Settings(letter_parts=False)),
                       3, "letter_parts")
    assert loaded.settings.letter_parts is False and "19" in loaded.tokenizer("COVID19")
    assert "19" not in Bm25Index.build([1], ["x"], Bm25Settings()).tokenizer("COVID19")  # format 4: letters only
    assert loaded.updated((), [2], ["19 cases"]).settings.letter_parts is False


def test_ligatures_in_real_pdf_text_match_what_people_type() -> None:
    """pypdf keeps ligatures ("ﬁrst", "ﬂow"); BM25 terms are NFKC-folded, so "first" finds them."""
    from ingest.readers import read_document

    from .conftest import shared

    pdf = shared("pdfs", "real") / "paper_attention_is_all_you_need_1706.03762v5.pdf"
    pages = read_document(pdf).pages
    with_ligature = [p.number for p in pages if "ﬁ" in p.text]
    assert with_ligature, "the extracted text no longer has ligatures: this test checks nothing"
    bm25 = Bm25Index.build([p.number or 0 for p in pages], [p.text for p in pages])
    word = next(w for w in ("ﬁrst", "ﬁve", "ﬁnal") if any(w in p.text for p in pages))
    _scores, ids = bm25.search(word.replace("ﬁ", "fi"), len(pages))
    assert {p.number for p in pages if word in p.text} <= set(ids.tolist())
