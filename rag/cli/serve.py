"""``rag serve``: the OpenAI-compatible HTTP API and the web page over one index (FastAPI + uvicorn)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from indexes.errors import ConfigError

__all__ = ["add_serve_parser", "cmd_serve"]


def add_serve_parser(sub: Any, model_args: Any) -> None:
    """Register ``rag serve`` on the subcommand set ``sub`` (``model_args`` adds the model flags)."""
    p = sub.add_parser("serve", help="serve an OpenAI-compatible API and a web page (127.0.0.1 by default)")
    p.add_argument("--index", metavar="DIR")
    model_args(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need --token-file)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--token-file", metavar="F", help="file holding the bearer token every /v1/ request must send")
    p.add_argument("--allow-dir", action="append", default=[], metavar="DIR",
                   help="folder POST /v1/ingest may read files from (repeatable; default none)")
    p.add_argument("--max-upload-mb", type=float, default=50.0, metavar="MB", help="largest upload (default 50)")


def cmd_serve(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    try:
        from rag.serve import ServeSettings, run
    except ImportError as exc:  # the serve extra is missing
        raise ConfigError(f"rag serve needs FastAPI and uvicorn: pip install 'rag-local[serve]' ({exc.name} "
                          "is missing)") from exc
    from rag.config import load_config
    from rag.engine import RAG
    from rag.generation.models import resolve_model_path
    from rag.serve.settings import read_token

    token = read_token(args.token_file) if args.token_file else None
    serve = ServeSettings(host=args.host, port=args.port, token=token,
                          allow_dirs=tuple(Path(d).expanduser().resolve() for d in args.allow_dir),
                          max_upload_bytes=int(args.max_upload_mb * 1024 * 1024),
                          model_name=resolve_model_path(load_config(settings).model).stem)
    serve.check()  # before loading any model: a refusal is instant
    index = settings.pop("index", None)
    with RAG.open(index, create=True, **settings) as rag:
        run(rag, serve)
    return 0
