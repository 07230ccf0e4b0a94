"""The LlamaIndex adapters: our index behind LlamaIndex's RetrieverQueryEngine, and our answer path as a query engine."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine

from indexes import HashEmbedder
from rag import RAG
from rag.generation import EchoGenerator
from rag.integrations.llama_index import RagQueryEngine, RagRetriever
from tests.serve_support import write_corpus

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def rag(tmp_path: Path) -> Iterator[RAG]:
    docs = write_corpus(tmp_path / "docs")
    generator = EchoGenerator("The Kestrel Point tower is 31 metres tall [1].")
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), generator=generator, workers=0) as opened:
        opened.ingest([docs])
        yield opened


def test_retriever_query_engine_over_our_retriever(rag: RAG, tmp_path: Path) -> None:
    engine = RetrieverQueryEngine.from_args(RagRetriever(rag, 1), llm=MockLLM())  # MockLLM echoes its prompt
    response = engine.query("How tall is the Kestrel Point tower?")
    node = response.source_nodes[0]
    assert node.metadata["file"] == str(tmp_path / "docs" / "tower.md") and node.metadata["page"] is None
    assert node.node.node_id == node.metadata["chunk_id"] and node.score is not None and node.score > 0
    assert "31 metres tall" in str(response)  # the chunk reached LlamaIndex's prompt
    assert "chunk_id" not in node.node.get_content(metadata_mode="llm")  # only file and page shown to the LLM


def test_our_answer_path_as_a_query_engine(rag: RAG, tmp_path: Path) -> None:
    response = RagQueryEngine(rag).query("How tall is the Kestrel Point tower?")
    assert str(response) == "The Kestrel Point tower is 31 metres tall [1]."
    cited = [n for n in response.source_nodes if n.metadata["cited"]]
    assert cited[0].metadata["file"] == str(tmp_path / "docs" / "tower.md") and cited[0].metadata["verified"]
    assert (response.metadata or {})["rag"]["citations"][0]["n"] == 1


def test_rag_imports_without_llama_index() -> None:
    code = ("import sys; sys.modules['llama_index'] = None; sys.modules['llama_index.core'] = None\n"
            "import rag, rag.cli; from rag import RAG; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.stdout.strip() == "ok", out.stderr
