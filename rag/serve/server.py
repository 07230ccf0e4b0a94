"""``run``: check the settings, load the models once, and serve the app with uvicorn until stopped."""

from __future__ import annotations

import logging

from indexes import RagError
from rag.engine import RAG
from rag.serve.app import create_app
from rag.serve.settings import ServeSettings, is_loopback

__all__ = ["run", "warm"]

log = logging.getLogger(__name__)


def warm(rag: RAG) -> None:
    """Load the embedder and the generator now, so the first question does not pay for them."""
    _ = rag.generator
    try:
        rag.search("warm up", 1)
    except RagError as exc:  # an empty or missing index can still be served (and ingested into)
        log.warning("index not searchable yet: %s", exc.message)


def run(rag: RAG, settings: ServeSettings) -> None:
    """Serve until interrupted. Refuses a non-loopback address without a token (``ServeSettings.check``)."""
    import uvicorn

    settings.check()
    warm(rag)
    if not is_loopback(settings.host):
        log.warning("listening on %s: every /v1/ request needs the bearer token", settings.host)
    config = uvicorn.Config(create_app(rag, settings), host=settings.host, port=settings.port,
                            log_level="info", access_log=False, server_header=False, timeout_graceful_shutdown=5)
    uvicorn.Server(config).run()
