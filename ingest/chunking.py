"""Split page texts into chunks sized in the embedding model's own tokens.

Uses llama-index-core's sentence-aware ``SentenceSplitter`` with the embedder's
tokenizer as its length function, so a chunk never exceeds what the embedder
reads (all-MiniLM-L6-v2 reads 256 word-pieces; anything past that would be
silently truncated). Chunks never cross a page boundary, so each has exactly
one page to cite, and keeps that page's ``locator``, ``section`` and ``ocr``.
Each chunk records its character span in its page's text. With ``clean`` (the default for a new
index), page texts are cleaned first (``ingest.cleaning``); spans refer to the cleaned text, and a
typeset document's chunks get the section heading they sit under (``ingest.sections``) when its reader
gave none.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Sized
from dataclasses import asdict, dataclass
from typing import Any

from indexes.embedders import Embedder, count_tokens
from indexes.errors import ConfigError
from indexes.records import Chunk, chunk_id
from ingest.cleaning import clean_pages
from ingest.readers import Page
from ingest.sections import heading_lines

__all__ = ["ChunkerSettings", "PageChunker"]

_HEADING_SLACK = 2  # a chunk that starts this close before a heading starts with it

# [CLS] and [SEP] (or their equivalents) take two of the embedder's positions.
SPECIAL_TOKENS = 2


@dataclass(frozen=True)
class ChunkerSettings:
    """Chunk size and overlap, in tokens of the embedding model, and the text clean-up applied first
    (``clean``: 0 none, as indexes made before it; 1 ``ingest.cleaning.clean_pages``)."""

    chunk_size: int = 200
    chunk_overlap: int = 32
    clean: int = 1

    @classmethod
    def stored(cls, settings: dict[str, Any]) -> ChunkerSettings:
        """The settings an index recorded; one without ``clean`` was built from uncleaned text."""
        return cls(**{"clean": 0, **settings})

    def validate(self, max_tokens: int) -> None:
        if self.chunk_size < 16:
            raise ConfigError(f"chunk size {self.chunk_size} is too small (at least 16 tokens)")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            raise ConfigError(f"chunk overlap {self.chunk_overlap} must be >= 0 and below chunk size {self.chunk_size}")
        limit = max_tokens - SPECIAL_TOKENS
        if self.clean not in (0, 1):
            raise ConfigError(f"unknown text clean-up version {self.clean} (this version knows 0 and 1)")
        if self.chunk_size > limit:
            raise ConfigError(f"chunk size {self.chunk_size} exceeds what the embedder reads "
                              f"({max_tokens} tokens, {limit} after special tokens); lower chunk_size")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class PageChunker:
    """Turns the pages of one file into ``Chunk`` records."""

    def __init__(self, tokenize: Callable[[str], Sized], max_tokens: int,
                 settings: ChunkerSettings | None = None) -> None:
        """``tokenize`` measures a text: only the length of what it returns is used."""
        from llama_index.core.node_parser import SentenceSplitter

        self.settings = settings or ChunkerSettings()
        self.settings.validate(max_tokens)
        self._splitter = SentenceSplitter(chunk_size=self.settings.chunk_size,
                                          chunk_overlap=self.settings.chunk_overlap,
                                          tokenizer=tokenize)

    @classmethod
    def for_embedder(cls, embedder: Embedder, settings: ChunkerSettings | None = None) -> PageChunker:
        """A chunker measuring in ``embedder``'s tokens (its ``count_tokens`` when it gives no ids)."""
        # The splitter only takes len() of what its tokenizer returns: a range of the count is enough.
        return cls(lambda text: range(count_tokens(embedder, text)), embedder.max_tokens, settings)

    def chunk(self, source: str, pages: Sequence[Page]) -> list[Chunk]:
        """All chunks of ``pages``, in reading order."""
        chunks: list[Chunk] = []
        typeset = bool(self.settings.clean) and any(page.number is not None for page in pages)
        if self.settings.clean:
            pages = clean_pages(pages)
        carried: str | None = None  # a typeset document's section where the page starts
        for page in pages:
            section = page.section or carried
            headings = heading_lines(page.text) if typeset else []
            if headings:
                carried = headings[-1][1]
            elif page.section:
                carried = page.section
            if not page.text.strip():
                continue
            cursor = 0
            for piece in self._splitter.split_text(page.text):
                if not piece.strip():
                    continue
                start = _locate(page.text, piece, cursor)
                end = start + len(piece)
                cursor = start + 1
                # The heading a chunk starts under; a chunk that opens with its heading is under it.
                under = [title for offset, title in headings if offset <= start + _HEADING_SLACK]
                chunks.append(Chunk(id=chunk_id(source, page.number, start, piece, page.locator), source=source,
                                    page=page.number, text=piece, start=start, end=end, locator=page.locator,
                                    section=under[-1] if under else section, ocr=page.ocr))
        return chunks


def _locate(text: str, piece: str, cursor: int) -> int:
    """Offset of ``piece`` in ``text`` at or after ``cursor`` (the splitter may trim whitespace)."""
    at = text.find(piece, cursor)
    if at < 0:
        at = text.find(piece[:40], cursor)
    if at < 0:
        at = text.find(piece)
    return max(at, 0) if at >= 0 else min(cursor, len(text))
