"""The one exception root of the project, with stable machine-readable codes.

It lives in the lowest package (``indexes``) so that every layer can raise it
without breaking the one-way import rule; ``rag`` re-exports it.
"""

from __future__ import annotations

import errno
import re
import sqlite3

__all__ = [
    "ConfigError",
    "EmbedderMismatchError",
    "IndexFormatError",
    "IndexLockedError",
    "IndexMissingError",
    "ModelError",
    "RagError",
    "ReadError",
    "StorageError",
    "is_storage_failure",
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


class StorageError(RagError):
    """Writing the index failed for want of space or permission; the last committed generation stands."""

    code = "storage"
    exit_code = 3


_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EACCES})
_SHORT_WRITE = re.compile(r"^\d+ requested and \d+ written$")
_STORAGE_WORDS = ("disk", "full", "i/o", "readonly", "read-only", "fwrite", "write error", "no space")


def is_storage_failure(exc: BaseException) -> bool:
    """Is ``exc`` a failed write to disk (full, over quota, over the file size limit, read-only)?
    SQLite and FAISS report these as their own exception types with words, not errno; numpy (``np.save``) as
    an ``OSError`` without errno that counts the bytes it could not write."""
    if isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS:
        return True
    if isinstance(exc, OSError) and exc.errno is None and _SHORT_WRITE.search(str(exc)):
        return True  # numpy's tofile: "183058 requested and 149968 written", no errno
    if isinstance(exc, sqlite3.OperationalError | RuntimeError):
        return any(word in str(exc).lower() for word in _STORAGE_WORDS)
    return False


class ModelError(RagError):
    code = "model"


class ReadError(RagError):
    """A document could not be turned into text. ``code`` is the reason code
    reported for that file (``empty``, ``parse_error``, ``encrypted_password_required`` ...)."""

    code = "parse_error"
    exit_code = 2
