"""Every adversarial file through the whole pipeline (worker processes, time limit,
password file) gets the verdict its manifest asks for; the batch never stops."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexes import HashEmbedder, Index
from ingest import IngestOptions, ingest_paths

from .test_readers import OCR_TOO_SLOW, PASSWORDS, PDF_ADV, PDF_VERDICTS, SLOW_PDFS, TEXT_ADV, TEXT_REFUSED, need

EMB = HashEmbedder(dimension=128)


def _verdicts(report_files: tuple) -> dict[str, tuple[str, str | None]]:  # type: ignore[type-arg]
    return {Path(f.path).name: (f.status, f.reason) for f in report_files}


@pytest.mark.slow
def test_adversarial_pdfs_get_their_manifest_verdicts(tmp_path: Path) -> None:
    folder = need(PDF_ADV)
    password_globs = {name: password for name, password in PASSWORDS.items()}
    options = IngestOptions(exclude=tuple(SLOW_PDFS | OCR_TOO_SLOW), passwords=password_globs, max_pages=1000,
                            workers=1, file_timeout=60)
    report = ingest_paths(tmp_path / "idx", [folder], EMB, options)
    verdicts = _verdicts(report.files)
    for name, expected in PDF_VERDICTS.items():
        if name in SLOW_PDFS | OCR_TOO_SLOW:
            assert verdicts[name] == ("excluded", "excluded")
        elif name in PASSWORDS or not isinstance(expected, str):
            assert verdicts[name] == ("added", None), name
        else:
            assert verdicts[name] == ("failed", expected), name
    assert report.exit_code == 2
    with Index.open(tmp_path / "idx") as index:
        assert index.check() == []
        failed = {Path(s.path).name: s.reason for s in index.sources() if s.status == "failed"}
    assert failed["synthetic_20000_pages_3MB.pdf"] == "too_large"
    # A second night: nothing changed, so nothing is parsed again, and the verdicts stand.
    again = ingest_paths(tmp_path / "idx", [folder], EMB, options)
    assert {s for s, _ in _verdicts(again.files).values()} <= {"unchanged", "failed", "excluded", "skipped"}
    assert again.generation == report.generation and again.seconds < report.seconds


@pytest.mark.slow
def test_adversarial_texts_get_their_manifest_verdicts(tmp_path: Path) -> None:
    folder = need(TEXT_ADV)
    report = ingest_paths(tmp_path / "idx", [folder], EMB, IngestOptions(workers=1))
    verdicts = _verdicts(report.files)
    for name, code in TEXT_REFUSED.items():
        assert verdicts[name] == ("failed", code)
    readable = [n for n in verdicts if n.endswith(".txt") and n not in TEXT_REFUSED]
    assert readable and all(verdicts[n] == ("added", None) for n in readable)
    assert report.exit_code == 2


def test_moved_file_reuses_its_embeddings(tmp_path: Path, sample_dir: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(sample_dir, docs)
    first = ingest_paths(tmp_path / "idx", [docs], EMB)
    guide = next(f for f in first.files if f.path.endswith("user-guide.pdf"))
    (docs / "archive").mkdir()
    (docs / "user-guide.pdf").rename(docs / "archive" / "user-guide.pdf")
    moved = ingest_paths(tmp_path / "idx", [docs], EMB)
    by_path = {str(Path(f.path).relative_to(docs)): f for f in moved.files}
    assert by_path["user-guide.pdf"].status == "removed"
    assert by_path["archive/user-guide.pdf"].status == "added"
    assert by_path["archive/user-guide.pdf"].reused == by_path["archive/user-guide.pdf"].chunks == guide.chunks
    with Index.open(tmp_path / "idx") as index:
        assert index.check() == [] and len(index) == sum(f.chunks for f in first.files)
    # A new name is a new title in every chunk's header, so that text is embedded afresh.
    (docs / "archive" / "user-guide.pdf").rename(docs / "archive" / "guide-copy.pdf")
    renamed = ingest_paths(tmp_path / "idx", [docs], EMB)
    copy = next(f for f in renamed.files if f.path.endswith("guide-copy.pdf"))
    assert copy.status == "added" and copy.reused == 0 and copy.chunks == guide.chunks


def test_password_file_opens_encrypted_pdf(tmp_path: Path) -> None:
    source = need(PDF_ADV) / "enc_rc4_128_userpw_foo.pdf"
    locked = ingest_paths(tmp_path / "idx", [source], EMB)
    assert _verdicts(locked.files)[source.name] == ("failed", "encrypted_password_required")
    opened = ingest_paths(tmp_path / "idx", [source], EMB, IngestOptions(passwords={"*_userpw_foo.pdf": "foo"}))
    assert _verdicts(opened.files)[source.name] == ("added", None)  # retried now that a password is known
