"""Source text as the claim checks read it: sentences, table rows with their column names, a file's head.

A Markdown table's rows are sentences one by one, each also read with its column names; a file's head is its title
and first sentences; what surrounds a sentence (that head, its chunk's opening, the sentence before it) is where a
claim's name or a title's number may stand when the sentence itself does not give it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from indexes import Hit
from rag.answering.facts import content_of, stream, words
from rag.text import split_sentences

__all__ = ["HEAD_CHARS", "document_text", "evidence_sentences", "heads_of", "is_rule", "is_title", "readings",
           "surroundings", "table_row", "title_numbers"]


def title_numbers(claim: str, title: str) -> frozenset[str]:
    """The numbers of ``title`` that ``claim`` states next to a word they stand next to in the title."""
    def beside(text: str) -> dict[str, set[str]]:
        tokens, slots = stream(text)
        return {s.value: {w for t in tokens[max(0, s.place - 1):s.place + 2] for w in content_of(t)}
                for s in slots if s.kind not in ("NAME", "DATE")}
    mine, theirs = beside(claim), beside(title)
    return frozenset(v for v, near in mine.items() if near & theirs.get(v, set()))


def is_title(line: str) -> bool:
    return len(words(line)) <= 15 and not line.rstrip().endswith((".", "!", "?", ";", ":"))


HEAD_CHARS = 2000  # a file's head is read from its first characters, not its whole text (a book: 300 kB)


def heads_of(hits: Sequence[Hit], documents: Mapping[str, str]) -> dict[str, list[str]]:
    """Each file's head (its title and first sentences), from ``documents`` or its retrieved first chunk."""
    heads = {source: _head(text[:HEAD_CHARS]) for source, text in documents.items()}
    heads.update({h.chunk.source: _head(h.chunk.text) for h in hits if h.chunk.start == 0 and h.chunk.page in (None, 1)})
    return heads


def _head(text: str) -> list[str]:
    """A file's title and first sentences, and the fields of a record's header that follow them ("**Site:** 41 Mill
    Lane" after "**Authority:**", "**Meeting date:**", ...): the parties and the place it is about."""
    sentences = evidence_sentences(text)
    return sentences[:3] + [s for s in sentences[3:16] if _FIELD.match(s)]


def surroundings(hits: Sequence[Hit], sources: Sequence[int],
                  heads: Mapping[str, list[str]]) -> dict[tuple[int, str], str]:
    """Where each sentence stands: its file's head (title and first lines, when retrieved: the parties it names),
    its chunk's opening sentence and the sentence before it,
    which often names what it is about ("- **Hotel Bjørvika Brygge, Oslo** — double room." then "Free
    cancellation until 7 June 2025."), and a table row read with its column names ("Group A").
    A name of the claim may be there rather than in the sentence itself."""
    titles = {source: " ".join(head) for source, head in heads.items()}
    out: dict[tuple[int, str], str] = {}
    for n in sources:
        read = readings(hits[n - 1].chunk.text)
        sentences = [plain for plain, _ in read]
        title = titles.get(hits[n - 1].chunk.source, "")
        for i, (sentence, headed) in enumerate(read):
            # A table row is read with its column names, never with the row above: that is another item.
            around = [title, headed] if headed else [title, sentences[0], *sentences[max(0, i - 1):i]]
            out.setdefault((n, sentence), " ".join(dict.fromkeys(around)))
    return out


def document_text(hits: Sequence[Hit], n: int, documents: Mapping[str, str]) -> str:
    """All the text of source ``n``'s file (``documents``), else what was retrieved of it: where a name given in
    full elsewhere ("Piotr Kowalski") is found when the evidence names it by one word ("Piotr")."""
    if hits[n - 1].chunk.source in documents:
        return documents[hits[n - 1].chunk.source]
    return "\n".join(h.chunk.text for h in hits if h.chunk.source == hits[n - 1].chunk.source)


def evidence_sentences(text: str) -> list[str]:
    """The sentences of a source text; each row of a Markdown or plain table is a sentence of its own
    (its cells joined), so one row's numbers are not read against another row's labels."""
    return [plain for plain, _ in readings(text)]


def readings(text: str) -> list[tuple[str, str]]:
    """Each sentence of a source text, and for a table row, also the row read with its column names ("Group
    A; Daily dose Velmotrine 10 mg" for "A | Velmotrine 10 mg": what a cell means, where a claim may name it)."""
    out: list[tuple[str, str]] = []
    prose: list[str] = []
    header: list[str] = []
    lines = text.splitlines()

    def flush() -> None:
        out.extend((s, "") for s in split_sentences("\n".join(prose)))
        prose.clear()

    for i, line in enumerate(lines):
        cells = _cells(line)
        if cells is None:
            if _FIELD.match(line):  # "**Attending surgeon:** Dr Sofia Lindqvist": a record's field, read alone
                flush()
            prose.append(line)
            header = []
            continue
        if is_rule(cells):
            continue
        flush()
        following = _cells(lines[i + 1]) if i + 1 < len(lines) else None
        if following is not None and is_rule(following):
            header = cells  # the row above the rule names the columns
        out.append((" ".join(c for c in cells if c), table_row(cells, header) if header else ""))
    flush()
    return [reading for reading in out if reading[0].strip()]


# A line that opens with a short label and a colon ("**Discharge nurse:** Hannah Price", "Term: 24 months"): one field
# of a record, so a run of them is not one sentence in which any name may sit beside any label.
_FIELD = re.compile(r"^\s*(?:[-*•]\s+)?(?:(?:\*\*|__)[A-Z][^:*_\n]{0,40}:(?:\*\*|__)"  # "**Discharge nurse:**"
                    r"|(?!(?:The|A|An|This|That|These|Those|It|We|You|They|I)\b)[A-Z][\w'’()/&-]*(?:[ \t]+[\w'’()/&-]+){0,2}:)"
                    r"[ \t]+\S")


def _cells(line: str) -> list[str] | None:
    """A Markdown table row's cells, or None for any other line."""
    stripped = line.strip()
    if not (stripped.startswith("|") and stripped.endswith("|") and len(stripped) > 1):
        return None
    return [c.strip() for c in stripped.strip("|").split("|")]


def is_rule(cells: Sequence[str]) -> bool:
    return all(re.fullmatch(r":?-{2,}:?", c) for c in cells if c)


def table_row(cells: Sequence[str], header: Sequence[str]) -> str:
    """A row read with its columns' names, one cell after another ("" when the header does not fit the row)."""
    if len(header) != len(cells):
        return ""
    return "; ".join(f"{h} {c}" if h else c for h, c in zip(header, cells, strict=True) if c)
