"""What the readers of files without pages return, and the limits they share.

A ``Unit`` is one citable piece of such a file (a slide, a block of sheet rows,
a chapter, a message) with its ``locator``, the string a citation shows instead
of a page number. ``ingest.readers`` turns units into ``Page`` records with
``number=None``; the readers live in ``ingest.office``, ``ingest.sheets``,
``ingest.ebook`` and ``ingest.mail`` and import only this module, so they can be
handed what they need of the others (the HTML reader, the reader of an
attachment) as plain functions, without an import cycle.

ZIP-based formats (DOCX, PPTX, XLSX, EPUB) are checked by ``open_zip`` from the
archive's central directory alone, before anything is inflated: a declared
uncompressed total over ``MAX_UNZIPPED`` bytes, or a member inflating more than
``MAX_RATIO`` times its compressed size (past ``RATIO_FROM`` bytes), is refused
as ``too_large``. The declared size bounds what ``zipfile`` inflates, so a
member lying about its size cannot inflate past it either.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import NamedTuple

from indexes.errors import ReadError

__all__ = [
    "MAX_RATIO",
    "MAX_UNZIPPED",
    "RATIO_FROM",
    "HtmlText",
    "ReadAttachment",
    "Unit",
    "check_units",
    "open_zip",
    "record_text",
    "summary",
    "too_many",
]

MAX_UNZIPPED = 512 << 20  # bytes, all members together
MAX_RATIO = 200           # uncompressed / compressed size of one member
RATIO_FROM = 4 << 20      # members smaller than this may compress as well as they like


class Unit(NamedTuple):
    """One citable piece of a file without pages."""

    text: str
    locator: str
    section: str | None = None


HtmlText = Callable[[bytes, str], str]                 # (HTML bytes, file name) -> visible text
ReadAttachment = Callable[[bytes, str], list[Unit]]    # (file bytes, file name) -> its units; raises ReadError


def summary(exc: BaseException) -> str:
    """``Type: message`` on one short line."""
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def too_many(name: str, count: int, limit: int, what: str) -> ReadError:
    """The ``too_large`` refusal of a file with more units than ``max_pages``."""
    return ReadError(f"{name} has {count:,} {what} or more, over the limit of {limit:,}: split it", code="too_large")


def check_units(units: list[Unit], name: str, max_pages: int | None, what: str) -> None:
    """Refuse one unit more than ``max_pages`` (called as units are added, so reading stops early)."""
    if max_pages is not None and len(units) > max_pages:
        raise too_many(name, len(units), max_pages, what)


def open_zip(data: bytes, name: str, what: str) -> zipfile.ZipFile:
    """``data`` as a ZIP archive whose declared sizes are sane, or ``ReadError``; nothing is inflated.

    ``what`` names the format in messages ("Word document").
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ReadError(f"{name} is a damaged {what} ({summary(exc)}): repair or re-save it", code="parse_error") from None
    total = sum(m.file_size for m in members)
    if total > MAX_UNZIPPED:
        raise ReadError(f"{name} would unpack to {total:,} bytes, over the {MAX_UNZIPPED:,}-byte limit "
                        "(a ZIP bomb?): not read", code="too_large")
    for member in members:
        if member.file_size > RATIO_FROM and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            ratio = member.file_size // max(member.compress_size, 1)
            raise ReadError(f"{name}: its part {member.filename} would inflate {ratio:,} times to {member.file_size:,} "
                            f"bytes (a ZIP bomb?): not read", code="too_large")
    return archive


def record_text(headers: list[str], values: list[str]) -> str:
    """A table row as ``header: value`` lines (empty cells left out), so a value is findable by its column.

    A column without a header is named by its position ("column 3").
    """
    lines = []
    for i, value in enumerate(values):
        if value:
            header = headers[i] if i < len(headers) and headers[i] else f"column {i + 1}"
            lines.append(f"{header}: {value}")
    return "\n".join(lines)
