"""LlamaIndex adapters: an index as a ``BaseRetriever`` and the answer path as a query engine.

    >>> from rag import RAG                                   # doctest: +SKIP
    >>> from rag.integrations.llama_index import RagRetriever, RagQueryEngine
    >>> from llama_index.core.query_engine import RetrieverQueryEngine
    >>> engine = RetrieverQueryEngine.from_args(RagRetriever(RAG.open("idx")), llm=my_llm)   # LlamaIndex answers
    >>> RagQueryEngine(RAG.open("idx")).query("When does the lease end?")                   # rag answers, cited

Nodes carry ``file``, ``page``, ``chunk_id`` (also the node id), ``start`` and ``end`` in their
metadata; the query engine's source nodes add the citation (``n``, ``cited``, ``verified``,
``quote``), and its response metadata holds the whole ``rag ask --json`` document under ``rag``.
Importing this module needs ``llama-index-core``; ``rag`` itself never imports it.
"""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from indexes import Hit
from rag.engine import RAG
from rag.records import Answer

__all__ = ["RagQueryEngine", "RagRetriever", "hit_node"]


def hit_node(hit: Hit, **extra: Any) -> NodeWithScore:
    """A retrieved chunk as a LlamaIndex node, its place in the file in the metadata."""
    c = hit.chunk
    metadata = {"file": c.source, "page": c.page, "locator": c.locator, "section": c.section, "ocr": c.ocr,
                "chunk_id": c.id, "start": c.start, "end": c.end, **extra}
    node = TextNode(id_=c.id, text=c.text, metadata=metadata,
                    excluded_llm_metadata_keys=["chunk_id", "start", "end"],
                    excluded_embed_metadata_keys=["chunk_id", "start", "end"])
    return NodeWithScore(node=node, score=hit.score)


class RagRetriever(BaseRetriever):
    """Hybrid retrieval over a ``RAG`` index (``RAG.search``), for any LlamaIndex pipeline."""

    def __init__(self, rag: RAG, k: int | None = None, *, mode: str | None = None, where: str | None = None,
                 callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self.rag, self.k, self.mode, self.where = rag, k, mode, where

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        hits = self.rag.search(query_bundle.query_str, self.k, mode=self.mode, where=self.where)
        return [hit_node(hit) for hit in hits]


class RagQueryEngine(BaseQueryEngine):
    """``RAG.ask`` as a LlamaIndex query engine: the cited, checked answer and its sources."""

    def __init__(self, rag: RAG, k: int | None = None, *, callback_manager: CallbackManager | None = None) -> None:
        super().__init__(callback_manager=callback_manager)
        self.rag, self.k = rag, k

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {}  # the prompt is rag's own (rag.answering.prompting), not a LlamaIndex template

    def _query(self, query_bundle: QueryBundle) -> Response:
        return answer_response(self.rag.ask(query_bundle.query_str, self.k))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return await asyncio.to_thread(self._query, query_bundle)


def answer_response(answer: Answer) -> Response:
    """An ``Answer`` as a LlamaIndex ``Response``: text, source nodes (with their citation), the rag document."""
    hits = {hit.chunk.id: hit for hit in answer.hits}
    nodes = [hit_node(hits[c.chunk_id], n=c.n, cited=c.cited, inferred=c.inferred, verified=c.verified, quote=c.quote)
             for c in answer.citations if c.chunk_id in hits]
    return Response(response=answer.text, source_nodes=nodes, metadata={"rag": answer.to_json()})
