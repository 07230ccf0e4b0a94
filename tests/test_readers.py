"""Tests of ``ingest.readers.read_document`` on real and adversarial files.

Every file listed in the shared data's adversarial manifests gets a verdict:
either the text it must yield or the reason code it must be refused with.
Tests that need ``../shared/data`` skip when it is absent.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from indexes.errors import ReadError
from ingest.decode import normalise_text
from ingest.pdf import script_soup
from ingest.readers import Document, Page, clean_pdf_text, read_document

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PDF_ADV = DATA / "pdfs" / "adversarial"
TEXT_ADV = DATA / "text" / "adversarial"
REAL = DATA / "pdfs" / "real"
MAX_PAGES = 1000  # a realistic cap: the 20,000-page file must be refused without parsing


def manifest_names(folder: Path) -> list[str]:
    """File names listed in ``folder/MANIFEST.md`` (empty when the data is absent)."""
    manifest = folder / "MANIFEST.md"
    if not manifest.exists():
        return []
    return re.findall(r"^\| `([^`]+)` \|", manifest.read_text(encoding="utf-8"), re.M)


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared evaluation data not found at {path}")
    return path


def refused(path: Path, **kwargs: Any) -> ReadError:
    with pytest.raises(ReadError) as info:
        read_document(path, **kwargs)
    return info.value


def full_text(doc: Document) -> str:
    return "\n".join(page.text for page in doc.pages)


# ------------------------------------------------------- adversarial PDFs
# A str is a reason code; a tuple is (kind, text that must appear).
NAACL = ("pdf", "Preemptive Information Extraction using Unrestricted Relation Discovery")
PDF_VERDICTS: dict[str, str | tuple[str, str]] = {
    "actually_docx.pdf": "wrong_type",
    "actually_html.pdf": ("html", "Haystack is the open source Python framework"),
    "actually_png.pdf": "wrong_type",
    "arabic_rotated_pages.pdf": ("pdf", "habibi"),
    "bad_color_space.pdf": ("pdf", "Environmental Report"),
    "broken_xref_table_issue297.pdf": ("pdf", "test example"),
    "chinese_notes_mostly_images_nonembedded_cjk_fonts.pdf": "no_text_layer",  # with OCR off: see OCR_TOO_SLOW
    "corrupt_zen_of_python.pdf": ("pdf", "Beautiful is better than ugly."),
    "duplicate_chars_fake_bold.pdf": ("pdf", "计算机科学与技术"),
    "empty_zero_bytes.pdf": "empty",
    "enc_aes128_r4_userpw_asdfzxcv.pdf": "encrypted_password_required",
    "enc_aes256_crazyones_pw_password.pdf": "encrypted_password_required",
    "enc_aes256_r6_owner_only_empty_userpw.pdf": ("pdf", "pdf encryption test"),
    "enc_aes256_r6_user_foo_owner_bar.pdf": "encrypted_password_required",
    "enc_aes256_r6_userpw_asdfzxcv.pdf": ("pdf", "pdf encryption test"),  # empty OWNER password
    "enc_aes256_r6_usersecret.pdf": "encrypted_password_required",
    "enc_copy_protected_no_copy_permission.pdf": ("pdf", "LayoutParser"),
    "enc_docling_paper_page_userpw_1234.pdf": "encrypted_password_required",
    "enc_empty_userpw_no_trailer_id.pdf": ("pdf", "WO 2003/036426"),  # opens with "", images only: OCR'd
    "enc_libreoffice_userpw_openpassword.pdf": "encrypted_password_required",
    "enc_pdfplumber_userpw_test.pdf": "encrypted_password_required",
    "enc_rc4_128_userpw_foo.pdf": "encrypted_password_required",
    "enc_rc4_40bit_r2_userpw_asdfzxcv.pdf": "encrypted_password_required",
    "enc_real_doc_dmca_empty_userpw_18p.pdf": ("pdf", "Copyright Office"),
    "enc_reference_unencrypted.pdf": ("pdf", "pdf encryption test"),
    "evil_recursive_xobjects.pdf": "parse_error",
    "failure_after_repair.pdf": ("pdf", "A guide for people with cancer"),
    "garbage_after_pdf_header.pdf": "parse_error",
    "garbled_xref_offsets_naacl06.pdf": NAACL,
    "header_only.pdf": "parse_error",
    "huge_619_pages_2.9MB.pdf": ("pdf", "Table of Contents"),
    "image_only_ccitt_fax.pdf": "no_text_layer",  # OCR finds no text on it either
    "invalid_structure_pdfminer_one_page.pdf": ("pdf", "Threats Highlight the Importance"),
    "invisible_text_render_mode3.pdf": ("pdf", "Invisible OCR text layer"),
    "malformed_pdfplumber_issue932.pdf": ("pdf", "2021"),
    "negative_coordinates.pdf": ("pdf", "Carbon Footprint"),
    "non_unicode_cmap_garbled_text.pdf": ("pdf", "prostredky"),  # garbled text layer, so OCR'd (Czech, accents lost)
    "paper_with_empty_pages.pdf": ("pdf", "LayoutParser"),
    "rotated_page_90.pdf": ("pdf", "Hello World Test Text"),
    "scanned_historic_ocr_vicksburg.pdf": ("pdf", "SIEGE"),
    "scanned_no_text_layer.pdf": ("pdf", "This is an example of a non-text-searchable PDF"),
    "scanned_ocr_test_no_text.pdf": ("pdf", "Docling bundles PDF document conversion"),
    "scanned_ocr_test_rotated_90.pdf": ("pdf", "Docling bundles PDF document conversion"),  # rendered upright
    "scanned_with_ocr_text_layer.pdf": ("pdf", "Foundation"),
    "synthetic_20000_pages_3MB.pdf": "too_large",  # refused by MAX_PAGES
    "truncated_attention_50pct.pdf": "parse_error",
    "truncated_attention_first_4KB.pdf": "parse_error",
    "wrong_startxref_naacl06.pdf": NAACL,
}
SLOW_PDFS = {"huge_619_pages_2.9MB.pdf"}  # ~20 s of pypdf extraction
# Pages without a usable text layer, OCR'd: seconds of CPU each, so marked slow.
OCR_PDFS = {"enc_empty_userpw_no_trailer_id.pdf", "image_only_ccitt_fax.pdf", "non_unicode_cmap_garbled_text.pdf",
            "scanned_no_text_layer.pdf", "scanned_ocr_test_no_text.pdf", "scanned_ocr_test_rotated_90.pdf",
            "paper_with_empty_pages.pdf"}  # page 3 is an image: "This page is intentionally left blank"
# 100 scanned pages: minutes of OCR. Its verdict is checked with OCR off.
OCR_TOO_SLOW = {"chinese_notes_mostly_images_nonembedded_cjk_fonts.pdf"}


def _params(names: list[str], slow: set[str]) -> list[Any]:
    return [pytest.param(n, marks=pytest.mark.slow) if n in slow else n for n in names]


def test_every_manifest_pdf_has_a_verdict() -> None:
    names = manifest_names(need(PDF_ADV))
    assert len(names) == 48
    assert set(names) == set(PDF_VERDICTS)


@pytest.mark.parametrize("name", _params(manifest_names(PDF_ADV), SLOW_PDFS | OCR_PDFS))
def test_adversarial_pdf_verdict(name: str) -> None:
    verdict = PDF_VERDICTS[name]
    path = PDF_ADV / name
    ocr = name not in OCR_TOO_SLOW
    if isinstance(verdict, str):
        error = refused(path, max_pages=MAX_PAGES, ocr=ocr)
        assert error.code == verdict, error.message
        assert name in error.message
    else:
        kind, needle = verdict
        doc = read_document(path, max_pages=MAX_PAGES)
        assert doc.kind == kind
        assert needle in full_text(doc)
        assert any(page.ocr for page in doc.pages) == (name in OCR_PDFS)
        assert doc.pages and all(page.text.strip() for page in doc.pages)
        assert doc.path == str(path.absolute())


PASSWORDS = {
    "enc_aes128_r4_userpw_asdfzxcv.pdf": "asdfzxcv",
    "enc_aes256_crazyones_pw_password.pdf": "password",
    "enc_aes256_r6_user_foo_owner_bar.pdf": "foo",
    "enc_aes256_r6_usersecret.pdf": "usersecret",
    "enc_docling_paper_page_userpw_1234.pdf": "1234",
    "enc_libreoffice_userpw_openpassword.pdf": "openpassword",
    "enc_pdfplumber_userpw_test.pdf": "test",
    "enc_rc4_128_userpw_foo.pdf": "foo",
    "enc_rc4_40bit_r2_userpw_asdfzxcv.pdf": "asdfzxcv",
}


@pytest.mark.parametrize(("name", "password"), sorted(PASSWORDS.items()))
def test_encrypted_pdf_opens_with_its_password_and_refuses_a_wrong_one(name: str, password: str) -> None:
    path = need(PDF_ADV / name)
    doc = read_document(path, password=password)
    assert doc.kind == "pdf" and full_text(doc).strip()
    error = refused(path, password=password + "-wrong")
    assert error.code == "wrong_password"


def test_password_protected_pdfs_with_known_content_match_the_reference() -> None:
    reference = full_text(read_document(need(PDF_ADV / "enc_reference_unencrypted.pdf")))
    assert "password: asdfzxcv" in reference
    for name in ("enc_aes128_r4_userpw_asdfzxcv.pdf", "enc_rc4_40bit_r2_userpw_asdfzxcv.pdf"):
        assert full_text(read_document(PDF_ADV / name, password="asdfzxcv")) == reference
    assert full_text(read_document(PDF_ADV / "enc_aes256_r6_user_foo_owner_bar.pdf", password="foo")) == reference


@pytest.mark.slow
def test_blank_pages_are_skipped_but_numbering_stays_physical() -> None:
    doc = read_document(need(PDF_ADV / "paper_with_empty_pages.pdf"))
    assert doc.page_count == 4
    assert [(page.number, page.ocr) for page in doc.pages] == [(1, False), (3, True), (4, False)]
    assert "This page is intentionally left blank" in doc.pages[1].text  # an image of text, so OCR'd
    assert [page.number for page in read_document(PDF_ADV / "paper_with_empty_pages.pdf", ocr=False).pages] == [1, 4]


def test_rotated_pages_give_readable_words() -> None:
    doc = read_document(need(PDF_ADV / "arabic_rotated_pages.pdf"))
    assert [page.number for page in doc.pages] == [1, 2, 3, 4]
    assert all("habibi" in page.text for page in doc.pages)


def test_repaired_xref_gives_the_same_text_as_the_intact_source() -> None:
    intact = read_document(need(REAL / "paper_naacl06_shinyama_two_column.pdf"))
    for name in ("wrong_startxref_naacl06.pdf", "garbled_xref_offsets_naacl06.pdf"):
        assert read_document(PDF_ADV / name).pages == intact.pages


def test_twenty_thousand_pages_are_refused_before_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    from pypdf import PageObject

    path = need(PDF_ADV / "synthetic_20000_pages_3MB.pdf")
    extracted = []
    original = PageObject.extract_text
    monkeypatch.setattr(PageObject, "extract_text", lambda self, *a, **k: extracted.append(1) or original(self, *a, **k))
    error = refused(path, max_pages=100)
    assert extracted == []  # refused from the declared page count: not one page's text was extracted
    assert error.code == "too_large"
    assert "20,000 pages" in error.message


def test_max_bytes_refuses_before_reading() -> None:
    path = need(PDF_ADV / "huge_619_pages_2.9MB.pdf")
    assert refused(path, max_bytes=1_000_000).code == "too_large"


def test_a_failing_page_is_skipped_not_fatal(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from pypdf import PageObject

    path = need(REAL / "paper_attention_is_all_you_need_1706.03762v5.pdf")
    original = PageObject.extract_text
    calls = {"n": 0}

    def flaky(self: PageObject, *args: Any, **kwargs: Any) -> str:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError("synthetic failure")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PageObject, "extract_text", flaky)
    with caplog.at_level(logging.WARNING, logger="ingest.pdf"):
        doc = read_document(path)
    assert doc.page_count == 15
    assert 2 not in [page.number for page in doc.pages]
    assert 3 in [page.number for page in doc.pages]
    assert "skipped page 2" in caplog.text


# ------------------------------------------------------------- real PDFs


def test_attention_paper() -> None:
    doc = read_document(need(REAL / "paper_attention_is_all_you_need_1706.03762v5.pdf"))
    assert doc.kind == "pdf"
    assert doc.page_count == 15
    assert doc.pages[0].number == 1
    assert "Attention Is All You Need" in doc.pages[0].text
    assert "Scaled Dot-Product Attention" in full_text(doc)


@pytest.mark.slow  # pages with mostly garbled text are OCR'd
def test_garbled_lines_are_dropped_and_real_text_on_the_same_page_kept() -> None:
    doc = read_document(need(REAL / "paper_react_2210.03629.pdf"))
    page2 = next(page for page in doc.pages if page.number == 2)
    assert "In this work, we present ReAct" in page2.text
    assert "\x03" not in page2.text and "$FW" not in page2.text  # "Act " in a broken font


def test_pdf_named_txt_is_read_as_pdf() -> None:
    doc = read_document(need(TEXT_ADV / "actually_pdf.txt"))
    intact = read_document(need(REAL / "paper_naacl06_shinyama_two_column.pdf"))
    assert doc.kind == "pdf" and doc.page_count == 8
    assert doc.pages == intact.pages


# --------------------------------------------------------- synthetic PDFs


def _blank_pdf(tmp_path: Path, pages: int) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / "blank.pdf"
    path.write_bytes(buffer.getvalue())
    return path


def test_pdf_without_text_is_never_an_empty_document(tmp_path: Path) -> None:
    assert refused(_blank_pdf(tmp_path, 3)).code == "no_text_layer"


def test_page_limit_counts_physical_pages(tmp_path: Path) -> None:
    path = _blank_pdf(tmp_path, 5)
    assert refused(path, max_pages=4).code == "too_large"
    assert refused(path, max_pages=5).code == "no_text_layer"  # within the limit, then judged on text


def test_clean_pdf_text_keeps_good_lines_and_counts_garbage() -> None:
    raw = "A real sentence about contracts.\n$FW\x03\x14\x1d\x037KLQN\x03VKDNHU\nmath \ue000 \x01 ok\n(cid:12)(cid:13)"
    text, total, kept = clean_pdf_text(raw)
    assert text.splitlines()[0] == "A real sentence about contracts."
    assert "KLQN" not in text and "cid" not in text
    assert kept < total
    assert clean_pdf_text("") == ("", 0, 0)


@pytest.mark.parametrize(("text", "soup"), [
    ("ಘΒΕͨ୯ޠ", True),                                    # a heading of the real Japanese slides, read through a broken map
    ("୯ޠରΛධՁͨ͠ ߹", True),
    ("スコアの高い単語を抽出した", False),                   # the Japanese it stands for
    ("삼성카드의 포인트는 빅포인트, 보너스포인트로 구분되며", False),
    ("Sei α ∈ ℝ und β eine Abbildung mit γ ∘ δ = id", False),  # German mathematics with Greek letters
    ("English Ελληνικά Русский العربية 日本語 한국어", False),   # a list of languages switches by word, not by letter
    ("فهرست شرکت‌های پذیرفته شده در بورس کالا", False),
    ("함수 f(α)는 實數 β에 대하여 γ로 정의된다", False),     # Korean glues particles to Greek letters and mixes Hanja
    ("ここでαとβとШは群である", False),
    ("Α α А а Ա ա Ⴀ ⴀ", False),                             # an alphabet table: a script per word
])
def test_script_soup_tells_a_broken_font_map_from_a_language(text: str, soup: bool) -> None:
    assert script_soup(text, line=True) is soup
    assert (clean_pdf_text(text)[0] == "") is soup


def test_real_japanese_slides_drop_their_garbled_lines_and_keep_the_english_table() -> None:
    """The NLP2004 slides' CJK font reads as Greek, Oriya and Thaana letters: those lines go and the
    table rows stay; most of the file's text is such soup, so without OCR it is refused as garbled."""
    from pypdf import PdfReader

    path = need(REAL / "slides_japanese_nlp2004.pdf")
    reader = PdfReader(path)
    pages = {number: clean_pdf_text(reader.pages[number - 1].extract_text()) for number in (2, 17, 26)}
    assert "sykesville" in pages[17][0] and "goran klintmalm" in pages[26][0]
    for text, _total, _kept in pages.values():
        assert not any(script_soup(line, line=True) for line in text.splitlines())
        assert all(char.isascii() or not char.isalpha() for char in text), text
    _title, title_total, title_kept = pages[2]
    assert title_kept < title_total * 0.1  # the title page is all soup: it goes to OCR
    assert refused(path, ocr=False).code == "low_quality_text"


def test_a_soup_page_keeps_its_ascii_and_accented_latin_lines() -> None:
    """On a page of soup only lines with letters of other scripts go: a table row naming Zürich stays."""
    soup = "\n".join(["ಘΒΕͨ୯ޠ ରΛධՁ", "୯ޠରΛධՁͨ͠ ߹", "είΞͷ୯ޠ ಘΒΕ", "sykesville Zürich 12", "Łódź 7", "Iași 5 µm",
                      "Zu\u0308rich"])
    text, _total, _kept = clean_pdf_text(soup)
    assert script_soup(soup) and text.splitlines() == ["sykesville Zürich 12", "Łódź 7", "Iași 5 µm", "Zu\u0308rich"]


@pytest.mark.parametrize("name", ["arabic_rtl_document.pdf", "persian_rtl_document.pdf", "korean_text_with_tables.pdf",
                                  "book_german_geotopo_117p.pdf", "paper_french_olap_logs.pdf"])
def test_real_documents_in_other_scripts_are_not_soup(name: str) -> None:
    from pypdf import PdfReader

    reader = PdfReader(need(REAL / name))
    for page in reader.pages[:40]:
        text = page.extract_text() or ""
        assert not script_soup(text)
        assert not any(script_soup(line, line=True) for line in text.splitlines())


# ------------------------------------------------------- adversarial text


def _expected_twin(name: str) -> Path | None:
    twin = TEXT_ADV / f"{name}.expected.utf8.txt"
    return twin if twin.exists() else None


TEXT_NAMES = [n for n in manifest_names(TEXT_ADV) if not n.endswith(".expected.utf8.txt")]
TEXT_REFUSED = {
    "actually_png.txt": "wrong_type",
    "empty_zero_bytes.txt": "empty",
    "whitespace_only.txt": "empty",
}


def test_every_manifest_text_file_has_a_verdict() -> None:
    names = manifest_names(need(TEXT_ADV))
    assert len(names) == 30
    special = {*TEXT_REFUSED, *TEXT_CHECKS}
    assert all(n in special or _expected_twin(n) for n in names)


@pytest.mark.parametrize("name", TEXT_NAMES)
def test_adversarial_text_verdict(name: str) -> None:
    path = TEXT_ADV / name
    if name in TEXT_REFUSED:
        error = refused(path)
        assert error.code == TEXT_REFUSED[name]
        assert name in error.message
        return
    doc = read_document(path)
    text = doc.pages[0].text
    if doc.kind != "pdf":
        assert len(doc.pages) == 1 and doc.page_count == 1
        assert doc.pages[0].number is None
        assert "\x00" not in text and "\r" not in text and not text.startswith("\ufeff")
    twin = _expected_twin(name)
    if twin is not None:
        assert text == normalise_text(twin.read_text(encoding="utf-8"))
    if name in TEXT_CHECKS:
        TEXT_CHECKS[name](path, doc)
    else:
        assert twin is not None, f"no verdict for {name}"


def _raw(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def _spanish() -> str:
    return normalise_text((TEXT_ADV / "spanish_latin1.txt.expected.utf8.txt").read_text(encoding="utf-8"))


def _check_sprinkled(path: Path, doc: Document) -> None:
    text = doc.pages[0].text
    assert text.count("\ufffd") == 40  # the 40 inserted bytes, nothing else lost
    assert text.replace("\ufffd", "") == path.read_bytes().decode("utf-8", "ignore")
    assert text.replace("\ufffd", "") in _spanish()


def _check_mixed(path: Path, doc: Document) -> None:
    text = doc.pages[0].text
    assert "\ufffd" not in text and "Ã" not in text
    # the file joins its two halves with "\n\n" inside the word "llevó"
    assert _spanish().startswith(text.replace("ll\n\nevó", "llevó").rstrip("\n"))


def _check_norwich(path: Path, doc: Document) -> None:
    reference = read_document(TEXT_ADV / "norwich_city_crlf.txt").pages[0].text
    assert doc.pages[0].text == reference
    assert reference.count("\n") >= 700


def _check_same_as(other: str) -> Any:
    def check(path: Path, doc: Document) -> None:
        assert doc.pages == read_document(TEXT_ADV / other).pages

    return check


def _check_raw(path: Path, doc: Document) -> None:
    assert doc.pages[0].text == _raw(path)


def _check_unstructured(path: Path, doc: Document) -> None:
    assert doc.pages[0].text.startswith("This is a test document to use for unit tests.\n")
    assert "Dogs are the best" in doc.pages[0].text


def _check_html_cp1252(path: Path, doc: Document) -> None:
    text = doc.pages[0].text
    assert doc.kind == "html"
    assert text.startswith("My First Heading\n\nMy first paragraph.")
    for needle in ("Die schöne Frau", "15,50 €", "ñoquis", "Kvinnan åt köttbullar"):
        assert needle in text
    assert "<" not in text


def _check_html_utf16(path: Path, doc: Document) -> None:
    text = doc.pages[0].text
    assert doc.kind == "html"
    assert text.splitlines()[0].startswith("SNB22-3 - SteelJIS - Datasheet")  # the <title>
    assert "Chemical composition" in text and "JIS G 4108" in text
    assert "<" not in text and "{" not in text  # no markup, no CSS


def _check_markdown(path: Path, doc: Document) -> None:
    assert doc.kind == "markdown"
    assert doc.pages[0].text == _raw(TEXT_ADV / "umlauts_utf8_reference.md") == "## können\n\nkönnen\n\näöüß\n"


def _check_pdf(path: Path, doc: Document) -> None:
    assert doc.kind == "pdf" and doc.page_count == 8
    assert "Preemptive Information Extraction" in doc.pages[0].text


TEXT_CHECKS: dict[str, Any] = {
    "actually_pdf.txt": _check_pdf,
    "hebrew_iso8859_8_i_base64.txt": _check_raw,
    "incomplete_json.txt": _check_raw,
    "single_token_1MB_no_whitespace.txt": _check_raw,
    "war_and_peace_single_line_2MB.txt": _check_raw,
    "invalid_utf8_sprinkled.txt": _check_sprinkled,
    "mixed_utf8_then_latin1.txt": _check_mixed,
    "norwich_city_cr_only.txt": _check_norwich,
    "norwich_city_crlf.txt": _check_norwich,
    "norwich_city_with_nul_bytes.txt": _check_norwich,
    "umlauts_latin1.md": _check_markdown,
    "umlauts_utf8_reference.md": _check_markdown,
    "unstructured_utf16_le_no_bom.txt": _check_same_as("unstructured_utf16_le_with_bom.txt"),
    "unstructured_utf32_le_with_bom.txt": _check_same_as("unstructured_utf16_le_with_bom.txt"),
    "unstructured_utf16_le_with_bom.txt": _check_unstructured,
    "unstructured_utf16_be_no_bom.txt": _check_unstructured,
    "html_cp1252_declared.html": _check_html_cp1252,
    "html_utf16_le_bom_datasheet.html": _check_html_utf16,
}


@pytest.mark.parametrize("name", ["russian_utf16_le_bom.txt", "chinese_utf16_be_bom.txt"])
def test_utf16_without_its_bom_still_decodes(name: str, tmp_path: Path) -> None:
    source = need(TEXT_ADV / name)
    stripped = tmp_path / name
    stripped.write_bytes(source.read_bytes()[2:])
    assert read_document(stripped).pages == read_document(source).pages


# ---------------------------------------------------- synthetic text/HTML


def test_html_visible_text_only(tmp_path: Path) -> None:
    html = """<!DOCTYPE html><html><head><title>Lease &amp; Terms</title>
    <style>body { color: red }</style><script>var x = "<p>not text</p>";</script></head>
    <body><noscript>enable js</noscript><template><p>hidden</p></template>
    <h1>Heading</h1><p>First   paragraph
    spans lines.</p><ul><li>one</li><li>two &eacute;&#233;</li></ul>
    <table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>
    <p>line<br>break</p><pre>keep
lines</pre></body></html>"""
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    text = read_document(path).pages[0].text
    assert text == (
        "Lease & Terms\n\nHeading\n\nFirst paragraph spans lines.\n\none\ntwo éé\n\n"
        "a b\nc d\n\nline\nbreak\n\nkeep\nlines"
    )


def test_html_missing_head_close_still_reads_body(tmp_path: Path) -> None:
    path = tmp_path / "page.htm"
    path.write_text("<html><head><title>T</title><body><p>Body text</p></body></html>", encoding="utf-8")
    assert read_document(path).pages[0].text == "T\n\nBody text"


def test_html_meta_charset_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "ru.html"
    path.write_bytes(b'<html><head><meta charset="koi8-r"></head><body><p>' + "Привет мир".encode("koi8-r") + b"</p>")
    assert read_document(path).pages[0].text == "Привет мир"
    path.write_bytes(
        b"<html><head><meta http-equiv='Content-Type' content='text/html; charset=windows-1251'>"
        b"</head><body>" + "Привет мир".encode("cp1251") + b"</body></html>"
    )
    assert read_document(path).pages[0].text == "Привет мир"


def test_html_with_only_markup_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text("<html><head><script>x()</script></head><body> &nbsp; </body></html>", encoding="utf-8")
    assert refused(path).code == "empty"


def test_markdown_keeps_its_markup(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_bytes(b"# Title\r\n\r\n* item\r\n")
    doc = read_document(path)
    assert doc == Document(str(path), "markdown", (Page(None, "# Title\n\n* item\n"),), 1)


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    assert refused(tmp_path / "gone.txt").code == "not_found"
    assert refused(tmp_path).code == "unreadable"  # a directory


def test_binary_text_file_is_a_decode_error(tmp_path: Path) -> None:
    path = tmp_path / "data.txt"
    path.write_bytes(bytes(range(256)) * 4)
    error = refused(path)
    assert error.code == "decode_error"
    assert "data.txt" in error.message
