"""Where things live in an index directory, and small helpers shared by reader and writer."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

from indexes.store import ChunkStore

__all__ = ["DB", "ID_BATCH", "LOCK", "bm25_dir", "delete_path", "generation_of", "stored_texts"]

DB = "chunks.sqlite"
LOCK = "write.lock"
ID_BATCH = 5000  # ids per SQLite query (SQLite allows 32,766 parameters)


def bm25_dir(directory: Path, generation: int) -> Path:
    return directory / f"bm25-{generation}"


def generation_of(path: Path) -> int | None:
    """The generation in ``vectors-<g>.faiss`` / ``bm25-<g>``; None for temp files and strays."""
    stem = path.name.split(".")[0]
    number = stem.split("-", 1)[1] if "-" in stem else ""
    return int(number) if number.isdigit() and not path.name.endswith(".tmp") else None


def stored_texts(store: ChunkStore, ids: Sequence[int], gen: int) -> list[str]:
    """Texts of the chunks ``ids`` (all visible at ``gen``), in the same order."""
    texts: list[str] = []
    for start in range(0, len(ids), ID_BATCH):
        batch = ids[start:start + ID_BATCH]
        found = store.chunks_by_ids(batch, gen)
        texts.extend(found[i].text for i in batch)
    return texts


def delete_path(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
