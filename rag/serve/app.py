"""``create_app``: the FastAPI application over one ``RAG`` (API routes, the web page, the request guard)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from rag.config import data_root
from rag.engine import RAG
from rag.serve.answers import AnswerQueue
from rag.serve.errors import install_error_handlers
from rag.serve.guard import RequestGuard
from rag.serve.openai_api import openai_router
from rag.serve.routes import rag_router
from rag.serve.settings import ServeSettings

__all__ = ["STATIC", "create_app"]

STATIC = Path(str(files("rag.serve") / "static"))


def create_app(rag: RAG, settings: ServeSettings | None = None) -> FastAPI:
    """The app; the caller owns ``rag`` (and closes it). Models load on first use unless warmed."""
    settings = settings or ServeSettings()
    queue = AnswerQueue(rag, max_waiting=settings.max_waiting)
    # No /docs or /redoc: they load scripts from a CDN. The OpenAPI document is at /openapi.json.
    app = FastAPI(title="rag", summary="Cited answers from your own documents; OpenAI-compatible.",
                  docs_url=None, redoc_url=None)
    install_error_handlers(app)
    app.include_router(openai_router(queue, settings))
    app.include_router(rag_router(rag, queue, settings, settings.upload_dir or data_root() / "uploads"))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.add_middleware(RequestGuard, settings=settings)
    app.state.queue = queue
    return app
