"""The HTTP face: an OpenAI-compatible API and a web page over one ``RAG`` (``rag serve``).

    >>> from rag import RAG                                   # doctest: +SKIP
    >>> from rag.serve import ServeSettings, create_app, run
    >>> run(RAG.open("idx"), ServeSettings(port=8000))        # or mount create_app(...) yourself

Importing ``rag.serve`` imports FastAPI (the ``serve`` extra); ``rag`` itself never does.
"""

from __future__ import annotations

from rag.serve.app import create_app
from rag.serve.server import run
from rag.serve.settings import ServeSettings

__all__ = ["ServeSettings", "create_app", "run"]
