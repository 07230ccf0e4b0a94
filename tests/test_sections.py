"""Section headings of typeset documents (ingest.sections), on real PDFs read through pypdf."""

from __future__ import annotations

import pytest

from indexes import HashEmbedder
from ingest.chunking import PageChunker
from ingest.readers import Page, read_document
from ingest.sections import heading_lines
from tests.conftest import shared


def _chunks(name: str) -> list:
    path = shared("pdfs", "real", name)
    embedder = HashEmbedder()
    return PageChunker(embedder.tokenize, embedder.max_tokens).chunk(str(path), read_document(path).pages)


def test_numbered_headings_found_and_look_alikes_refused() -> None:
    text = ("3.2 Attention\nAn attention function can be described as mapping a query.\n"
            "0.3 F1 behind fine-tuning the entire model. This\n"
            "D. Koller, D. Schuurmans, Y. Bengio\n"
            "3 Model 28.4 41.8 2.3 10^19\n"
            "A.1 Illustration of the Pre-training Tasks\n"
            "4.1 LOW-RANK-PARAMETRIZED UPDATE MATRICES\n"
            "1 we show that the result holds.\n")
    assert [title for _, title in heading_lines(text)] == [
        "3.2 Attention", "A.1 Illustration of the Pre-training Tasks", "4.1 LOW-RANK-PARAMETRIZED UPDATE MATRICES"]
    offset, _ = heading_lines(text)[0]
    assert text[offset:].startswith("3.2 Attention")


def test_a_paper_without_outline_gets_sections_from_its_numbered_headings() -> None:
    chunks = _chunks("paper_bert_1810.04805.pdf")
    page6 = [c for c in chunks if c.page == 6]
    opening = next(c for c in page6 if "\n4.2 SQuAD v1.1\n" in c.text)
    assert opening.section == "4.1 GLUE"  # it starts before the heading
    after = [c for c in page6 if c.start > opening.start + opening.text.index("4.2 SQuAD")]
    assert after and all(c.section == "4.2 SQuAD v1.1" for c in after[:2])
    # a section carries over to the next page until the next heading
    glue = [c for c in chunks if c.page == 6 and c.start == 0]
    assert glue and glue[0].section is not None and glue[0].section.startswith("4.")


def test_a_paper_with_an_outline_carries_it_and_its_headings() -> None:
    chunks = _chunks("paper_attention_is_all_you_need_1706.03762v5.pdf")
    heads = [c for c in chunks if c.page == 5 and "h = 8" in c.text]
    assert heads and heads[0].section is not None and heads[0].section.startswith("3.2")
    assert all(c.section is None for c in chunks if c.page == 1 and c.start == 0)  # the title page precedes any


def test_text_files_get_no_guessed_sections() -> None:
    embedder = HashEmbedder()
    chunks = PageChunker(embedder.tokenize, embedder.max_tokens).chunk("notes.txt", [Page(None, "1 Introduction\nHello there.")])
    assert chunks[0].section is None


@pytest.mark.parametrize("name", ["paper_french_olap_logs.pdf"])
def test_headings_in_other_languages(name: str) -> None:
    sections = {c.section for c in _chunks(name)}
    assert "3.1 Définitions préliminaires" in sections
