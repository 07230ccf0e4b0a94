"""Test support for the server: a real uvicorn server on 127.0.0.1 in a thread, and a small index."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

SAMPLE_FACTS = {
    "harbour.md": "# Harbour rules\n\nThe harbour speed limit is 5 knots inside the breakwater.\n\n"
                  "Boats up to 8 metres pay 18 euros per night at the visitor pontoon.\n",
    "tower.md": "# Kestrel Point\n\nThe Kestrel Point tower is 31 metres tall and was first lit in 1871.\n",
}


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in SAMPLE_FACTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running(app: object, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yields the base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def build_index(directory: Path, folder: Path, embedder: object) -> Path:
    """An index at ``directory`` holding every file of ``folder``, built with ``embedder``."""
    from rag import RAG

    with RAG.open(directory, create=True, embedder=embedder, workers=0) as rag:  # type: ignore[arg-type]
        assert rag.ingest([folder]).exit_code == 0
    return directory
