"""Text clean-up at ingestion (ingest.cleaning), each on a real PDF read through pypdf."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.chunking import ChunkerSettings, PageChunker
from ingest.cleaning import clean_pages, drop_running_lines, join_hyphenation, normalize
from ingest.readers import Page, read_document
from tests.conftest import shared

ATTENTION = "paper_attention_is_all_you_need_1706.03762v5.pdf"
LORA = "paper_lora_2106.09685.pdf"
IRS = "report_irs_i1040nr_instructions_50p.pdf"


def _pages(name: str) -> dict[int | None, str]:
    return {p.number: p.text for p in clean_pages(read_document(shared("pdfs", "real", name)).pages)}


@pytest.fixture(scope="module")
def attention() -> dict[int | None, str]:
    return _pages(ATTENTION)


def test_ligatures_become_letters_so_words_match(attention: dict[int | None, str]) -> None:
    text = "\n".join(attention.values())
    assert not re.search("[\ufb00-\ufb06]", text)
    assert "first" in attention[1] or "first" in attention[2]
    assert normalize("ﬁrst ﬂow ＧＰＴ－４") == "first flow GPT-4"


def test_words_hyphenated_across_lines_are_joined(attention: dict[int | None, str]) -> None:
    text = "\n".join(attention.values())
    assert "transduction" in text and "transduc-\ntion" not in text
    assert "convolutional" in text and "convolu-\ntional" not in text
    # a compound the paper writes with a hyphen elsewhere keeps it
    assert "position-wise" in text and "positionwise" not in text


def test_hyphen_rules() -> None:
    assert join_hyphenation("repre-\nsentation") == "representation"
    assert join_hyphenation("GPT-\n4 and Anglo-\nSaxon") == "GPT-\n4 and Anglo-\nSaxon"
    assert join_hyphenation("self-\nattention", {"self-attention"}) == "self-attention"
    assert join_hyphenation("in\u00adcredible") == "incredible"


def test_page_numbers_dropped_but_numbers_in_text_kept(attention: dict[int | None, str]) -> None:
    # pypdf puts the page number on the last line of each page; it repeats (digits aside) on every page
    assert not any(text.rstrip().endswith(f"\n{n}") for n, text in attention.items() if n is not None)
    assert "h = 8" in attention[5]


def test_running_header_and_footer_of_a_report_dropped() -> None:
    raw = Path(shared("pdfs", "real", IRS))
    pages = _pages(raw.name)
    text = "\n".join(pages.values())
    assert "Page 3 of 48 Instructions for Form 1040NR" not in text
    # the proof note heads 48 of the 50 pages; it stays only where it is not at a page edge
    assert sum("MUST be removed before printing" in t for t in pages.values()) <= 2
    assert not re.search(r"-\d+-\s*Instructions for Form 1040NR\s*$", pages[3])
    assert "Instructions for Form 1040NR" in text  # the title itself still occurs in running text


def test_lines_repeated_in_the_body_are_not_running_lines() -> None:
    words = ["apples", "pears", "plums", "figs", "limes"]
    pages = [f"Header\nbody on {w}\nTotal\nmore on {w}\npage {i}" for i, w in enumerate(words)]
    cleaned = drop_running_lines(pages)
    assert cleaned == [f"body on {w}\nTotal\nmore on {w}" for w in words]
    assert drop_running_lines(["one\ntwo", "three\nfour"]) == ["one\ntwo", "three\nfour"]  # too few pages
    # every page the same short text: that is the document, not its header
    assert drop_running_lines(["Chapter 7\nPage 1", "Chapter 7\nPage 2", "Chapter 7\nPage 3"]) == [
        "Chapter 7\nPage 1", "Chapter 7\nPage 2", "Chapter 7\nPage 3"]


def test_lora_reads_fine_tuning(tmp_path: Path) -> None:
    text = "\n".join(_pages(LORA).values())
    assert "fine-tuning" in text and "ﬁne" not in text


def test_text_files_get_nfkc_only() -> None:
    pages = [Page(None, "ﬁrst draft-\nline")]
    assert [p.text for p in clean_pages(pages)] == ["first draft-\nline"]


def test_a_new_index_records_clean_text_and_an_older_one_stays_as_built(tmp_path: Path) -> None:
    from indexes import HashEmbedder, Index
    from ingest.pipeline import ingest_paths

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The ﬁrst ﬂow meter was calibrated in March.", encoding="utf-8")
    embedder = HashEmbedder()
    ingest_paths(tmp_path / "idx", [docs], embedder)
    with Index.open(tmp_path / "idx") as index:
        assert index.manifest.settings["chunker"]["clean"] == 1
        [text] = [c.text for c in index.chunks(index.chunk_ids()).values()]
        assert text.startswith("The first flow meter")
    # An index made before clean-up (its chunker settings lack "clean") is extended the way it was built.
    old = ChunkerSettings.stored({"chunk_size": 200, "chunk_overlap": 32})
    assert old.clean == 0
    chunker = PageChunker(embedder.tokenize, embedder.max_tokens, old)
    assert chunker.chunk("b.txt", [Page(None, "ﬁrst ﬂow")])[0].text == "ﬁrst ﬂow"
    new = PageChunker(embedder.tokenize, embedder.max_tokens)
    assert new.chunk("b.txt", [Page(None, "ﬁrst ﬂow")])[0].text == "first flow"
