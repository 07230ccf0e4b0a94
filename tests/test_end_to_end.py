"""The whole path on the real stack: real PDFs through pypdf, the packaged
all-MiniLM-L6-v2, a FAISS index on disk, SmolLM2 through llama.cpp."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import RAG, Answer

from .conftest import SHARED_DATA

pytestmark = pytest.mark.model

ATTENTION = SHARED_DATA / "pdfs" / "real" / "paper_attention_is_all_you_need_1706.03762v5.pdf"
LORA = SHARED_DATA / "pdfs" / "real" / "paper_lora_2106.09685.pdf"
EXIT_CODE_QUESTION = "Which exit code does rag ingest return when some files fail?"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path, real_embedder: Any,
          real_generator: Any) -> Iterator[tuple[RAG, Any]]:
    index = tmp_path_factory.mktemp("e2e") / "idx"
    rag = RAG.open(index, create=True, embedder=real_embedder, generator=real_generator)
    paths = [sample_dir] + [p for p in (ATTENTION, LORA) if p.exists()]
    report = rag.ingest(paths)
    yield rag, report
    rag.close()


def _pages(hits_or_citations: list[Any]) -> list[tuple[str, int | None]]:
    out = []
    for item in hits_or_citations:
        chunk = getattr(item, "chunk", None)
        out.append((Path(chunk.source).name, chunk.page) if chunk else (Path(item.file).name, item.page))
    return out


def _need_real_pdfs() -> None:
    if not (ATTENTION.exists() and LORA.exists()):
        pytest.skip(f"real PDFs not found under {ATTENTION.parent}")


def test_ingest_reads_real_pdfs_page_by_page(built: tuple[RAG, Any]) -> None:
    rag, report = built
    assert report.exit_code == 0, report.failed
    by_name = {Path(f.path).name: f for f in report.files}
    assert by_name["user-guide.pdf"].pages == 7
    assert rag.status(check=True)["problems"] == []
    if ATTENTION.exists():
        assert by_name[ATTENTION.name].pages == 15 and by_name[ATTENTION.name].chunks > 30
        first = rag.search("Attention Is All You Need Vaswani Shazeer", 5)
        assert (ATTENTION.name, 1) in _pages(first)


def test_search_ranks_the_known_page_in_top_3(built: tuple[RAG, Any]) -> None:
    rag, _ = built
    assert ("user-guide.pdf", 3) in _pages(rag.search(EXIT_CODE_QUESTION, 3))
    assert ("harbor-lighthouse.md", None) == _pages(rag.search("How tall is the Kestrel Point tower?", 3))[0]
    _need_real_pdfs()
    assert (ATTENTION.name, 5) in _pages(rag.search("How many attention heads does the base Transformer use?", 3))
    assert (LORA.name, 5) in _pages(rag.search("How much does LoRA reduce GPU memory during training?", 3))


def test_ask_cites_the_page_that_holds_the_answer(built: tuple[RAG, Any]) -> None:
    rag, _ = built
    answer = rag.ask(EXIT_CODE_QUESTION)
    assert isinstance(answer, Answer) and answer.text and not answer.abstained
    assert ("user-guide.pdf", 3) in _pages(list(answer.cited)), "the page that holds the answer is cited"
    assert answer.style == "extractive" and answer.claims and answer.claims[0].quote
    texts = {h.chunk.id: " ".join(h.chunk.text.split()) for h in rag.search(EXIT_CODE_QUESTION, 5)}
    for citation in answer.citations:  # each quote is a whole sentence of its own chunk
        assert len(citation.quote) > 20 and citation.quote in texts[citation.chunk_id]
    assert set(answer.timings) == {"load_ms", "retrieve_ms", "plan_ms", "prompt_ms", "first_token_ms", "total_ms"}
    t = answer.timings
    assert 0 < t["retrieve_ms"] < t["first_token_ms"] <= t["total_ms"]
    assert 0 < t["prompt_ms"] < t["first_token_ms"] - t["retrieve_ms"] - t["plan_ms"]


def test_ask_on_a_real_paper(built: tuple[RAG, Any]) -> None:
    _need_real_pdfs()
    rag, _ = built
    answer = rag.ask("How many attention heads does the base Transformer use?")
    assert (ATTENTION.name, 5) in _pages(list(answer.cited))


def test_stream_yields_text_then_the_same_answer_deterministically(built: tuple[RAG, Any]) -> None:
    rag, _ = built
    items = list(rag.stream("How tall is the Kestrel Point tower?"))
    *pieces, answer = items
    assert pieces and all(isinstance(p, str) for p in pieces) and isinstance(answer, Answer)
    # The pieces are the model's reply; the answer is that reply, or the best source sentence if no
    # source supports the reply (grounding "quote"). Either way it is the tower's height, cited.
    assert "".join(pieces).strip() == answer.model_text
    assert answer.grounding in ("model", "quote") and "31" in answer.text
    assert [Path(c.file).name for c in answer.cited] == ["harbor-lighthouse.md"] and answer.cited[0].verified
    again = rag.ask("How tall is the Kestrel Point tower?")  # temperature 0
    assert (again.text, again.model_text) == (answer.text, answer.model_text)


def test_cli_ask_json_with_default_models(built: tuple[RAG, Any]) -> None:
    rag, _ = built
    proc = subprocess.run([sys.executable, "-m", "rag", "ask", EXIT_CODE_QUESTION, "--index", str(rag.directory),
                           "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)  # stdout holds exactly one JSON document
    assert set(data) >= {"answer", "abstained", "citations", "timings"}
    assert data["answer"] and data["abstained"] is False
    first = data["citations"][0]
    assert set(first) >= {"n", "file", "page", "chunk_id", "score", "quote", "verified"}
    assert Path(first["file"]).is_absolute()
    assert any(c["file"].endswith("user-guide.pdf") and c["page"] == 3 and (c["cited"] or c["inferred"])
               for c in data["citations"])
    assert data["style"] == "extractive" and data["claims"]
    assert set(data["timings"]) == {"load_ms", "retrieve_ms", "plan_ms", "prompt_ms", "first_token_ms", "total_ms"}
    assert data["timings"]["load_ms"] > 50  # a new process loads its models for the first question
