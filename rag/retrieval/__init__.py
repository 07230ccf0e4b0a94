"""Retrieval: dense and BM25 candidates fused, filtered, de-duplicated and optionally reranked."""

from __future__ import annotations

from rag.retrieval.fusion import fuse_rrf, fuse_scores
from rag.retrieval.reranking import Reranker, load_reranker
from rag.retrieval.retriever import NEAR_DUPLICATE, RetrievalSettings, Retriever

__all__ = ["NEAR_DUPLICATE", "Reranker", "RetrievalSettings", "Retriever", "fuse_rrf", "fuse_scores", "load_reranker"]
