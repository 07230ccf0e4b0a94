"""Citation markers map back to the numbered sources and are checked against their text."""

from __future__ import annotations

from indexes import Chunk, Hit
from rag.citations import build_citations, cited_numbers, support


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
