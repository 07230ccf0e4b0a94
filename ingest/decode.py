"""Turn the bytes of a text-like file into ``str`` without crashing and without silently corrupting it.

Order of decisions (first match wins):

1. A byte-order mark (UTF-32 before UTF-16, because ``FF FE 00 00`` starts like
   ``FF FE``; then UTF-8-sig, UTF-16).
2. UTF-16/UTF-32 *without* a BOM, recognised by NUL bytes in every other (or
   every 2nd-4th) position, or (non-Latin UTF-16) by high bytes that take far
   fewer values than low bytes. Naive UTF-8 decoding "succeeds" on such files
   and yields NUL-riddled text, a silent corruption.
3. Clearly binary content (many control bytes) is refused with
   ``ReadError(code="decode_error")``.
4. Strict UTF-8.
5. Otherwise a legacy code page detected by charset-normalizer. Lines that are
   themselves mostly valid UTF-8 (a UTF-8 file with a few stray bytes, or a log
   that is UTF-8 then Latin-1) keep UTF-8 with the bad bytes replaced; the
   other lines use the detected code page. When detection ties, we prefer the
   common Windows code pages (charset-normalizer otherwise often says cp1250
   for cp1252 text, turning ``ñ`` into ``ń``, or mac_cyrillic for cp1251).

Invalid bytes become U+FFFD rather than raising. The result always has ``\\n``
line endings, no NUL characters and no leading BOM.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from collections import Counter

from indexes.errors import ReadError

__all__ = ["bom_encoding", "decode_text", "looks_binary", "normalise_text", "wide_encoding"]

log = logging.getLogger(__name__)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAMPLE = 64 * 1024
# Control bytes that never appear in real text (TAB, LF, VT, FF, CR and ESC do).
_CONTROL = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_BINARY_CONTROL_RATIO = 0.05
_NEWLINES = re.compile(r"\r\n?")
# When charset-normalizer scores several code pages (nearly) equally "chaotic", it
# often ranks a rare one first (cp1250 or mac_cyrillic for Western or Russian
# Windows text). Among such ties we take the most common in real files.
_TIE_CHAOS = 0.01
_COMMON = tuple(
    "cp1252 cp1251 cp1250 cp1256 cp1253 cp1254 cp1255 cp1257 cp1258 koi8_r koi8_u "
    "gb18030 big5 shift_jis euc_jp euc_kr iso8859_15".split()
)


def normalise_text(text: str) -> str:
    """Return ``text`` with CRLF/CR turned into LF, NULs removed and no leading BOM."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if "\r" in text:
        text = _NEWLINES.sub("\n", text)
    return text.removeprefix("\ufeff")


def bom_encoding(data: bytes) -> str | None:
    """Return the codec named by a leading byte-order mark, or ``None``."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def _zero_ratios(sample: bytes, width: int) -> list[float]:
    """Fraction of NUL bytes at each offset modulo ``width``."""
    usable = len(sample) - len(sample) % width
    if usable < width * 2:
        return [0.0] * width
    count = usable // width
    return [sample[i:usable:width].count(0) / count for i in range(width)]


def wide_encoding(data: bytes) -> str | None:
    """Guess UTF-32/UTF-16 (LE or BE) for BOM-less data from where its NULs sit.

    Mostly-Latin UTF-16 has a NUL in every high byte; UTF-32 in three of four.
    CJK UTF-16 without a BOM has no such pattern and is left to charset-normalizer.
    """
    sample = data[:_SAMPLE]
    if len(sample) < 4:
        return None
    z4 = _zero_ratios(sample, 4)
    if z4[2] > 0.95 and z4[3] > 0.95 and z4[0] < 0.5:
        return "utf-32-le"
    if z4[0] > 0.95 and z4[1] > 0.95 and z4[3] < 0.5:
        return "utf-32-be"
    z2 = _zero_ratios(sample, 2)
    if z2[1] > 0.6 and z2[0] < 0.1:
        return "utf-16-le"
    if z2[0] > 0.6 and z2[1] < 0.1:
        return "utf-16-be"
    if _control_ratio(sample) <= _BINARY_CONTROL_RATIO and _valid_utf8(sample):
        return None  # plain 8-bit text: never reinterpret it as UTF-16
    return _clustered_utf16(sample)


def _control_ratio(sample: bytes) -> float:
    return (len(sample) - len(sample.translate(None, _CONTROL))) / len(sample) if sample else 0.0


def _valid_utf8(sample: bytes) -> bool:
    """True when ``sample`` is UTF-8, allowing a sequence cut off at its end."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return True
    except UnicodeDecodeError:
        return False


def _spread(values: bytes) -> int:
    """How many distinct byte values cover 90% of ``values``."""
    covered = 0
    for rank, (_, count) in enumerate(Counter(values).most_common(), start=1):
        covered += count
        if covered >= 0.9 * len(values):
            return rank
    return 256


def _clustered_utf16(sample: bytes) -> str | None:
    """UTF-16 without BOM or NULs (Cyrillic, Greek, CJK ...): the high bytes of a
    one-script text take few values (``04`` for Russian), the low bytes many
    (at least 1.5 times as many; 3-10 times in real files); 8-bit text and
    binary data show no such asymmetry. The decoded sample must also be clean
    text. Only tried on data that is not plain 8-bit text."""
    if len(sample) < 64:
        return None
    even, odd = _spread(sample[0::2]), _spread(sample[1::2])
    if 3 * odd <= 2 * even:
        encoding = "utf-16-le"
    elif 3 * even <= 2 * odd:
        encoding = "utf-16-be"
    else:
        return None
    text = sample[: len(sample) // 2 * 2].decode(encoding, "replace")
    bad = sum(1 for ch in text if ch == "\ufffd" or (ch not in "\t\n\r\f" and unicodedata.category(ch)[0] == "C"))
    return encoding if bad <= 0.02 * len(text) else None


def looks_binary(data: bytes) -> bool:
    """True when ``data`` is clearly not text: over 5% control bytes in its first
    64 KiB, unless a BOM or a UTF-16/32 NUL pattern explains them.

    A few stray NULs (a log with padding) do not make a file binary.
    """
    if not data or bom_encoding(data) or wide_encoding(data):
        return False
    return _control_ratio(data[:_SAMPLE]) > _BINARY_CONTROL_RATIO


def _legacy_encoding(data: bytes) -> str:
    """Pick a single/multi-byte legacy code page for ``data`` (default cp1252)."""
    from charset_normalizer import CharsetMatch, from_bytes  # only legacy files need it

    matches = list(from_bytes(data))
    if not matches:
        return "cp1252"
    tied = [m for m in matches if m.chaos <= matches[0].chaos + _TIE_CHAOS]

    def rank(match: CharsetMatch) -> int:
        names = match.could_be_from_charset
        return min((_COMMON.index(n) for n in names if n in _COMMON), default=len(_COMMON))

    best = min(tied, key=rank)  # the detector's own first choice when none is common
    return next((n for n in _COMMON if n in best.could_be_from_charset), str(best.encoding))


def _mostly_utf8(line: bytes) -> bool:
    """True when a line that fails strict UTF-8 is still UTF-8 with a few bad bytes:
    it holds at least as many valid multi-byte characters as invalid bytes."""
    text = line.decode("utf-8", "replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 0x7F) - bad
    return good > 0 and good >= bad


def _decode_legacy(data: bytes) -> str:
    """Decode data that is not valid UTF-8, line by line (see module docstring)."""
    lines = data.split(b"\n")
    kinds: list[str] = []  # "ok" | "utf8" | "legacy"
    for line in lines:
        try:
            line.decode("utf-8")
            kinds.append("ok")
        except UnicodeDecodeError:
            kinds.append("utf8" if _mostly_utf8(line) else "legacy")
    foreign = b"\n".join(line for line, kind in zip(lines, kinds, strict=True) if kind == "legacy")
    encoding = _legacy_encoding(foreign) if foreign else "utf-8"
    replaced = kinds.count("utf8")
    if foreign:
        log.info("decoded %d non-UTF-8 line(s) as %s", kinds.count("legacy"), encoding)
    if replaced:
        log.warning("replaced invalid UTF-8 bytes on %d line(s)", replaced)
    parts = [
        line.decode(encoding if kind == "legacy" else "utf-8", "replace")
        for line, kind in zip(lines, kinds, strict=True)
    ]
    return "\n".join(parts)


def decode_text(data: bytes, *, declared: str | None = None) -> str:
    """Decode the bytes of a text file to normalised ``str`` (see module docstring).

    ``declared`` is an encoding the document itself names (an HTML ``<meta
    charset>``); it is used after a BOM and before guessing, unless it is unknown
    to Python or the bytes contradict it (valid UTF-8 declared as a legacy code
    page is read as UTF-8; invalid UTF-8 declared as UTF-8 is guessed).

    Raises ``ReadError(code="decode_error")`` only when the bytes are clearly binary.

    >>> decode_text(b"caf\\xe9\\r\\nbar")
    'café\\nbar'
    """
    encoding = bom_encoding(data)
    if encoding:
        bom_len = 4 if encoding.startswith("utf-32") else 3 if encoding == "utf-8" else 2
        return normalise_text(data[bom_len:].decode(encoding, "replace"))
    encoding = wide_encoding(data)
    if encoding:
        log.info("no BOM but NUL pattern of %s; decoding as such", encoding)
        return normalise_text(data.decode(encoding, "replace"))
    if looks_binary(data):
        raise ReadError("content is binary, not text", code="decode_error")
    if declared:
        text = _decode_declared(data, declared)
        if text is not None:
            return normalise_text(text)
    try:
        return normalise_text(data.decode("utf-8"))
    except UnicodeDecodeError:
        return normalise_text(_decode_legacy(data))


# WHATWG: these labels mean windows-1252 in practice.
_AS_CP1252 = {"ascii", "us-ascii", "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1"}


def _decode_declared(data: bytes, label: str) -> str | None:
    """Decode with a document-declared encoding, or ``None`` to fall back to guessing."""
    label = label.strip().lower()
    if label in _AS_CP1252:
        label = "cp1252"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        log.info("ignoring unknown declared encoding %r", label)
        return None
    if name.startswith("iso2022") or name in {"utf-7", "hz"}:
        return data.decode(name, "replace")  # 7-bit encodings: valid UTF-8 proves nothing
    try:
        # Bytes that are valid UTF-8 are UTF-8 whatever the page claims (a legacy
        # page is almost never valid UTF-8 by accident); a UTF-16 claim without
        # BOM or NULs is as wrong.
        return data.decode("utf-8")
    except UnicodeDecodeError:
        if name.startswith(("utf-8", "utf-16", "utf-32")):
            return None  # the claim is false: guess instead
    return data.decode(name, "replace")
