"""What an ingest did, per file and in total: the machine-readable verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

__all__ = ["FileResult", "IngestReport", "Progress"]

# Statuses of a file in a report. "new"/"changed" appear in dry runs (a plan).
DONE = ("added", "updated", "unchanged", "removed")


@dataclass(frozen=True)
class FileResult:
    """One file's verdict: ``status`` and, when it failed or was skipped, a stable ``reason`` code."""

    path: str
    status: str  # added | updated | unchanged | removed | failed | skipped | excluded | new | changed
    reason: str | None = None
    message: str | None = None
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0
    reused: int = 0  # chunks whose embedding was reused from identical text already indexed
    flags: tuple[str, ...] = ()  # warnings that do not stop indexing, e.g. "instruction_like_text"


class Progress(Protocol):
    """Receives the size of the plan, then each file's verdict as it is decided."""

    def planned(self, files: int) -> None: ...

    def done(self, result: FileResult) -> None: ...


@dataclass(frozen=True)
class IngestReport:
    index: str
    files: tuple[FileResult, ...]
    generation: int
    seconds: float
    dry_run: bool = False
    totals: dict[str, int] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def exit_code(self) -> int:
        """0 all readable input ingested, 2 some inputs failed, 3 nothing usable."""
        usable = any(f.status in (*DONE, "new", "changed") for f in self.files)
        if self.failed:
            return 2 if usable else 3
        return 0 if usable or self.dry_run else 3

    def summary(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.files:
            counts[f.status] = counts.get(f.status, 0) + 1
        counts["pages"] = sum(f.pages for f in self.files if f.status in ("added", "updated"))
        counts["chunks"] = sum(f.chunks for f in self.files if f.status in ("added", "updated"))
        counts["embeddings_reused"] = sum(f.reused for f in self.files)
        return counts

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "generation": self.generation, "dry_run": self.dry_run,
                "seconds": round(self.seconds, 3), "totals": self.summary(),
                "files": [asdict(f) for f in self.files]}
