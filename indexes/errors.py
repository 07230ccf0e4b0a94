"""The one exception root of the project, with stable machine-readable codes.

It lives in the lowest package (``indexes``) so that every layer can raise it
without breaking the one-way import rule; ``rag`` re-exports it.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "EmbedderMismatchError",
    "IndexFormatError",
    "IndexLockedError",
    "IndexMissingError",
    "ModelError",
    "RagError",
    "ReadError",
]


class RagError(Exception):
    """Base of every error this project raises on purpose.

    ``code`` is stable (scripts may match on it); ``exit_code`` is what the CLI
    exits with: 1 for usage/configuration problems, 3 when nothing usable exists.
    """

    code = "error"
    exit_code = 1

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class ConfigError(RagError):
    code = "config"


class IndexMissingError(RagError):
    code = "index_missing"
    exit_code = 3


class IndexFormatError(RagError):
    code = "index_format"
    exit_code = 3


class EmbedderMismatchError(RagError):
    code = "embedder_mismatch"


class IndexLockedError(RagError):
    code = "index_locked"


class ModelError(RagError):
    code = "model"


class ReadError(RagError):
    """A document could not be turned into text. ``code`` is the reason code
    reported for that file (``empty``, ``parse_error``, ``encrypted_password_required`` ...)."""

    code = "parse_error"
    exit_code = 2
