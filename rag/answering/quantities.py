"""Numbers and units as a claim checker reads them: words to digits, one spelling per unit, conversions.

"two and a half hours" -> "2.5 hour", "$48 million" -> "48000000 dollar", "€4,500" -> "4500 euro",
"twenty-four" -> "24", "half a year" -> "6 month"; "no more than 8" -> "at most 8" (a bound, not a
negation). A number may also be *derived*: the same quantity in another unit ("14 days" for
"2 weeks") or, when a claim says it computes, a sum, difference or product of two stated numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["ARITHMETIC", "DIMENSIONS", "UNITS", "UNIT_WORDS", "as_number", "computed", "converted",
           "normalise_quantities", "units_and_bounds"]

_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 1_000_000}
_NUMBER_WORD = "|".join([*_SMALL, *_TENS, *_SCALES])
# "twenty-four", "three hundred and fifty", "two thousand": one run of number words, read as one number.
_NUMBER_RUN = re.compile(rf"\b(?:a\s+)?(?:{_NUMBER_WORD})(?:(?:\s+and\s+|[\s-]+)(?:{_NUMBER_WORD}))*\b")
_SCALED = re.compile(r"\b(\d+(?:\.\d+)?)\s*(million|billion|thousand|bn|k)\b")
_HALF = re.compile(r"\b(\d+) and a half\b|\b(\d+)(?:\.\d+)? ?½")
UNITS = [(r"kilograms?|kgs?", "kg"), (r"kilomet(?:re|er)s?|km", "km"), (r"percent|per cent|%", " percent"),
         (r"euros?|eur|€", "euro"), (r"dollars?|usd|\$", "dollar"),
         (r"£|gbp|pounds? sterling|pounds?", "gbp"), (r"microlit(?:re|er)s?|µl|ul", "µl"), (r"millilit(?:re|er)s?|ml", "ml"),
         (r"lit(?:re|er)s?", "litre"), (r"hrs?|hours?", "hour"),
         (r"months?", "month"), (r"years?", "year"), (r"employees|staff|people|persons", "people"),
         (r"milligrams?|mg", "mg"), (r"grams?", "g"), (r"°\s*c\b|degrees?\s+celsius|celsius", "celsius"),
         (r"°\s*f\b|degrees?\s+fahrenheit|fahrenheit", "fahrenheit"), (r"miles?", "mile"), (r"minutes?|mins?", "minute"),
         (r"days?", "day"), (r"weeks?", "week"), (r"gigabytes?|gb", "gb"), (r"megabytes?|mb", "mb"),
         (r"terabytes?|tb", "tb"), (r"lbs?", "lb"), (r"decibels?|db", "db"), (r"kilowatts?|kw", "kw"),
         (r"watts?", "watt"), (r"gallons?", "gallon")]
UNIT_WORDS = frozenset(unit.strip() for _, unit in UNITS)
# Units of one quantity: the same number in another of them is another fact ("90 miles" is not "90 km"), as it is
# in a unit of another quantity ("95 watts" is not "95 dB").
DIMENSIONS = {unit: dim for dim, units in {
    "length": ("km", "mile", "metre", "meter", "cm", "mm", "feet", "foot", "inch"),
    "temperature": ("celsius", "fahrenheit", "kelvin"), "mass": ("kg", "mg", "lb", "tonne", "ton"),
    "time": ("hour", "minute", "second", "day", "week", "month", "year"), "data": ("gb", "mb", "tb", "kb"),
    "money": ("euro", "dollar", "gbp"), "volume": ("µl", "ml", "litre", "gallon", "pint"), "energy": ("wh", "kwh"),
    "power": ("watt", "kw", "mw"), "sound": ("db",)}.items() for unit in units}

# Bounds, not negations: "no more than 8 tablets" is "at most 8 tablets".
BOUNDS = ((r"\b(?:no|not)(?: be| been)? (?:more|greater|higher|longer|later) than\b", "at most"),
           (r"\b(?:no|not)(?: be| been)? (?:less|fewer|lower|shorter|earlier|sooner) than\b", "at least"),
           (r"\b(?:must|should|may|can|does|do|will) not exceed\b", "at most"))


_HALF_OF = {"hour": "30 minutes", "day": "12 hours", "year": "6 months", "month": "2 weeks", "week": "3.5 days"}


def _scaled(value: float, scale: str) -> str:
    """"48 million" -> "48000000", "1.5 bn" -> "1500000000"."""
    return f"{round(value * {'thousand': 1e3, 'k': 1e3, 'million': 1e6, 'billion': 1e9, 'bn': 1e9}[scale]):d}"


def _number_value(match: re.Match[str]) -> str:
    """The digits of a run of number words: "three hundred and fifty" -> "350"; "a hundred" -> "100"; a run
    that is two numbers stays two: "days two and three" -> "2 and 3", "one two" -> "1 2"."""
    groups: list[list[str]] = [[]]
    joins: list[str] = []
    previous, anded = "", False
    for word in re.findall(r"[a-z]+", match.group(0)):
        if word == "a" and not previous:
            continue
        if word == "and":
            anded = True
            continue
        if previous and ((anded and previous not in _SCALES) or (word in _SMALL and previous in _SMALL)
                         or (word in _TENS and (previous in _SMALL or previous in _TENS))):
            groups.append([])
            joins.append(" and " if anded else " ")
        groups[-1].append(word)
        previous, anded = word, False
    if not groups[0]:
        return match.group(0)
    values = [str(_words_value(group)) for group in groups]
    return values[0] + "".join(join + value for join, value in zip(joins, values[1:], strict=True))


def _words_value(words: list[str]) -> int:
    total = current = 0
    for word in words:
        if word in _SMALL:
            current += _SMALL[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        else:
            total += max(current, 1) * _SCALES[word]
            current = 0
    return total + current


# The same quantity in two units: (smaller unit, larger unit, how many of the smaller make one larger).
CONVERSIONS = (("minute", "hour", 60), ("hour", "day", 24), ("day", "week", 7), ("month", "year", 12),
                ("g", "kg", 1000), ("mg", "g", 1000), ("ml", "litre", 1000), ("µl", "ml", 1000))
ARITHMETIC = re.compile(r"\b(?:total|in all|altogether|combined|sum|comes? to|amounts? to|adds? up|equals?|i\.e|"
                         r"works? out|that is|which is|makes?|times|multiplied|plus|minus|split|divided|halves|equal|"
                         r"rises? by|falls? by|increases? by|decreases? by|difference)\b|[×*÷/=]", re.I)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(b))




# "8:25 am", "3:20 p.m.", "15:20": a time of day, one token "0825h" / "1520h".
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})(?:\s*([ap])\.?m\b\.?)?(?![\d:])|\b(\d{1,2})(?:\.(\d{2}))?\s*([ap])\.?m\b\.?")
_ORDINALS = ("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
             "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth").split()
_ORDINAL_DAY = re.compile(rf"\b(?:the\s+)?({'|'.join(_ORDINALS)})\s+of\s+(january|february|march|april|may|june|july|"
                          r"august|september|october|november|december)\b")


def _clock(match: re.Match[str]) -> str:
    hour = int(match.group(1) or match.group(4))
    minute = int(match.group(2) or match.group(5) or 0)
    half = match.group(3) or match.group(6)
    if hour > 23 or minute > 59 or (half and not 1 <= hour <= 12):
        return match.group(0)
    if half:
        hour = hour % 12 + (12 if half == "p" else 0)
    return f" {hour:02d}{minute:02d}h "


# "5–9 pm", "1 to 2:30 pm": the first time of a range is in the half of the day its end names, if not later.
_TIME_RANGE = re.compile(r"\b(\d{1,2})(:\d{2})?(?!\s*[ap]\.?m\b)\s*(?:[–—-]|\bto\b)\s*(\d{1,2})(:\d{2})?\s*([ap])\.?m\b\.?")


def _time_range(match: re.Match[str]) -> str:
    first, end = int(match.group(1)), int(match.group(3))
    if not (1 <= first <= 12 and 1 <= end <= 12) or first % 12 > end % 12:
        return match.group(0)  # "9-5 pm", "13-15 pm": no half of the day to share
    ap = match.group(5)
    return f"{first}{match.group(2) or ''} {ap}m to {end}{match.group(4) or ''} {ap}m"


def normalise_quantities(text: str) -> str:
    """Lower-case ``text`` with its numbers as digits and its units in one spelling (dates are the caller's)."""
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(?<![\d.])(\d+)\.0+(?![.\w])", r"\1", text)  # "£86.00" is "£86", "22.0 mm" is "22 mm"
    text = _TIME_RANGE.sub(_time_range, text)
    text = _TIME.sub(_clock, text)
    text = re.sub(r"\b(\d{1,2})(?:st|nd|rd|th)\b", r"\1", text)
    text = _ORDINAL_DAY.sub(lambda m: f"{_ORDINALS.index(m.group(1)) + 1} {m.group(2)}", text)
    text = re.sub(r"([€$£]|\b(?:eur|usd|gbp)\b)\s*(\d+(?:\.\d+)?(?:\s*(?:million|billion|thousand|bn|k)\b)?)", r"\2 \1", text)
    text = _SCALED.sub(lambda m: _scaled(float(m.group(1)), m.group(2)), text)
    return text


def units_and_bounds(text: str) -> str:
    """Number words as digits, halves, units in one spelling, "n't" as "not", bounds as "at most"/"at least"."""
    text = _NUMBER_RUN.sub(_number_value, text)
    text = _HALF.sub(lambda m: f"{m.group(1) or m.group(2)}.5", text)
    text = re.sub(r"\bhalf(?:\s+an?\s+|\s+|-(?=hour))(hour|day|year|month|week)\b", lambda m: _HALF_OF[m.group(1)], text)
    text = re.sub(r"\b(?:a )?single (?=(?:hour|day|night|week|month|year)s?\b)", "1 ", text)  # "any single month"
    # Clock times and durations people say in words: "half past ten", "a quarter of an hour", "up to a week".
    text = re.sub(r"\bhalf past (\d{1,2})\b", lambda m: f" {int(m.group(1)):02d}30h ", text)
    text = re.sub(r"\b(?:a )?quarter past (\d{1,2})\b", lambda m: f" {int(m.group(1)):02d}15h ", text)
    text = re.sub(r"\b(?:a )?quarter to (\d{1,2})\b", lambda m: f" {(int(m.group(1)) - 1) % 24:02d}45h ", text)
    text = re.sub(r"\b(?:an?|1) quarter of an hour\b", "15 minutes", text)
    text = re.sub(r"\b3 quarters of an hour\b", "45 minutes", text)
    text = re.sub(r"\b(up to|within|than|after|for|over|about|around|nearly|almost|under|at least|at most) an? "
                  r"(?=(?:minute|hour|day|night|week|fortnight|month|year)\b)", r"\1 1 ", text)
    text = re.sub(r"\b(?:(\d+) )?fortnights?\b", lambda m: f"{2 * int(m.group(1) or 1)} weeks", text)  # "within a fortnight"
    text = re.sub(r"(\d)-(?=[a-z])", r"\1 ", text)
    for pattern, unit in UNITS:
        text = re.sub(rf"(?<![a-z])(?:{pattern})(?![a-z])", f" {unit} ", text)
    text = text.replace("n't", " not")
    for pattern, bound in BOUNDS:
        text = re.sub(pattern, bound, text)
    return text


def converted(value: float, unit: str, other: float, other_unit: str) -> bool:
    """Is ``value unit`` the same quantity as ``other other_unit`` ("14 day" and "2 week")? Units as spelt by
    :data:`UNITS` (the caller may pass a stemmed spelling through ``canonical``)."""
    for small, large, factor in CONVERSIONS:
        if (unit, other_unit) == (small, large) and _close(other * factor, value):
            return True
        if (unit, other_unit) == (large, small) and _close(other / factor, value):
            return True
    return False


def computed(value: float, kind: str, operands: Iterable[tuple[float, str]], percent: bool = False,
             stated: bool = True, own: Iterable[tuple[float, str]] | None = None,
             rates: frozenset[str] = frozenset()) -> bool:
    """Is ``value`` (counting ``kind``: a unit, a noun, or "" when unknown) the sum, difference, product or
    quotient of two ``operands`` (value, kind), as their kinds allow? A sum or difference adds the same
    kind ("48 spaces", "12" -> "36 spaces"); a product multiplies the result's kind by a count that is no
    unit ("10 pallets" at "176 euro" -> "1760 euro", never "2 tablets" by "6 hours"); a ``percent`` is
    one's share of the other, rounded as written ("£302,400 of £486,000, about 62%"); a time or another unit
    multiplies a rate stated per that unit (``rates``: "3.5 hours at £86 an hour"). Unless the claim
    says it computes (``stated``: "in total", "×", "equals"), only the claim's ``own`` numbers count, and a sum
    or difference must add numbers of its very kind ("from 6.4 GB to 4.1 GB, a 2.3 GB cut"): a list of
    numbers in the evidence holds too many pairs that add up by chance ("72 hours" less "24 hours")."""
    pool = list(dict.fromkeys(operands))  # "3 months" in the claim and the evidence is one number, not two
    if not stated:  # without a word that says it computes, only from numbers the claim states itself
        pool = list(dict.fromkeys(own or ()))
        if kind == "":
            return False  # a number of no known kind ("children under 12"): too many products hit it by chance

    def fits(k: str) -> bool:  # the same kind, or unknown, or two nouns ("2 flux towers", "6 towers")
        return k in (kind, "") or kind == "" or (k not in UNIT_WORDS and kind not in UNIT_WORDS)

    def count(k: str) -> bool:
        return k == "" or k not in UNIT_WORDS or k in rates

    # A share of an amount: "20% of £7,000, which is £1,400", "a 10% surcharge: an extra £34 on the £340 fee".
    if kind not in ("percent", "") and any(ka == "percent" and kb == kind and _close(a * b / 100, value)
                                           for a, ka in pool for b, kb in pool):
        return True
    for i, (a, ka) in enumerate(pool):
        for b, kb in pool[i + 1:]:
            same = fits(ka) and fits(kb) if stated else kind != "" and ka == kb == kind
            if same and (_close(a + b, value) or _close(abs(a - b), value)):
                return True
            if ((fits(ka) and count(kb)) or (fits(kb) and count(ka))) and _close(a * b, value):
                return True
            for x, kx, y, ky in ((a, ka, b, kb), (b, kb, a, ka)):
                if y and fits(kx) and count(ky) and ky not in rates and _close(x / y, value):  # a rate only multiplies
                    return True
    if not percent:
        return False
    places = len(f"{value:g}".partition(".")[2])
    return any(0 < a < b and (ka == kb or "" in (ka, kb)) and abs(100 * a / b - value) <= 0.5 * 10 ** -places + 1e-9
               for a, ka in pool for b, kb in pool)


def as_number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None
