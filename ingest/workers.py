"""Read documents in parser worker processes, in job order, each file under a time and memory limit.

Parsing (pypdf is pure Python) runs in separate processes while the main
process chunks and embeds, so both cores work; up to ``ahead`` jobs are queued
in a worker so it never waits for the parent. Every batch, even of one file,
goes through a worker: a file that hangs its worker past the time limit is
reported as ``timeout``, one that dies (killed, crashed) as ``parse_error``;
the clock restarts at each page a worker OCRs, so a long scan is limited per page;
the worker is killed and a fresh one continues with the rest of the batch.

Workers are fresh interpreters running ``ingest.parse_worker`` (not
multiprocessing), so they never re-import the caller's ``__main__``; they get
the parent's ``sys.path`` and log through the parent's logging settings.
"""

from __future__ import annotations

import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import IO, Any

from indexes.errors import ConfigError
from ingest.jobs import ReadJob, ReadOutcome, read_one
from ingest.ocr import default_threads
from ingest.wire import PROTOCOL, decode_outcome, encode_job, read_frame, write_frame

__all__ = ["ParseStatus", "ReadJob", "ReadOutcome", "read_all"]

_PACKAGE = str(Path(__file__).with_name("__init__.py"))  # which copy of ingest runs (no import of the package: no cycle)
log = logging.getLogger(__name__)

Message = dict[str, Any]


def _child_env() -> dict[str, str]:
    """The environment of a worker: ours, with our ``sys.path`` so it imports the same packages."""
    path = [os.path.abspath(entry or os.curdir) for entry in sys.path]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(dict.fromkeys(path))}


def _log_levels() -> dict[str, int]:
    """The root's effective level and every level set on a named logger (e.g. pypdf quieted by the CLI)."""
    levels = {"": logging.getLogger().getEffectiveLevel()}
    for name, logger in logging.Logger.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            levels[name] = logger.level
    return levels


def _relay(message: Message, pid: int) -> None:
    """Handle a worker's log record here, as if this process had logged it."""
    logger = logging.getLogger(str(message.get("name") or __name__))
    level = int(message.get("level") or logging.WARNING)
    if logger.isEnabledFor(level):
        record = logger.makeRecord(logger.name, level, "(parser worker)", 0, str(message.get("message", "")), (), None)
        record.exc_text = message.get("exc_text")
        record.process = pid
        logger.handle(record)


class _Worker:
    """One parser process, the jobs sent to it (in order) and a thread collecting its replies."""

    def __init__(self, max_memory: int | None, levels: dict[str, int], threads: int = 1) -> None:
        self.proc = subprocess.Popen([sys.executable, "-P", "-m", "ingest.parse_worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=_child_env())
        self._stdin: IO[bytes] = self.proc.stdin  # type: ignore[assignment]
        self.pending: deque[tuple[int, ReadJob, float]] = deque()  # (seq, job, when sent)
        self._replies: queue.Queue[tuple[float, Message | None]] = queue.Queue()
        self._last_reply = time.monotonic()  # when it finished the previous job, i.e. started the next
        self._progress = 0.0  # when it last said it OCR'd a page
        self._greeted = False
        self._thread = threading.Thread(target=self._collect, name=f"parser-worker-{self.proc.pid}", daemon=True)
        self._thread.start()
        self._write({"type": "config", "max_memory": max_memory, "levels": levels, "threads": threads})

    def _collect(self) -> None:
        stdout: IO[bytes] = self.proc.stdout  # type: ignore[assignment]
        try:
            while (message := read_frame(stdout)) is not None:
                if message["type"] == "log":
                    _relay(message, self.proc.pid)
                elif message["type"] == "progress":
                    self._progress = time.monotonic()  # the clock restarts at each OCR'd page
                else:
                    self._replies.put((time.monotonic(), message))
        except (OSError, ValueError, EOFError) as exc:  # a torn or malformed frame: it died mid-reply
            log.debug("parser worker %d: %s", self.proc.pid, exc)
        finally:
            stdout.close()
            self._replies.put((time.monotonic(), None))

    def _write(self, message: Message) -> None:
        try:
            write_frame(self._stdin, message)
        except OSError:  # it died; its reply queue will say so
            log.debug("parser worker %d is gone", self.proc.pid)

    def replies_waiting(self) -> int:
        return self._replies.qsize()

    def send(self, seq: int, job: ReadJob) -> None:
        self.pending.append((seq, job, time.monotonic()))
        self._write(encode_job(seq, job))

    def reply(self, timeout: float) -> Message | str:
        """The outcome frame of the oldest pending job, or ``"timeout"`` / ``"died"``."""
        seq, _job, sent = self.pending[0]
        while True:
            started = max(sent, self._last_reply, self._progress)
            try:
                arrived, message = self._replies.get(timeout=max(0.0, started + timeout - time.monotonic()))
            except queue.Empty:
                if max(sent, self._last_reply, self._progress) + timeout > time.monotonic():
                    continue  # a page was OCR'd meanwhile: the clock restarted
                return "timeout"
            if message is None:
                if not self._greeted:
                    self.stop(kill=True)
                    raise ConfigError(f"the parser worker could not start (exit code {self.proc.returncode}; its "
                                      "error is above): check the installation, or parse in-process with workers=0")
                return "died"
            if message["type"] == "hello":
                self._greet(message)
                continue
            self._last_reply = arrived
            if message.get("seq") != seq:
                log.error("parser worker %d answered job %s, expected %d", self.proc.pid, message.get("seq"), seq)
                return "died"
            self.pending.popleft()
            return message

    def _greet(self, message: Message) -> None:
        self._greeted = True
        log.debug("parser worker %d started (%s)", self.proc.pid, message.get("package"))
        if message.get("protocol") != PROTOCOL:
            self.stop(kill=True)
            raise ConfigError(f"the parser worker runs another version of ingest ({message.get('package')}, not "
                              f"{_PACKAGE}): reinstall, or parse in-process with workers=0")

    def stop(self, *, kill: bool) -> None:
        try:
            self._stdin.close()  # a worker waiting for work exits at end of input
        except OSError:
            pass
        if kill:
            self.proc.kill()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._thread.join(timeout=5)


class ParseStatus:
    """How many parser workers of a ``read_all`` are parsing right now (a job sent, its reply not in yet):
    the caller embeds on the cores they leave free."""

    def __init__(self) -> None:
        self.pool: list[_Worker] = []

    def busy(self) -> int:
        return sum(1 for worker in self.pool if len(worker.pending) > worker.replies_waiting())


def read_all(jobs: Sequence[ReadJob], *, workers: int = 1, timeout: float = 120.0,
             ahead: int = 4, max_memory: int | None = None,
             status: ParseStatus | None = None) -> Generator[ReadOutcome, None, None]:
    """Yield one outcome per job, in job order. Up to ``max(ahead, workers)`` jobs are out at once.

    ``workers == 0`` reads in this process, with no time or memory limit: a developer
    option for tests and debugging, never the default. ``status`` is kept up to date with the workers.
    """
    if workers <= 0:
        for job in jobs:
            yield read_one(job)
        return
    levels = _log_levels()
    threads = max(1, default_threads() // workers)  # OCR threads: the cores shared among the workers
    pool: list[_Worker] = status.pool if status is not None else []
    order: deque[tuple[_Worker, int]] = deque()  # every job sent and not yet yielded, in job order
    position = 0
    clean = False
    try:
        while position < len(jobs) or order:
            while position < len(jobs) and len(order) < max(ahead, workers):
                if len(pool) < workers:
                    pool.append(_Worker(max_memory, levels, threads))
                worker = min(pool, key=lambda w: len(w.pending))
                worker.send(position, jobs[position])
                order.append((worker, position))
                position += 1
            worker, seq = order.popleft()
            reply = worker.reply(timeout)
            if isinstance(reply, dict):
                yield decode_outcome(reply, jobs[seq])
                continue
            worker.pending.popleft()
            yield _failure(jobs[seq], reply, timeout, worker)
            fresh = _replace(worker, pool, max_memory, levels, threads)
            order = deque((fresh if w is worker else w, s) for w, s in order)
        clean = True
    finally:
        for worker in pool:
            worker.stop(kill=not clean)


def _failure(job: ReadJob, reply: str, timeout: float, worker: _Worker) -> ReadOutcome:
    if reply == "timeout":
        log.warning("%s took longer than %.0f s to read; skipping it", job.path, timeout)
        worker.stop(kill=True)
        return ReadOutcome(job, None, "timeout", f"{job.path.name} took longer than {timeout:.0f} s to read")
    worker.stop(kill=True)
    log.warning("the parser worker died reading %s (exit code %s)", job.path, worker.proc.returncode)
    return ReadOutcome(job, None, "parse_error",
                       f"{job.path.name} crashed its reader (exit code {worker.proc.returncode})")


def _replace(worker: _Worker, pool: list[_Worker], max_memory: int | None, levels: dict[str, int],
             threads: int) -> _Worker:
    """A fresh worker in ``worker``'s place, sent the jobs it had not finished."""
    fresh = _Worker(max_memory, levels, threads)
    pool[pool.index(worker)] = fresh
    for seq, job, _sent in worker.pending:
        fresh.send(seq, job)
    return fresh
