"""Build a small text PDF from a Markdown file: one page per ``## `` section.

Used by ``make demo`` and the tests to make the project's own sample PDF
(``samples/user-guide.pdf``) from ``docs/user-guide.md`` with no extra
dependency: a minimal PDF 1.4 writer with the standard Helvetica font.

    python scripts/build_sample_pdf.py docs/user-guide.md samples/user-guide.pdf
"""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

PAGE_W, PAGE_H, MARGIN, SIZE, LEADING, WIDTH = 612, 792, 72, 11, 15, 88


def _escape(text: str) -> str:
    text = text.encode("cp1252", "replace").decode("cp1252")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def markdown_pages(markdown: str) -> list[list[str]]:
    """Split Markdown into pages at each ``## `` heading; wrap lines to the page width."""
    sections = re.split(r"(?m)^(?=## )", markdown)
    pages: list[list[str]] = []
    for section in sections:
        lines: list[str] = []
        for raw in section.strip().splitlines():
            plain = re.sub(r"[`*_]|^#+\s*", "", raw.rstrip())
            lines.extend(textwrap.wrap(plain, WIDTH) or [""])
        if any(line.strip() for line in lines):
            pages.append(lines)
    return pages


def build_pdf(pages: list[list[str]]) -> bytes:
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for lines in pages:
        ops = [f"BT /F1 {SIZE} Tf {LEADING} TL {MARGIN} {PAGE_H - MARGIN} Td"]
        ops += [f"({_escape(line)}) Tj T*" for line in lines]
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252", "replace")
        page_no = len(objects) + 1
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_no + 1} 0 R >>".encode())
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 1
    source, target = Path(argv[0]), Path(argv[1])
    target.write_bytes(build_pdf(markdown_pages(source.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
