"""What kind of value a question asks for, and whether any retrieved chunk holds a value of that kind.

A question about the very documents in the index that they do not answer ("How much money did it cost
to train the big Transformer?" over the paper that gives its cost in FLOPs; "How many GPU hours did
fine-tuning GPT-3 take?" over a page of tokens per second) retrieves on-topic chunks with every term it
names: cosine, overlap and the named terms (``rag.answering.anchors``) all say "answered". What gives it
away is that nothing of the kind asked for is there. Only wordings that leave no doubt about the kind
count, since a rule that guesses would abstain on answerable questions:

- a sum of money: "how much money", "how much does/did/would ... cost/charge/pay", "what is the
  price/fee/cost of": a currency symbol or word next to a number ("$4.6 million", "4,500 euros");
- a count of a unit of time or measure: "how many hours/GPU hours/days/kilograms": a number followed,
  within two words, by that unit ("12 hours", "3.5 days", "8 GPU hours");
- a year: "in what year", "which year": a number of three or four digits;
- a percentage: "what percentage/percent": a number with "%" or "percent".

The check reads every retrieved chunk, so one that holds such a value anywhere keeps the question
answerable; for a unit it is skipped when the best chunk is not in English ("Stunden"), while money
("4.500 Euro", "5,000원"), years and percentages ("12 Prozent") are read in any language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rag.text import fold, language_of

__all__ = ["absent_kind", "asked_kind", "value_weight"]

_NUMBER = r"\d[\d,.]*"
_SPELLED = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|a few|several)"
_CURRENCY_WORD = r"(?:(?:dollars?|euros?|usd|eur|gbp|pounds?(?! of)|yen|won|francs?|cents?|rupees?|yuan|rmb)\b|[원元円])"
_MONEY = re.compile(
    rf"(?:[$€£¥₩]|\bus\$|\b(?:usd|eur|gbp|chf|jpy|cad|aud)\s?){_NUMBER}"
    rf"|{_NUMBER}\s?(?:k|m|bn|thousand|million|billion)?\s?(?:[$€£¥₩]|{_CURRENCY_WORD})", re.IGNORECASE)
_YEAR = re.compile(r"(?<![\d.,])\d{3,4}(?![\d]|[.,]\d)")  # "1279", "982", "2019"
_PERCENT = re.compile(rf"{_NUMBER}\s?(?:%|percent\b|per cent\b|prozent\b|pour cent\b)", re.IGNORECASE)
# Units a "how many" question may count, each with the spellings a document writes it in.
_UNITS = {
    "second": r"s(?:ec(?:ond)?s?)?", "minute": r"min(?:ute)?s?", "hour": r"h(?:(?:ou)?rs?)?", "day": r"days?",
    "week": r"weeks?|wks?", "month": r"months?", "year": r"years?|yrs?", "kilogram": r"kg|kilo(?:gram)?s?",
    "gram": r"g|grams?", "metre": r"m|met(?:re|er)s?", "kilometre": r"km|kilomet(?:re|er)s?", "mile": r"miles?",
    "litre": r"l|lit(?:re|er)s?", "byte": r"[kmgt]?b|(?:kilo|mega|giga|tera)?bytes?",
}
_UNIT_OF = {spelling: unit for unit in _UNITS for spelling in (unit, unit + "s")}
_UNIT_OF.update({"hrs": "hour", "kilograms": "kilogram", "meters": "metre", "meter": "metre",
                 "kilometers": "kilometre", "kilometer": "kilometre", "liters": "litre", "liter": "litre",
                 "gigabytes": "byte", "megabytes": "byte", "terabytes": "byte", "bytes": "byte"})
_HOW_MANY = re.compile(r"\bhow\s+many\s+((?:[\w-]+\s*){1,3})", re.IGNORECASE)
# Where the counted noun phrase ends: "how many passengers a year" counts passengers, not years.
_COUNTED_END = frozenset("a an per each every did do does is are was were would will can could have has had of in on "
                         "for at by to from with".split())
_ASKS_MONEY = re.compile(
    r"\bhow\s+much\s+(?:money|cash)\b|\bhow\s+much\b[^?.]{0,60}?\b(?:cost|costs|charge|charges|charged|pay|paid|"
    r"spend|spent|earn|earned)\b|\bwhat\s+(?:is|was|were|are)\s+the\s+(?:price|fee|fees|cost)\s+(?:of|for)\b",
    re.IGNORECASE)
_ASKS_YEAR = re.compile(r"\b(?:in\s+)?(?:what|which)\s+year\b", re.IGNORECASE)
_ASKS_PERCENT = re.compile(r"\bwhat\s+(?:percentage|percent|per\s+cent)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Kind:
    """What the question asks for, as the user reads it ("a sum of money"), and how a value of it is written;
    ``english``: written with English words (a unit), so only English evidence is read for it."""

    name: str
    pattern: re.Pattern[str]
    english: bool = False


def asked_kind(question: str) -> Kind | None:
    """The kind of value ``question`` asks for, when its wording leaves no doubt; else None."""
    question = fold(question)
    if _ASKS_MONEY.search(question):
        return Kind("a sum of money", _MONEY)
    if _ASKS_PERCENT.search(question):
        return Kind("a percentage", _PERCENT)
    if _ASKS_YEAR.search(question):
        return Kind("a year", _YEAR)
    match = _HOW_MANY.search(question)
    counted = match.group(1).lower().split() if match else []
    counted = counted[:next((i for i, w in enumerate(counted) if w in _COUNTED_END), len(counted))]
    unit = next((_UNIT_OF[w] for w in counted if w in _UNIT_OF), None)
    if unit:
        spelled = _UNITS[unit]
        return Kind(f"a number of {unit}s", re.compile(
            rf"(?:{_NUMBER}|\b{_SPELLED})\s?(?:[\w-]+\s+){{0,2}}?(?:{spelled})\b", re.IGNORECASE), english=True)
    return None


def absent_kind(question: str, texts: Iterable[str]) -> str:
    """The kind of value ``question`` asks for (``asked_kind``) when none of ``texts`` (the retrieved chunks,
    best first) holds one; "" when they do, when the kind is not clear, or when it is a unit and the best
    chunk is not in English (currencies, years and percentages are written with digits and signs)."""
    kind = asked_kind(question)
    texts = [fold(t) for t in texts]
    if kind is None or not texts or (kind.english and language_of(texts[0]) not in ("en", "latin")):
        return ""
    return "" if any(kind.pattern.search(t) for t in texts) else kind.name


# Questions whose answer is a number ("how many layers", "what accuracy", "in which year"), whatever its unit.
_ASKS_NUMBER = re.compile(
    r"\bhow\s+(?:many|much|long|large|big|old|far|often|high|tall|fast|heavy|wide)\b"
    r"|\b(?:what|which)\s+(?:[\w-]+\s+){0,3}?(?:number|size|percentage|percent|share|proportion|score|accuracy|rate|"
    r"year|amount|count|total|price|cost|fee|length|duration|age|ratio|speed|latency|memory|bleu|f1|perplexity)\b",
    re.IGNORECASE)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")
_STEM_END = re.compile(r"(?:ies|es|s)$")


def value_weight(question: str) -> Callable[[str], float]:
    """How much a sentence gains, for ranking, by holding the kind of value ``question`` asks for: for a
    question whose answer is a number, 1 for a number followed within two words by what it counts ("how
    many sentences": "17M sentences"), 0.5 for another number the question does not give; 0 otherwise.
    The sentence that repeats a question's words best is often the one before or after the answer
    ("the Transformer generalizes to constituency parsing" beside "the corpora of 17M sentences")."""
    folded = fold(question)
    if not _ASKS_NUMBER.search(folded):
        return lambda sentence: 0.0
    given = set(_DIGITS.findall(folded))
    match = _HOW_MANY.search(folded)
    counted = [w for w in (match.group(1).lower().split() if match else [])[:3]]
    counted = counted[:next((i for i, w in enumerate(counted) if w in _COUNTED_END), len(counted))]
    noun = _STEM_END.sub("", counted[-1]) if counted and len(counted[-1]) > 3 else ""
    counting = re.compile(rf"\d[\d,.]*\s?[kmb]?\s?(?:[\w-]+\s+){{0,2}}?{re.escape(noun)}", re.IGNORECASE) if noun else None

    def weight(sentence: str) -> float:
        if counting is not None and counting.search(sentence):
            return 1.0
        return 0.5 if any(n not in given for n in _DIGITS.findall(sentence)) else 0.0
    return weight
