"""Retrieval: embed the question, search the index, drop duplicate passages."""

from __future__ import annotations

from indexes import Embedder, Hit, Index

__all__ = ["Retriever"]


class Retriever:
    """Dense retrieval over one index with the embedder that built it."""

    def __init__(self, index: Index, embedder: Embedder) -> None:
        index.require_embedder(embedder.name, embedder.dimension)
        self.index = index
        self.embedder = embedder

    def search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` best distinct chunks for ``query``, best first."""
        vector = self.embedder.embed([query])[0]
        # Over-fetch a little so that dropping duplicates still leaves k.
        hits = self.index.search(vector, k * 2)
        seen: set[str] = set()
        out: list[Hit] = []
        for hit in hits:
            key = " ".join(hit.chunk.text.split()).lower()
            if key in seen:
                continue
            seen.add(key)
            out.append(hit)
            if len(out) == k:
                break
        return out
