"""From the paths a user names to the files to look at, and their fingerprints."""

from __future__ import annotations

import fnmatch
import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

__all__ = ["Candidate", "Discovery", "discover", "file_sha256", "password_for"]


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


class Discovery(NamedTuple):
    """What the named paths hold: files to look at, and those left out (and why)."""

    candidates: list[Candidate]
    excluded: list[Path]
    missing: list[Path]
    outside_links: list[Path]  # symbolic links that lead out of the folder being ingested


def absolute(raw: str | Path) -> Path:
    """``raw`` as the index names a file: absolute, "~" expanded, "." and ".." folded away lexically, so that
    ``../shared/docs`` and ``/work/shared/docs`` are one folder (symbolic links are kept as written)."""
    return Path(os.path.normpath(Path(raw).expanduser().absolute()))


def discover(paths: Iterable[str | Path], exclude: Sequence[str] = (), *, follow_symlinks: bool = False) -> Discovery:
    """Expand ``paths`` into files (directories recursively, hidden entries skipped).

    A symbolic link met inside a folder is read only if it points inside that folder
    (a link to a directory inside is not walked: its files are found under their own
    names). Links that leave it, to files or directories, are listed in ``outside_links``
    and not read, unless ``follow_symlinks``: then every link is followed, each real
    directory walked once, so link loops end. A path named directly is always read.
    Paths are absolute; each file appears once.
    """
    found: dict[Path, Candidate] = {}
    excluded: list[Path] = []
    missing: list[Path] = []
    outside: list[Path] = []
    for raw in paths:
        root = absolute(raw)
        if not root.exists():
            missing.append(root)
            continue
        links: list[Path] = []
        if root.is_file():
            files: Iterable[Path] = [root]
            base = root.parent
        else:
            base = root
            files = _walk(root, follow_symlinks, links)
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
        for link in links:
            (excluded if _excluded(link, base, exclude) else outside).append(link)
    return Discovery(sorted(found.values(), key=lambda c: str(c.path)), excluded, missing, sorted(set(outside)))


def _walk(root: Path, follow: bool, outside: list[Path]) -> Iterator[Path]:
    real_root = root.resolve()
    walked: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=follow):
        here = Path(dirpath)
        if follow:  # through links a directory can come round again: a loop, or a second name
            identity = _identity(here)
            if identity is None or identity in walked:
                dirnames[:] = []
                continue
            walked.add(identity)
        keep: list[str] = []
        for name in sorted(d for d in dirnames if not d.startswith(".")):
            path = here / name
            if follow or not path.is_symlink():
                keep.append(name)
            elif not path.resolve().is_relative_to(real_root):
                outside.append(path)  # a link inside the folder is not walked: its files have their own names
        dirnames[:] = keep
        for name in sorted(filenames):
            path = here / name
            if name.startswith(".") or not path.is_file():
                continue
            if not follow and path.is_symlink() and not path.resolve().is_relative_to(real_root):
                outside.append(path)
                continue
            yield path


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


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
