"""Citation markers map back to the numbered sources and are checked against their text."""

from __future__ import annotations

from indexes import Chunk, Hit
from rag.answering.citations import (
    build_citations,
    check_sentences,
    cited_numbers,
    drop_invalid_markers,
    support,
)
from rag.text import content_words, split_sentences


def _hit(n: int, text: str, page: int | None = 1) -> Hit:
    return Hit(Chunk(f"c{n}", f"/docs/file{n}.pdf", page, text, 0, len(text)), 1.0 - n / 10)


HITS = [
    _hit(1, "The lease ends on 31 March 2031. Rent is paid monthly."),
    _hit(2, "The tenant may keep one cat. Dogs are not allowed.", page=4),
    _hit(3, "Parking space 12 belongs to the flat.", page=None),
]


def test_markers_parsed_in_order_and_out_of_range_dropped() -> None:
    assert cited_numbers("A [2]. B [1, 3]. C [9] and [2].", 3) == [2, 1, 3]
    assert cited_numbers("nothing cited", 3) == []


def test_support_requires_numbers_and_content_words() -> None:
    assert support("The lease ends in 2031 [1].", HITS[0].chunk.text) == 1.0
    assert support("The lease ends in 2035 [1].", HITS[0].chunk.text) == 0.0
    assert support("Dogs are welcome.", HITS[1].chunk.text) == 0.5


def test_cited_sources_first_with_file_page_quote_and_verification() -> None:
    citations = build_citations("The lease ends on 31 March 2031 [1]. Dogs are forbidden [2].", HITS)
    assert [c.n for c in citations] == [1, 2, 3]
    first, second, third = citations
    assert (first.file, first.page, first.cited, first.verified) == ("/docs/file1.pdf", 1, True, True)
    assert first.quote == "The lease ends on 31 March 2031."
    assert second.cited and not second.verified  # "forbidden" is not in the source
    assert not third.cited and third.page is None


def test_uncited_answer_gets_inferred_best_source() -> None:
    citations = build_citations("Parking space 12 belongs to the flat.", HITS)
    inferred = [c for c in citations if c.inferred]
    assert [c.n for c in inferred] == [3] and inferred[0].verified
    assert citations[0].n == 3


def test_citation_order_follows_first_mention() -> None:
    citations = build_citations("Cats are fine [2]. The lease ends in 2031 [1].", HITS)
    assert [c.n for c in citations if c.cited] == [2, 1]


def test_an_uncited_numbered_list_still_gets_its_inferred_source() -> None:
    # "1." and "2." are in no source, so every source fails the number rule; words decide.
    citations = build_citations("1. The tenant may keep a cat.\n2. Dogs are not allowed.", HITS)
    inferred = [c for c in citations if c.inferred]
    assert [c.n for c in inferred] == [2]


def test_a_list_the_source_supports_is_verified_not_tripped_by_its_enumerators() -> None:
    citations = build_citations("1. The tenant may keep a cat.\n2. Dogs are not allowed.", HITS)
    assert [(c.n, c.verified) for c in citations if c.inferred] == [(2, True)]


def test_out_of_range_markers_are_dropped_from_the_text_and_never_cited() -> None:
    assert drop_invalid_markers("The lease ends in 2031 [7]. Dogs [2, 9] are banned [1; 4].", 3) == \
        "The lease ends in 2031. Dogs [2] are banned [1]."
    citations = build_citations("The lease ends in 2031 [7].", HITS)
    assert not any(c.cited for c in citations)


def test_each_sentence_is_checked_against_the_sources_it_cites() -> None:
    checks = check_sentences("The lease ends in 2031 [1]. Dogs are welcome [2]. Parking space 12 is free.", HITS)
    assert [(c.cites, c.best, c.supported) for c in checks] == [((1,), 1, True), ((2,), 2, False), ((), 3, False)]
    # A number the chunk lacks is never supported, whatever the words.
    assert not check_sentences("The lease ends on 31 March 2032 [1].", HITS)[0].supported


def test_a_marker_after_the_full_stop_belongs_to_its_sentence() -> None:
    assert split_sentences("The lease ends in 2031. [1] Dogs are not allowed. [2]") == [
        "The lease ends in 2031. [1]", "Dogs are not allowed. [2]"]
    citations = build_citations("The lease ends in 2031. [1]", HITS)
    assert citations[0].n == 1 and citations[0].cited and citations[0].verified


def test_headings_are_their_own_sentences_and_wrapped_lines_are_not() -> None:
    text = "How documents are split\nEvery page is split into chunks of at most 200 tokens, with an overlap of\n32 tokens."
    assert split_sentences(text) == ["How documents are split",
                                     "Every page is split into chunks of at most 200 tokens, with an overlap of 32 tokens."]


def test_words_match_by_stem_numbers_by_value_and_cjk_by_bigram() -> None:
    assert support("The lighthouse flashed every 7.5 seconds.", "Its lantern flashes white every 7.5 seconds.") < 1.0
    assert support("The lantern flashes.", "Its lanterns flash white.") == 1.0
    assert support("It was 1,000 euros.", "The fee was 1000 euros.") == 1.0
    assert content_words("北京大学") == {"北京", "京大", "大学"}
    assert support("北京大学", "他在北京大学学习。") == 1.0 and support("上海大学", "他在北京大学学习。") < 1.0


def test_quote_is_the_cited_chunks_sentence_closest_to_the_claim() -> None:
    hit = _hit(1, "Rent is paid monthly. The lease ends on 31 March 2031. Pets need consent.")
    (citation,) = build_citations("It ends in March 2031 [1].", [hit])
    assert citation.quote == "The lease ends on 31 March 2031."


def test_citation_labels_name_the_page_the_ocr_or_the_locator() -> None:
    from rag.records import place_label

    assert place_label("/d/report.pdf", 3) == "report.pdf, page 3"
    assert place_label("/d/scan.pdf", 3, ocr=True) == "scan.pdf, page 3, OCR"
    assert place_label("/d/deck.pptx", None, "slide 4") == "deck.pptx, slide 4"
    assert place_label("/d/notes.txt", None) == "notes.txt"
    hit = Hit(Chunk("c1", "/d/deck.pptx", None, "The budget is 48,000 euros.", 0, 27, locator="slide 2",
                    section="Budget"), 0.9)
    (citation,) = build_citations("The budget is 48,000 euros [1].", [hit])
    assert citation.label() == "deck.pptx, slide 2"
    assert {k: citation.to_json()[k] for k in ("page", "locator", "section", "ocr")} == {
        "page": None, "locator": "slide 2", "section": "Budget", "ocr": False}
