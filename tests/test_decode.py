"""Unit tests of ``ingest.decode`` and ``ingest.sniff`` on synthetic bytes (no shared data needed)."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from indexes.errors import ReadError
from ingest.decode import decode_text, looks_binary, normalise_text, wide_encoding
from ingest.sniff import sniff_kind

SAMPLE = "Grüße aus Köln – „Zitat“ 15,50 €\nzweite Zeile\n"


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF32_LE, "utf-32-le"),
        (codecs.BOM_UTF32_BE, "utf-32-be"),
    ],
)
def test_bom_is_honoured_and_removed(bom: bytes, codec: str) -> None:
    assert decode_text(bom + SAMPLE.encode(codec)) == SAMPLE


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"])
def test_wide_encodings_without_bom_are_detected_from_nul_pattern(codec: str) -> None:
    text = "This is plain English text, long enough to show a pattern.\n" * 3
    data = text.encode(codec)
    assert wide_encoding(data) == codec
    assert decode_text(data) == text


@pytest.mark.parametrize(
    ("codec", "text"),
    [
        ("utf-16-le", "Пейтон Мэннинг стал первым квотербеком, который привел две команды.\n" * 3),
        ("utf-16-be", "Пейтон Мэннинг стал первым квотербеком, который привел две команды.\n" * 3),
        ("utf-16-le", "黑豹队的防守只丢了 308分，在联赛中排名第六，同时也以 24 次拦截领先国家橄榄球联盟。\n" * 3),
        ("utf-16-be", "Η ομάδα των Πάνθηρων έχασε μόνο 308 πόντους και κατέλαβε την έκτη θέση.\n" * 3),
    ],
)
def test_non_latin_utf16_without_bom_is_detected(codec: str, text: str) -> None:
    data = text.encode(codec)
    assert not looks_binary(data)
    assert decode_text(data) == text


def test_cp1252_is_preferred_over_cp1250_on_a_tie() -> None:
    text = "El niño comió paella con ñoquis y pagó 25,75 €. ¿Qué tal? Mañana más.\n" * 5
    assert decode_text(text.encode("cp1252")) == text


@pytest.mark.parametrize(
    ("codec", "text"),
    [
        ("cp1251", "Пейтон Мэннинг стал первым квотербеком, который привел две разных команды.\n" * 4),
        ("koi8-r", "Пейтон Мэннинг стал первым квотербеком, который привел две разных команды.\n" * 4),
        ("gb18030", "黑豹队的防守只丢了 308分，在联赛中排名第六，同时也以 24 次拦截领先国家橄榄球联盟。\n" * 4),
    ],
)
def test_legacy_code_pages_are_detected(codec: str, text: str) -> None:
    assert decode_text(text.encode(codec)) == text


def test_utf8_with_stray_bytes_keeps_utf8_and_replaces_the_bad_bytes() -> None:
    data = "Según la señora, mañana será otro día.\n".encode() * 3
    data = data[:10] + b"\xff" + data[10:]
    text = decode_text(data)
    assert text.count("\ufffd") == 1
    assert text.replace("\ufffd", "") == data.decode("utf-8", "ignore")


def test_utf8_then_latin1_decodes_each_part_correctly() -> None:
    first = "Según la señora, mañana será otro día.\n" * 3
    second = "Él llevó a la construcción de muchos lugares.\n" * 3
    text = decode_text(first.encode("utf-8") + second.encode("latin-1"))
    assert text == first + second


def test_newlines_and_nuls_are_normalised() -> None:
    data = b"first line\r\nsecond\rthird\nfour\x00th line of a long enough text"
    assert decode_text(data) == "first line\nsecond\nthird\nfourth line of a long enough text"
    assert normalise_text("\ufeffx\r\n") == "x\n"


def test_declared_encoding_wins_over_guessing_for_short_text() -> None:
    data = "Привет мир".encode("koi8-r")
    assert decode_text(data, declared="koi8-r") == "Привет мир"
    # a UTF-8 declaration that the bytes contradict is ignored
    assert decode_text("café crème".encode("cp1252"), declared="utf-8") == "café crème"
    assert decode_text(b"plain", declared="no-such-codec") == "plain"
    # a legacy declaration on bytes that are valid UTF-8 is wrong (a common mistake)
    assert decode_text("café crème".encode(), declared="iso-8859-1") == "café crème"
    assert decode_text("café crème".encode("latin-1"), declared="iso-8859-1") == "café crème"


def test_binary_content_is_a_decode_error_but_a_few_nuls_are_not() -> None:
    binary = bytes(range(256)) * 8
    assert looks_binary(binary)
    with pytest.raises(ReadError) as info:
        decode_text(binary)
    assert info.value.code == "decode_error"
    text = b"line of text\n" * 200 + b"\x00" + b"more text\n" * 10
    assert not looks_binary(text)
    assert "\x00" not in decode_text(text)


# ------------------------------------------------------------------- sniffing

PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)
ZIP = b"PK\x03\x04" + bytes(100)


@pytest.mark.parametrize(
    ("name", "head", "kind"),
    [
        ("a.pdf", b"%PDF-1.7\n", "pdf"),
        ("a.txt", b"%PDF-1.4\n%\xe2\xe3", "pdf"),  # a PDF with the wrong name
        ("noext", b"junk before header\n%PDF-1.4", "pdf"),
        ("a.txt", b"hello", "text"),
        ("notes.md", b"# PDF internals\nEvery file starts with %PDF-1.7\n", "markdown"),
        ("a.LOG", b"hello", "text"),
        ("a.csv", b"a,b\n1,2", "csv"),
        ("a.rst", b"Title\n=====", "text"),
        ("a.md", b"# Title", "markdown"),
        ("a.markdown", b"<html><body>raw html in markdown</body></html>", "markdown"),
        ("a.htm", b"<p>hi</p>", "html"),
        ("a.xhtml", b"<?xml version='1.0'?><html>", "html"),
        ("a.pdf", b"  <!DOCTYPE html>\n<html>", "html"),
        ("a.txt", b"<!-- saved page -->\n<html lang='en'>", "html"),
        ("a.pdf", codecs.BOM_UTF16_LE + "<!DOCTYPE html><html>".encode("utf-16-le"), "html"),
        ("a.pdf", b"just some plain text named .pdf", "text"),
        ("a.txt", b"BMW sales rose in March", "text"),  # "BM" is also a BMP signature
        ("a.pdf", b"", "pdf"),  # empty: routed by name, the reader reports "empty"
        ("a.png", PNG, "image"),
        ("a.JPEG", b"\xff\xd8\xff\xe0" + bytes(64), "image"),
        ("a.tif", b"II*\x00" + bytes(64), "image"),
        ("a.tiff", b"MM\x00*" + bytes(64), "image"),
        ("a.jpg", PNG, "image"),  # a PNG named .jpg: Pillow reads the content
    ],
)
def test_sniff_routes_by_content_then_extension(name: str, head: bytes, kind: str) -> None:
    assert sniff_kind(Path(name), head) == kind


@pytest.mark.parametrize(
    ("name", "head", "code"),
    [
        ("a.pdf", PNG, "wrong_type"),
        ("a.pdf", ZIP, "wrong_type"),
        ("a.txt", b"\xff\xd8\xff\xe0" + bytes(64), "wrong_type"),
        ("a.html", b"GIF89a" + bytes(64), "wrong_type"),
        ("a.pdf", bytes(range(256)), "wrong_type"),  # unknown binary named .pdf
        ("a.zip", ZIP, "unsupported_type"),
        ("a.png", ZIP, "wrong_type"),  # named as an image, but not one
        ("a.jpg", b"plain text, not a picture", "wrong_type"),
        ("a.gif", b"GIF89a" + bytes(64), "unsupported_type"),  # an image we do not read
        ("scan", PNG, "unsupported_type"),  # images are read only when named as images
        ("a.json", b'{"a": 1}', "unsupported_type"),  # text, but not a type we index
        ("Makefile", b"all:\n\techo", "unsupported_type"),
    ],
)
def test_sniff_rejects_with_a_code(name: str, head: bytes, code: str) -> None:
    with pytest.raises(ReadError) as info:
        sniff_kind(Path(name), head)
    assert info.value.code == code
    assert name in info.value.message
