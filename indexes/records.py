"""Frozen records passed between the stages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["Chunk", "Hit", "chunk_id", "text_hash"]


def chunk_id(source: str, page: int | None, start: int, text: str, locator: str | None = None) -> str:
    """A stable id: the same text at the same place of the same file keeps its id.

    ``locator`` (a slide, sheet rows, chapter) joins the key only when there is one, so the ids
    of PDF and text chunks are those earlier versions gave them.
    """
    where = f"{page}" if locator is None else f"{page}\x00{locator}"
    key = f"{source}\x00{where}\x00{start}\x00{text}".encode("utf-8", "surrogatepass")
    return hashlib.sha1(key).hexdigest()[:20]


def text_hash(text: str) -> str:
    """Identity of an exact text, e.g. the text an embedding was computed from."""
    return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Chunk:
    """A piece of one page of one file.

    ``page`` is the 1-based physical page of a PDF and ``None`` for other files;
    ``start``/``end`` are character offsets into that page's text. ``locator``
    says where in a file without pages the text is ("slide 4", 'sheet "Q3" rows
    10-20', a chapter title, an e-mail's subject and date); ``section`` is the
    heading it sits under, when known; ``ocr`` that the text came from OCR.
    """

    id: str
    source: str
    page: int | None
    text: str
    start: int
    end: int
    locator: str | None = None
    section: str | None = None
    ocr: bool = False


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its similarity score (higher is better)."""

    chunk: Chunk
    score: float
