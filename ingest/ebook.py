"""Read EPUB e-books (ebooklib) into units: one per chapter, in spine (reading) order.

A chapter is one XHTML document of the spine (the navigation document, the
table of contents, is not one); its text comes from the HTML
reader of ``ingest.readers`` (handed in as ``html_text``, so this module does not
import it). Its locator and section is its title: the table of contents' entry
for it, else its ``<title>`` or first ``<h1>``-``<h3>``, else its file name. A
spine entry that names no item of the manifest is skipped with a warning (the
rest of the book is still read); a manifest item whose file is missing from the
archive makes ebooklib refuse the whole book (``parse_error``).
"""

from __future__ import annotations

import html
import io
import logging
import re
import warnings
from typing import Any

from indexes.errors import ReadError
from ingest.units import HtmlText, Unit, open_zip, summary, too_many

__all__ = ["read_epub"]

log = logging.getLogger(__name__)

_HEADING = re.compile(rb"<(title|h1|h2|h3)\b[^>]*>(.*?)</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")


def read_epub(data: bytes, name: str, max_pages: int | None, html_text: HtmlText) -> list[Unit]:
    """The chapters of an EPUB with text, located by their titles."""
    from ebooklib import ITEM_DOCUMENT, epub

    open_zip(data, name, "EPUB e-book")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # ebooklib warns about its own future defaults
            book = epub.read_epub(io.BytesIO(data), {"ignore_ncx": True})
    except Exception as exc:  # EpubException, KeyError (a missing part), lxml errors ...
        raise ReadError(f"{name} is a damaged EPUB e-book ({summary(exc)}): repair or re-export it",
                        code="parse_error") from None
    spine = [idref for idref, _linear in book.spine]
    if max_pages is not None and len(spine) > max_pages:
        raise too_many(name, len(spine), max_pages, "chapters")
    titles = _toc_titles(book.toc)
    units: list[Unit] = []
    for idref in spine:
        item = book.get_item_with_id(idref)
        if isinstance(item, epub.EpubNav):  # the table of contents as a page: not a chapter
            continue
        if item is None or item.get_type() != ITEM_DOCUMENT:
            log.warning("%s: its spine names %r, which is not a chapter in the book: skipped", name, idref)
            continue
        content = item.get_content() or b""
        try:
            text = html_text(content, name)
        except ReadError as exc:
            log.warning("%s: chapter %s skipped (%s)", name, item.file_name, exc.message)
            continue
        if text.strip():
            title = titles.get(item.file_name) or _heading(content) or item.file_name
            units.append(Unit(text, title, title))
    return units


def _toc_titles(toc: Any) -> dict[str, str]:
    """File name -> title of the first table-of-contents entry that points into it."""
    titles: dict[str, str] = {}

    def walk(entries: Any) -> None:
        for entry in entries or ():
            if isinstance(entry, tuple):  # (Section, children)
                section, children = entry
                _add(section)
                walk(children)
            else:
                _add(entry)

    def _add(entry: Any) -> None:
        href, title = getattr(entry, "href", None), getattr(entry, "title", None)
        if href and title and title.strip():
            titles.setdefault(href.split("#", 1)[0], " ".join(title.split()))

    walk(toc)
    return titles


def _heading(content: bytes) -> str | None:
    match = _HEADING.search(content)
    if not match:
        return None
    text = " ".join(html.unescape(_TAG.sub(" ", match.group(2).decode("utf-8", "replace"))).split())
    return text or None
