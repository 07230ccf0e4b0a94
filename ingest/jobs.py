"""One read job and its outcome: the unit of work a parser worker does."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from indexes.errors import ReadError
from ingest.readers import Document, read_document

__all__ = ["ReadJob", "ReadOutcome", "read_one"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadJob:
    path: Path
    password: str | None = None
    max_pages: int | None = None
    max_bytes: int | None = None
    ocr: bool = True


@dataclass(frozen=True)
class ReadOutcome:
    job: ReadJob
    document: Document | None
    reason: str | None = None
    message: str | None = None


def read_one(job: ReadJob) -> ReadOutcome:
    """Read one file; every failure becomes an outcome with a reason code, never an exception."""
    try:
        doc = read_document(job.path, password=job.password, max_pages=job.max_pages, max_bytes=job.max_bytes,
                            ocr=job.ocr)
        return ReadOutcome(job, doc)
    except ReadError as exc:
        return ReadOutcome(job, None, exc.code, exc.message)
    except MemoryError:
        return too_large(job)
    except Exception as exc:  # a parser bug on one file must not stop the batch
        log.debug("reader crashed on %s", job.path, exc_info=True)
        return ReadOutcome(job, None, "parse_error", f"{job.path.name} could not be parsed: {type(exc).__name__}: {exc}")


def too_large(job: ReadJob) -> ReadOutcome:
    return ReadOutcome(job, None, "too_large", f"{job.path.name} needs more memory than allowed to parse")
