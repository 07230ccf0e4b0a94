"""Decide which reader a file needs from its first bytes, then its extension.

Rules, in order (the content wins over the name):

1. A PDF header -> ``pdf``, whatever the name, so a PDF saved as ``.txt`` is
   read as a PDF, not as bytes decoded as text. Like PDF viewers we accept
   ``%PDF-`` anywhere in the first 1024 bytes of a ``.pdf`` (or unknown-type)
   file; a file named as text must start with ``%PDF-N``, so notes that merely
   mention ``%PDF-1.7`` stay text.
2. A ZIP archive is looked into (its central directory, nothing inflated):
   ``[Content_Types].xml`` with ``word/``, ``ppt/`` or ``xl/`` parts is a
   ``docx``, ``pptx`` or ``xlsx``; a ``mimetype`` of ``application/epub+zip``
   (or ``META-INF/container.xml``) an ``epub``. It is read as that when its
   name claims one of these four (a .docx saved as .xlsx is still read as the
   Word file it is). A file named as one of them that is not such an archive
   (a truncated download) goes to the claimed reader, which reports it damaged.
   An OLE2 compound file named as one of them that holds an ``EncryptionInfo``
   stream is a password-protected Office file: ``encrypted_password_required``.
3. A PNG, JPEG or TIFF signature in a file named as an image (``.png .jpg
   .jpeg .tif .tiff``) -> ``image`` (read by OCR); a file named as an image
   that is not one of those three is ``wrong_type``. Any other known binary
   signature (ZIP, GIF, an image under another name, ...) -> refused:
   ``wrong_type`` when the name claims a type we read (``report.pdf`` that is a
   PNG, or a Word file), ``unsupported_type`` otherwise.
4. An HTML start (``<!doctype html``, ``<html``, after an optional BOM,
   whitespace, XML declaration or comments) -> ``html``, unless the file is
   Markdown (Markdown may start with raw HTML and is read as text anyway).
5. The extension: ``.txt .text .log .rst`` -> ``text``, ``.md .markdown``
   -> ``markdown``, ``.html .htm .xhtml`` -> ``html``, ``.csv`` -> ``csv``,
   ``.eml`` -> ``eml``, ``.mbox`` -> ``mbox``, image names -> ``image``.
6. A ``.pdf`` with no PDF header: read as ``text`` when it is text, refused
   with ``wrong_type`` when it is some other binary.
7. Any other extension -> ``unsupported_type``. We index only the listed types,
   even when the content happens to be readable text; keeping the rule about
   names makes it predictable which files a folder sync picks up.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from indexes.errors import ReadError
from ingest.decode import bom_encoding, looks_binary, wide_encoding

__all__ = ["EXTENSIONS", "HEAD_BYTES", "KINDS", "ZIP_KINDS", "sniff_kind", "zip_kind"]

KINDS = ("pdf", "text", "markdown", "html", "docx", "pptx", "xlsx", "csv", "epub", "eml", "mbox", "image")
ZIP_KINDS = frozenset({"docx", "pptx", "xlsx", "epub"})
HEAD_BYTES = 4096
EXTENSIONS: dict[str, str] = {
    ".pdf": "pdf",
    ".txt": "text",
    ".text": "text",
    ".log": "text",
    ".csv": "csv",
    ".rst": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".docx": "docx",
    ".pptx": "pptx",
    ".xlsx": "xlsx",
    ".epub": "epub",
    ".eml": "eml",
    ".mbox": "mbox",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".tif": "image",
    ".tiff": "image",
}
_IMAGES = frozenset({"a PNG image", "a JPEG image", "a TIFF image"})  # the signatures the image reader opens
_OOXML_PARTS = (("word/", "docx"), ("ppt/", "pptx"), ("xl/", "xlsx"))
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTION_INFO = "EncryptionInfo".encode("utf-16-le")  # the stream an encrypted OOXML file keeps in its OLE2 wrapper

# (signature, offset, human name). Checked after %PDF.
_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"PK\x03\x04", 0, "a ZIP archive (DOCX/XLSX/PPTX/ODT/EPUB?)"),
    (b"PK\x05\x06", 0, "an empty ZIP archive"),
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image"),
    (b"\xff\xd8\xff", 0, "a JPEG image"),
    (b"GIF87a", 0, "a GIF image"),
    (b"GIF89a", 0, "a GIF image"),
    (b"II*\x00", 0, "a TIFF image"),
    (b"MM\x00*", 0, "a TIFF image"),
    (b"BM", 0, "a BMP image"),
    (b"RIFF", 0, "a RIFF (WebP/WAV/AVI) file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, "an old Office document (DOC/XLS/PPT)"),
    (b"{\\rtf", 0, "an RTF document"),
    (b"\x1f\x8b", 0, "a gzip archive"),
    (b"BZh", 0, "a bzip2 archive"),
    (b"\xfd7zXZ\x00", 0, "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", 0, "a 7-Zip archive"),
    (b"Rar!\x1a\x07", 0, "a RAR archive"),
    (b"ustar", 257, "a tar archive"),
    (b"\x7fELF", 0, "an executable"),
    (b"MZ", 0, "an executable"),
    (b"SQLite format 3\x00", 0, "an SQLite database"),
    (b"OggS", 0, "an Ogg media file"),
    (b"fLaC", 0, "a FLAC audio file"),
    (b"ID3", 0, "an MP3 audio file"),
    (b"ftyp", 4, "an MP4/MOV/HEIC media file"),
)

_PDF_HEADER = re.compile(rb"\s*%PDF-\d")
_WEAK = {b"BM", b"MZ", b"ID3", b"BZh", b"RIFF", b"OggS", b"fLaC"}

# An HTML document start: optional XML declaration / comments / doctype, then <html.
_HTML_START = re.compile(
    rb"\A\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html[\s>])",
    re.IGNORECASE | re.DOTALL,
)


def _binary_signature(head: bytes) -> str | None:
    """Human name of the binary format ``head`` starts with, or ``None``."""
    for magic, offset, name in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            # Short printable signatures ("BM", "MZ", "ID3") also start plain text.
            if magic in _WEAK and not looks_binary(head):
                return None
            return name
    return None


def _ascii_view(head: bytes) -> bytes:
    """``head`` as ASCII-compatible bytes, transcoding UTF-16/32 so markers are visible."""
    encoding = bom_encoding(head) or wide_encoding(head)
    if encoding is None:
        return head
    if encoding == "utf-8":
        return head[3:]
    text = head.decode(encoding, "ignore").removeprefix("\ufeff")
    return text.encode("ascii", "ignore")


def zip_kind(data: bytes) -> str | None:
    """``docx``, ``pptx``, ``xlsx`` or ``epub`` if ``data`` is such a ZIP archive (judged by its
    member names, read from the central directory without inflating anything), else ``None``."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        return None
    if "[Content_Types].xml" in names:
        for prefix, kind in _OOXML_PARTS:
            if any(n.startswith(prefix) for n in names):
                return kind
    if "META-INF/container.xml" in names or (data[30:38] == b"mimetype" and b"application/epub+zip" in data[38:100]):
        return "epub"
    return None


def sniff_kind(path: Path, head: bytes, data: bytes | None = None) -> str:
    """Return the reader kind for ``path`` (one of ``KINDS``).

    ``head`` is the start of the file (``HEAD_BYTES`` is plenty; an empty
    ``head`` routes by extension alone, and the reader then reports ``empty``).
    ``data``, the whole file, lets a ZIP archive or an OLE2 file be looked into.
    Raises ``ReadError`` with code ``wrong_type`` (the content contradicts a
    supported extension), ``unsupported_type`` (we do not read this type) or
    ``encrypted_password_required`` (a password-protected Office file).
    """
    name = path.name
    ext = path.suffix.lower()
    claimed = EXTENSIONS.get(ext)
    if not head and claimed is not None:
        return claimed
    if _PDF_HEADER.match(head) or (claimed in (None, "pdf") and b"%PDF-" in head[:1024]):
        return "pdf"
    if claimed in ZIP_KINDS:
        inside = zip_kind(data if data is not None else head) if head.startswith(b"PK") else None
        if inside is not None or head.startswith(b"PK\x03\x04"):
            return inside or claimed  # a damaged archive: its reader says how
        if head.startswith(_OLE2) and data is not None and _ENCRYPTION_INFO in data:
            raise ReadError(f"{name} is a password-protected Office file: add its password to a --password-file",
                            code="encrypted_password_required")
    signature = _binary_signature(head)
    if signature is not None and head.startswith(b"PK\x03\x04") and data is not None:
        inside = zip_kind(data)
        signature = f"a {inside.upper()} file" if inside else signature
    if claimed == "image":
        if signature in _IMAGES:
            return "image"
        raise ReadError(
            f"{name} is {signature or 'not an image'}, not a {ext[1:].upper()} image: rename it or exclude it with --exclude",
            code="wrong_type",
        )
    if signature is not None:
        if claimed is not None:
            raise ReadError(
                f"{name} is {signature}, not a {ext[1:].upper()} file: rename it or exclude it with --exclude",
                code="wrong_type",
            )
        raise ReadError(
            f"{name} is {signature}, which is not supported: see the format table in the README",
            code="unsupported_type",
        )
    if claimed != "markdown" and _HTML_START.match(_ascii_view(head[:1024])):
        return "html"
    if claimed == "pdf":
        if head and looks_binary(head):
            raise ReadError(
                f"{name} is not a PDF (no %PDF header) and not text: check the file or exclude it with --exclude",
                code="wrong_type",
            )
        return "text"
    if claimed is None:
        raise ReadError(
            f"{name} has an unsupported type ({ext or 'no extension'}): "
            "only .pdf, .txt, .md, .html, .docx, .pptx, .xlsx, .csv, .epub, .eml, .mbox, .png, .jpg, .tiff (and similar)"
            " are indexed",
            code="unsupported_type",
        )
    return claimed
