"""Helpers every command family shares: JSON output, the retrieval flags, a question counter."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["emit_json", "question_progress", "retrieval_args"]


def emit_json(data: Any) -> None:
    json.dump(data, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


def retrieval_args(p: argparse.ArgumentParser, *, where: bool = True,
                   mode_help: str = "retrieval mode (default hybrid)") -> None:
    """Retrieval flags shared by ask, chat, search and eval."""
    p.add_argument("--mode", choices=("dense", "bm25", "hybrid"), help=mode_help)
    p.add_argument("--reranker", metavar="PATH", help="rerank with this sentence-transformers CrossEncoder")
    if where:
        p.add_argument("--where", metavar="GLOB", help="only retrieve from files whose path or name matches")


def question_progress(enabled: bool) -> Any:
    """A ``progress(done, total)`` callback that counts questions on stderr, or None when not wanted."""
    if not enabled:
        return None

    def show(done: int, total: int) -> None:
        print(f"\rquestions: {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    return show
