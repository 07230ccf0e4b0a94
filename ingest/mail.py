"""Read e-mail (.eml, one message; .mbox, many) with the standard library's ``email`` into units.

Each message is one unit: its From, To, Cc, Date and Subject headers, then its
plain-text body (the HTML body through the HTML reader, handed in as
``html_text``, when there is no plain part), located ``subject (date)``. Each
attachment is read by the reader of its own type (``read_attachment``, from its
bytes) and becomes units located ``subject (date), attachment NAME`` (plus the
attachment's own locator: a page, a slide ...); an attachment that cannot be
read is logged and skipped. A message whose MIME tree is malformed (a missing
boundary, say) is read as far as Python's lenient parser gets, and when no body
part comes out of it, its raw body text stands in, so its words stay findable.

An .mbox is split at its ``From `` separator lines (``mailbox.mbox``'s rule;
the module itself wants a file of its own, and this reader works from bytes);
``>From `` lines in bodies are unquoted one level (the mboxrd convention).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import logging
import re
from email.message import EmailMessage, Message

from indexes.errors import ReadError
from ingest.units import HtmlText, ReadAttachment, Unit, check_units

__all__ = ["read_eml", "read_mbox"]

log = logging.getLogger(__name__)

_HEADERS = ("From", "To", "Cc", "Date", "Subject")
_SEPARATOR = re.compile(rb"^From [^\r\n]*\r?\n", re.M)
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.M)
_TAG = re.compile(r"<[^>]+>")


def read_eml(data: bytes, name: str, max_pages: int | None, html_text: HtmlText,
             read_attachment: ReadAttachment) -> list[Unit]:
    """One message and its readable attachments."""
    units: list[Unit] = []
    _add_message(units, data, name, max_pages, html_text, read_attachment)
    return units


def read_mbox(data: bytes, name: str, max_pages: int | None, html_text: HtmlText,
              read_attachment: ReadAttachment) -> list[Unit]:
    """Every message of a mailbox, in file order, with their readable attachments."""
    data = data.lstrip(b"\r\n")
    starts = [m.end() for m in _SEPARATOR.finditer(data)]
    if not data.startswith(b"From "):
        raise ReadError(f"{name} is not an mbox mailbox (no 'From ' line starts a message)", code="parse_error")
    if max_pages is not None and len(starts) > max_pages:
        raise ReadError(f"{name} has {len(starts):,} messages, over the limit of {max_pages:,}: split it",
                        code="too_large")
    ends = [*[m.start() for m in _SEPARATOR.finditer(data)][1:], len(data)]
    units: list[Unit] = []
    for start, end in zip(starts, ends, strict=True):
        raw = _QUOTED_FROM.sub(rb"\1", data[start:end])
        _add_message(units, raw, name, None, html_text, read_attachment)
    return units


def _add_message(units: list[Unit], raw: bytes, name: str, max_pages: int | None, html_text: HtmlText,
                 read_attachment: ReadAttachment) -> None:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if message.defects:
        log.warning("%s: malformed message (%s): read as far as it goes", name,
                    ", ".join(type(d).__name__ for d in message.defects[:3]))
    subject = _header(message, "Subject") or "(no subject)"
    locator = f"{subject} ({_date(message)})"
    head = "\n".join(f"{h}: {v}" for h in _HEADERS if (v := _header(message, h)))
    body = _body(message, name, html_text)
    units.append(Unit(f"{head}\n\n{body}".strip(), locator, subject))
    check_units(units, name, max_pages, "messages")
    for part in message.walk():
        filename = part.get_filename()
        if not filename or part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes) or not payload:
            continue
        try:
            found = read_attachment(payload, filename)
        except ReadError as exc:  # an image or a zip is expected and not worth a warning; a damaged file is
            level = logging.INFO if exc.code == "unsupported_type" else logging.WARNING
            log.log(level, "%s: attachment %s of %r not read (%s: %s)", name, filename, subject, exc.code, exc.message)
            continue
        for unit in found:
            where = f"{locator}, attachment {filename}" + (f", {unit.locator}" if unit.locator else "")
            units.append(Unit(unit.text, where, unit.section or subject))
            check_units(units, name, max_pages, "messages and attachments")


def _header(message: Message, key: str) -> str:
    try:
        value = message.get(key)
    except Exception:  # a header too malformed to parse
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _date(message: Message) -> str:
    raw = _header(message, "Date")
    try:
        return email.utils.parsedate_to_datetime(raw).strftime("%Y-%m-%d %H:%M") if raw else "no date"
    except (TypeError, ValueError, IndexError):
        return raw


def _body(message: Message, name: str, html_text: HtmlText) -> str:
    """The plain-text body, else the HTML body as text, else the raw body text."""
    if isinstance(message, EmailMessage):
        for preference in (("plain",), ("html",)):
            try:
                part = message.get_body(preferencelist=preference)
            except Exception:
                part = None
            if part is not None and not part.get_filename():
                text = _text_of(part)
                if preference == ("html",):
                    text = html_text(text.encode("utf-8"), name) if text.strip() else ""
                if text.strip():
                    return text.strip()
    raw = message.get_payload()
    if isinstance(raw, list):  # a multipart whose parts gave no body: use each part's text
        return "\n\n".join(_text_of(p) for p in raw if isinstance(p, Message) and not p.is_multipart()).strip()
    return _TAG.sub(" ", str(raw or "")).strip() if "html" in message.get_content_type() else str(raw or "").strip()


def _text_of(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return content
    except Exception:  # an unknown charset, a damaged transfer encoding
        pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload or "")
