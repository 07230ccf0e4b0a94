"""Sync a set of paths into an index: new, changed, unchanged, vanished.

A file whose size and mtime match its record is not read at all; if they
differ but the content hash matches, it is still not re-parsed. Changed files
have their chunks replaced; files that vanished from an ingested folder are
removed. Every file ends with a verdict, and one bad file never stops a batch.
Embedding is batched across files; the index commits every ``commit_every``
chunks so a crash late in a long run loses little.

Over 300 lines on purpose: the sync plan, its commit batching and the per-file verdicts are one transaction's logic.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from indexes import Chunk, Embedder, EmbedderInfo, Index, IndexMissingError, IndexWriter, SourceRecord, text_hash
from indexes.compat import BACKEND_KEY, backend_of, require_backend
from indexes.errors import RagError, StorageError, is_storage_failure
from indexes.manifest import read_manifest
from ingest.chunking import ChunkerSettings, PageChunker
from ingest.discover import Candidate, absolute, discover, file_sha256, password_for
from ingest.headers import HEADER_SETTINGS, embedding_texts
from ingest.injection import looks_like_instructions
from ingest.jobs import ReadJob, ReadOutcome
from ingest.report import FileResult, IngestReport, Progress
from ingest.workers import ParseStatus, read_all

__all__ = ["IngestOptions", "ingest_paths", "open_or_create"]

log = logging.getLogger(__name__)

# Parsed files waiting for the embedder: the parser runs this far ahead, so a long file parses while earlier
# ones embed and the embedder rarely waits (4 made it wait 13 s of 149 s on pdfs/real).
PARSE_AHEAD = 16

# Files we do not index by design are skipped, not failed: they do not make the exit code 2.
SKIP_REASONS = {"unsupported_type"}
# A failure is recorded with the file's content hash and stands until the file changes (or
# ``retry_failed``); these are retried as soon as passwords are given, since that may be what they lack.
PASSWORD_REASONS = {"encrypted_password_required", "wrong_password"}


@dataclass(frozen=True)
class IngestOptions:
    exclude: tuple[str, ...] = ()
    passwords: Mapping[str, str] = field(default_factory=dict)
    max_pages: int | None = 5000
    max_bytes: int | None = 200 * 1024 * 1024
    file_timeout: float = 300.0
    workers: int = 1                  # parser processes; 0 parses in-process, unlimited (for tests and debugging)
    embed_batch: int = 256
    commit_every: int = 2000          # chunks
    commit_seconds: float = 60.0      # a crash loses at most about this much work
    lock_wait: float = 30.0
    max_memory: int | None = 4 << 30  # bytes of address space per parser process
    chunker: ChunkerSettings = field(default_factory=ChunkerSettings)
    retry_failed: bool = False        # read again files that failed before, though unchanged (e.g. timeouts)
    follow_symlinks: bool = False     # read links that lead out of the folder being ingested
    ocr: bool = True                  # OCR scanned PDF pages and images (ingest.ocr); off: refused as before


def embedder_info(embedder: Embedder) -> EmbedderInfo:
    return EmbedderInfo(name=embedder.name, dimension=embedder.dimension, max_tokens=embedder.max_tokens,
                        path=getattr(embedder, "path", None))


def open_or_create(directory: Path, embedder: Embedder, chunker: ChunkerSettings) -> Index:
    """Open the index, checking it was built by ``embedder`` (model, and backend or one that agrees), or
    create it, recording the embedder and its backend."""
    try:
        index = Index.open(directory)
    except IndexMissingError:
        index = Index.create(directory, embedder_info(embedder), {"chunker": chunker.to_json(), **HEADER_SETTINGS,
                                                                  BACKEND_KEY: backend_of(embedder)}, exist_ok=True)
    try:
        index.require_embedder(embedder.name, embedder.dimension)
        require_backend(index, embedder)
    except BaseException:
        index.close()
        raise
    return index


def _settings_of(index: Index, fallback: ChunkerSettings) -> ChunkerSettings:
    stored = index.manifest.settings.get("chunker")
    if isinstance(stored, dict):
        settings = ChunkerSettings.stored(stored)
        if settings != fallback:
            log.info("using the index's own chunker settings %s", settings)
        return settings
    return fallback


def ingest_paths(directory: str | Path, paths: Sequence[str | Path], embedder: Embedder,
                 options: IngestOptions | None = None, *, dry_run: bool = False,
                 progress: Progress | None = None) -> IngestReport:
    """Sync ``paths`` into the index at ``directory`` (created if missing).

    With ``dry_run`` nothing is written (not even a new empty index): the report is the plan.
    """
    options = options or IngestOptions()
    started = time.perf_counter()
    directory = Path(directory).expanduser().resolve()
    candidates, excluded, missing, outside = discover(paths, options.exclude, follow_symlinks=options.follow_symlinks)
    results: list[FileResult] = [FileResult(str(p), "excluded", "excluded") for p in excluded]
    results += [FileResult(str(p), "failed", "not_found", f"{p} does not exist") for p in missing]
    results += [FileResult(str(p), "skipped", "symlink_outside", f"{p.name} is a symbolic link that leads out of the "
                           "folder being ingested: not read (follow_symlinks (--follow-symlinks) reads it)") for p in outside]
    if dry_run:
        return _dry_run(directory, paths, candidates, options, results, started)
    index: Index | None = None
    try:
        index = open_or_create(directory, embedder, options.chunker)
        settings = _settings_of(index, options.chunker)
        with index.writer(wait=options.lock_wait) as writer:
            work, unchanged, touched = _plan(writer.source, candidates, options)
            for record in touched:
                writer.record_source(record)
            vanished = _vanished(writer.sources(), paths, candidates)
            if progress is not None:
                progress.planned(len(results) + len(unchanged) + len(work) + len(vanished))
            results += unchanged
            for result in results:
                _notify(progress, result)
            for path in vanished:
                n = writer.remove_source(path)
                result = FileResult(path, "removed", chunks=n)
                results.append(result)
                _notify(progress, result)
            chunker = PageChunker.for_embedder(embedder, settings) if work else None
            if chunker is not None:
                results += _process(writer, work, embedder, chunker, options, progress)
            generation = writer.commit()
    except (OSError, sqlite3.Error, RuntimeError) as exc:
        if not is_storage_failure(exc):
            raise
        try:
            state = f"The index is intact at generation {read_manifest(directory).generation}"
        except RagError:
            state = "No index was created"
        raise StorageError(f"writing the index {directory} failed ({' '.join(str(exc).split())}): the disk is full or "
                           f"not writable. {state}; free space and run `rag ingest` again to finish") from exc
    finally:
        if index is not None:
            index.close()
    return IngestReport(str(directory), tuple(results), generation, time.perf_counter() - started)


def _dry_run(directory: Path, paths: Sequence[str | Path], candidates: Sequence[Candidate],
             options: IngestOptions, results: list[FileResult], started: float) -> IngestReport:
    try:
        index: Index | None = Index.open(directory, migrate=False)  # a dry run writes nothing, not even a migration
    except IndexMissingError:
        index = None
    try:
        lookup = index.source if index is not None else (lambda _path: None)
        work, unchanged, _touched = _plan(lookup, candidates, options)
        vanished = _vanished(index.sources() if index is not None else [], paths, candidates)
        plan = [FileResult(str(c.path), "changed" if old else "new") for c, _sha, old in work]
        plan += [FileResult(p, "removed") for p in vanished]
        generation = index.generation if index is not None else 0
    finally:
        if index is not None:
            index.close()
    return IngestReport(str(directory), tuple(results + unchanged + plan), generation,
                        time.perf_counter() - started, dry_run=True)


def _notify(progress: Progress | None, result: FileResult) -> None:
    if progress is not None:
        progress.done(result)


Work = list[tuple[Candidate, str, SourceRecord | None]]


def _plan(lookup: Callable[[str], SourceRecord | None], candidates: Sequence[Candidate],
          options: IngestOptions) -> tuple[Work, list[FileResult], list[SourceRecord]]:
    """Split candidates into work (new/changed, with content hash), unchanged verdicts,
    and records whose mtime moved while their content did not (to refresh)."""
    work: Work = []
    unchanged: list[FileResult] = []
    touched: list[SourceRecord] = []
    for cand in candidates:
        record = lookup(str(cand.path))
        # Skipped types are retried on request too: a newer reader (or OCR turned on) may read them now.
        retry = record is not None and (record.status == "failed" or record.reason in SKIP_REASONS) and (
            options.retry_failed or (record.reason in PASSWORD_REASONS and bool(options.passwords)))
        if record and not retry and record.size == cand.size and record.mtime_ns == cand.mtime_ns:
            unchanged.append(_unchanged(record))
            continue
        try:
            sha = file_sha256(cand.path)
        except OSError as exc:
            unchanged.append(FileResult(str(cand.path), "failed", "unreadable", f"{cand.path}: {exc.strerror}"))
            continue
        if record and not retry and record.sha256 == sha:
            touched.append(replace(record, size=cand.size, mtime_ns=cand.mtime_ns))
            unchanged.append(_unchanged(record))
            continue
        work.append((cand, sha, record))
    return work, unchanged, touched


def _unchanged(record: SourceRecord) -> FileResult:
    if record.status == "failed":  # the recorded verdict stands for the same content
        return FileResult(record.path, "failed", record.reason, f"{record.message} (an earlier run's verdict: the "
                          "file is unchanged, so it was not read again; use retry_failed (--retry-failed) to read it again)",
                          flags=("not_retried",))
    if record.status != "indexed":
        return FileResult(record.path, record.status, record.reason, record.message)
    return FileResult(record.path, "unchanged", pages=record.pages, chunks=record.chunks)


def _vanished(records: Iterable[SourceRecord], paths: Iterable[str | Path], candidates: Sequence[Candidate]) -> list[str]:
    """Indexed files under a given folder that are no longer there (or now excluded)."""
    roots = [absolute(p) for p in paths]
    folders = [r for r in roots if r.is_dir()]
    seen = {str(c.path) for c in candidates}
    gone: list[str] = []
    for record in records:
        if record.path in seen:
            continue
        path = absolute(record.path)  # an index written before paths were folded: "/a/../b/x.pdf" is "/b/x.pdf"
        if any(path.is_relative_to(folder) for folder in folders):
            gone.append(record.path)  # deleted, or now excluded/hidden, or the same file under an unfolded name
    return gone


@dataclass
class _Pending:
    record: SourceRecord
    chunks: list
    started: float
    existed: bool
    flags: tuple[str, ...] = ()


def _process(writer: IndexWriter, work: Sequence[tuple[Candidate, str, SourceRecord | None]],
             embedder: Embedder, chunker: PageChunker, options: IngestOptions,
             progress: Progress | None) -> list[FileResult]:
    results: list[FileResult] = []
    by_path = {cand.path: (cand, sha, old) for cand, sha, old in work}
    jobs = [ReadJob(cand.path, password_for(cand.path, options.passwords), options.max_pages, options.max_bytes, options.ocr)
            for cand, _sha, _old in work]
    buffer: list[_Pending] = []
    since_commit = 0
    last, last_commit = time.perf_counter(), time.monotonic()

    def flush() -> None:
        nonlocal since_commit, last_commit
        chunks = [c for p in buffer for c in p.chunks]
        texts = embedding_texts(chunks, writer.manifest.settings, embedder)  # header + chunk, within the limit
        _share_cores(embedder, status.busy())
        vectors, reused = _embed_with_cache(writer, embedder, texts)
        offset = 0
        for pending in buffer:
            n = len(pending.chunks)
            writer.replace_source(pending.record, pending.chunks, vectors[offset:offset + n],
                                  [text_hash(t) for t in texts[offset:offset + n]], texts=texts[offset:offset + n])
            result = FileResult(pending.record.path, "updated" if pending.existed else "added",
                                pages=pending.record.pages, chunks=n, reused=int(reused[offset:offset + n].sum()),
                                flags=pending.flags,
                                seconds=round(time.perf_counter() - pending.started, 3))
            offset += n
            results.append(result)
            _notify(progress, result)
        since_commit += offset
        buffer.clear()
        if since_commit >= options.commit_every or time.monotonic() - last_commit >= options.commit_seconds:
            writer.commit()
            since_commit, last_commit = 0, time.monotonic()

    status = ParseStatus()
    outcomes = read_all(jobs, workers=options.workers, timeout=options.file_timeout, max_memory=options.max_memory,
                        ahead=PARSE_AHEAD, status=status)
    with contextlib.closing(outcomes), _cores_restored(embedder):  # an error stops the workers at once
        for outcome in outcomes:
            cand, sha, old = by_path[outcome.job.path]
            file_started, last = last, time.perf_counter()
            base = SourceRecord(path=str(cand.path), kind=None, size=cand.size, mtime_ns=cand.mtime_ns, sha256=sha,
                                status="failed")
            record, chunks = _chunk_outcome(outcome, base, chunker)
            if record.status != "indexed":
                writer.record_source(record)
                result = FileResult(record.path, record.status, record.reason, record.message,
                                    seconds=round(time.perf_counter() - file_started, 3))
                results.append(result)
                _notify(progress, result)
                continue
            buffer.append(_Pending(record, chunks, file_started, old is not None and old.status == "indexed",
                                   _flags(chunks)))
            if sum(len(p.chunks) for p in buffer) >= options.embed_batch:
                flush()
        flush()
    return results


def _share_cores(embedder: Embedder, parsing: int) -> None:
    """Embed on the cores the parser workers leave free while they parse, on all of them after.
    Threads that share a core with a parser wait on each other at every step of the model (on
    2 cores, 2 torch threads beside a busy parser are slower than 1)."""
    if hasattr(embedder, "threads"):
        embedder.threads = max(1, (os.cpu_count() or 1) - parsing) if parsing else None


@contextlib.contextmanager
def _cores_restored(embedder: Embedder) -> Iterator[None]:
    try:
        yield
    finally:
        _share_cores(embedder, 0)


def _embed_with_cache(writer: IndexWriter, embedder: Embedder, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Vectors for ``texts``, reusing any stored for identical text; also which rows were reused."""
    hashes = [text_hash(t) for t in texts]
    known = writer.cached_vectors(hashes)
    fresh = list(dict.fromkeys(t for t, h in zip(texts, hashes, strict=True) if h not in known))
    if fresh:
        for text, vector in zip(fresh, embedder.embed(fresh), strict=True):
            known.setdefault(text_hash(text), vector)
    reused = np.array([h in known and t not in fresh for t, h in zip(texts, hashes, strict=True)], dtype=bool)
    if not texts:
        return np.zeros((0, embedder.dimension), np.float32), reused
    return np.stack([known[h] for h in hashes]).astype(np.float32), reused


def _flags(chunks: Sequence[Chunk]) -> tuple[str, ...]:
    """Warnings about a file's content. Text addressing a language model ("ignore previous
    instructions ...") is indexed as data, but the user should know it is there."""
    if any(looks_like_instructions(c.text) for c in chunks):
        log.warning("%s contains text that reads like instructions to a language model", chunks[0].source)
        return ("instruction_like_text",)
    return ()


def _chunk_outcome(outcome: ReadOutcome, base: SourceRecord, chunker: PageChunker) -> tuple[SourceRecord, list]:
    doc = outcome.document
    if doc is None:
        status = "skipped" if outcome.reason in SKIP_REASONS else "failed"
        return replace(base, status=status, reason=outcome.reason, message=outcome.message), []
    chunks = chunker.chunk(base.path, doc.pages)
    if not chunks:
        return replace(base, kind=doc.kind, reason="empty", message=f"{Path(base.path).name} has no text to index",
                       pages=doc.page_count), []
    return replace(base, kind=doc.kind, status="indexed", pages=doc.page_count, chunks=len(chunks)), chunks
