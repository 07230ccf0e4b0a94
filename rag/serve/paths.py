"""Which files the server may touch: ingest only under --allow-dir, serve only files the index holds.

Paths are compared after resolving symbolic links, and a folder to ingest is refused when any
link inside it leads out of the allowed folders (ingestion reads the files links point to).
Uploaded files are written under the upload folder with a cleaned name, never where the client says.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from indexes import SourceRecord
from rag.serve.errors import APIError

__all__ = ["allowed_path", "indexed_file", "save_upload", "upload_name"]


def _inside(path: Path, folders: Sequence[Path]) -> bool:
    return any(path == folder or path.is_relative_to(folder) for folder in folders)


def allowed_path(raw: str, allow_dirs: Sequence[Path]) -> Path:
    """``raw`` as an absolute path under one of ``allow_dirs``, or a 403 ``path_not_allowed``."""
    if not allow_dirs:
        raise APIError(403, "path_not_allowed", "this server reads no folders: start it with --allow-dir DIR "
                       "to ingest from its disk, or upload the file (POST /v1/ingest/upload)", param="paths")
    folders = [d.resolve() for d in allow_dirs]
    try:
        path = Path(raw).expanduser()
    except RuntimeError:  # "~nosuchuser/...": no home directory to expand it to
        raise APIError(400, "invalid_path", f"{raw!r} names a user this machine does not know", param="paths") from None
    if not path.is_absolute() or "\x00" in raw:
        raise APIError(400, "invalid_path", f"{raw!r} is not an absolute path", param="paths")
    resolved = path.resolve()
    if not _inside(resolved, folders):
        raise APIError(403, "path_not_allowed", f"{raw} is outside the folders this server may read", param="paths")
    if not resolved.exists():
        raise APIError(404, "path_not_found", f"{raw} does not exist", param="paths")
    if resolved.is_dir():
        for dirpath, dirnames, filenames in os.walk(resolved):
            for name in [*dirnames, *filenames]:
                entry = Path(dirpath) / name
                if entry.is_symlink() and not _inside(entry.resolve(), folders):
                    raise APIError(403, "path_not_allowed", f"{entry} links outside the folders this server may "
                                   "read", param="paths")
    return resolved


def indexed_file(raw: str, sources: Sequence[SourceRecord]) -> Path:
    """The file at ``raw`` when the index holds it (status indexed), else a 404 ``not_indexed``."""
    if any(r.path == raw and r.status == "indexed" for r in sources):
        path = Path(raw)
        if path.is_file():
            return path
    raise APIError(404, "not_indexed", "no such file in the index", param="path")


_UNSAFE = re.compile(r"[^\w.\- ]+")


def upload_name(raw: str) -> str:
    """A file name safe to create: no folders, no leading dots, only word characters, dots, dashes, spaces."""
    name = _UNSAFE.sub("_", raw.replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    if not name:
        raise APIError(400, "invalid_filename", f"{raw!r} is not a usable file name", param="filename")
    return name[:200]


async def save_upload(chunks: AsyncIterator[bytes], folder: Path, name: str, limit: int) -> Path:
    """Write the streamed body to ``folder/name`` (replacing an earlier upload of that name); 413 past ``limit``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / upload_name(name)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".part")  # one per request
    partial = Path(tmp)
    size = 0
    try:
        with os.fdopen(fd, "wb") as handle:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise APIError(413, "request_too_large", f"the upload is over {limit} bytes")
                handle.write(chunk)
        if size == 0:
            raise APIError(400, "empty_upload", "the uploaded file is empty")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
