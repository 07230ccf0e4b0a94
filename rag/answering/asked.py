"""What kind of value a question asks for, and whether any retrieved chunk holds a value of that kind.

A question about the very documents in the index that they do not answer ("How much money did it cost
to train the big Transformer?" over the paper that gives its cost in FLOPs; "How many GPU hours did
fine-tuning GPT-3 take?" over a page of tokens per second) retrieves on-topic chunks with every term it
names: cosine, overlap and the named terms (``rag.answering.anchors``) all say "answered". What gives it
away is that nothing of the kind asked for is there. Only wordings that leave no doubt about the kind
count, since a rule that guesses would abstain on answerable questions:

- a sum of money: "how much money", "how much does/did/would ... cost/charge/pay/worth" (the verb last, or
  followed by "to", "for", "per"...), "what is the price/fee of": a currency sign, ISO code or word next to
  a number ("$ 4.6 million", "4,500 euros", "CHF 20", "Rs. 500"), or a header giving the currency ("(USD)");
- a count of a unit of time or measure: "how many hours/GPU hours/days/kilograms" (the unit among the first
  two words counted): a number, or "a", "half", "a dozen"..., followed within two words by a unit of the
  same quantity ("12 hours", "3.5 days", "a decade", "8 GPU hours");
- a year: "in what year", "which year": a number of three or four digits, "令和3年", "'90s";
- a percentage: "what percentage/percent": "%", "percent", "pct", "Prozent", "pour cent".

The check reads every retrieved chunk, so one that holds such a value anywhere keeps the question
answerable; for a unit it is skipped unless every chunk reads as English ("40 Stunden", "40 ore"), while
money ("4.500 Euro", "5,000원"), years and percentages ("12 Prozent") are read in any language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rag.text import fold, language_of, numbers

__all__ = ["absent_kind", "asked_kind", "value_weight"]

_NUMBER = r"(?<![\w.,])\d[\d,.]*+"  # possessive: a long run of digits cannot backtrack
_SPELLED = (r"(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
            r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|hundred|half|dozen|a few|several|"
            r"a couple of)")
# Money: any currency sign (Unicode category Sc) beside a number, an ISO code or a currency word; or a header that
# gives the currency of a table's numbers ("Price (USD)", "in thousands of dollars").
_ISO = r"(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|CNY|RMB|INR|HKD|SGD|SEK|NOK|DKK|PLN|BRL|MXN|KRW|RUB|ZAR|TRY|NZD)"
_CURRENCY_WORD = (r"(?:(?:dollars?|euros?|pounds?(?! of)|yen|won|francs?|cents?|rupees?|yuan|renminbi|pesos?|reais|"
                  r"real|kronor|kroner|krona|krone|kr|zł|zloty|rials?|riyals?|dirhams?|lira|rubles?|roubles?)\b|"
                  r"[원元円]|人民币|ريال)")
# Every currency sign (Unicode category Sc) below U+10000, written out: computing it costs 12 ms at import.
_SIGN = (
    "$\u00a2\u00a3\u00a4\u00a5\u058f\u060b\u07fe\u07ff\u09f2\u09f3\u09fb\u0af1\u0bf9\u0e3f\u17db"
    "\u20a0\u20a1\u20a2\u20a3\u20a4\u20a5\u20a6\u20a7\u20a8\u20a9\u20aa\u20ab\u20ac\u20ad\u20ae\u20af"
    "\u20b0\u20b1\u20b2\u20b3\u20b4\u20b5\u20b6\u20b7\u20b8\u20b9\u20ba\u20bb\u20bc\u20bd\u20be\u20bf"
    "\u20c0\ua838\ufdfc\ufe69\uff04\uffe0\uffe1\uffe5\uffe6"
)
_MONEY = re.compile(
    rf"[{re.escape(_SIGN)}]\s?{_NUMBER}|\d\s?[{re.escape(_SIGN)}]|\b(?:rs|us|hk|c|a|r|nz)\.?\s?[$]?\s?\d"
    rf"|(?-i:\b{_ISO}\b)\s?\d|\d\s?(?:k|m|bn|thousand|million|billion)?\s?(?-i:{_ISO}\b)"
    rf"|\d\s?(?:k|m|bn|thousand|million|billion)?\s?{_CURRENCY_WORD}"
    rf"|\((?-i:{_ISO})\)|\(\s?[{re.escape(_SIGN)}]\s?\)|\bin\s+(?:(?:thousands|millions|billions)\s+of\s+)?"
    rf"(?:dollars|euros|pounds|yen)\b", re.IGNORECASE)
_YEAR = re.compile(r"(?<![\d.,])\d{3,4}(?![\d]|[.,]\d)|\d{1,2}\s?年|'\d0s\b")  # "1279", "2019", "令和3年", "'90s"
_PERCENT = re.compile(r"%|\bpercent|\bper\s?cent\b|\bpct\b|prozent|pour\s?cent|por\s?ciento", re.IGNORECASE)
# Units a "how many" question may count, each with the spellings a document writes it in. Any unit of time
# answers a question about one ("3.5 days" for "how many hours"), likewise of length, mass and data.
_TIME = r"s|secs?|seconds?|mins?|minutes?|h|hrs?|hours?|days?|weeks?|wks?|months?|years?|yrs?|decades?|centur(?:y|ies)"
_UNITS = {
    "second": _TIME, "minute": _TIME, "hour": _TIME, "day": _TIME, "week": _TIME, "month": _TIME, "year": _TIME,
    "kilogram": r"kg|kilo(?:gram)?s?|g|grams?|t|tonnes?|tons?|lbs?|pounds?",
    "gram": r"kg|kilo(?:gram)?s?|mg|g|grams?", "metre": r"k?m|cm|mm|met(?:re|er)s?|kilomet(?:re|er)s?|miles?|feet|ft",
    "kilometre": r"k?m|met(?:re|er)s?|kilomet(?:re|er)s?|miles?", "mile": r"miles?|k?m|kilomet(?:re|er)s?",
    "litre": r"m?l|lit(?:re|er)s?|gallons?", "byte": r"[kmgtp]i?b|(?:kilo|mega|giga|tera|peta)?bytes?",
}
_UNIT_OF = {spelling: unit for unit in _UNITS for spelling in (unit, unit + "s")}
_UNIT_OF.update({"hrs": "hour", "kilograms": "kilogram", "meters": "metre", "meter": "metre",
                 "kilometers": "kilometre", "kilometer": "kilometre", "liters": "litre", "liter": "litre",
                 "gigabytes": "byte", "megabytes": "byte", "terabytes": "byte", "bytes": "byte"})
_HOW_MANY = re.compile(r"\bhow\s+many\s+((?:[\w-]+\s*){1,3})", re.IGNORECASE)
# Where the counted noun phrase ends: "how many passengers a year" counts passengers, not years.
_COUNTED_END = frozenset("a an per each every did do does is are was were would will can could have has had of in on "
                         "for at by to from with".split())
# "How much does/did/would ... cost/charge/pay", the verb ending the question or followed by whom or what for;
# "how much accuracy does it cost", "how much did costs increase", "how much time did they spend" are no money.
_ASKS_MONEY = re.compile(
    r"\bhow\s+much\s+(?:money|cash)\b|\bhow\s+much\s+(?:does|did|do|would|will|should|is|was|are|were)\b[^?.]{0,60}?"
    r"\b(?:cost|costs|charge|charges|charged|pay|paid|worth)\b(?=\s*(?:\?|$|to\b|for\b|per\b|each\b|in total\b|"
    r"a (?:month|year|week|day)\b))|\bwhat\s+(?:is|was|were|are)\s+the\s+(?:price|fee|fees)\s+(?:of|for)\b",
    re.IGNORECASE)
_ASKS_YEAR = re.compile(r"\b(?:in\s+)?(?:what|which)\s+year\b(?!-)", re.IGNORECASE)
_ASKS_PERCENT = re.compile(r"\bwhat\s+(?:percentage|percent|per\s+cent)\b(?!\s+points?)", re.IGNORECASE)


def _counted(question: str) -> list[str]:
    """The words a "how many" question counts, at most two ("GPU hours"), up to a word that ends them."""
    match = _HOW_MANY.search(question)
    words = match.group(1).lower().split() if match else []
    return words[:next((i for i, w in enumerate(words) if w in _COUNTED_END), len(words))][:2]


@dataclass(frozen=True)
class Kind:
    """What the question asks for, as the user reads it ("a sum of money"), and how a value of it is written;
    ``english``: written with English words (a unit), so only evidence that is all English is read for it."""

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
    unit = next((_UNIT_OF[w] for w in _counted(question) if w in _UNIT_OF), None)
    if unit:
        spelled = _UNITS[unit]
        return Kind(f"a number of {unit}s", re.compile(
            rf"(?:{_NUMBER}|\b{_SPELLED})\s?(?:[\w-]+\s+){{0,2}}?(?<!per )(?<!/)(?:{spelled})\b", re.IGNORECASE),
                    english=True)  # "tokens per second" is a rate, no duration
    return None


def absent_kind(question: str, texts: Iterable[str]) -> str:
    """The kind of value ``question`` asks for (``asked_kind``) when none of ``texts`` (the retrieved chunks,
    best first) holds one; "" when they do, when the kind is not clear, or when it is a unit and a chunk is
    not in English (currencies, years and percentages are written with digits and signs)."""
    kind = asked_kind(question)
    texts = [fold(t) for t in texts]
    if kind is None or not texts or (kind.english and any(language_of(t) != "en" for t in texts)):
        return ""
    return "" if any(kind.pattern.search(t) for t in texts) else kind.name


# Questions whose answer is a number ("how many layers", "what accuracy", "in which year"), whatever its unit.
_ASKS_NUMBER = re.compile(
    r"\bhow\s+(?:many|much|long|large|big|old|far|often|high|tall|fast|heavy|wide)\b"
    r"|\b(?:what|which)\s+(?:[\w-]+\s+){0,3}?(?:number|size|percentage|percent|share|proportion|score|accuracy|rate|"
    r"year|amount|count|total|price|cost|fee|length|duration|age|ratio|speed|latency|memory|bleu|f1|perplexity)\b",
    re.IGNORECASE)
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
    given = numbers(folded)
    counted = _counted(folded)
    # What is counted: the first word ("students" of "how many students passed"), or a unit after it ("GPU hours").
    noun = counted[1] if len(counted) > 1 and counted[1] in _UNIT_OF else counted[0] if counted else ""
    noun = _STEM_END.sub("", noun) if len(noun) > 3 else ""
    counting = re.compile(rf"{_NUMBER}\s?[kmb]?\s?(?:[\w-]+\s+){{0,2}}?{re.escape(noun)}", re.IGNORECASE) if noun else None

    def weight(sentence: str) -> float:
        if counting is not None and counting.search(sentence):
            return 1.0
        return 0.5 if numbers(sentence) - given else 0.0
    return weight
