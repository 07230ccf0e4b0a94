"""The text a chunk is indexed as: a short contextual header, then the chunk itself.

A chunk cut from the middle of a document loses its context ("the term ends on 1 May":
which lease?). Putting the document's title (its file name when nothing better is known)
and the section heading, where known, in front of the chunk gives that context back to
the embedding and to BM25. The stored and cited text stays the raw page text.

The result never exceeds what the embedder reads: the chunker already keeps chunks within
the limit, and the header gives way (words dropped from its end) before the chunk does.

An index records ``settings["header"]`` in its manifest. One made before headers existed
has no such setting and keeps indexing bare chunk text, so its vectors stay consistent.
Header version 1 is the title alone; version 2 (indexes made since chunks carry a
``section``) adds the chunk's section heading. An index keeps the version it was made
with, so all its vectors were embedded the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

from indexes import Chunk, Embedder, count_tokens
from ingest.chunking import SPECIAL_TOKENS

__all__ = ["HEADER_SETTINGS", "document_title", "embedding_text", "embedding_texts"]

# Recorded in a new index's manifest settings: which header its chunks were indexed with.
HEADER_SETTINGS: dict[str, Any] = {"header": {"version": 2, "title": "file name", "section": "chunk section"}}
_SEPARATOR = "\n"


def document_title(source: str) -> str:
    """A readable title from a file path: ``lease_agreement-2023.pdf`` -> ``lease agreement 2023``."""
    name = PurePath(source).name
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    return " ".join(re.sub(r"[_\-]+", " ", stem).split())


def embedding_text(chunk: Chunk, title: str | None, embedder: Embedder, *, section: str | None = None) -> str:
    """``chunk.text`` under a header of ``title`` (and ``section``), within the embedder's limit.

    The limit is counted with the embedder's own tokenizer, leaving room for its special
    tokens. If the header does not fit beside the chunk, words are dropped from its end;
    if none fit, the chunk text is returned alone.
    """
    words = " ".join(part for part in (title, section) if part and part.strip()).split()
    if not words:
        return chunk.text
    budget = embedder.max_tokens - SPECIAL_TOKENS

    def with_header(n: int) -> str:
        return " ".join(words[:n]) + _SEPARATOR + chunk.text if n else chunk.text

    if count_tokens(embedder, with_header(len(words))) <= budget:
        return with_header(len(words))
    low, high = 0, len(words) - 1  # the largest n that fits, by bisection
    while low < high:
        mid = (low + high + 1) // 2
        if count_tokens(embedder, with_header(mid)) <= budget:
            low = mid
        else:
            high = mid - 1
    return with_header(low)


def embedding_texts(chunks: Sequence[Chunk], settings: Mapping[str, Any], embedder: Embedder) -> list[str]:
    """What to embed (and BM25-index) for each chunk of an index with these manifest ``settings``:
    with the header version the index records (file name; from version 2 also the section),
    else the bare chunk text."""
    header = settings.get("header")
    if not header:
        return [c.text for c in chunks]
    with_section = isinstance(header, Mapping) and int(header.get("version", 1)) >= 2
    return [embedding_text(c, document_title(c.source), embedder, section=c.section if with_section else None)
            for c in chunks]
