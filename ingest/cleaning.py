"""Make extracted page text match what people type: NFKC, hyphenation joined, running headers/footers dropped.

PDF text keeps the typesetter's forms: ligatures (``ﬁ``, ``ﬂ``) and full-width letters that
no query contains, words hyphenated across line breaks (``con-\\ntext``), and the same
header or footer line (journal name, page number) on every page, which pads chunks and
draws retrieval to the wrong page. Each clean-up is a small function; ``clean_pages``
applies them to one document's pages: NFKC to every text; hyphenation and running lines to
documents with numbered pages (PDF, TIFF), where they come from typesetting.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from ingest.readers import Page

__all__ = ["clean_pages", "clean_texts", "drop_running_lines", "hyphenated_words", "join_hyphenation", "normalize"]

# A word broken at a line end: a letter, a hyphen (or soft hyphen), the break, a lower-case letter.
_HYPHEN_BREAK = re.compile(r"([^\W\d_]+)[-\u00ad][ \t]*\n\s*([a-zß-ÿ][^\W\d_]*)")
_HYPHENATED = re.compile(r"[^\W\d_]+-[^\W\d_]+")
_SOFT_HYPHEN = "\u00ad"
_EDGE_LINES = 2          # lines at the top and at the bottom of a page that may be a header or footer
_MIN_PAGES = 3           # a running line repeats on at least this many pages...
_MIN_SHARE = 0.4         # ...and on at least this share of them


def normalize(text: str) -> str:
    """Unicode NFKC: ligatures to letters (``ﬁ`` -> ``fi``), full-width forms to ASCII."""
    return unicodedata.normalize("NFKC", text)


def hyphenated_words(texts: Sequence[str]) -> set[str]:
    """Words written with a hyphen inside a line (``self-attention``), case-folded."""
    return {m.group().casefold() for text in texts for m in _HYPHENATED.finditer(text)}


def join_hyphenation(text: str, keep: set[str] | frozenset[str] = frozenset()) -> str:
    """Join words split across a line break by a hyphen: ``repre-\\nsentation`` -> ``representation``.

    Only when the next line goes on in lower case, so ``GPT-\\n4`` and ``Anglo-\\nSaxon`` stay;
    a compound the document also writes with a hyphen inside a line (in ``keep``, see
    ``hyphenated_words``) keeps its hyphen: ``self-\\nattention`` -> ``self-attention``.
    Stray soft hyphens (invisible break hints) are removed.
    """
    def join(m: re.Match[str]) -> str:
        left, right = m.group(1), m.group(2)
        return f"{left}-{right}" if f"{left}-{right}".casefold() in keep else left + right

    return _HYPHEN_BREAK.sub(join, text).replace(_SOFT_HYPHEN, "")


def _line_key(line: str) -> str:
    """A line compared across pages: page numbers and dates vary, so digits are masked."""
    return re.sub(r"\d+", "#", "".join(line.split()).casefold())


def _edges(lines: list[str]) -> list[int]:
    filled = [i for i, line in enumerate(lines) if line.strip()]
    return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))


def drop_running_lines(pages: Sequence[str]) -> list[str]:
    """Remove header and footer lines that repeat (digits aside) at the top or bottom of many pages.

    A line counts when it is among the first or last two non-blank lines of at least
    ``_MIN_PAGES`` pages and ``_MIN_SHARE`` of them; it is only removed from those edge positions,
    and never when that would leave a page with no text.
    """
    split = [page.split("\n") for page in pages]
    counts: Counter[str] = Counter()
    for lines in split:
        counts.update({_line_key(lines[i]) for i in _edges(lines)})
    needed = max(_MIN_PAGES, _MIN_SHARE * len(pages))
    running = {key for key, n in counts.items() if n >= needed and key}
    if not running:
        return list(pages)
    out = []
    for page, lines in zip(pages, split, strict=True):
        drop = {i for i in _edges(lines) if _line_key(lines[i]) in running}
        kept = "\n".join(line for i, line in enumerate(lines) if i not in drop).strip()
        # A page made only of lines that repeat (the same short text on every page) is content, not furniture.
        out.append(kept if kept or not page.strip() else page)
    return out


def clean_texts(pages: Sequence[str]) -> list[str]:
    """All clean-ups on one typeset document's page texts, in order; a page may come out empty."""
    texts = [normalize(page) for page in pages]
    keep = hyphenated_words(texts)
    return drop_running_lines([join_hyphenation(text, keep) for text in texts])


def clean_pages(pages: Sequence[Page]) -> list[Page]:
    """One document's pages cleaned: all clean-ups when its pages are numbered (typeset), else NFKC."""
    if any(page.number is not None for page in pages):
        texts = clean_texts([page.text for page in pages])
    else:
        texts = [normalize(page.text) for page in pages]
    return [replace(page, text=text) for page, text in zip(pages, texts, strict=True)]
