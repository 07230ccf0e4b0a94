"""Read one file into pages of text: PDF (pypdf, OCR for scanned pages), images (OCR), plain text,
Markdown, HTML, and through ``ingest.formats`` Word, PowerPoint, Excel, CSV, EPUB and e-mail.

It never returns an empty ``Document``: a file without usable text raises
``ReadError`` with a stable reason code, so the ingester can report it and go on.

PDF policy, in brief:
- the empty user password is always tried, so files that open without asking
  (owner-only passwords, "copy protected" files) are read; permission flags
  are advisory and ignored for indexing a local file;
- the declared page count is checked against ``max_pages`` before any page is
  parsed, so a 20,000-page file is refused in a fraction of a second;
- a page whose extraction fails is logged and skipped; blank pages are skipped;
  page numbers stay physical (1-based);
- lines garbled by broken font maps (control, private-use, unassigned or
  replacement characters, ``(cid:N)``) are dropped; when most of the text is
  such garbage the file is refused as ``low_quality_text``. Garbage made only
  of valid letters (a shifted font map) is not detectable this way.
- text in render mode 3 (invisible, e.g. an OCR layer) is kept;
- pages with no text or mostly garbled text are OCR'd (``ingest.ocr``), only those, and marked
  ``ocr``; the refusals above stand when OCR finds nothing (or is turned off).

Over 300 lines on purpose: the PDF reader (decryption, page limits, garble detection, OCR of the pages that need
it) and the HTML reader share the page and reason-code contract defined here; the other formats have their own
modules (``ingest.formats``). Splitting PDF reading into its own module is the next step when it grows again.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexes.errors import ReadError
from ingest.decode import decode_text
from ingest.formats import FORMAT_KINDS, read_units
from ingest.sniff import HEAD_BYTES, sniff_kind
from ingest.units import Unit

if TYPE_CHECKING:
    from pypdf import PdfReader

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
        pages, page_count = _read_pdf(data, name, password, max_pages, ocr)
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


def _read_units(kind: str, data: bytes, name: str, max_pages: int | None) -> list[Unit]:
    """The units of a file without pages (``ingest.formats``); e-mail attachments are read from their bytes by ``attachment``."""

    def attachment(blob: bytes, filename: str) -> list[Unit]:
        inner = sniff_kind(Path(filename), blob[:HEAD_BYTES], blob)
        if inner == "pdf":
            pages, _count = _read_pdf(blob, filename, None, max_pages)
            return [Unit(p.text, f"page {p.number}") for p in pages]
        if inner in FORMAT_KINDS:
            return _read_units(inner, blob, filename, max_pages)
        text = _read_html(blob, filename) if inner == "html" else decode_text(blob)
        return [Unit(text, "")] if text.strip() else []

    return read_units(kind, data, name, max_pages=max_pages, html_text=_read_html, read_attachment=attachment)


# --------------------------------------------------------------------------- PDF


def _read_pdf(data: bytes, name: str, password: str | None, max_pages: int | None,
              ocr: bool = True) -> tuple[tuple[Page, ...], int]:
    """Pages of a PDF with text, and its physical page count. With ``ocr``, pages with no text or
    mostly garbled text are OCR'd (only those)."""
    from pypdf import PdfReader  # imported here: only PDF reading needs it

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        opened_with = _unlock(reader, name, password)
        declared = _declared_page_count(reader)
        if max_pages is not None and declared is not None and declared > max_pages:
            raise _too_many_pages(name, declared, max_pages)
        page_count = len(reader.pages)
    except ReadError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged input
        raise ReadError(f"{name} is damaged ({_summary(exc)}): repair or re-export it", code="parse_error") from None
    if max_pages is not None and page_count > max_pages:
        raise _too_many_pages(name, page_count, max_pages)

    pages: dict[int, Page] = {}
    counts: dict[int, tuple[int, int]] = {}  # page index -> (visible characters, of which not garbled)
    failed = 0
    for index in range(page_count):
        try:
            raw = reader.pages[index].extract_text() or ""
        except Exception as exc:  # one bad page must not sink the document
            failed += 1
            log.warning("%s: skipped page %d (%s)", name, index + 1, _summary(exc))
            continue
        text, total, good = clean_pdf_text(raw)
        counts[index] = (total, good)
        if text:
            pages[index] = Page(index + 1, text)
    if failed == page_count:
        raise ReadError(f"{name}: no page could be parsed: repair or re-export it", code="parse_error")
    unusable = [i for i, (total, good) in counts.items() if total == 0 or good < total * _MIN_GOOD_SHARE]
    if ocr and unusable:
        for index, text in _ocr_pdf(data, name, unusable, opened_with):
            pages[index] = Page(index + 1, text, ocr=True)
            counts[index] = (len(text), len(text))
    extracted = sum(total for total, _ in counts.values())
    kept = sum(good for _, good in counts.values())
    if extracted == 0:
        advice = "OCR found no text on it either" if ocr else "turn OCR on (ocr = true) to read it"
        raise ReadError(f"{name} has no extractable text (scanned?): {advice}", code="no_text_layer")
    if kept < extracted * _MIN_GOOD_SHARE or not pages:
        raise ReadError(
            f"{name} gives mostly garbled text (broken fonts): OCR or re-export it", code="low_quality_text"
        )
    if kept < extracted:
        log.info("%s: dropped %d garbled characters", name, extracted - kept)
    return tuple(pages[i] for i in sorted(pages)), page_count


def _ocr_pdf(data: bytes, name: str, indexes: list[int], password: str | None) -> list[tuple[int, str]]:
    """OCR'd text of the pages at ``indexes`` that have any; a renderer failure is logged, not raised."""
    from ingest.ocr import ocr_pdf_pages

    found: list[tuple[int, str]] = []
    try:
        for index, text in ocr_pdf_pages(data, indexes, password):
            if text:
                found.append((index, text))
    except MemoryError:
        raise
    except Exception as exc:  # pdfium may refuse a file pypdf repaired: keep the text layer's verdict
        log.warning("%s: OCR stopped (%s)", name, _summary(exc))
    log.info("%s: OCR read %d of %d page(s) without a usable text layer", name, len(found), len(indexes))
    return found


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


def _unlock(reader: PdfReader, name: str, password: str | None) -> str | None:
    """Decrypt ``reader`` with the empty password, then ``password``, or raise; returns the one that worked."""
    from pypdf import PasswordType
    from pypdf.errors import DependencyError

    if not reader.is_encrypted:
        return None
    try:
        if reader.decrypt("") != PasswordType.NOT_DECRYPTED:
            return ""
        if password is None:
            msg = f"{name} is encrypted: add its password to a --password-file"
            raise ReadError(msg, code="encrypted_password_required")
        if reader.decrypt(password) != PasswordType.NOT_DECRYPTED:
            return password
    except (DependencyError, NotImplementedError) as exc:
        msg = f"{name} uses an encryption this installation cannot open ({_summary(exc)})"
        raise ReadError(msg, code="unsupported_encryption") from None
    raise ReadError(
        f"{name}: the password given does not open it: fix it in the --password-file", code="wrong_password"
    )


def _declared_page_count(reader: PdfReader) -> int | None:
    """The /Count of the page tree root, read without walking the tree."""
    trailer: Any = reader.trailer  # pypdf's generic objects are loosely typed
    try:
        return int(trailer["/Root"]["/Pages"]["/Count"])
    except Exception:
        return None


def _too_many_pages(name: str, count: int, limit: int) -> ReadError:
    return ReadError(f"{name} has {count:,} pages, over the limit of {limit:,}: split it", code="too_large")


def _summary(exc: BaseException) -> str:
    """``Type: message`` on one short line."""
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# ---------------------------------------------------------------- text quality

_CID = re.compile(r"\(cid:\d+\)")
_BAD_CATEGORIES = frozenset({"Cc", "Co", "Cs", "Cn"})
_MAX_BAD_SHARE = 0.10  # a line with more garbage characters than this is dropped
_MIN_GOOD_SHARE = 0.5  # a document keeping less than this of its text is refused


def _is_bad(char: str) -> bool:
    return char == "\ufffd" or unicodedata.category(char) in _BAD_CATEGORIES


def clean_pdf_text(raw: str) -> tuple[str, int, int]:
    """Drop lines garbled by broken font maps from one page of extracted text.

    Returns ``(text, total, kept)``: the cleaned text and the number of visible
    characters before and after. A line is garbled when over 10% of its visible
    characters are control, private-use, unassigned or replacement characters
    (``(cid:N)`` counts as one), or when it uses ``\\x03`` (glyph 3 of a subset
    font, usually the space) more often than real spaces.
    """
    kept_lines: list[str] = []
    total = kept = 0
    for line in raw.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = _CID.sub("\ufffd", line.replace("\x00", ""))
        visible = [c for c in line if c not in " \t\xa0"]
        if not visible:
            kept_lines.append("")
            continue
        total += len(visible)
        bad = 0 if line.isprintable() else sum(map(_is_bad, visible))
        glyph_spaces = line.count("\x03")
        glyph_spaced = glyph_spaces > 1 and glyph_spaces > line.count(" ")
        if bad > len(visible) * _MAX_BAD_SHARE or glyph_spaced:
            continue
        kept += len(visible) - bad
        if bad:  # a few stray glyphs in a good line: blank them out
            line = "".join(" " if _is_bad(c) else c for c in line)
        kept_lines.append(line.rstrip())
    text = "\n".join(kept_lines).strip()
    return text, total, kept if text else 0


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
        raise ReadError(f"{name} is not parseable HTML ({_summary(exc)})", code="parse_error") from None
    return parser.text()
