"""Parser workers: every batch, even of one file, is read under a time and memory limit in a
fresh interpreter; a timed-out file is not read again until it changes or a retry is asked for."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

import pytest

import ingest
from indexes import HashEmbedder, Index
from ingest import IngestOptions, ingest_paths
from ingest.workers import ReadJob, read_all

from .conftest import shared

EMB = HashEmbedder(dimension=64)
SLOW_PDF = "huge_619_pages_2.9MB.pdf"  # ~20 s of pypdf extraction on 2 cores


def _small_pdfs() -> list[Path]:
    real = shared("pdfs", "real")
    return [real / "transcript_scotus_p1.pdf", real / "form_libreoffice_fillable.pdf"]


def _copy(source: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(source, folder / source.name))


class _WorkerPids(logging.Handler):
    """Collects the pid of each parser worker as the parent greets it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.pids: list[int] = []
        self.packages: list[str] = []
        self.started = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        words = record.getMessage().split()
        if words[:2] == ["parser", "worker"] and words[3] == "started":
            self.pids.append(int(words[2]))
            self.packages.append(words[4].strip("()"))
            self.started.set()


@pytest.fixture
def worker_pids() -> object:
    logger = logging.getLogger("ingest.workers")
    handler, level = _WorkerPids(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_a_one_file_batch_is_read_under_the_time_limit() -> None:
    slow = shared("pdfs", "adversarial", SLOW_PDF)
    (outcome,) = read_all([ReadJob(slow)], workers=1, timeout=2)
    assert (outcome.reason, outcome.document) == ("timeout", None)


@pytest.mark.slow
def test_a_one_file_batch_gets_the_time_limit_and_its_verdict_sticks(tmp_path: Path) -> None:
    pdf = _copy(shared("pdfs", "adversarial", SLOW_PDF), tmp_path / "docs")
    options = IngestOptions(file_timeout=2)
    first = ingest_paths(tmp_path / "idx", [pdf], EMB, options)
    assert [(f.status, f.reason) for f in first.files] == [("failed", "timeout")]
    with Index.open(tmp_path / "idx") as index:
        record = index.source(str(pdf))
        assert record is not None and (record.status, record.reason) == ("failed", "timeout")
        assert len(record.sha256) == 64
    # The next night: unchanged, so not read again (no 2 s wait), and reported as the standing verdict.
    again = ingest_paths(tmp_path / "idx", [pdf], EMB, options)
    (result,) = again.files
    assert (result.status, result.reason, result.flags) == ("failed", "timeout", ("not_retried",))
    assert "retry_failed" in (result.message or "") and again.seconds < 1.5
    assert again.generation == first.generation and again.exit_code == 3
    # Asked to retry, it is read again (and times out again).
    retried = ingest_paths(tmp_path / "idx", [pdf], EMB, IngestOptions(file_timeout=2, retry_failed=True))
    (result,) = retried.files
    assert (result.status, result.reason, result.flags) == ("failed", "timeout", ()) and retried.seconds >= 2
    # Changed content is read again without asking.
    with open(pdf, "ab") as handle:
        handle.write(b"\n% edited\n")
    changed = ingest_paths(tmp_path / "idx", [pdf], EMB, options)
    (result,) = changed.files
    assert (result.status, result.reason, result.flags) == ("failed", "timeout", ()) and changed.seconds >= 2


def test_failed_files_are_retried_on_request_and_then_indexed(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "big.txt").write_text("A lighthouse keeper's log. " * 400, encoding="utf-8")
    small = IngestOptions(max_bytes=1000)
    first = ingest_paths(tmp_path / "idx", [docs], EMB, small)
    assert [(f.status, f.reason) for f in first.files] == [("failed", "too_large")]
    assert ingest_paths(tmp_path / "idx", [docs], EMB).files[0].flags == ("not_retried",)  # limit raised: no matter
    retried = ingest_paths(tmp_path / "idx", [docs], EMB, IngestOptions(retry_failed=True))
    assert [(f.status, f.reason) for f in retried.files] == [("added", None)]


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_worker_is_a_parse_error_and_a_fresh_one_reads_the_rest(tmp_path: Path, worker_pids: _WorkerPids) -> None:
    slow = shared("pdfs", "adversarial", SLOW_PDF)
    small = _small_pdfs()

    def kill_first_worker() -> None:
        if worker_pids.started.wait(60):
            threading.Event().wait(1.0)  # well into the 20 s parse
            os.kill(worker_pids.pids[0], signal.SIGKILL)

    killer = threading.Thread(target=kill_first_worker)
    killer.start()
    outcomes = list(read_all([ReadJob(slow), *(ReadJob(p) for p in small)], workers=1, timeout=120))
    killer.join()
    assert [o.job.path for o in outcomes] == [slow, *small]  # job order
    assert outcomes[0].reason == "parse_error" and "crashed its reader" in (outcomes[0].message or "")
    assert all(o.document is not None and o.document.pages for o in outcomes[1:])
    assert len(set(worker_pids.pids)) == 2  # the killed one and its replacement


def test_the_memory_cap_fails_one_file_as_too_large_and_the_batch_goes_on(tmp_path: Path) -> None:
    sparse = tmp_path / "huge.txt"
    with open(sparse, "wb") as handle:
        handle.truncate(3 << 30)  # 3 GiB that take no disk: reading it needs the memory
    notes = tmp_path / "notes.txt"
    notes.write_text("The lamp is lit at dusk.\n", encoding="utf-8")
    jobs = [ReadJob(sparse), ReadJob(notes)]
    outcomes = list(read_all(jobs, workers=1, timeout=60, max_memory=1 << 30))
    assert (outcomes[0].reason, outcomes[0].document) == ("too_large", None)
    assert "memory" in (outcomes[0].message or "")
    assert outcomes[1].document is not None and "lamp" in outcomes[1].document.pages[0].text


def test_results_come_in_job_order_from_two_workers(tmp_path: Path) -> None:
    paths = []
    for i in range(9):
        path = tmp_path / f"note-{i}.txt"
        path.write_text(f"note {i} " + "words " * (3000 if i % 3 == 0 else 3), encoding="utf-8")
        paths.append(path)
    outcomes = list(read_all([ReadJob(p) for p in paths], workers=2, timeout=60, ahead=4))
    assert [o.job.path for o in outcomes] == paths
    assert [o.document.pages[0].text.split()[1] for o in outcomes if o.document] == [str(i) for i in range(9)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/maps")
def test_the_worker_stays_light_and_imports_this_checkout(tmp_path: Path, worker_pids: _WorkerPids) -> None:
    import torch  # noqa: F401  # loaded here, in the parent, like an embedder would be

    pdfs = _small_pdfs()
    reading = read_all([ReadJob(p) for p in pdfs], workers=1, timeout=60)
    first = next(reading)
    assert first.document is not None
    maps = Path(f"/proc/{worker_pids.pids[0]}/maps").read_text()
    assert "torch" not in maps
    assert worker_pids.packages == [ingest.__file__]  # the parent's sys.path, so the same copy of our code
    assert [o.document is not None for o in reading] == [True]


def test_a_worker_whose_parent_is_killed_exits_on_its_own(tmp_path: Path) -> None:
    """kill -9 of `rag ingest` (cron timeout, OOM killer) must not leave a parser running, unlimited, for ever."""
    import signal
    import subprocess
    import sys
    import time
    import uuid

    from .conftest import REPO, shared

    big = shared("pdfs", "adversarial") / "huge_619_pages_2.9MB.pdf"  # tens of seconds of pypdf work
    mark = f"rag-orphan-test-{uuid.uuid4().hex}"
    code = ("import sys; from ingest.workers import read_all; from ingest.jobs import ReadJob; "
            f"[print(o.reason, flush=True) for o in read_all([ReadJob(__import__('pathlib').Path({str(big)!r}))], "
            "timeout=600)]")
    parent = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env={**os.environ, "RAG_ORPHAN_MARK": mark,
                                                                          "PYTHONPATH": str(REPO)})

    def workers() -> list[int]:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and mark.encode() in (proc / "environ").read_bytes() \
                        and b"parse_worker" in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
        return found

    deadline = time.monotonic() + 60
    while not workers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers(), "the parser worker never started"
    time.sleep(1.0)  # it is parsing now
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while workers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers() == []
