"""Enumerations: does a claim list an item its evidence's list of the same things leaves out?

"The price covers the bus, the boat, the Flåm Railway section and lunch" against "The price includes the
bus, the boat and the Flåm Railway section": the two lists share items, so they list the same things, and
"lunch" is in neither the evidence's list nor anywhere else in its sentence. A paraphrase of the other items
still reads as close in meaning, which is why this is checked apart. Text is normalised as the other checks
of a claim read it (``rag.answering.facts``).
"""

from __future__ import annotations

import re

from rag.answering.facts import _content, _normalise, words

__all__ = ["list_gap"]

# Items separated by commas, the last one after "and"/"or"/"as well as"; no sentence or clause end inside.
_LIST = re.compile(r"[^,;:.!?()]+(?:,\s*[^,;:.!?()]+)+,?\s+(?:and|or|as well as|plus)\s+[^,;:.!?()]+")
_LAST = re.compile(r",?\s+(?:and|or|as well as|plus)\s+")


def _lists(text: str) -> list[list[frozenset[str]]]:
    """The enumerations of ``text`` (three items or more), each item as its content words."""
    found = []
    for match in _LIST.finditer(_normalise(text)):
        parts = _LAST.split(match.group(0))
        items = [*",".join(parts[:-1]).split(","), parts[-1]]
        sets = [_content(words(item)) for item in items]
        if len(sets) >= 3 and all(sets):
            found.append(sets)
    return found


def list_gap(claim: str, evidence: str) -> bool:
    """An item of a claim's list missing from a list of the evidence that shares two or more of its items,
    and its words found nowhere in the evidence."""
    held = _content(words(_normalise(evidence)))
    theirs = _lists(evidence)
    for mine in _lists(claim):
        for other in theirs:
            shared = [item for item in mine if any(item & o for o in other)]
            if len(shared) >= 2 and any(not item & held for item in mine if item not in shared):
                return True
    return False
