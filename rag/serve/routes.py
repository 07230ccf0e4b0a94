"""The project's own routes: search, sources, ingest (from allowed folders or an upload), status, files, health."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from ingest import IngestReport
from rag.engine import RAG
from rag.records import hit_json, source_json
from rag.serve.answers import AnswerQueue
from rag.serve.guard import UPLOAD_PATH
from rag.serve.paths import allowed_path, indexed_file, save_upload
from rag.serve.schemas import IngestRequest, SearchRequest
from rag.serve.settings import ServeSettings

__all__ = ["rag_router"]

_MEDIA = {".pdf": "application/pdf", ".html": "text/html", ".htm": "text/html", ".md": "text/markdown",
          ".txt": "text/plain"}


def rag_router(rag: RAG, queue: AnswerQueue, settings: ServeSettings, upload_dir: Path) -> APIRouter:
    router = APIRouter()
    writing = threading.Lock()  # one ingest at a time (the index also has its writer lock)

    def ingest(paths: Sequence[Path]) -> dict[str, Any]:
        # A separate facade for the write: closing its view never disturbs searches on the served one,
        # which follows the new generation on its next access.
        with writing, RAG(rag.config, embedder=rag.embedder) as writer:
            report: IngestReport = writer.ingest(list(paths))
        return {**report.to_json(), "exit_code": report.exit_code}

    @router.get("/healthz", tags=["server"])
    def healthz() -> dict[str, str]:
        """Liveness: the server answers (no token needed, nothing of the documents)."""
        return {"status": "ok"}

    @router.get("/v1/status", tags=["rag"])
    def status(check: bool = False) -> dict[str, Any]:
        """The index's manifest, counts and models (``rag status --json``), plus the answer queue."""
        info = rag.status(check=check)
        info["model"] = settings.model_name
        info["server"] = {"answers_in_progress": queue.active, "max_waiting": queue.max_waiting,
                          "ingest_allowed": [str(d) for d in settings.allow_dirs]}
        return info

    @router.post("/v1/search", tags=["rag"])
    def search(request: SearchRequest) -> dict[str, Any]:
        """Retrieval only, no model: ranked chunks with file, page and score."""
        hits = rag.search(request.query, request.top_k, mode=request.mode, where=request.where)
        return {"query": request.query, "hits": [hit_json(i, h) for i, h in enumerate(hits, start=1)]}

    @router.get("/v1/sources", tags=["rag"])
    def sources() -> dict[str, Any]:
        """Every file the index knows, with status (indexed, failed) and the reason for a failure."""
        records = rag.sources()
        indexed = sum(r.status == "indexed" for r in records)
        return {"sources": [source_json(r) for r in records],
                "totals": {"indexed": indexed, "failed": len(records) - indexed}}

    @router.post("/v1/ingest", tags=["rag"])
    async def ingest_paths(request: IngestRequest) -> dict[str, Any]:
        """Ingest files or folders on the server's disk, each under a folder allowed by --allow-dir."""
        paths = [allowed_path(p, settings.allow_dirs) for p in request.paths]
        return await run_in_threadpool(ingest, paths)

    @router.post(UPLOAD_PATH, tags=["rag"])
    async def ingest_upload(request: Request, filename: str = Query(min_length=1, max_length=255)) -> dict[str, Any]:
        """Ingest one file sent as the raw request body (``?filename=report.pdf``)."""
        path = await save_upload(request.stream(), upload_dir, filename, settings.max_upload_bytes)
        return await run_in_threadpool(ingest, [path])

    @router.get("/v1/file", tags=["rag"], response_class=FileResponse)
    def file(path: str = Query(min_length=1, max_length=4096)) -> FileResponse:
        """A file the index holds (a cited PDF opens at ``#page=N``); nothing else is served."""
        found = indexed_file(path, rag.sources())
        # An indexed web page is a document, not part of this app: shown as text, sandboxed, never sniffed,
        # so a script inside it cannot run with the server's origin (and reach its API or token).
        media = _MEDIA.get(found.suffix.lower(), "application/octet-stream")
        if media.startswith("text/html") or found.suffix.lower() in (".html", ".htm", ".xhtml", ".svg"):
            media = "text/plain; charset=utf-8"
        return FileResponse(found, media_type=media, content_disposition_type="inline", filename=found.name,
                            headers={"Content-Security-Policy": "sandbox; default-src 'none'",
                                     "X-Content-Type-Options": "nosniff"})

    return router
