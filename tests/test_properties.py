"""Property-based tests: random bytes and random text never raise anything but our typed errors;
chunk spans index the page text; ids are stable; the citation parser stays within its sources."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexes import HashEmbedder, RagError, chunk_id
from indexes.text import bm25_terms, sentence_spans
from ingest.chunking import ChunkerSettings, PageChunker
from ingest.cleaning import clean_pages
from ingest.decode import decode_text
from ingest.readers import Page, read_document
from rag.answering.citations import cited_numbers, drop_invalid_markers
from rag.text import content_words, numbers, split_sentences

TEXT = st.text(st.characters(min_codepoint=1, max_codepoint=0x10FFFF, blacklist_categories=("Cs",)), max_size=400)
PROSE = st.lists(st.sampled_from(["The keeper", "trims", "the wick.", "Spring tides", "follow", "42", "km", "[1]",
                                  "[2, 7]", "\n", "\n\n", "ﬁrst", "模型", "참조", "1.5", "e.g.", "  ", "Dr.", "?"]),
                 max_size=120).map(" ".join)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(data=st.binary(max_size=2048), suffix=st.sampled_from([".txt", ".md", ".html", ".pdf", ".csv", ".bin"]))
def test_readers_raise_only_typed_errors_on_random_bytes(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"random{suffix}"
        path.write_bytes(data)
        try:
            document = read_document(path)
        except RagError as exc:  # ReadError and friends: a verdict with a stable code
            assert exc.code and exc.message
            return
        assert document.pages and all(p.text.strip() for p in document.pages)


@FAST
@given(data=st.binary(max_size=4096))
def test_decoder_returns_text_or_a_decode_error(data: bytes) -> None:
    try:
        text = decode_text(data)
    except RagError as exc:
        assert exc.code == "decode_error"
        return
    assert isinstance(text, str) and "\r" not in text


_EMB = HashEmbedder()
_CHUNKER = PageChunker(_EMB.tokenize, _EMB.max_tokens, ChunkerSettings(chunk_size=40, chunk_overlap=8))


@FAST
@given(texts=st.lists(st.one_of(TEXT, PROSE), min_size=1, max_size=3))
def test_chunk_spans_index_the_page_text_and_ids_are_stable(texts: list[str]) -> None:
    pages = [Page(n, t) for n, t in enumerate(texts, start=1)]
    chunks = _CHUNKER.chunk("/docs/a.pdf", pages)
    cleaned = clean_pages(pages)  # spans index the cleaned page text (NFKC: "ﬀ" is "ff")
    for chunk in chunks:
        page = cleaned[(chunk.page or 1) - 1]
        assert 0 <= chunk.start <= chunk.end <= len(page.text)
        assert page.text[chunk.start:chunk.end] == chunk.text
        assert chunk.id == chunk_id("/docs/a.pdf", chunk.page, chunk.start, chunk.text)
    assert [c.id for c in _CHUNKER.chunk("/docs/a.pdf", pages)] == [c.id for c in chunks]


@FAST
@given(text=st.one_of(TEXT, PROSE), count=st.integers(0, 8))
def test_citation_parser_stays_within_the_sources(text: str, count: int) -> None:
    cited = cited_numbers(text, count)
    assert all(1 <= n <= count for n in cited) and len(cited) == len(set(cited))
    cleaned = drop_invalid_markers(text, count)
    assert all(1 <= n <= count for n in cited_numbers(cleaned, 99))


@FAST
@given(text=st.one_of(TEXT, PROSE))
def test_text_rules_never_raise_and_sentences_cover_the_words(text: str) -> None:
    spans = sentence_spans(text)
    assert all(0 <= a < b <= len(text) for a, b in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(spans))
    assert isinstance(split_sentences(text), list)
    assert isinstance(content_words(text), set) and isinstance(numbers(text), set)
    assert all(term.strip() for term in bm25_terms(text))
