"""The parser worker's wire format: any text a reader returns arrives unchanged; a torn stream is an error."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.jobs import ReadJob, ReadOutcome
from ingest.readers import Document, Page
from ingest.wire import decode_job, decode_outcome, encode_job, encode_outcome, read_frame, write_frame

# Any code point, lone surrogates included (pypdf can return them from broken font maps).
TEXT = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=200)
PAGES = st.lists(st.tuples(st.one_of(st.none(), st.integers(1, 10_000)), TEXT, st.booleans()), max_size=5)


@given(pages=PAGES, name=TEXT.filter(lambda s: "\x00" not in s and s not in ("", ".", "..") and "/" not in s))
def test_documents_and_jobs_survive_a_round_trip(pages: list[tuple[int | None, str, bool]], name: str) -> None:
    job = ReadJob(Path("/docs") / name, password="pässword", max_pages=7, max_bytes=None, ocr=False)
    document = Document(str(job.path), "pdf", tuple(Page(n, t, ocr=o) for n, t, o in pages), len(pages) + 1)
    stream = io.BytesIO()
    write_frame(stream, encode_job(3, job))
    write_frame(stream, encode_outcome(3, ReadOutcome(job, document)))
    write_frame(stream, encode_outcome(4, ReadOutcome(job, None, "timeout", "took too long")))
    stream.seek(0)
    assert decode_job(read_frame(stream) or {}) == (3, job)
    assert decode_outcome(read_frame(stream) or {}, job) == ReadOutcome(job, document)
    assert decode_outcome(read_frame(stream) or {}, job) == ReadOutcome(job, None, "timeout", "took too long")
    assert read_frame(stream) is None  # a clean end


def test_a_torn_frame_is_an_error_not_a_short_message() -> None:
    stream = io.BytesIO()
    write_frame(stream, {"type": "log", "message": "x" * 100})
    torn = io.BytesIO(stream.getvalue()[:-10])
    with pytest.raises(EOFError, match="short of a frame"):
        read_frame(torn)
    with pytest.raises(EOFError, match="short of a frame"):
        read_frame(io.BytesIO(stream.getvalue()[:3]))
    with pytest.raises(ValueError, match="malformed frame"):
        read_frame(io.BytesIO(b"\x00" * 7 + b"\x02[]"))
