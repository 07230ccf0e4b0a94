"""From the paths a user names to the files to look at, and their fingerprints."""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Candidate", "discover", "file_sha256", "password_for"]


@dataclass(frozen=True)
class Candidate:
    """A file found under the given paths, with the root it was found from."""

    path: Path
    root: Path
    size: int
    mtime_ns: int


def _excluded(path: Path, root: Path, patterns: Sequence[str]) -> bool:
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.name
    return any(fnmatch.fnmatch(path.name, p) or fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(str(path), p)
               for p in patterns)


def discover(paths: Iterable[str | Path], exclude: Sequence[str] = ()) -> tuple[list[Candidate], list[Path], list[Path]]:
    """Expand ``paths`` into files (directories recursively, hidden entries skipped).

    Returns ``(candidates, excluded, missing)``. Paths are absolute; each file appears once.
    """
    found: dict[Path, Candidate] = {}
    excluded: list[Path] = []
    missing: list[Path] = []
    for raw in paths:
        root = Path(raw).expanduser().absolute()
        if not root.exists():
            missing.append(root)
            continue
        if root.is_file():
            files: Iterable[Path] = [root]
            base = root.parent
        else:
            base = root
            files = _walk(root)
        for path in files:
            if _excluded(path, base, exclude):
                excluded.append(path)
                continue
            try:
                stat = path.stat()
            except OSError:
                missing.append(path)
                continue
            found.setdefault(path, Candidate(path, root, stat.st_size, stat.st_mtime_ns))
    return sorted(found.values(), key=lambda c: str(c.path)), excluded, missing


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                path = Path(dirpath) / name
                if path.is_file():
                    yield path


def file_sha256(path: Path) -> str:
    """Content hash, streamed in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def password_for(path: Path, passwords: Mapping[str, str]) -> str | None:
    """The password whose glob matches the file name or full path, if any."""
    for pattern, password in passwords.items():
        if fnmatch.fnmatch(path.name, pattern) or fnmatch.fnmatch(str(path), pattern):
            return password
    return None
