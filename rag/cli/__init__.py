"""The ``rag`` command line: ``main`` parses and dispatches to one module per command family."""

from __future__ import annotations

from rag.cli.parser import main

__all__ = ["main"]
