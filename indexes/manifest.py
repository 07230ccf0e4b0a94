"""``manifest.json``: the versioned, self-describing head of an index directory.

The manifest names the committed generation; switching generations is one
``os.replace`` of this file, so a reader always sees one whole generation.

Format versions: 1 (chunks with file, page and span); 2 adds each chunk's
``locator``, ``section`` and ``ocr`` columns; 3 makes a generation a base plus an optional delta
segment; 4 records the text clean-up in the chunker settings (``"clean": 1``; an index without it
was built from uncleaned text, and keeps being extended that way). An index of an older version that
differs only by additions (``MIGRATABLE``) is read here with its own version;
``IndexWriter`` migrates it in a new generation before anything reads or writes it.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from indexes.errors import IndexFormatError, IndexMissingError

__all__ = ["FORMAT", "FORMAT_VERSION", "MIGRATABLE", "EmbedderInfo", "Manifest", "is_index_file", "read_manifest",
           "write_manifest"]

FORMAT = "rag-index"
FORMAT_VERSION = 4  # 2: chunks carry locator, section, ocr; 3: a generation is a base plus an optional delta;
#                    4: settings["chunker"]["clean"] says how page text was cleaned (absent: not cleaned)
MIGRATABLE = frozenset({1, 2, 3})  # older versions that a new generation brings up to FORMAT_VERSION by additions
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class EmbedderInfo:
    """Which embedding model built an index; a different one cannot search it."""

    name: str
    dimension: int
    max_tokens: int
    normalized: bool = True
    path: str | None = None


@dataclass(frozen=True)
class Manifest:
    embedder: EmbedderInfo
    generation: int = 0
    settings: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    created: float = 0.0
    updated: float = 0.0
    version: int = FORMAT_VERSION
    base: int | None = None  # the generation whose vectors/BM25 files this one builds on (None: itself)

    @property
    def base_generation(self) -> int:
        return self.generation if self.base is None else self.base

    @property
    def vectors_file(self) -> str:
        return f"vectors-{self.base_generation}.faiss"

    @property
    def delta_dir(self) -> str | None:
        """``delta-<gen>`` when this generation is its base plus a delta segment."""
        return None if self.base_generation == self.generation else f"delta-{self.generation}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data = {"format": FORMAT, **data, "vectors": self.vectors_file}
        return data


_INDEX_FILE = re.compile(r"(manifest\.json(\.tmp)?|chunks\.sqlite(-wal|-shm|-journal)?|write\.lock|"
                         r"vectors-\d+\.faiss(\.tmp)?|bm25-\d+(\.tmp)?|delta-\d+(\.tmp)?)")


def is_index_file(name: str) -> bool:
    """Whether ``name`` is one of the files an index directory holds (so a directory of
    only such files and no manifest is an index whose creation was interrupted)."""
    return bool(_INDEX_FILE.fullmatch(name))


def read_manifest(directory: Path) -> Manifest:
    """Read and validate ``directory/manifest.json``."""
    path = directory / MANIFEST
    if not path.exists():
        if directory.exists() and any(not is_index_file(p.name) for p in directory.iterdir()):
            raise IndexFormatError(f"{directory} is not an index (no {MANIFEST}); choose an empty or new directory")
        raise IndexMissingError(f"no index at {directory}: run `rag ingest PATH --index {directory}` first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexFormatError(f"{path} is unreadable ({exc}); rebuild the index with `rag ingest`") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise IndexFormatError(f"{path} is not a rag index manifest")
    version = data.get("version")
    if version != FORMAT_VERSION and version not in MIGRATABLE:
        raise IndexFormatError(
            f"index format version {version} at {directory} is not supported by this version "
            f"(reads {', '.join(map(str, sorted({*MIGRATABLE, FORMAT_VERSION})))}); "
            "rebuild it with `rag ingest` into a new --index directory")
    try:
        return Manifest(
            embedder=EmbedderInfo(**data["embedder"]),
            generation=int(data["generation"]),
            settings=dict(data.get("settings", {})),
            counts={k: int(v) for k, v in data.get("counts", {}).items()},
            created=float(data.get("created", 0.0)),
            updated=float(data.get("updated", 0.0)),
            version=int(version),
            base=None if data.get("base") is None else int(data["base"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise IndexFormatError(f"{path} is damaged ({exc}); rebuild the index with `rag ingest`") from exc


def write_manifest(directory: Path, manifest: Manifest) -> None:
    """Atomically replace the manifest (temp file, fsync, rename, fsync dir)."""
    manifest = Manifest(**{**manifest.__dict__, "updated": time.time()})
    tmp = directory / (MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(manifest.to_json(), handle, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, directory / MANIFEST)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
