"""Read documents in worker processes, in order, with a per-file time limit.

Parsing (pypdf is pure Python) runs in a separate process while the main
process chunks and embeds, so both cores work. A file that hangs its worker
past the time limit is reported as ``timeout``; the worker is killed and a
fresh one continues with the rest of the batch.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from indexes.errors import ReadError
from ingest.readers import Document, read_document

__all__ = ["ReadJob", "ReadOutcome", "read_all"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReadJob:
    path: Path
    password: str | None = None
    max_pages: int | None = None
    max_bytes: int | None = None


@dataclass(frozen=True)
class ReadOutcome:
    job: ReadJob
    document: Document | None
    reason: str | None = None
    message: str | None = None


def _read(job: ReadJob) -> ReadOutcome:
    try:
        doc = read_document(job.path, password=job.password, max_pages=job.max_pages, max_bytes=job.max_bytes)
        return ReadOutcome(job, doc)
    except ReadError as exc:
        return ReadOutcome(job, None, exc.code, exc.message)
    except MemoryError:
        return ReadOutcome(job, None, "too_large", f"{job.path.name} needs more memory than allowed to parse")
    except Exception as exc:  # a parser bug on one file must not stop the batch
        log.debug("reader crashed on %s", job.path, exc_info=True)
        return ReadOutcome(job, None, "parse_error", f"{job.path.name} could not be parsed: {type(exc).__name__}: {exc}")


def _limit_memory(max_bytes: int | None) -> None:
    """Worker initializer: cap the address space so one pathological file fails
    with MemoryError (reported as ``too_large``) instead of exhausting the machine."""
    if max_bytes:
        import resource

        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def read_all(jobs: Sequence[ReadJob], *, workers: int = 1, timeout: float = 120.0,
             ahead: int = 4, max_memory: int | None = None) -> Iterator[ReadOutcome]:
    """Yield one outcome per job, in job order.

    With ``workers == 0`` files are read in this process (no time or memory limit).
    """
    if workers <= 0 or len(jobs) <= 1:
        for job in jobs:
            yield _read(job)
        return
    context = multiprocessing.get_context("spawn")  # never fork a process that has torch threads
    def start() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_limit_memory,
                                   initargs=(max_memory,))

    pool = start()
    pending: list[tuple[ReadJob, Future[ReadOutcome]]] = []
    position = 0
    try:
        while position < len(jobs) or pending:
            while position < len(jobs) and len(pending) < ahead:
                pending.append((jobs[position], pool.submit(_read, jobs[position])))
                position += 1
            job, future = pending.pop(0)
            try:
                yield future.result(timeout=timeout)
            except FutureTimeout:
                log.warning("%s took longer than %.0f s to read; skipping it", job.path, timeout)
                yield ReadOutcome(job, None, "timeout", f"{job.path.name} took longer than {timeout:.0f} s to read")
                _kill(pool)
                pool = start()
                pending = [(j, pool.submit(_read, j)) for j, _ in pending]
            except Exception as exc:  # a worker died (e.g. killed for memory)
                yield ReadOutcome(job, None, "parse_error", f"{job.path.name} crashed its reader: {exc}")
                _kill(pool)
                pool = start()
                pending = [(j, pool.submit(_read, j)) for j, _ in pending]
    finally:
        _kill(pool)


def _kill(pool: ProcessPoolExecutor) -> None:
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=5)
