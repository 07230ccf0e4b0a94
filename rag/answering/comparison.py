"""Comparisons: does a claim rank two things the other way round from the numbers its evidence gives them?

"The offside rear tyre has more tread than the nearside one" against "Rear tyre tread 3.2 mm offside;
8.0 mm nearside": the words that tell the two things apart ("offside", "nearside") each find the number of
their own clause in the evidence, and the comparative ("more", "cheaper") says which must be larger.
Nothing is concluded when either side has no distinguishing word, no number of its own, or the two numbers
count different things; a comparison with a number ("more than 5 days") is a bound, read elsewhere
(``rag.answering.facts``).
"""

from __future__ import annotations

from collections.abc import Sequence

# The shared reading of a sentence (normalised tokens, names as one token, numbers as slots).
from rag.answering.facts import _is_content, _stem, stream
from rag.answering.quantities import as_number

__all__ = ["comparison_conflict"]

# Only words whose direction does not depend on what is measured: "faster" is a smaller duration but a larger
# speed, "older" an earlier year but a larger age, so neither is read.
_MORE = frozenset("more higher greater larger bigger longer heavier wider taller deeper costlier pricier".split())
_LESS = frozenset("less fewer lower smaller shorter lighter cheaper narrower shallower".split())
_BOUNDS = frozenset("no not nothing any at".split())  # "no more than", "not less than": a limit, not a ranking


def _sides(tokens: Sequence[str]) -> tuple[bool, list[str], list[str]] | None:
    """(claims the first larger, first side's words, second side's words) of "A ... more ... than B", the
    sides cut at the clause boundaries around it; None when the claim compares nothing."""
    for i, token in enumerate(tokens):
        if token not in _MORE | _LESS or (i and tokens[i - 1] in _BOUNDS):
            continue
        than = next((j for j in range(i + 1, min(i + 4, len(tokens))) if tokens[j] == "than"), None)
        if than is None or than + 1 >= len(tokens) or tokens[than + 1][:1].isdigit():
            continue
        start = max((k + 1 for k in range(i) if tokens[k] == "|"), default=0)
        end = next((k for k in range(than + 1, len(tokens)) if tokens[k] == "|"), len(tokens))
        return token in _MORE, list(tokens[start:i]), list(tokens[than + 1:end])
    return None


def _key(token: str) -> str:
    return token if " " in token else _stem(token)


def _value_near(word: str, tokens: Sequence[str], numbers: dict[int, tuple[float, str]]) -> tuple[float, str] | None:
    """The number in the same clause of the evidence as ``word``; None if ``word`` is absent or stands in more
    than one place, or its clause holds no number or several."""
    places = [i for i, t in enumerate(tokens) if _key(t) == word]
    if len(places) != 1:
        return None
    at = places[0]
    start = max((k + 1 for k in range(at) if tokens[k] == "|"), default=0)
    end = next((k for k in range(at, len(tokens)) if tokens[k] == "|"), len(tokens))
    near = [p for p in numbers if start <= p < end]
    return numbers[near[0]] if len(near) == 1 else None  # two numbers in the clause: which one is compared?


def comparison_conflict(claim: str, evidence: str) -> bool:
    """Does the claim say A is more (or less) than B where the evidence's numbers for A and B say the
    opposite?"""
    claim_tokens, _ = stream(claim)
    sides = _sides(claim_tokens)
    if sides is None:
        return False
    larger, first, second = sides
    a = {_key(t) for t in first if _is_content(t) or " " in t}
    b = {_key(t) for t in second if _is_content(t) or " " in t}
    tokens, slots = stream(evidence)
    numbers = {s.place: (value, s.kind) for s in slots if s.kind not in ("NAME", "YEAR", "DATE")
               for value in [as_number(s.value)] if value is not None}
    found_a = [v for w in a - b for v in [_value_near(w, tokens, numbers)] if v is not None]
    found_b = [v for w in b - a for v in [_value_near(w, tokens, numbers)] if v is not None]
    if len(set(found_a)) != 1 or len(set(found_b)) != 1:
        return False  # a side without a number of its own, or with two: nothing to compare
    (value_a, kind_a), (value_b, kind_b) = found_a[0], found_b[0]
    if value_a == value_b or (kind_a and kind_b and kind_a != kind_b):
        return False
    return (value_a > value_b) != larger

