"""Generation: the ``Generator`` protocol and fake, the llama.cpp adapter, chat formats, model discovery.

Only names that are light to import are re-exported here; ``LlamaCppGenerator`` imports
llama.cpp lazily, so importing it costs nothing until a model is loaded.
"""

from __future__ import annotations

from rag.generation.base import EchoGenerator, Generator, Message, RenderedPrompt
from rag.generation.formats import format_llama2, format_plain
from rag.generation.llama import LlamaCppGenerator
from rag.generation.models import check_gguf_file, default_model_path, resolve_model_path

__all__ = [
    "EchoGenerator",
    "Generator",
    "LlamaCppGenerator",
    "Message",
    "RenderedPrompt",
    "check_gguf_file",
    "default_model_path",
    "format_llama2",
    "format_plain",
    "resolve_model_path",
]
