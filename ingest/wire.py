"""What the parent and a parser worker say to each other: length-prefixed JSON frames.

Each frame is an 8-byte big-endian length and that many bytes of UTF-8 JSON, one
object with a ``type``. Parent to worker: ``config`` (first), then ``job``s.
Worker to parent: ``hello`` (first), then ``log`` records, ``progress`` (a page
was OCR'd) and ``outcome``s, one per job, in job order. JSON rather than pickle: nothing read from a pipe can
execute code, and lone surrogates in extracted text survive (``ensure_ascii``).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import IO, Any

from ingest.jobs import ReadJob, ReadOutcome
from ingest.readers import Document, Page

__all__ = ["PROTOCOL", "decode_job", "decode_outcome", "encode_job", "encode_outcome", "read_frame", "write_frame"]

PROTOCOL = 1
_LENGTH = struct.Struct("!Q")


def write_frame(stream: IO[bytes], message: dict[str, Any]) -> None:
    data = json.dumps(message, ensure_ascii=True).encode("ascii")
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> dict[str, Any] | None:
    """The next message, or None at a clean end of stream."""
    head = _read_exactly(stream, _LENGTH.size)
    if head is None:
        return None
    (length,) = _LENGTH.unpack(head)
    body = _read_exactly(stream, length)
    if body is None:
        raise EOFError(f"stream ended inside a {length}-byte frame")
    message = json.loads(body)
    if not isinstance(message, dict) or "type" not in message:
        raise ValueError("malformed frame: expected a JSON object with a type")
    return message


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    parts: list[bytes] = []
    remaining = size
    while remaining:
        part = stream.read(remaining)
        if not part:
            if remaining == size and size:
                return None
            raise EOFError(f"stream ended {remaining} bytes short of a frame")
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def encode_job(seq: int, job: ReadJob) -> dict[str, Any]:
    return {"type": "job", "seq": seq, "path": str(job.path), "password": job.password,
            "max_pages": job.max_pages, "max_bytes": job.max_bytes, "ocr": job.ocr}


def decode_job(message: dict[str, Any]) -> tuple[int, ReadJob]:
    return int(message["seq"]), ReadJob(Path(message["path"]), message.get("password"), message.get("max_pages"),
                                        message.get("max_bytes"), bool(message.get("ocr", True)))


def encode_outcome(seq: int, outcome: ReadOutcome) -> dict[str, Any]:
    doc = outcome.document
    document = None if doc is None else {"path": doc.path, "kind": doc.kind, "page_count": doc.page_count,
                                         "pages": [[p.number, p.text, p.locator, p.section, p.ocr] for p in doc.pages]}
    return {"type": "outcome", "seq": seq, "document": document, "reason": outcome.reason, "message": outcome.message}


def decode_outcome(message: dict[str, Any], job: ReadJob) -> ReadOutcome:
    data = message.get("document")
    document = None if data is None else Document(
        data["path"], data["kind"], tuple(Page(*fields) for fields in data["pages"]), int(data["page_count"]))
    return ReadOutcome(job, document, message.get("reason"), message.get("message"))
