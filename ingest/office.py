"""Read Word (.docx, python-docx) and PowerPoint (.pptx, python-pptx) files into units.

- A .docx becomes one unit per section: the text under one heading (a paragraph
  styled ``Heading N`` or ``Title``) up to the next, paragraphs and tables in
  reading order; the heading is the unit's locator and section. Text before the
  first heading is located as ``start of document``. Table rows are ``header:
  value`` lines under the first row's headers. Page numbers are not reported:
  a .docx records where pages broke only as hints of the last program that laid
  it out.
- A .pptx becomes one unit per slide, located ``slide N`` (its 1-based position),
  holding its shapes' text (grouped shapes and tables included) and then its
  speaker notes; the slide's title is its section.

A password-protected Word, PowerPoint or Excel file (an OLE2 wrapper around the
encrypted package, which ``ingest.sniff`` recognises) is decrypted in memory with
msoffcrypto-tool by ``decrypt_office``: first with Excel's built-in default password
(files "protected" only against editing), then with the one the user gave.

The libraries are imported only here, when such a file is read (in a parser worker).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from typing import Any

from indexes.errors import ReadError
from ingest.units import Unit, check_units, open_zip, record_text, summary, too_many

__all__ = ["decrypt_office", "read_docx", "read_pptx"]

START = "start of document"
_DEFAULT_PASSWORD = "VelvetSweatshop"  # what Office encrypts with when no password is set (Excel's "protected" files)


def decrypt_office(data: bytes, name: str, password: str | None) -> bytes:
    """The decrypted package of a password-protected Office file, or ``ReadError``
    (``encrypted_password_required``, ``wrong_password``, ``unsupported_encryption``)."""
    import msoffcrypto
    from msoffcrypto.exceptions import InvalidKeyError

    for attempt in (_DEFAULT_PASSWORD, password):
        if attempt is None:
            break
        try:
            office = msoffcrypto.OfficeFile(io.BytesIO(data))
            office.load_key(password=attempt, verify_password=True)
            out = io.BytesIO()
            office.decrypt(out)
            return out.getvalue()
        except InvalidKeyError:
            continue
        except Exception as exc:  # FileFormatError, DecryptionError, an encryption it does not know
            raise ReadError(f"{name} uses an encryption this installation cannot open ({summary(exc)})",
                            code="unsupported_encryption") from None
    if password is None:
        raise ReadError(f"{name} is a password-protected Office file: add its password to a --password-file",
                        code="encrypted_password_required")
    raise ReadError(f"{name}: the password given does not open it: fix it in the --password-file", code="wrong_password")


def _opened(load: Any, data: bytes, name: str, what: str) -> Any:
    open_zip(data, name, what)  # refuses ZIP bombs before the library inflates anything
    try:
        return load(io.BytesIO(data))
    except ReadError:
        raise
    except Exception as exc:  # the libraries raise KeyError, ValueError, lxml errors ... on damaged parts
        raise ReadError(f"{name} is a damaged {what} ({summary(exc)}): repair or re-save it", code="parse_error") from None


# ------------------------------------------------------------------------------ Word


def read_docx(data: bytes, name: str, max_pages: int | None) -> list[Unit]:
    """The sections of a Word document, in reading order."""
    import docx

    document = _opened(docx.Document, data, name, "Word document")
    units: list[Unit] = []
    heading: str | None = None
    lines: list[str] = []

    def close_section() -> None:
        text = "\n\n".join(line for line in lines if line.strip())
        if text.strip():
            units.append(Unit(text, heading or START, heading))
            check_units(units, name, max_pages, "sections")

    for block in document.iter_inner_content():
        if hasattr(block, "rows"):  # a table
            lines.append(_rows_text(block.rows))
            continue
        text = block.text.strip()
        if _is_heading(block) and text:
            close_section()
            heading, lines = " ".join(text.split()), [text]
        else:
            lines.append(block.text)
    close_section()
    return units


def _is_heading(paragraph: Any) -> bool:
    try:
        style = paragraph.style.name or ""
    except (AttributeError, KeyError, ValueError):
        return False
    return style.startswith("Heading") or style == "Title"


# ------------------------------------------------------------------------ PowerPoint


def read_pptx(data: bytes, name: str, max_pages: int | None) -> list[Unit]:
    """One unit per slide with text, located ``slide N``."""
    import pptx

    presentation = _opened(pptx.Presentation, data, name, "PowerPoint file")
    slides = presentation.slides
    if max_pages is not None and len(slides) > max_pages:
        raise too_many(name, len(slides), max_pages, "slides")
    units: list[Unit] = []
    for number, slide in enumerate(slides, start=1):
        parts = [text for shape in slide.shapes for text in _shape_texts(shape)]
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                parts.append("Notes: " + notes.text.strip())
        text = "\n\n".join(p for p in parts if p.strip())
        if text:
            title_shape = slide.shapes.title
            title = " ".join(title_shape.text.split()) if title_shape is not None and title_shape.has_text_frame else ""
            units.append(Unit(text, f"slide {number}", title or None))
    return units


def _shape_texts(shape: Any) -> Iterator[str]:
    """The text of a shape: its text frame, its table's rows, or its group's members."""
    if getattr(shape, "shape_type", None) is not None and hasattr(shape, "shapes"):  # a group
        for member in shape.shapes:
            yield from _shape_texts(member)
        return
    if getattr(shape, "has_text_frame", False) and shape.text_frame.text.strip():
        yield shape.text_frame.text.strip()
    if getattr(shape, "has_table", False):
        yield _rows_text(shape.table.rows)


def _rows_text(rows: Iterable[Any]) -> str:
    """A table (Word or PowerPoint): rows after the first as ``header: value`` lines, a blank line between rows."""
    cells = [[" ".join(cell.text.split()) for cell in row.cells] for row in rows]
    if len(cells) < 2:
        return " | ".join(cells[0]) if cells else ""
    return "\n\n".join(record_text(cells[0], row) for row in cells[1:])
