"""Read one file into pages of text: PDF (pypdf, OCR for scanned pages), images (OCR), plain text,
Markdown, HTML, and through ``ingest.formats`` Word, PowerPoint, Excel, CSV, EPUB and e-mail.

It never returns an empty ``Document``: a file without usable text raises
``ReadError`` with a stable reason code, so the ingester can report it and go on.

PDFs are read by ``ingest.pdf`` (decryption, page limits, garbled lines, OCR of the pages without a usable text
layer), images by ``ingest.images``, the formats without pages by ``ingest.formats``; the HTML reader is here.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from indexes.errors import ReadError
from ingest.decode import decode_text
from ingest.formats import FORMAT_KINDS, read_units
from ingest.pdf import clean_pdf_text, read_pdf, summary
from ingest.sniff import HEAD_BYTES, sniff_kind
from ingest.units import Unit

__all__ = ["Document", "Page", "clean_pdf_text", "read_document"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Page:
    """Text of one page, or of one unit of a file without pages.

    ``number`` is the 1-based physical page of a PDF (or frame of a TIFF), else ``None``;
    ``locator`` and ``section`` say where the text is in formats without pages; ``ocr`` is true when
    the text was recognised from the page's image rather than read from a text layer.
    """

    number: int | None
    text: str
    locator: str | None = None   # where in a file without pages: "slide 4", 'sheet "Q3" rows 10-20', chapter title, e-mail subject and date  # noqa: E501
    section: str | None = None   # the heading this text sits under, when known
    ocr: bool = False            # the text came from OCR


@dataclass(frozen=True)
class Document:
    """A readable document: its non-blank pages and its physical page count."""

    path: str
    kind: str
    pages: tuple[Page, ...]
    page_count: int


def read_document(
    path: Path,
    *,
    password: str | None = None,
    max_pages: int | None = None,
    max_bytes: int | None = None,
    ocr: bool = True,
) -> Document:
    """Read ``path`` into a ``Document`` of non-blank pages.

    The real type is sniffed from the content (see ``ingest.sniff``), so a PDF
    named ``.txt`` is read as a PDF and an HTML page named ``.pdf`` as HTML.
    ``password`` opens an encrypted PDF (the empty password is tried first) or a
    password-protected Office file (``ingest.office.decrypt_office``).
    ``max_pages`` / ``max_bytes`` refuse bigger files with code ``too_large``.
    With ``ocr`` (the default), PDF pages without a usable text layer and image files are read
    by OCR (``ingest.ocr``); without it they are refused as before (``no_text_layer``,
    ``unsupported_type``).

    Raises ``ReadError`` with one of the codes: ``not_found``, ``unreadable``,
    ``unsupported_type``, ``wrong_type``, ``too_large``, ``empty``,
    ``decode_error``, ``parse_error``, ``encrypted_password_required``,
    ``wrong_password``, ``unsupported_encryption``, ``no_text_layer``,
    ``low_quality_text``, ``no_text_found`` (an image where OCR finds no text).
    """
    path = Path(path)
    name = path.name
    try:
        size = path.stat().st_size
        if max_bytes is not None and size > max_bytes:
            raise ReadError(f"{name} is {size:,} bytes, over the {max_bytes:,}-byte limit: split it", code="too_large")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReadError(f"{name} does not exist (moved or deleted?)", code="not_found") from None
    except OSError as exc:
        raise ReadError(f"{name} cannot be read ({exc.strerror or exc}): check it", code="unreadable") from None
    try:
        kind = sniff_kind(path, data[:HEAD_BYTES], data)
    except ReadError as exc:
        if exc.code != "encrypted_password_required":
            raise
        from ingest.office import decrypt_office  # a password-protected Word/Excel/PowerPoint file

        data = decrypt_office(data, name, password)
        kind = sniff_kind(path, data[:HEAD_BYTES], data)
    if not data:
        raise ReadError(f"{name} is empty (0 bytes): nothing to index", code="empty")
    if kind == "pdf":
        pages, page_count = _pdf_pages(data, name, password, max_pages, ocr)
    elif kind == "image":
        pages, page_count = _read_image(data, name, max_pages, ocr)
    elif kind in FORMAT_KINDS:
        pages = tuple(Page(None, u.text, u.locator, u.section) for u in _read_units(kind, data, name, max_pages))
        if not pages:
            raise ReadError(f"{name} has no text to index", code="empty")
        page_count = len(pages)
    else:
        try:
            text = _read_html(data, name) if kind == "html" else decode_text(data)
        except ReadError as exc:
            if exc.code != "decode_error":
                raise
            raise ReadError(f"{name} is binary, not text: exclude it or fix its name", code="decode_error") from None
        if not text.strip():
            raise ReadError(f"{name} contains only whitespace: nothing to index", code="empty")
        pages, page_count = (Page(None, text),), 1
    return Document(str(path.absolute()), kind, pages, page_count)


def _pdf_pages(data: bytes, name: str, password: str | None, max_pages: int | None,
               ocr: bool) -> tuple[tuple[Page, ...], int]:
    pages, count = read_pdf(data, name, password, max_pages, ocr)
    return tuple(Page(p.number, p.text, section=p.section, ocr=p.ocr) for p in pages), count


def _read_units(kind: str, data: bytes, name: str, max_pages: int | None) -> list[Unit]:
    """The units of a file without pages (``ingest.formats``); e-mail attachments are read from their bytes by ``attachment``."""

    def attachment(blob: bytes, filename: str) -> list[Unit]:
        inner = sniff_kind(Path(filename), blob[:HEAD_BYTES], blob)
        if inner == "pdf":
            pages, _count = _pdf_pages(blob, filename, None, max_pages, True)
            return [Unit(p.text, f"page {p.number}") for p in pages]
        if inner in FORMAT_KINDS:
            return _read_units(inner, blob, filename, max_pages)
        text = _read_html(blob, filename) if inner == "html" else decode_text(blob)
        return [Unit(text, "")] if text.strip() else []

    return read_units(kind, data, name, max_pages=max_pages, html_text=_read_html, read_attachment=attachment)


def _read_image(data: bytes, name: str, max_pages: int | None, ocr: bool) -> tuple[tuple[Page, ...], int]:
    """OCR'd pages of an image file: one page, or one per frame of a multi-page TIFF."""
    if not ocr:
        raise ReadError(f"{name} is an image, read only with OCR, which is turned off (ocr = false)",
                        code="unsupported_type")
    from ingest.images import read_image_text

    texts, numbered = read_image_text(data, name, max_pages)
    pages = tuple(Page(i if numbered else None, text, ocr=True) for i, text in enumerate(texts, 1) if text)
    if not pages:
        raise ReadError(f"{name}: OCR found no text in this image", code="no_text_found")
    return pages, len(texts)



# ------------------------------------------------------------------------ HTML

_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:+-]+)", re.I)
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg"})
_PARAGRAPH = frozenset(
    "address article aside blockquote body caption details dialog div dl fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr main nav ol p pre section summary table "
    "ul".split()
)
_LINE = frozenset({"br", "li", "dt", "dd", "tr", "option", "legend"})
_CELL = frozenset({"td", "th"})


class _HtmlText(HTMLParser):
    """Visible text of an HTML page: block elements become line breaks.

    ``parts`` mixes text with ints (1 = line break, 2 = paragraph break); a
    run of breaks collapses to the strongest one.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str | int] = []
        self.title: list[str] = []
        self._skip: list[str] = []
        self._in_title = False
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body" and "head" in self._skip:  # tolerate a missing </head>
            del self._skip[self._skip.index("head") :]
        if tag == "title" and set(self._skip) <= {"head"}:
            self._in_title = True
        elif tag in _SKIP:
            self._skip.append(tag)
        elif not self._skip:
            if tag == "pre":
                self._pre += 1
            self._break(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIP and tag != "title" and not self._skip:
            self._break(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._skip:
            del self._skip[len(self._skip) - 1 - self._skip[::-1].index(tag) :]
        elif not self._skip:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            if tag not in _LINE:  # "</li>" adds nothing the next "<li>" does not
                self._break(tag)

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skip:
            self.parts.append(data if self._pre else re.sub(r"\s+", " ", data))

    def _break(self, tag: str) -> None:
        if tag in _PARAGRAPH:
            self.parts.append(2)
        elif tag in _LINE:
            self.parts.append(1)
        elif tag in _CELL:
            self.parts.append(" ")

    def text(self) -> str:
        pieces: list[str] = []
        strength = 0
        for part in self.parts:
            if isinstance(part, int):
                strength = max(strength, part)
                continue
            if strength:
                pieces.append("\n" * strength)
                strength = 0
            pieces.append(part)
        lines = (" ".join(line.split()) for line in "".join(pieces).split("\n"))
        body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
        title = " ".join("".join(self.title).split())
        return f"{title}\n\n{body}".strip() if title else body


def _read_html(data: bytes, name: str) -> str:
    """Visible text of an HTML document (``<title>`` first), honouring ``<meta charset>``."""
    match = _META_CHARSET.search(data[:4096])
    declared = match.group(1).decode("ascii") if match else None
    markup = decode_text(data, declared=declared)
    parser = _HtmlText()
    try:
        parser.feed(markup)
        parser.close()
    except Exception as exc:  # html.parser is lenient; this is a last resort
        raise ReadError(f"{name} is not parseable HTML ({summary(exc)})", code="parse_error") from None
    return parser.text()
