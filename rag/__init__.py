"""Private-document question answering with a local Llama model.

``from rag import RAG``: open an index, ingest files, search, ask for cited
answers. Importing this package loads no model and no heavy library.
"""

from __future__ import annotations

from indexes import Chunk, Hit, RagError, SourceRecord
from ingest import FileResult, IngestReport
from rag.config import Config, load_config
from rag.conversation import Conversation
from rag.engine import ABSTAIN_TEXT, RAG
from rag.records import Answer, Citation

__all__ = [
    "ABSTAIN_TEXT",
    "RAG",
    "Answer",
    "Chunk",
    "Citation",
    "Config",
    "Conversation",
    "FileResult",
    "Hit",
    "IngestReport",
    "RagError",
    "SourceRecord",
    "load_config",
]
__version__ = "0.1.0"
