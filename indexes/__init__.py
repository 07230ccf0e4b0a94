"""The index on disk: FAISS vectors + SQLite chunks + a versioned manifest.

This package imports nothing else of the project.
"""

from __future__ import annotations

from indexes.embedders import (
    DEFAULT_EMBEDDER,
    Embedder,
    HashEmbedder,
    LazyEmbedder,
    SentenceTransformerEmbedder,
    count_tokens,
    embed_queries,
    load_embedder,
)
from indexes.errors import (
    ConfigError,
    EmbedderMismatchError,
    IndexFormatError,
    IndexLockedError,
    IndexMissingError,
    ModelError,
    RagError,
    ReadError,
    StorageError,
)
from indexes.index import Index, IndexWriter
from indexes.manifest import FORMAT_VERSION, EmbedderInfo, Manifest
from indexes.records import Chunk, Hit, chunk_id, text_hash
from indexes.store import SourceRecord

__all__ = [
    "DEFAULT_EMBEDDER",
    "FORMAT_VERSION",
    "Chunk",
    "ConfigError",
    "Embedder",
    "EmbedderInfo",
    "EmbedderMismatchError",
    "HashEmbedder",
    "Hit",
    "Index",
    "IndexFormatError",
    "IndexLockedError",
    "IndexMissingError",
    "IndexWriter",
    "LazyEmbedder",
    "Manifest",
    "ModelError",
    "RagError",
    "ReadError",
    "SentenceTransformerEmbedder",
    "SourceRecord",
    "StorageError",
    "chunk_id",
    "count_tokens",
    "embed_queries",
    "load_embedder",
    "text_hash",
]
