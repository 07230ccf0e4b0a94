"""Read a PDF (pypdf) into the text of its pages, OCR'ing only the pages that need it.

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
  of valid letters (a CJK font read through a wrong map: "είΞͷ୯ޠ" for "スコアの単語")
  is told by its script soup: letters of many scripts, switching inside words at almost every
  letter (``script_soup``); on such a page every line with letters beyond ASCII and accented
  Latin is dropped;
- text in render mode 3 (invisible, e.g. an OCR layer) is kept;
- pages with no text or mostly garbled text are OCR'd (``ingest.ocr``), only those, and marked
  ``ocr``; the refusals above stand when OCR finds nothing (or is turned off).
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
from typing import TYPE_CHECKING, Any, NamedTuple

from indexes.errors import ReadError
from ingest.sections import outline_sections

if TYPE_CHECKING:
    from pypdf import PdfReader

__all__ = ["PdfPage", "clean_pdf_text", "read_pdf", "script_soup", "summary"]

log = logging.getLogger(__name__)


class PdfPage(NamedTuple):
    """One page with text: its 1-based physical number, the text, and whether OCR read it."""

    number: int
    text: str
    ocr: bool
    section: str | None = None  # the PDF outline's entry in effect where the page starts


def read_pdf(data: bytes, name: str, password: str | None, max_pages: int | None,
             ocr: bool = True) -> tuple[list[PdfPage], int]:
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
        raise ReadError(f"{name} is damaged ({summary(exc)}): repair or re-export it", code="parse_error") from None
    if max_pages is not None and page_count > max_pages:
        raise _too_many_pages(name, page_count, max_pages)

    pages: dict[int, PdfPage] = {}
    counts: dict[int, tuple[int, int]] = {}  # page index -> (visible characters, of which not garbled)
    failed = 0
    for index in range(page_count):
        try:
            raw = reader.pages[index].extract_text() or ""
        except Exception as exc:  # one bad page must not sink the document
            failed += 1
            log.warning("%s: skipped page %d (%s)", name, index + 1, summary(exc))
            continue
        text, total, good = clean_pdf_text(raw)
        counts[index] = (total, good)
        if text:
            pages[index] = PdfPage(index + 1, text, False)
    if failed == page_count:
        raise ReadError(f"{name}: no page could be parsed: repair or re-export it", code="parse_error")
    unusable = [i for i, (total, good) in counts.items() if total == 0 or good < total * _MIN_GOOD_SHARE]
    if ocr and unusable:
        for index, text in _ocr_pdf(data, name, unusable, opened_with):
            pages[index] = PdfPage(index + 1, text, True)
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
    sections = outline_sections(reader, page_count)
    return [pages[i]._replace(section=sections[i]) for i in sorted(pages)], page_count


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
        log.warning("%s: OCR stopped (%s)", name, summary(exc))
    log.info("%s: OCR read %d of %d page(s) without a usable text layer", name, len(found), len(indexes))
    return found


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
        msg = f"{name} uses an encryption this installation cannot open ({summary(exc)})"
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


def summary(exc: BaseException) -> str:
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
    font, usually the space) more often than real spaces, or when it is script soup
    (``script_soup``); on a page of script soup every line holding a letter, mark or digit beyond
    ASCII and accented Latin is garbled.
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
        if bad > len(visible) * _MAX_BAD_SHARE or glyph_spaced or script_soup(line, line=True):
            continue
        kept += len(visible) - bad
        if bad:  # a few stray glyphs in a good line: blank them out
            line = "".join(" " if _is_bad(c) else c for c in line)
        kept_lines.append(line.rstrip())
    if script_soup(raw):  # judged on the whole page: its soup lines are mostly dropped by now
        soup = {line for line in kept_lines if any(map(_soup_mark, unicodedata.normalize("NFC", line)))}
        kept -= sum(1 for line in kept_lines if line in soup for c in line if c not in " \t\xa0")
        kept_lines = [line for line in kept_lines if line not in soup]
    text = "\n".join(kept_lines).strip()
    return text, total, kept if text else 0


# Scripts of written languages (Unicode name prefixes); Japanese kana count with CJK ideographs, one
# writing system. Latin, digits, symbols and letter-like math signs (MATHEMATICAL, DOUBLE-STRUCK) belong to none.
_SCRIPTS = frozenset(
    "GREEK COPTIC CYRILLIC ARMENIAN HEBREW ARABIC SYRIAC THAANA NKO DEVANAGARI BENGALI GURMUKHI GUJARATI ORIYA "
    "TAMIL TELUGU KANNADA MALAYALAM SINHALA THAI LAO TIBETAN MYANMAR GEORGIAN HANGUL ETHIOPIC CHEROKEE KHMER "
    "MONGOLIAN CJK HIRAGANA KATAKANA".split())
_KANA = {"HIRAGANA": "CJK", "KATAKANA": "CJK"}
_FOREIGN_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd"})
_SOUP_MIN_LETTERS = 12   # fewer letters of other scripts than this on a page (on a line: 4): too few to judge
_SOUP_LINE_LETTERS = 4
_SOUP_SCRIPTS = 4        # a page of soup uses at least this many scripts, each for 3 % of those letters or more
                         # (a line: 3 scripts) ...
_SOUP_SWITCHES = 0.3     # ... and changes script between consecutive letters this often (a line: once in a word)


def _foreign(char: str) -> bool:
    """A letter, mark or digit beyond ASCII: on a page of script soup, the mark of a garbled line (soup
    also borrows Latin letters with hooks, combining signs and other scripts' digits: "͡ỐỜ", "୯")."""
    return not char.isascii() and unicodedata.category(char) in _FOREIGN_CATEGORIES


def _script_of(char: str) -> str | None:
    if not _foreign(char):
        return None
    head = unicodedata.name(char, "").split(" ", 1)[0]
    return _KANA.get(head, head) if head in _SCRIPTS else None


def script_soup(text: str, *, line: bool = False) -> bool:
    """Whether ``text`` (a page, or with ``line`` one line) reads as letters of a broken font map
    rather than a language.

    A CJK font whose codes pypdf maps to the wrong characters yields valid letters of unrelated
    scripts (Greek, Oriya, Thaana, Kannada, NKo...), switching script at nearly every letter. Japanese,
    Chinese and Korean glue symbols of other scripts to their words ("αとβとШは群である", "β에"), so a
    switch next to a CJK or Hangul letter does not count. A page is soup with 4 scripts or more (each
    3 % of its letters of a script or more) and a switch at 30 % of its letters (vertical text comes
    out a letter a line: the switches run across lines). A line (a slide's heading: "ಘΒΕͨ୯ޠ") is soup
    with 3 scripts in 4 letters or more and a switch inside a word, since a line of languages switches
    script only between words ("English Ελληνικά Русский", an alphabet table "Α α А а Ա ա").
    """
    letters = [script for script in map(_script_of, text) if script]
    if len(letters) < (_SOUP_LINE_LETTERS if line else _SOUP_MIN_LETTERS):
        return False
    counts: dict[str, int] = {}
    for script in letters:
        counts[script] = counts.get(script, 0) + 1
    floor = 1 if line else max(2, 0.03 * len(letters))
    used = sum(1 for n in counts.values() if n >= floor)
    if line:  # languages never switch script inside a word but where CJK or Hangul glue a symbol on
        return used >= _SOUP_SCRIPTS - 1 and _switches(text, in_words=True) >= 1
    return used >= _SOUP_SCRIPTS and _switches(text, in_words=False) >= _SOUP_SWITCHES * len(letters)


_GLUING = frozenset({"CJK", "HANGUL"})  # scripts written without spaces, which glue symbols to their words


def _switches(text: str, in_words: bool) -> int:
    """Changes of script between consecutive letters (with ``in_words``, of one word: letters of no
    script, marks and digits do not part a word), a CJK or Hangul letter on either side aside."""
    switches = 0
    previous: str | None = None
    for char in text:
        script = _script_of(char)
        if script is None:
            if in_words and not (char.isalnum() or unicodedata.category(char).startswith("M")):
                previous = None  # a space or a sign ends the word
            continue
        if previous is not None and script != previous and not {script, previous} & _GLUING:
            switches += 1
        previous = script
    return switches


def _soup_mark(char: str) -> bool:
    """On a page of script soup, a character only a garbled line holds: a letter, mark or digit
    beyond ASCII and the accented Latin of European languages ("Zürich", "Łódź", "ș", "µm" stay; lines are
    NFC-composed first, so a decomposed "u" and its diaeresis is "ü")."""
    return _foreign(char) and not "\u00c0" <= char <= "\u024f" and char != "\u00b5"
