"""Write tests/data/formats/: one small valid file of each format without pages, each holding
known facts, and the adversarial files the readers must refuse (or read as far as they go).

    python scripts/make_format_fixtures.py [OUT_DIR]     (default: tests/data/formats)

Valid files (the fact each test looks for is in ``FACTS`` of tests/test_formats.py):
report.docx, deck.pptx, ledger.xlsx, inventory.csv, lighthouse.epub, roof-quote.eml
(with a CSV attachment), harbour.mbox (two messages).
Adversarial files: truncated.docx (its first half), bomb.xlsx (a sheet part that
inflates about 1000 times to 64 MB), malformed-mime.eml (a multipart whose parts use
another boundary than the one declared), missing-spine.epub (its spine names a chapter
the book does not contain), encrypted.docx (report.docx encrypted with msoffcrypto-tool,
password "fixture"), docx-named.pdf (a Word file named .pdf).
Needs the test extras (python-docx, python-pptx, openpyxl, ebooklib, msoffcrypto-tool).
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "formats"
FIXED_TIME = (2024, 1, 1, 0, 0, 0)


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Pump maintenance report", level=0)
    document.add_paragraph("This report covers the pumping station at Kessel Point.")
    document.add_heading("Warranty terms", level=1)
    document.add_paragraph("The warranty on the Zephyr pump lasts seven years from installation.")
    document.add_heading("Suppliers", level=1)
    table = document.add_table(rows=3, cols=2)
    for row, (part, supplier) in zip(table.rows, [("Part", "Supplier"), ("impeller", "Varga Foundry"),
                                                   ("check valve", "Krause Hydraulik GmbH")], strict=True):
        row.cells[0].text, row.cells[1].text = part, supplier
    document.add_paragraph("Orders go out on the first Monday of each month.")
    return _saved(document)


def pptx_bytes() -> bytes:
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    content = [("Lighthouse renovation", "Project overview for the town council", None),
               ("Budget", "The lighthouse renovation budget is 48,000 euros.", None),
               ("Schedule", "Scaffolding goes up in April.", "The lantern glass arrives from Bremen on 12 May.")]
    for title, body, notes in content:
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    table = deck.slides[0].shapes.add_table(2, 2, Inches(1), Inches(5), Inches(6), Inches(1)).table
    for (r, c), text in {(0, 0): "Role", (0, 1): "Name", (1, 0): "architect", (1, 1): "Ines Valdivia"}.items():
        table.cell(r, c).text = text
    return _saved(deck)


def xlsx_bytes() -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Q3"
    sheet.append(["Invoice", "Customer", "Amount", "Due"])
    for i in range(2, 62):
        customer = "Okonkwo Marine Ltd" if i == 37 else f"Customer {i:02d}"
        sheet.append([f"INV-{1000 + i}", customer, 100 + i * 7, f"2024-09-{(i % 28) + 1:02d}"])
    notes = workbook.create_sheet("Notes")
    notes.append(["Topic", "Note"])
    notes.append(["audit", "The auditor visits on 3 October."])
    return _saved(workbook)


def csv_bytes() -> bytes:
    rows = ["item,location,count"]
    for i in range(2, 46):
        item = "tungsten crucible" if i == 33 else f"item {i:02d}"
        location = "shelf B7" if i == 33 else f"shelf A{i}"
        rows.append(f"{item},{location},{i}")
    return ("\n".join(rows) + "\n").encode("utf-8")


def epub_bytes(*, drop_chapter: bool = False) -> bytes:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("fixture-lighthouse")
    book.set_title("The Lighthouse Keeper")
    book.set_language("en")
    chapters = [("The Harbour", "The harbour at Kessel Point froze only once, in the winter of 1963."),
                ("The Storm", "During the storm the keeper's cat, Marmalade, slept in the lamp room."),
                ("Morning", "At dawn the supply boat brought flour, oil and letters.")]
    items = []
    for i, (title, text) in enumerate(chapters, start=1):
        item = epub.EpubHtml(title=title, file_name=f"chap_{i}.xhtml", lang="en", uid=f"chap{i}")
        item.content = f"<h1>{title}</h1><p>{text}</p>"
        book.add_item(item)
        items.append(item)
    book.toc = items
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", *items]
    if drop_chapter:  # the spine keeps naming chap2, which the manifest no longer has
        book.items.remove(items[1])
        book.spine = ["nav", items[0], "chap2", items[2]]
        book.toc = [items[0], items[2]]
    out = io.BytesIO()
    epub.write_epub(out, book, {"raise_exceptions": True})
    return out.getvalue()


EML = """From: Dana Whitlock <dana@example.org>
To: Sam Okafor <sam@example.org>
Subject: Roof repair quote
Date: Tue, 05 Mar 2024 09:15:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="==BOUNDARY=="

--==BOUNDARY==
Content-Type: text/plain; charset="utf-8"

Hi Sam,

The roofer quoted 3,450 euros to replace the slates on the north side.
He can start on 18 March if we confirm by Friday.

Dana
--==BOUNDARY==
Content-Type: text/csv; charset="utf-8"
Content-Disposition: attachment; filename="materials.csv"

material,quantity
slate,420
copper nails,2000
--==BOUNDARY==--
"""

MALFORMED_EML = """From: Dana Whitlock <dana@example.org>
To: Sam Okafor <sam@example.org>
Subject: Gutter inspection
Date: Wed, 06 Mar 2024 11:00:00 +0000
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="==DECLARED=="

--==OTHER==
Content-Type: text/plain; charset="utf-8"

The gutter inspector found a crack above the kitchen window.
--==OTHER==
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

!!!not base64!!!
"""

MBOX = """From dana@example.org Thu Mar  7 08:00:00 2024
From: Dana Whitlock <dana@example.org>
To: Sam Okafor <sam@example.org>
Subject: Boat mooring
Date: Thu, 07 Mar 2024 08:00:00 +0000

The mooring fee at the east pontoon went up to 95 euros a month.
>From now on it is paid quarterly.

From sam@example.org Fri Mar  8 17:30:00 2024
From: Sam Okafor <sam@example.org>
To: Dana Whitlock <dana@example.org>
Subject: Re: Boat mooring
Date: Fri, 08 Mar 2024 17:30:00 +0000

Then let us move the dinghy to the harbour master's slip.
"""


def bomb_xlsx_bytes() -> bytes:
    """An .xlsx-shaped ZIP whose sheet inflates about 1000 times, to 64 MB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr(zipfile.ZipInfo("[Content_Types].xml", FIXED_TIME), '<?xml version="1.0"?><Types/>')
        archive.writestr(zipfile.ZipInfo("xl/workbook.xml", FIXED_TIME), '<?xml version="1.0"?><workbook/>')
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, b"<sheetData>" + b" " * (64 << 20) + b"</sheetData>", compresslevel=9)
    return out.getvalue()


def encrypted(plain: bytes, password: str) -> bytes:
    from msoffcrypto.format.ooxml import OOXMLFile

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(plain)).encrypt(password, out)
    return out.getvalue()


def _saved(document: object) -> bytes:
    out = io.BytesIO()
    document.save(out)  # type: ignore[attr-defined]
    return out.getvalue()


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    docx = docx_bytes()
    files = {
        "report.docx": docx, "deck.pptx": pptx_bytes(), "ledger.xlsx": xlsx_bytes(), "inventory.csv": csv_bytes(),
        "lighthouse.epub": epub_bytes(), "roof-quote.eml": EML.encode(), "harbour.mbox": MBOX.encode(),
        "truncated.docx": docx[: len(docx) // 2], "bomb.xlsx": bomb_xlsx_bytes(),
        "malformed-mime.eml": MALFORMED_EML.encode(), "missing-spine.epub": epub_bytes(drop_chapter=True),
        "encrypted.docx": encrypted(docx, "fixture"), "docx-named.pdf": docx,
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
        print(f"{name:22} {len(data):>8,} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
