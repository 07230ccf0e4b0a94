"""Read image files (PNG, JPEG, TIFF) into text with OCR: one text per image, or per frame of a TIFF.

Pillow opens the file lazily (only the header is read), so the pixel count is checked before any
pixel is decoded: an image over ``MAX_PIXELS`` (a decompression bomb: a few kilobytes that decode
to gigabytes) is refused as ``too_large``, and so is one Pillow itself flags as a bomb. Frames over
``max_pages`` are refused the same way. JPEG orientation tags are applied before OCR, so a photo
taken sideways is read upright.
"""

from __future__ import annotations

import io
import logging
import warnings

from indexes.errors import ReadError
from ingest.ocr import ocr_image

__all__ = ["MAX_PIXELS", "read_image_text"]

log = logging.getLogger(__name__)

# 60 megapixels: an A4 page scanned at 600 dpi is 35; decoded as RGB it takes 180 MB, well inside a worker's memory.
MAX_PIXELS = 60_000_000


def read_image_text(data: bytes, name: str, max_pages: int | None = None) -> tuple[list[str], bool]:
    """OCR'd text of each frame of an image ('' for a frame without text), and whether frames are numbered
    pages (TIFF, which may hold several pages) rather than one picture (PNG, JPEG)."""
    from PIL import Image, ImageOps, ImageSequence

    try:
        with warnings.catch_warnings():  # Pillow warns of a bomb at 89 megapixels: our own, lower limit follows
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
        frames = int(getattr(image, "n_frames", 1))
        _check_size(name, image.size, frames, max_pages)
        numbered = image.format == "TIFF"
        texts: list[str] = []
        for frame in ImageSequence.Iterator(image):
            _check_size(name, frame.size, frames, max_pages)
            texts.append(ocr_image(ImageOps.exif_transpose(frame)))
    except ReadError:
        raise
    except Image.DecompressionBombError as exc:
        raise ReadError(f"{name} decodes to too many pixels ({exc}): refused as a decompression bomb",
                        code="too_large") from None
    except MemoryError:
        raise
    except Exception as exc:  # Pillow raises many types on damaged input
        text = " ".join(str(exc).split())[:120]
        raise ReadError(f"{name} is a damaged image ({type(exc).__name__}: {text}): re-export it",
                        code="parse_error") from None
    return texts, numbered


def _check_size(name: str, size: tuple[int, int], frames: int, max_pages: int | None) -> None:
    width, height = size
    if width * height > MAX_PIXELS:
        raise ReadError(f"{name} is {width:,} x {height:,} pixels, over the limit of {MAX_PIXELS:,}: "
                        "refused as a possible decompression bomb (scale it down)", code="too_large")
    if max_pages is not None and frames > max_pages:
        raise ReadError(f"{name} has {frames:,} frames, over the limit of {max_pages:,} pages: split it",
                        code="too_large")

