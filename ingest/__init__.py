"""From paths to stored chunks: discover, sniff, read, decode, chunk, sync.

Imports ``indexes`` only; never ``rag``.
"""

from __future__ import annotations

from ingest.chunking import ChunkerSettings, PageChunker
from ingest.discover import absolute
from ingest.pipeline import IngestOptions, ingest_paths, open_or_create
from ingest.report import FileResult, IngestReport, Progress

__all__ = [
    "ChunkerSettings",
    "FileResult",
    "IngestOptions",
    "IngestReport",
    "PageChunker",
    "Progress",
    "absolute",
    "ingest_paths",
    "open_or_create",
]
