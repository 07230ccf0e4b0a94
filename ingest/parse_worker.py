"""The parser worker process: ``python -m ingest.parse_worker`` reads files for its parent.

``ingest.workers`` starts it as a fresh interpreter running this module, so it
never imports the caller's ``__main__`` (multiprocessing's spawn and forkserver
both do: a script without an ``if __name__ == "__main__":`` guard, or code read
from standard input, would run again in every worker). It speaks ``ingest.wire``
on stdin and stdout; anything printed goes to stderr instead, so it cannot
corrupt the stream. Log records go to the parent, which handles them with its
own logging settings; the levels it sends mean nothing below them is even sent.
An address-space cap makes a pathological file fail with MemoryError (reported
``too_large``) instead of exhausting the machine. OCR runs on the number of threads
the parent gives it, and each page it reads sends a ``progress`` frame: OCR takes
seconds a page, so the time limit then applies to each page, not the whole file.
"""

from __future__ import annotations

import functools
import logging
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import IO, Any

from ingest.jobs import read_one, too_large
from ingest.ocr import on_page, set_threads
from ingest.wire import PROTOCOL, decode_job, encode_outcome, read_frame, write_frame

__all__ = ["main"]

_PACKAGE = str(Path(__file__).with_name("__init__.py"))  # which copy of ingest runs (no import of the package: no cycle)
log = logging.getLogger(__name__)


class _ToParent(logging.Handler):
    """Sends each record, already formatted, to the parent as a ``log`` frame."""

    def __init__(self, send: Any) -> None:
        super().__init__()
        self._send = send

    def emit(self, record: logging.LogRecord) -> None:
        try:
            exc_text = "".join(traceback.format_exception(*record.exc_info)) if record.exc_info else None
            self._send({"type": "log", "name": record.name, "level": record.levelno,
                        "message": record.getMessage(), "exc_text": exc_text})
        except Exception:
            self.handleError(record)


def _set_up_logging(send: Any, levels: dict[str, int]) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_ToParent(send))
    root.setLevel(int(levels.get("", logging.WARNING)))
    for name, level in levels.items():
        if name:
            logging.getLogger(name).setLevel(int(level))
    logging.captureWarnings(True)  # warnings.warn from a parser goes the same way


def _limit_memory(max_bytes: int | None) -> None:
    if not max_bytes:
        return
    try:
        import resource
    except ImportError:  # Windows: no address-space limit; the time limit still holds
        log.debug("no memory limit for parser workers on this platform")
        return
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError) as exc:  # a platform that refuses it: go on under the time limit alone
        log.warning("parser worker runs without a memory limit: %s", exc)


def _exit_with_parent(parent: int) -> None:
    """The time limit is the parent's to enforce: a worker whose parent was killed (SIGKILL, OOM,
    a cron timeout) must not parse on for ever, orphaned. Checked twice a second."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops its workers
    _exit_with_parent(os.getppid())
    out: IO[bytes] = os.fdopen(os.dup(sys.stdout.fileno()), "wb")  # the protocol's own copy of stdout
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    source = sys.stdin.buffer
    lock = threading.Lock()

    def send(message: dict[str, Any]) -> None:
        with lock:
            write_frame(out, message)

    send({"type": "hello", "protocol": PROTOCOL, "pid": os.getpid(), "package": _PACKAGE})
    config = read_frame(source)
    if config is None:
        return 0
    _set_up_logging(send, dict(config.get("levels") or {}))
    _limit_memory(config.get("max_memory"))
    set_threads(int(config.get("threads") or 1))
    while (message := read_frame(source)) is not None:
        seq, job = decode_job(message)
        on_page(functools.partial(send, {"type": "progress", "seq": seq}))  # each OCR'd page restarts the clock
        try:
            send(encode_outcome(seq, read_one(job)))
        except MemoryError:  # the text itself was too big to send under the cap
            send(encode_outcome(seq, too_large(job)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
