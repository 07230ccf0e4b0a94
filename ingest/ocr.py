"""Turn page images into text: RapidOCR on ONNX Runtime, with the models its wheel ships.

Design and trade-offs:

- The engine is ``rapidocr-onnxruntime`` (1.4): its wheel carries the PP-OCRv4 detection and
  recognition models (Chinese and English) and the direction classifier, loaded from the installed
  package; nothing is downloaded (newer ``rapidocr`` releases fetch models at run time, which fails
  offline). It is imported lazily and loaded once per process, so a parser worker pays the
  second it takes to load only for the first image it reads.
- ONNX Runtime gets ``threads`` intra-op threads (``set_threads``; the parser workers share the
  machine's cores between them), never its default of every core per process.
- PDF pages are rendered with ``pypdfium2`` at ``RENDER_DPI``, chosen by measurement
  (``benchmarks/ocr.py``): lower loses small print, higher costs time for nothing.
- The detector's boxes come back roughly sorted; we rebuild reading order ourselves (see
  ``lines_in_reading_order``): boxes on one line are joined left to right, and recursive XY cuts
  read columns one after the other. Boxes recognised with a confidence below
  ``MIN_SCORE`` (measured) are dropped: they are mostly noise (stamps, rules, speckle).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

__all__ = ["MIN_SCORE", "RENDER_DPI", "Box", "default_threads", "lines_in_reading_order", "ocr_image", "ocr_pdf_pages",
           "on_page", "render_pdf_pages", "set_threads"]

log = logging.getLogger(__name__)

RENDER_DPI = 200
MIN_SCORE = 0.5
_MAX_SIDE = 2400  # RapidOCR shrinks larger images to this: an A4 page at RENDER_DPI fits (its default, 2000, would not)

_engine: Any = None
_threads = 1
_on_page: Callable[[], None] | None = None
_lock = threading.Lock()


def set_threads(threads: int) -> None:
    """ONNX Runtime threads for the engine (set before the first image; a loaded engine keeps its own)."""
    global _threads
    _threads = max(1, int(threads))


def on_page(callback: Callable[[], None] | None) -> None:
    """Call ``callback`` after each image is read: a parser worker tells its parent it is still going."""
    global _on_page
    _on_page = callback


def default_threads() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _get_engine() -> Any:
    global _engine
    with _lock:
        if _engine is None:
            from rapidocr_onnxruntime import RapidOCR  # heavy (ONNX Runtime, OpenCV): only OCR needs it

            _engine = RapidOCR(intra_op_num_threads=_threads, inter_op_num_threads=1, max_side_len=_MAX_SIDE)
            log.debug("OCR engine loaded with %d thread(s)", _threads)
        return _engine


@dataclass(frozen=True)
class Box:
    """One recognised piece of text and the extent of its box on the image."""

    text: str
    score: float
    left: float
    top: float
    right: float
    bottom: float

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def lines_in_reading_order(boxes: Sequence[Box]) -> list[str]:
    """The text of ``boxes`` as lines in reading order.

    Boxes side by side on one line, with a gap under ``_JOIN_GAP`` line heights, are joined into a
    line segment (left to right). Segments are then ordered by recursive XY cuts: the widest empty
    vertical or horizontal band across the segments splits them in two (columns left to right,
    blocks top to bottom), until none is left; what remains is read top to bottom. So a two-column
    page is read column by column, not across both columns.
    """
    return [" ".join(b.text for b in segment) for segment in _xy_order(_segments(boxes), 0)]


_JOIN_GAP = 0.8  # line heights: a wider gap between two boxes on one line separates columns or cells
_MIN_CUT = 0.5   # line heights: a narrower empty band is not a column gutter


def _segments(boxes: Sequence[Box]) -> list[list[Box]]:
    segments: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.left):
        height = box.bottom - box.top
        for segment in segments:
            last = segment[-1]
            if last.top <= box.middle <= last.bottom and box.top <= last.middle <= box.bottom \
                    and box.left - last.right <= _JOIN_GAP * max(height, last.bottom - last.top):
                segment.append(box)
                break
        else:
            segments.append([box])
    return segments


def _extent(segment: list[Box]) -> tuple[float, float, float, float]:
    return (min(b.left for b in segment), min(b.top for b in segment),
            max(b.right for b in segment), max(b.bottom for b in segment))


def _widest_gap(spans: list[tuple[float, float]]) -> tuple[float, float]:
    """The width and position of the widest empty stretch between the ``(start, end)`` spans."""
    best = (0.0, 0.0)
    spans = sorted(spans)
    reach = spans[0][1]
    for start, end in spans[1:]:
        if start - reach > best[0]:
            best = (start - reach, (start + reach) / 2)
        reach = max(reach, end)
    return best


def _xy_order(segments: list[list[Box]], depth: int) -> list[list[Box]]:
    if len(segments) <= 1 or depth > 200:  # the depth bound keeps recursion far from Python's limit
        return sorted(segments, key=lambda s: (_extent(s)[1], _extent(s)[0]))
    extents = [_extent(s) for s in segments]
    line = sorted(e[3] - e[1] for e in extents)[len(extents) // 2]
    x_gap, x_at = _widest_gap([(e[0], e[2]) for e in extents])
    y_gap, y_at = _widest_gap([(e[1], e[3]) for e in extents])
    if x_gap >= _MIN_CUT * line:  # columns first: a gutter splits the page before any gap between lines
        first = [s for s, e in zip(segments, extents, strict=True) if e[2] <= x_at]
    elif y_gap > 0:
        first = [s for s, e in zip(segments, extents, strict=True) if e[3] <= y_at]
    else:  # overlapping every way: plain top-to-bottom order
        return sorted(segments, key=lambda s: (_extent(s)[1], _extent(s)[0]))
    rest = [s for s in segments if all(s is not f for f in first)]
    return _xy_order(first, depth + 1) + _xy_order(rest, depth + 1)


def _boxes(result: Any) -> list[Box]:
    boxes = []
    for points, text, score in result or ():
        xs = [float(p[0]) for p in points]
        ys = [float(p[1]) for p in points]
        boxes.append(Box(str(text).strip(), float(score), min(xs), min(ys), max(xs), max(ys)))
    return boxes


def ocr_image(image: Image, *, min_score: float = MIN_SCORE) -> str:
    """The text on ``image``, line by line in reading order ('' when none is found)."""
    import numpy as np

    rgb = np.asarray(image.convert("RGB"))[:, :, ::-1]  # RapidOCR takes OpenCV's BGR order
    result, _elapsed = _get_engine()(np.ascontiguousarray(rgb), text_score=0.0)
    kept = [b for b in _boxes(result) if b.text and b.score >= min_score]
    if _on_page is not None:
        _on_page()
    return "\n".join(lines_in_reading_order(kept)).strip()


def render_pdf_pages(data: bytes, indexes: Sequence[int], password: str | None = None,
                     dpi: int = RENDER_DPI) -> Iterator[tuple[int, Image]]:
    """Render the pages at 0-based ``indexes`` of a PDF to images, in order."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data, password=password)
    try:
        for index in indexes:
            page = document[index]
            try:
                width, height = page.get_size()  # in points
                scale = min(dpi / 72, _MAX_SIDE / max(width, height, 1.0))  # a poster: no pixels the engine would drop
                yield index, page.render(scale=scale).to_pil()
            finally:
                page.close()
    finally:
        document.close()


def ocr_pdf_pages(data: bytes, indexes: Sequence[int], password: str | None = None) -> Iterator[tuple[int, str]]:
    """OCR the pages at 0-based ``indexes`` of a PDF: ``(index, text)`` for each, in order."""
    for index, image in render_pdf_pages(data, indexes, password):
        yield index, ocr_image(image)
