"""The readers of files without pages (.docx .pptx .xlsx .csv .epub .eml .mbox) on the files
``scripts/make_format_fixtures.py`` wrote to tests/data/formats: what each unit says and where
(its locator), the adversarial files' verdicts, and the limits (ZIP bombs, max_pages)."""

from __future__ import annotations

import io
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from indexes import HashEmbedder, Index, ReadError
from ingest import IngestOptions, ingest_paths
from ingest.jobs import ReadJob, ReadOutcome
from ingest.readers import Document, read_document
from ingest.units import MAX_UNZIPPED, open_zip
from ingest.wire import decode_outcome, encode_outcome

FORMATS = Path(__file__).parent / "data" / "formats"

# file -> (locator, section, a sentence that unit holds)
FACTS: dict[str, tuple[str, str | None, str]] = {
    "report.docx": ("Warranty terms", "Warranty terms", "The warranty on the Zephyr pump lasts seven years"),
    "deck.pptx": ("slide 2", "Budget", "The lighthouse renovation budget is 48,000 euros."),
    "ledger.xlsx": ('sheet "Q3" rows 22-41', "Q3", "Customer: Okonkwo Marine Ltd\nAmount: 359"),
    "inventory.csv": ("rows 22-41", None, "item: tungsten crucible\nlocation: shelf B7"),
    "lighthouse.epub": ("The Storm", "The Storm", "the keeper's cat, Marmalade, slept in the lamp room"),
    "roof-quote.eml": ("Roof repair quote (2024-03-05 09:15)", "Roof repair quote",
                       "The roofer quoted 3,450 euros to replace the slates"),
    "harbour.mbox": ("Boat mooring (2024-03-07 08:00)", "Boat mooring",
                     "The mooring fee at the east pontoon went up to 95 euros a month."),
}

# Every fixture's verdict when a folder of them is ingested: (status, reason).
VERDICTS: dict[str, tuple[str, str | None]] = {
    **{name: ("added", None) for name in FACTS},
    "malformed-mime.eml": ("added", None),     # read as far as the parser gets: its words stay findable
    "missing-spine.epub": ("added", None),     # the chapters that exist are read; the missing one is logged
    "truncated.docx": ("failed", "parse_error"),
    "bomb.xlsx": ("failed", "too_large"),
    "encrypted.docx": ("failed", "encrypted_password_required"),
    "docx-named.pdf": ("failed", "wrong_type"),
}


def _unit(doc: Document, locator: str):  # type: ignore[no-untyped-def]
    found = [p for p in doc.pages if p.locator == locator]
    assert found, f"no unit {locator!r} in {[p.locator for p in doc.pages]}"
    return found[0]


def test_the_fixtures_are_all_there() -> None:
    assert {p.name for p in FORMATS.iterdir()} == set(VERDICTS)


@pytest.mark.parametrize("name", sorted(FACTS))
def test_each_reader_finds_its_fact_at_its_locator(name: str) -> None:
    locator, section, fact = FACTS[name]
    doc = read_document(FORMATS / name)
    assert doc.kind == Path(name).suffix[1:]
    assert all(p.number is None and p.locator for p in doc.pages)  # pages are PDF pages only
    unit = _unit(doc, locator)
    assert fact in unit.text and unit.section == section
    assert doc.page_count == len(doc.pages)


def test_docx_keeps_reading_order_and_writes_tables_as_header_value_lines() -> None:
    doc = read_document(FORMATS / "report.docx")
    assert [p.locator for p in doc.pages] == ["Pump maintenance report", "Warranty terms", "Suppliers"]
    suppliers = _unit(doc, "Suppliers").text
    assert "Part: check valve\nSupplier: Krause Hydraulik GmbH" in suppliers
    assert suppliers.index("Krause") < suppliers.index("Orders go out")  # the paragraph after the table


def test_pptx_has_a_unit_per_slide_with_its_notes_and_tables() -> None:
    doc = read_document(FORMATS / "deck.pptx")
    assert [p.locator for p in doc.pages] == ["slide 1", "slide 2", "slide 3"]
    assert "Role: architect\nName: Ines Valdivia" in doc.pages[0].text
    assert "Notes: The lantern glass arrives from Bremen on 12 May." in doc.pages[2].text


def test_sheets_name_rows_as_the_spreadsheet_numbers_them() -> None:
    ledger = read_document(FORMATS / "ledger.xlsx")
    assert [p.locator for p in ledger.pages] == ['sheet "Q3" rows 2-21', 'sheet "Q3" rows 22-41',
                                                 'sheet "Q3" rows 42-61', 'sheet "Notes" rows 2-2']
    assert "Invoice: INV-1037\nCustomer: Okonkwo Marine Ltd" in ledger.pages[1].text
    csv = read_document(FORMATS / "inventory.csv")
    assert [p.locator for p in csv.pages] == ["rows 2-21", "rows 22-41", "rows 42-45"]


def test_epub_chapters_in_spine_order_without_the_table_of_contents() -> None:
    doc = read_document(FORMATS / "lighthouse.epub")
    assert [p.locator for p in doc.pages] == ["The Harbour", "The Storm", "Morning"]


def test_mail_reads_headers_body_and_attachments_by_their_own_reader() -> None:
    doc = read_document(FORMATS / "roof-quote.eml")
    message, attachment = doc.pages
    assert message.text.startswith("From: Dana Whitlock <dana@example.org>\nTo: Sam Okafor <sam@example.org>")
    assert "Subject: Roof repair quote" in message.text and "slate,420" not in message.text
    assert attachment.locator == "Roof repair quote (2024-03-05 09:15), attachment materials.csv, rows 2-3"
    assert "material: copper nails\nquantity: 2000" in attachment.text  # read as a CSV, by column name
    mbox = read_document(FORMATS / "harbour.mbox")
    assert [p.locator for p in mbox.pages] == ["Boat mooring (2024-03-07 08:00)", "Re: Boat mooring (2024-03-08 17:30)"]
    assert "\nFrom now on it is paid quarterly." in mbox.pages[0].text  # ">From " unquoted


def test_malformed_mime_and_missing_spine_item_are_read_as_far_as_they_go(caplog: pytest.LogCaptureFixture) -> None:
    mail = read_document(FORMATS / "malformed-mime.eml")
    assert "The gutter inspector found a crack above the kitchen window." in mail.pages[0].text
    book = read_document(FORMATS / "missing-spine.epub")
    assert [p.locator for p in book.pages] == ["The Harbour", "Morning"]
    assert "malformed message" in caplog.text and "'chap2', which is not a chapter" in caplog.text


def test_an_epub_missing_a_chapter_file_is_damaged(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(FORMATS / "lighthouse.epub") as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            if not item.filename.endswith("chap_2.xhtml"):
                target.writestr(item, source.read(item.filename))
    (tmp_path / "book.epub").write_bytes(out.getvalue())
    with pytest.raises(ReadError) as info:
        read_document(tmp_path / "book.epub")
    assert info.value.code == "parse_error" and "damaged EPUB" in info.value.message


@pytest.mark.parametrize(("name", "code", "words"), [
    ("truncated.docx", "parse_error", "damaged Word document"),
    ("bomb.xlsx", "too_large", "ZIP bomb"),
    ("encrypted.docx", "encrypted_password_required", "password-protected Office file"),
    ("docx-named.pdf", "wrong_type", "is a DOCX file, not a PDF file"),
])
def test_bad_files_get_a_specific_reason(name: str, code: str, words: str) -> None:
    with pytest.raises(ReadError) as info:
        read_document(FORMATS / name)
    assert info.value.code == code and words in info.value.message and name in info.value.message


def test_a_password_protected_docx_opens_with_its_password(tmp_path: Path) -> None:
    doc = read_document(FORMATS / "encrypted.docx", password="fixture")
    assert doc.kind == "docx" and doc.pages == read_document(FORMATS / "report.docx").pages
    with pytest.raises(ReadError) as info:
        read_document(FORMATS / "encrypted.docx", password="not it")
    assert info.value.code == "wrong_password"
    # Through the pipeline: refused without a password, then read when the password file names it.
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(FORMATS / "encrypted.docx", folder)
    emb = HashEmbedder()
    first = ingest_paths(tmp_path / "idx", [folder], emb, IngestOptions(workers=1))
    assert [(f.status, f.reason) for f in first.files] == [("failed", "encrypted_password_required")]
    second = ingest_paths(tmp_path / "idx", [folder], emb, IngestOptions(workers=1, passwords={"encrypted.*": "fixture"}))
    assert [(f.status, f.reason, f.pages) for f in second.files] == [("added", None, 3)]


def test_a_zip_bomb_is_refused_before_anything_is_inflated() -> None:
    with zipfile.ZipFile(FORMATS / "bomb.xlsx") as archive:
        inflated = sum(m.file_size for m in archive.infolist())
    assert inflated > 60 << 20 and (FORMATS / "bomb.xlsx").stat().st_size < 100_000
    tracemalloc.start()
    try:
        with pytest.raises(ReadError) as info:
            read_document(FORMATS / "bomb.xlsx")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == "too_large"
    assert peak < 4 << 20, f"{peak:,} bytes allocated: the sheet was inflated"


def test_a_declared_total_over_the_limit_is_refused() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    data = bytearray(out.getvalue())
    directory = data.index(b"PK\x01\x02")  # the central directory entry: patch its uncompressed size
    data[directory + 24:directory + 28] = (MAX_UNZIPPED + 1).to_bytes(4, "little")
    with pytest.raises(ReadError) as info:
        open_zip(bytes(data), "big.docx", "Word document")
    assert info.value.code == "too_large" and "would unpack to" in info.value.message


@pytest.mark.parametrize(("name", "limit", "what"), [
    ("deck.pptx", 2, "slides"), ("ledger.xlsx", 2, "blocks of rows"), ("inventory.csv", 2, "blocks of rows"),
    ("lighthouse.epub", 2, "chapters"), ("harbour.mbox", 1, "messages"), ("report.docx", 2, "sections"),
])
def test_max_pages_bounds_slides_rows_chapters_and_messages(name: str, limit: int, what: str) -> None:
    with pytest.raises(ReadError) as info:
        read_document(FORMATS / name, max_pages=limit)
    assert info.value.code == "too_large" and what in info.value.message


def test_a_pptx_named_docx_is_read_as_the_presentation_it_is(tmp_path: Path) -> None:
    shutil.copy(FORMATS / "deck.pptx", tmp_path / "deck.docx")
    doc = read_document(tmp_path / "deck.docx")
    assert doc.kind == "pptx" and doc.pages[1].locator == "slide 2"


def test_units_cross_the_worker_pipe_with_their_locators() -> None:
    doc = read_document(FORMATS / "deck.pptx")
    job = ReadJob(FORMATS / "deck.pptx")
    back = decode_outcome(encode_outcome(7, ReadOutcome(job, doc)), job).document
    assert back == doc and back is not None and back.pages[1].section == "Budget"


@pytest.mark.slow
def test_a_folder_of_every_format_gets_each_verdict_and_the_batch_goes_on(tmp_path: Path) -> None:
    report = ingest_paths(tmp_path / "idx", [FORMATS], HashEmbedder(dimension=128),
                          IngestOptions(workers=1, file_timeout=60))
    verdicts = {Path(f.path).name: (f.status, f.reason) for f in report.files}
    assert verdicts == VERDICTS
    assert report.exit_code == 2
    with Index.open(tmp_path / "idx") as index:
        assert index.check() == []
        records = {Path(s.path).name: s for s in index.sources()}
        assert records["deck.pptx"].pages == 3 and records["deck.pptx"].kind == "pptx"
        assert records["bomb.xlsx"].reason == "too_large"


def test_a_failing_attachment_is_logged_and_the_rest_of_the_mail_is_read(tmp_path: Path,
                                                                         caplog: pytest.LogCaptureFixture) -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "Renovation papers"
    message["Date"] = "Mon, 11 Mar 2024 10:00:00 +0000"
    message.set_content("Both files are attached.")
    message.add_attachment((FORMATS / "truncated.docx").read_bytes(), maintype="application",
                           subtype="octet-stream", filename="truncated.docx")
    message.add_attachment((FORMATS / "deck.pptx").read_bytes(), maintype="application",
                           subtype="octet-stream", filename="deck.pptx")
    (tmp_path / "papers.eml").write_bytes(message.as_bytes())
    doc = read_document(tmp_path / "papers.eml")
    assert [p.locator for p in doc.pages] == [
        "Renovation papers (2024-03-11 10:00)", *(f"Renovation papers (2024-03-11 10:00), attachment deck.pptx, slide {n}"
                                                 for n in (1, 2, 3))]
    assert "48,000 euros" in doc.pages[2].text
    assert "attachment truncated.docx of 'Renovation papers' not read (parse_error" in caplog.text
