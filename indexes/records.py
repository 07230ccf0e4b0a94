"""Frozen records passed between the stages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["Chunk", "Hit", "chunk_id", "text_hash"]


def chunk_id(source: str, page: int | None, start: int, text: str) -> str:
    """A stable id: the same text at the same place of the same file keeps its id."""
    key = f"{source}\x00{page}\x00{start}\x00{text}".encode("utf-8", "surrogatepass")
    return hashlib.sha1(key).hexdigest()[:20]


def text_hash(text: str) -> str:
    """Identity of an exact text, e.g. the text an embedding was computed from."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Chunk:
    """A piece of one page of one file.

    ``page`` is the 1-based physical page for paged formats and ``None`` for
    text files; ``start``/``end`` are character offsets into that page's text.
    """

    id: str
    source: str
    page: int | None
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its similarity score (higher is better)."""

    chunk: Chunk
    score: float
