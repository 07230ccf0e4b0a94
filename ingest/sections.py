"""Section headings of typeset documents: from a PDF's outline, or numbered heading lines.

A chunk's header names its file and, when known, the section it sits in (``ingest.headers``):
"3.2 Attention" tells the embedder and BM25 what a page fragment of formulas is about. PDFs
rarely carry an outline, but papers, theses and reports number their headings, and pypdf keeps
each heading on a line of its own: ``3.2 Attention``, ``A.1 Illustration``, ``IV. RESULTS``.
A line is taken as a heading only when it looks like nothing else: a short run of words after the
number, starting with a capital, no sentence or list punctuation, few digits (a table row has many),
and a first number that is not 0 (``0.3 F1 behind ...`` is a value, not section 0.3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

__all__ = ["MAX_TITLE_CHARS", "heading_lines", "outline_sections"]

MAX_TITLE_CHARS = 80
_MAX_WORDS = 10
_HEADING = re.compile(
    r"^[ \t]*((?:[1-9]\d?(?:\.\d{1,2}){0,3}\.?|[A-H](?:\.\d{1,2}){1,2}\.?|[A-H]\.?|[IVX]{1,4}\.)"
    r"[ \t]+([^\W\d_][^\n]{1,78}?))[ \t]*$", re.MULTILINE)


def _looks_like_heading(number: str, title: str) -> bool:
    words = title.split()
    return (title[0].isupper() and len(words) + 1 <= _MAX_WORDS and title[-1] not in ".,;:"
            and "," not in title and sum(c.isdigit() for c in title) <= 2
            and not (len(number) == 1 and number.isalpha() and len(words) < 2))


def heading_lines(text: str) -> list[tuple[int, str]]:
    """``(offset, "3.2 Attention")`` for each numbered heading line of a page's text, in order."""
    found = []
    for m in _HEADING.finditer(text):
        number, title = m.group(1).split(None, 1)[0], m.group(2).strip()
        if _looks_like_heading(number, title):
            found.append((m.start(1), " ".join(m.group(1).split())[:MAX_TITLE_CHARS]))
    return found


def outline_sections(reader: Any, page_count: int) -> list[str | None]:
    """For each page index, the title of the outline entry in effect where that page starts
    (the deepest entry that begins on an earlier page); all None without an outline."""
    starts: list[tuple[int, int, str]] = []  # (page index, order, title)

    def walk(items: Sequence[Any]) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            try:
                page = reader.get_destination_page_number(item)
                title = " ".join(str(item.title).split())
            except Exception:  # a broken outline entry is no reason to fail the document
                continue
            if title and page is not None and 0 <= page < page_count:
                starts.append((page, len(starts), title[:MAX_TITLE_CHARS]))

    try:
        walk(reader.outline)
    except Exception:  # pypdf raises many types on damaged outlines
        return [None] * page_count
    sections: list[str | None] = []
    current: str | None = None
    ordered = sorted(starts)
    position = 0
    for index in range(page_count):
        while position < len(ordered) and ordered[position][0] < index:
            current = ordered[position][2]
            position += 1
        sections.append(current)
    return sections
