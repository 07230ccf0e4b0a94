"""OCR of scanned PDFs and images: real RapidOCR models on images drawn here, and the scanned PDF of the shared data.

Each image holds a sentence drawn with Pillow in a large font; the test reads it back through
``read_document`` (and through the whole ingest, for the scanned PDF) and checks its words.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from indexes import HashEmbedder
from indexes.errors import ReadError
from ingest import IngestOptions, ingest_paths
from ingest.ocr import Box, lines_in_reading_order
from ingest.readers import read_document

from .conftest import shared

SENTENCE = "The quarterly invoice was paid on Tuesday"
OTHER = "Seven green lanterns hang above the harbour"


def _words(text: str) -> set[str]:
    return {w.strip(".,").lower() for w in text.split()}


def _drawn(*lines: str) -> Image.Image:
    font = ImageFont.load_default(size=44)
    image = Image.new("RGB", (1300, 120 + 90 * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((60, 60 + 90 * row), line, fill="black", font=font)
    return image


def _refused(path: Path, **kwargs: object) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_document(path, **kwargs)  # type: ignore[arg-type]
    return info.value


@pytest.mark.slow
def test_png_is_read_by_ocr_in_reading_order(tmp_path: Path) -> None:
    path = tmp_path / "note.png"
    _drawn(SENTENCE, OTHER).save(path)
    doc = read_document(path)
    assert doc.kind == "image" and doc.page_count == 1
    (page,) = doc.pages
    assert page.ocr and page.number is None
    first, second = page.text.splitlines()
    assert _words(SENTENCE) <= _words(first) and _words(OTHER) <= _words(second)


@pytest.mark.slow
def test_image_only_pdf_is_ocr_d_page_by_page(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    _drawn(SENTENCE).save(path, "PDF", save_all=True, append_images=[_drawn(OTHER)], resolution=150)
    doc = read_document(path)
    assert doc.kind == "pdf" and doc.page_count == 2
    assert [(p.number, p.ocr) for p in doc.pages] == [(1, True), (2, True)]
    assert _words(SENTENCE) <= _words(doc.pages[0].text) and _words(OTHER) <= _words(doc.pages[1].text)
    assert _refused(path, ocr=False).code == "no_text_layer"  # OCR off: the old verdict


@pytest.mark.slow
def test_multi_page_tiff_gives_one_numbered_page_per_frame(tmp_path: Path) -> None:
    path = tmp_path / "fax.tiff"
    blank = Image.new("RGB", (900, 300), "white")
    _drawn(SENTENCE).save(path, save_all=True, append_images=[blank, _drawn(OTHER)])
    doc = read_document(path)
    assert doc.kind == "image" and doc.page_count == 3
    assert [p.number for p in doc.pages] == [1, 3]  # the blank frame is skipped, numbers stay physical
    assert _words(OTHER) <= _words(doc.pages[1].text)


def test_blank_image_has_no_text_found(tmp_path: Path) -> None:
    path = tmp_path / "blank.jpg"
    Image.new("RGB", (800, 600), "white").save(path)
    error = _refused(path)
    assert error.code == "no_text_found" and "blank.jpg" in error.message


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (10_000, 10_000)).save(path)  # 100 megapixels in a few kilobytes
    assert path.stat().st_size < 100_000
    started = time.perf_counter()
    error = _refused(path)
    assert error.code == "too_large" and "decompression bomb" in error.message
    assert time.perf_counter() - started < 2


def test_ocr_off_keeps_the_old_verdicts(tmp_path: Path) -> None:
    path = tmp_path / "note.png"
    _drawn(SENTENCE).save(path)
    assert _refused(path, ocr=False).code == "unsupported_type"
    scanned = shared("pdfs", "adversarial", "scanned_no_text_layer.pdf")
    assert _refused(scanned, ocr=False).code == "no_text_layer"


def test_damaged_image_is_a_parse_error(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    _drawn(SENTENCE).save(path)
    path.write_bytes(path.read_bytes()[:200])
    assert _refused(path).code == "parse_error"


def _box(text: str, left: float, top: float, width: float = 100, height: float = 20) -> Box:
    return Box(text, 0.9, left, top, left + width, top + height)


def test_reading_order_joins_lines_and_reads_columns_one_after_the_other() -> None:
    boxes = [  # a title across both columns, then two columns of two lines, given in a scrambled order
        _box("column", 0, 100), _box("Title", 0, 0, 810, 30), _box("two,", 600, 140), _box("left", 110, 100),
        _box("right", 710, 100), _box("line", 0, 140), _box("column", 600, 100), _box("two", 110, 140)]
    assert lines_in_reading_order(boxes) == ["Title", "column left", "line two", "column right", "two,"]


@pytest.mark.slow
def test_scanned_pdf_is_indexed_and_found_by_search(tmp_path: Path) -> None:
    from rag import RAG

    scanned = shared("pdfs", "adversarial", "scanned_no_text_layer.pdf")
    report = ingest_paths(tmp_path / "idx", [scanned], HashEmbedder(), IngestOptions(workers=1))
    (result,) = report.files
    assert (result.status, result.reason) == ("added", None) and result.chunks >= 1
    with RAG.open(tmp_path / "idx", embedder=HashEmbedder(), mode="bm25") as rag:
        hits = rag.search("attempting to select the text on the page")
    assert hits and hits[0].chunk.source == str(scanned.absolute()) and hits[0].chunk.page == 1
    assert "non-text-searchable" in hits[0].chunk.text.lower()
    off = ingest_paths(tmp_path / "off", [scanned], HashEmbedder(), IngestOptions(workers=1, ocr=False))
    assert [(f.status, f.reason) for f in off.files] == [("failed", "no_text_layer")]


@pytest.mark.slow
def test_a_parser_worker_reports_each_ocr_page_so_its_clock_restarts(tmp_path: Path) -> None:
    from ingest.jobs import ReadJob
    from ingest.workers import _Worker

    path = tmp_path / "scan.pdf"
    _drawn(SENTENCE).save(path, "PDF", save_all=True, append_images=[_drawn(OTHER)], resolution=150)
    worker = _Worker(None, {}, threads=1)
    try:
        sent = time.monotonic()
        worker.send(0, ReadJob(path))
        reply = worker.reply(timeout=300)
        assert isinstance(reply, dict) and reply["document"]["page_count"] == 2
        assert [page[4] for page in reply["document"]["pages"]] == [True, True]  # the ocr flag crossed the wire
        assert worker._progress > sent  # a progress frame arrived: the time limit counts from the last page read
    finally:
        worker.stop(kill=False)



@pytest.mark.slow
def test_an_image_skipped_with_ocr_off_is_read_when_retried_with_ocr_on(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    _drawn(SENTENCE).save(docs / "receipt.jpg")
    off = ingest_paths(tmp_path / "idx", [docs], HashEmbedder(), IngestOptions(ocr=False))
    assert [(f.status, f.reason) for f in off.files] == [("skipped", "unsupported_type")]
    unchanged = ingest_paths(tmp_path / "idx", [docs], HashEmbedder(), IngestOptions())
    assert [f.status for f in unchanged.files] == ["skipped"]  # an unchanged file keeps its verdict
    retried = ingest_paths(tmp_path / "idx", [docs], HashEmbedder(), IngestOptions(retry_failed=True))
    assert [(f.status, f.reason) for f in retried.files] == [("added", None)]


def test_no_ocr_flag_and_setting_reach_the_reader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rag.cli import main
    from rag.config import load_config

    docs = tmp_path / "docs"
    docs.mkdir()
    _drawn(SENTENCE).save(docs / "note.png")
    main(["--embedder", "hash", "ingest", str(docs), "--index", str(tmp_path / "idx"), "--json", "--no-ocr"])
    (result,) = json.loads(capsys.readouterr().out)["files"]
    assert (result["status"], result["reason"]) == ("skipped", "unsupported_type")
    assert load_config(env={"RAG_OCR": "0"}).ocr is False and load_config().ocr is True


@pytest.mark.slow
def test_a_poster_sized_blank_page_is_rendered_within_bounds(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=14_400, height=14_400)  # 200 inches square: 1.6 gigapixels at 200 dpi
    path = tmp_path / "poster.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    assert _refused(path).code == "no_text_layer"  # rendered smaller, OCR'd, nothing found: not a MemoryError
