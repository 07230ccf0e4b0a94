"""Which reader reads each format without pages, imported only when such a file is read.

``read_units`` is the one door ``ingest.readers`` uses for .docx, .pptx, .xlsx,
.csv, .epub, .eml and .mbox; the HTML reader and the reader of a whole file from
its bytes (for e-mail attachments) are handed in, so no reader module imports
``ingest.readers`` back.
"""

from __future__ import annotations

from indexes.errors import ReadError
from ingest.units import HtmlText, ReadAttachment, Unit

__all__ = ["FORMAT_KINDS", "UNIT_NAMES", "read_units"]

# kind -> what its units are called in messages and in `rag sources`
UNIT_NAMES: dict[str, str] = {"docx": "sections", "pptx": "slides", "xlsx": "row blocks", "csv": "row blocks",
                              "epub": "chapters", "eml": "parts", "mbox": "parts"}
FORMAT_KINDS = frozenset(UNIT_NAMES)


def read_units(kind: str, data: bytes, name: str, *, max_pages: int | None, html_text: HtmlText,
               read_attachment: ReadAttachment) -> list[Unit]:
    """The units of ``data`` (a file of ``kind``, one of ``FORMAT_KINDS``), or ``ReadError``."""
    if kind == "docx":
        from ingest.office import read_docx
        return read_docx(data, name, max_pages)
    if kind == "pptx":
        from ingest.office import read_pptx
        return read_pptx(data, name, max_pages)
    if kind == "xlsx":
        from ingest.sheets import read_xlsx
        return read_xlsx(data, name, max_pages)
    if kind == "csv":
        from ingest.sheets import read_csv
        return read_csv(data, name, max_pages)
    if kind == "epub":
        from ingest.ebook import read_epub
        return read_epub(data, name, max_pages, html_text)
    if kind == "eml":
        from ingest.mail import read_eml
        return read_eml(data, name, max_pages, html_text, read_attachment)
    if kind == "mbox":
        from ingest.mail import read_mbox
        return read_mbox(data, name, max_pages, html_text, read_attachment)
    raise ReadError(f"{name}: no reader for {kind} files", code="unsupported_type")
