"""What makes a claim true or false, compared with one source sentence: numbers, dates and names.

Text is normalised first (lower case, "four" -> "4", "4,500" -> "4500", "€" -> "euro", "kilograms"
-> "kg", "March 1, 2021" -> "2021-03-01"), then read as a stream of tokens with *slots*: numbers,
each with what it counts (the word after it, or YEAR / DATE), and names (capitalised phrases).
Each content word belongs to the nearest slot in its clause. A claim's number is contradicted when
the evidence has a different number counting the same thing and not the claimed one, or when the
claim's words around it belong, in the evidence, to another number ("exit code 0 when some files
fail" against "0 when every file was ingested, 2 when some files failed"); likewise a name
(swapped roles). Negation, quantifiers ("all" against "some"), comparisons and lists have their own modules
(``rag.answering.negation``, ``.quantifiers``, ``.comparison``, ``.lists``), reading the same normalised words.

Over 300 lines on purpose: numbers, dates and names are compared against the same normalised sentence and
the same ownership of each fact by its entity; quantities have their own module (``rag.answering.quantities``).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from rag.answering.quantities import (
    ARITHMETIC,
    DIMENSIONS,
    UNIT_WORDS,
    UNITS,
    as_number,
    computed,
    converted,
    normalise_quantities,
    units_and_bounds,
)
from rag.text import NEGATIONS, STOP_WORDS, numbers, stem, strip_markers

__all__ = ["content_of", "coverage", "slot_conflict", "stream", "words"]

_TEMPERATURE = re.compile(r"°\s*([CcFf])\b|\b(?:[Dd]egrees?\s+)?([Cc]elsius|[Ff]ahrenheit)\b")
_MONTHS = "january february march april may june july august september october november december".split()
_NOT_NAMES = frozenset([*_MONTHS, *"jan feb mar apr jun jul aug sep sept oct nov dec".split(),
                        "i", "eur", "usd", "wh", "kwh", "kg", "km", "mg", "yes", "no", "monday", "tuesday",
                        "wednesday", "thursday", "friday", "saturday", "sunday"])
_TOKEN = re.compile(r"\d+(?:[.-]\d+)*|[^\W\d_]+(?:'[a-z]+)?", re.UNICODE)
_UNIT_AHEAD = "|".join(pattern for pattern, _ in UNITS)
# A number ends a name ("Trail 500") unless a unit or scale follows it: then it is a quantity ("Contents 60 thousand").
_QUANTITY_AHEAD = rf"\s*(?:°|(?:thousand|million|billion|bn|k|{_UNIT_AHEAD})(?![a-z]))"
_NAME = re.compile(rf"\b[A-Z][\w&-]*(?:\s+(?:[A-Z][\w&-]*|\d+\b(?![,.]\d)(?!{_QUANTITY_AHEAD})))*")
# What may stand before a sentence's first word: nothing, an end of sentence or a field's colon, Markdown bold,
# a bullet or a table bar ("**Author:** Dr. Helena Vos", "| Contents | ..."): a capitalised word there is no name.
_OPENING = re.compile(r"(?:^|[.!?:;·|—–•]|\*\*|__)[\s*_#>]*$")
_TITLES = frozenset({"dr", "prof", "mr", "mrs", "ms", "sir", "dame"})
_BOUNDED = re.compile(r"\d+(?:[.-]\d+)*|[^\W\d_]+(?:'[a-z]+)?|[,;:]", re.UNICODE)
_ASIDE = re.compile(r"\(([^()]*)\)")
_OWN_SUBJECT = re.compile(r"(?:it|it's|that|that's|this|these|those|they|they're|there|there's|which|who|and|but|or|"
                          r"while|whereas)\b", re.I)
_JOINS = frozenset({"|", "and", "while", "but", "whereas", "or"})
_FREE = re.compile(r"\b(?:free of (?:charge|cost)|(?:at|for|with) no (?:extra |additional )?(?:charge|cost)|"
                   r"without (?:charge|cost)|not charged(?: for)?|"
                   r"(?<=\bis )free\b|(?<=\bare )free\b|(?<=\bbe )free\b|(?<=\bwas )free\b|(?<=\bwere )free\b|"
                   r"(?<=\bnot )free\b|free(?=\s*(?:[.,;:)]|$|for\b|to\b|of\b|with\b|on\b|at\b|if\b|until\b|from\b)))")


# "one" after a determiner and one or two describing words, ending its phrase: a pronoun ("the fast one").
_PRONOUN_ONE = re.compile(
    r"\b((?:the|this|that|a|an|another|each|every|any|no|which)\s+(?:(?!(?:is|are|was|were|be|has|have|had|costs?|"
    r"takes?|and|or|of|to|by|than|at|for|in|on|with|from|only)\b)[a-z][a-z-]*\s+){1,2})one\b"
    r"(?=\s*(?:[.,;:!?)]|$)|\s+(?:is|was|has|have|had|does|did|will|can|could|must|may|might|should|would|costs?|"
    r"takes?|needs?|runs?|and|or|but|with|for|in|on|at|to|that|which|who|instead)\b)")


@functools.lru_cache(maxsize=8192)  # the same source sentences are read for every claim of a reply
def _normalise(text: str) -> str:
    """Lower case, numbers as digits, units in one spelling, dates day-first."""
    text = normalise_quantities(strip_markers(text).lower())
    text = _RANGE.sub(lambda m: f"{m.group(1)} to {m.group(2) or m.group(3)}", text)  # a range, not a date or code
    text = _NUMERIC_DATE.sub(_numeric_date, text)
    text = _MONTH_ABBREVIATION.sub(lambda m: _MONTHS[_ABBREVIATIONS.index((m.group(1) or m.group(2))[:3])], text)
    text = re.sub(rf"\b({'|'.join(_MONTHS)})\s+(\d{{1,2}}),?\s+(\d{{4}})", r"\2 \1 \3", text)
    text = re.sub(rf"\b(?:(\d{{1,2}})\s+)?({'|'.join(_MONTHS)}),?\s+(\d{{4}})\b", _iso_date, text)
    text = re.sub(r"\b(the|this|that|each|every|any|no|next|first|last|other|same|new|previous|following|latest|final)"
                  r" one\b", r"\1 item", text)  # "the next one is an interim service": no number
    text = re.sub(r"\bone of\b", "among", text)  # "one of the two periods": a member, not a count
    text = _PRONOUN_ONE.sub(r"\1", text)  # "with the fast one", "a cheaper one is": no number either
    text = _FREE.sub("no charge", text)  # "free of charge", "(no charge)", "is free": one negation each
    return units_and_bounds(text)


@functools.lru_cache(maxsize=64)  # a source's whole text, read for every number of every claim of a reply
def _values(text: str) -> frozenset[str]:
    """The numbers ``text`` writes in digits, as slots spell them ("£4,500.00" is "4500"): ``rag.text.numbers``,
    not the full reading of ``stream``, which takes seconds on a 100-page file."""
    return frozenset(re.sub(r"\.0+$", "", n) for n in numbers(text))


def _grounded(slot: _Slot, known: frozenset[str]) -> bool:
    """May a number of the claim be an operand of its arithmetic: the source or the question states it
    (``known``), or it is a small count or a share the reply reasons with ("nine monthly rentals", "20% of")?
    A claimed number the sources lack is no operand: two wrong numbers would vouch for each other."""
    number = as_number(slot.value)
    return (slot.value in known or slot.kind == "percent"
            or (number is not None and number == int(number) and number <= 12 and not _unit(slot.kind)))


def _derived(slot: _Slot, claim_slots: Sequence[_Slot], slots: Sequence[_Slot], arithmetic: bool,
             rates: frozenset[str] = frozenset(), source: tuple[frozenset[str], str] = (frozenset(), "")) -> bool:
    """Is a claimed number another form of the evidence's: the same quantity in another unit ("14 days"
    for "2 weeks", "4 g" for "4000 mg"), or, when the claim says it computes ("in total", "×", "i.e."),
    the sum, difference or product of two numbers it (if grounded: ``source`` is the question's numbers and the
    source's text) or the evidence states ("13,500 euros (3 × 4,500)")?"""
    value = as_number(slot.value)
    if value is None or slot.kind in ("YEAR", "DATE"):
        return False  # a year or a date is stated, never computed
    for other in [*slots, *claim_slots]:
        number = as_number(other.value)
        if number is not None and converted(value, _unit(slot.kind), number, _unit(other.kind)):
            return True
    known = source[0] | _values(source[1]) | {s.value for s in slots}  # what the question and the source state
    claim_slots = [s for s in claim_slots if _grounded(s, known)]
    operands = [(number, _unit(s.kind) or s.kind) for s in [*claim_slots, *slots]
                if s is not slot and s.kind not in ("YEAR", "DATE", "NAME") for number in [as_number(s.value)]
                if number is not None]
    own = [(number, _unit(s.kind) or s.kind) for s in claim_slots
           if s is not slot and s.kind not in ("YEAR", "DATE", "NAME") for number in [as_number(s.value)]
           if number is not None]
    kind = _unit(slot.kind) or slot.kind
    return computed(value, kind, operands, percent=kind == "percent", stated=arithmetic, own=own, rates=rates)


# A claim that sets an amount against another ("at 125 kg you would be over the 120 kg limit") does not say
# the sources state it: the question's own amount is then no rival of the limit, if it is on the side said.
_ABOVE = frozenset("over above exceed exceeds exceeded exceeding beyond outside more greater higher".split())
_BELOW = frozenset("below under within inside less fewer lower".split())


def _compared(slot: _Slot, tokens: Sequence[str], limits: Sequence[_Slot]) -> bool:
    """Does the claim set its (question-given) number against the evidence's ``limits`` of the same kind,
    with a comparison word just after or before it that the numbers bear out ("125 kg ... over" 120 kg)?"""
    value = as_number(slot.value)
    near = set(tokens[slot.place + 1:slot.place + 7]) | set(tokens[max(0, slot.place - 2):slot.place])
    numbers = [n for s in limits for n in [as_number(s.value)] if n is not None and s.value != slot.value]
    if value is None or slot.kind in ("YEAR", "DATE", "NAME") or not numbers:
        return False
    if near & _ABOVE:
        return all(value > n for n in numbers)
    if near & _BELOW:
        return all(value <= n for n in numbers)
    return False


_RATE = re.compile(rf"\b(?:per|an?|each|every)\s+({'|'.join(sorted(UNIT_WORDS))})\b")
# "1–3", and "12-14 minutes" (a hyphen only before a unit: "9001-2015", "555-1234" and "9-5" stay what they are).
_RANGE = re.compile(r"(?<![\w.–—-])(\d{1,4}(?:\.\d+)?)\s*(?:[–—]\s*(\d{1,4}(?:\.\d+)?)(?![\w.–—-])|"
                    r"-(\d{1,3}(?:\.\d+)?)(?=\s*[^\W\d_]))")
_ABBREVIATIONS = [m[:3] for m in _MONTHS]
_MONTH_ABBREVIATION = re.compile(r"(?<=\d )(jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?(?= \d{4}\b)|"
                                 r"\b(jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?(?= \d{1,2}(?:,? \d{4})?\b)")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.]((?:19|20)\d\d)\b")


def _numeric_date(match: re.Match[str]) -> str:
    """"30/04/2026" -> "30 april 2026" (day first, as outside the US, unless the second number cannot be a
    month: "04/30/2026")."""
    day, month = int(match.group(1)), int(match.group(2))
    if month > 12 >= day:
        day, month = month, day
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group(0)
    return f"{day} {_MONTHS[month - 1]} {match.group(3)}"


def _iso_date(match: re.Match[str]) -> str:
    """"1 march 2021" -> "2021-03-01", "january 2022" -> "2022-01": one value, compared whole."""
    month = _MONTHS.index(match.group(2)) + 1
    day = f"-{int(match.group(1)):02d}" if match.group(1) else ""
    return f" {match.group(3)}-{month:02d}{day} "


def words(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass(frozen=True)
class _Slot:
    """A value a claim turns on: a number with what it counts, or a name."""

    value: str
    kind: str   # numbers: the word after it ("tablet", "kg"), "YEAR", "DATE" or ""; names: "NAME"
    place: int  # its token index


def _is_content(token: str) -> bool:
    return (len(token) > 1 and token not in STOP_WORDS and token not in _JOINS and token not in NEGATIONS
            and not token[0].isdigit() and " " not in token)


@functools.cache
def _unit(kind: str) -> str:
    """The unit a slot's (stemmed) unit word spells, or ""."""
    return next((unit for unit in UNIT_WORDS if _stem(unit) == kind), "")


@functools.cache
def _dimension(kind: str) -> str | None:
    """The quantity a unit measures, for a slot's (stemmed) unit word; None for anything else."""
    return next((dim for unit, dim in DIMENSIONS.items() if _stem(unit) == kind), None)


def _stem(word: str) -> str:
    """``rag.text.stem`` with a final "e" dropped, so "file" and "files" ("fil") agree."""
    return stem(word).rstrip("e") or word


# Heads of contractions that carry no content ("that's", "you'll", "can't" normalised to "ca not").
_CONTRACTED = frozenset("i you he she it we they that there here what who let ca wo sha".split())


def _base(token: str) -> str:
    """A token as the content checks read it: a contraction of a pronoun is none ("that's", "you'll"), a
    possessive is its owner ("Lisbon's" is "Lisbon")."""
    head, apostrophe, tail = token.partition("'")
    if not apostrophe:
        return "" if token in _CONTRACTED else token
    if head in _CONTRACTED or head in STOP_WORDS:
        return ""
    return head if tail == "s" else token


def _content(tokens: Sequence[str]) -> frozenset[str]:
    return frozenset(_stem(b) for b in map(_base, tokens) if _is_content(b))


def _name_spans(plain: str) -> list[tuple[int, int, str]]:
    """Capitalised phrases that name something; a capitalised first word alone is not one."""
    spans = []
    for match in _NAME.finditer(plain):
        parts = match.group(0).split()
        at_start = bool(_OPENING.search(plain[:match.start()]))
        if at_start and (len(parts) < 2 or all(p.isdigit() for p in parts[1:])):
            continue  # "Use 100 µL": a capitalised first word, then a number, is no name
        while parts and parts[0].lower() in STOP_WORDS | _NOT_NAMES | _TITLES:
            parts = parts[1:]
        if parts and not parts[0][0].isdigit() and not (len(parts) == 1 and parts[0].lower() in _NOT_NAMES):
            start = match.end() - len(" ".join(parts)) if match.group(0).endswith(" ".join(parts)) else match.start()
            spans.append((start, match.end(), " ".join(parts).lower()))
    return spans


def stream(text: str) -> tuple[list[str], list[_Slot]]:
    """Normalised tokens of ``text`` (a name is one token) and its slots: numbers and names."""
    plain = _TEMPERATURE.sub(lambda m: " celsius" if (m.group(1) or m.group(2))[0] in "Cc" else " fahrenheit",
                             strip_markers(text))  # "25 °C", "25 degrees Celsius": a unit, not a name
    # A bracketed clause with its own subject ("£40 for a hygiene visit (it's £75 for a dentist)") is bounded like
    # one between commas; an aside ("one cabin bag (8 kg)", "Lewis Achterberg (site survey on 2 October)") stays
    # with the words it qualifies.
    plain = _ASIDE.sub(lambda m: f", {m.group(1)}," if _OWN_SUBJECT.match(m.group(1)) else m.group(0), plain)
    tokens: list[str] = []
    slots: list[_Slot] = []
    pos = 0
    for start, end, name in [*_name_spans(plain), (len(plain), len(plain), "")]:
        tokens.extend("|" if t in ",;:" else t for t in _BOUNDED.findall(_normalise(plain[pos:start])))
        if name:
            slots.append(_Slot(name, "NAME", len(tokens)))
            tokens.append(name)
        pos = end
    for i, token in enumerate(tokens):
        if token[0].isdigit() and " " not in token:
            after = tokens[i + 1] if i + 1 < len(tokens) else ""
            then = tokens[i + 2] if i + 2 < len(tokens) else ""
            if after not in UNIT_WORDS and then in UNIT_WORDS and _is_content(after):
                after = then  # "10 working days": the unit after one adjective
            elif after in ("to", "or", "-") and then[:1].isdigit() and i + 3 < len(tokens):
                after = tokens[i + 3]  # "4 to 6 hours": both ends count hours
            unit = _stem(after) if (_is_content(after) or after in UNIT_WORDS) and after not in {"if", "until", "when"} else ""
            if "-" in token:
                unit = "DATE"
            elif not unit and re.fullmatch(r"(?:18|19|20)\d\d", token):
                unit = "YEAR"
            slots.append(_Slot(token, unit, i))
    return tokens, sorted(slots, key=lambda s: s.place)


def _owners(tokens: Sequence[str], places: Sequence[int], *, shared_head: bool) -> dict[str, set[int]]:
    """Each content word and the slot(s), by index into ``places``, it belongs to: the nearest one in
    its clause (none if its clause holds none), counting content words only; a tie goes to the number
    after it ("ends on 28 February") or the name before it (its subject: "Marcus Boateng was elected"),
    the word right after a number to that number ("8 tablets").
    With ``shared_head``, the words before the first of several slots are the sentence's common
    subject and belong to none, wherever else they stand ("The fast charger costs 20 euros; the slow one costs
    10 euros": "costs" says nothing of which price)."""
    owners: dict[str, set[int]] = {}
    if not places:
        return owners
    head = {_stem(t) for t in tokens[:places[0]] if _is_content(t)} if shared_head and len(places) > 1 else set()
    clause, clauses, rank, ranks = 0, [], 0, []
    for token in tokens:
        clause += token in _JOINS
        rank += _is_content(token) or token[:1].isdigit() or " " in token
        clauses.append(clause)
        ranks.append(rank)
    for i, token in enumerate(tokens):
        if i in places or not _is_content(token):
            continue
        if (shared_head and len(places) > 1 and i < places[0]) or _stem(token) in head:
            continue
        if i - 1 in places and tokens[i - 1][:1].isdigit():
            owners.setdefault(_stem(token), set()).add(places.index(i - 1))
            continue
        near = [k for k, p in enumerate(places) if clauses[p] == clauses[i]]
        if not near:
            continue  # a clause without a number or name says nothing about which one a word goes with
        nearest = min(near, key=lambda k: (abs(ranks[places[k]] - ranks[i]),
                                           (places[k] < i) == tokens[places[k]][:1].isdigit()))
        owners.setdefault(_stem(token), set()).add(nearest)
    return owners


@functools.lru_cache(maxsize=16)  # a file's whole text, read for every name of every claim of a reply
def _lower(text: str) -> str:
    return text.lower()


def _name_present(name: str, evidence: str, context: str, document: str) -> bool:
    """A claim's name is in the evidence or what surrounds it; or the document gives it in full and the
    evidence by one of its words ("Piotr" for "Piotr Kowalski", "Achebe" for "Prof. Samuel Achebe")."""
    if name in context.lower() or name in evidence.lower():
        return True
    parts = [w for w in name.split() if len(w) > 2 and w not in _TITLES]
    return len(parts) > 1 and bool(set(parts) & set(words(evidence))) and name in _lower(document)


def _named_by_part(claim_slots: Sequence[_Slot], tokens: Sequence[str], slots: Sequence[_Slot],
                   evidence: str) -> list[_Slot]:
    """The claim's names the evidence gives by one capitalised word that was not read as a name, being
    its sentence's first ("Piotr is registered as the main driver" for "Piotr Kowalski"), as slots there."""
    found = []
    held = {s.value for s in slots if s.kind == "NAME"}
    for slot in claim_slots:
        if slot.kind != "NAME" or any(_same_name(slot.value, t) for t in held):
            continue
        for part in (p for p in slot.value.split() if len(p) > 2 and p not in STOP_WORDS and p not in _TITLES):
            if part in tokens and re.search(rf"\b{re.escape(part.capitalize())}\b", evidence):
                found.append(_Slot(slot.value, "NAME", tokens.index(part)))
                break
    return found


def _labelled(slot: _Slot, claim_tokens: Sequence[str], slots: Sequence[_Slot]) -> bool:
    """Is the claimed number one the evidence gives as a label ("Week 6") after the same word as the claim
    ("weeks 6, 12 and 24": the nearest word before each number, past the list's other numbers)?"""
    if slot.kind:
        return False  # "18 weeks later" is a duration, not "Week 18"
    word = next((t for t in reversed(claim_tokens[:slot.place]) if t not in ("|", "and", "or") and not t[:1].isdigit()), "")
    return bool(word) and any(s.kind == "NAME" and s.value.rsplit(" ", 1)[-1] == slot.value
                              and _stem(s.value.rsplit(" ", 1)[0].split()[-1]) == _stem(word) for s in slots)


def _taken_by_rival(tokens: Sequence[str], rivals: Sequence[_Slot], mine: Sequence[str]) -> bool:
    """Do the claim's words around a name it gives belong, in the evidence, to another name?"""
    owners = _owners(tokens, [s.place for s in rivals], shared_head=len(rivals) > 1)
    return any(len(owners.get(word, ())) == 1 for word in mine)


def _range_partner(tokens: Sequence[str], rival: _Slot, same: Sequence[_Slot]) -> bool:
    """Is ``rival`` the other end of a range that holds the claimed value ("between 1.7 and 1.9",
    "15 to 25 °C")? The words around a range belong to both its ends."""
    for s in same:
        low, high = sorted((s.place, rival.place))
        if 0 < high - low <= 3 and all(t in ("to", "and", "-", "h") for t in tokens[low + 1:high]):  # "h": a time
            return True
    return False


def _ranges(tokens: Sequence[str], slots: Sequence[_Slot]) -> list[tuple[int, int]]:
    """The claim's ranges: indexes of two consecutive slots joined by "to" or "-" ("5 to 9 pm", "1700h to 2100h")."""
    return [(k, k + 1) for k, (a, b) in enumerate(itertools.pairwise(slots))
            if (between := set(tokens[a.place + 1:b.place])) & {"to", "-"} and between <= {"to", "-", "h"}]


def _same_name(a: str, b: str) -> bool:
    """One name is the other, a part of it in order ("core facility" of "core facility director"), or its
    initials ("uk" for "united kingdom")."""
    def initials(name: str) -> str:
        return "".join(w[0] for w in name.split() if w not in STOP_WORDS)
    return (a == b or f" {a} " in f" {b} " or f" {b} " in f" {a} "
            or (" " not in a and len(a) > 1 and a == initials(b)) or (" " not in b and len(b) > 1 and b == initials(a)))


def slot_conflict(claim: str, evidence: str, context: str, document: str = "",
                  given: frozenset[str] = frozenset()) -> bool | None:
    """True: a number or name of the claim is contradicted (another value where it stands, or its
    value on another item); False: all in place; None: one is absent from the evidence. ``given``: values
    the question states ("a ratio of 1.6"), which a reply may repeat without a source holding them."""
    claim_tokens, claim_slots = stream(claim)
    tokens, slots = stream(evidence)
    names = {s.value for s in slots if s.kind == "NAME"}
    claim_slots = [dataclasses.replace(s, value=next((v for v in sorted(names) if _same_name(s.value, v)), s.value))
                   if s.kind == "NAME" and s.value not in names else s for s in claim_slots]
    slots = sorted([*slots, *_named_by_part(claim_slots, tokens, slots, evidence)], key=lambda s: s.place)
    arithmetic = bool(ARITHMETIC.search(strip_markers(claim)))
    rates = frozenset(m.group(1) for m in _RATE.finditer(_normalise(claim)))  # "£86 an hour": per hour
    claimed = {s.value for s in claim_slots}
    if len(claim_slots) == 1:  # one number or name: the whole claim is about it, every clause
        mine_of = {_stem(t): {0} for t in claim_tokens if _is_content(t)}
    else:
        mine_of = _owners(claim_tokens, [s.place for s in claim_slots], shared_head=False)
        for low, high in _ranges(claim_tokens, claim_slots):  # "weekdays 5-9 pm": the words belong to both ends
            for owners_of in mine_of.values():
                owners_of.update((low, high) if owners_of & {low, high} else ())
    absent = False
    for k, slot in enumerate(claim_slots):
        same = [s for s in slots if s.value == slot.value]
        if not same and slot.kind != "NAME" and _labelled(slot, claim_tokens, slots):
            continue  # the number of a label the evidence gives ("weeks 6, 12 and 24" for "Week 6", "Week 12")
        kin = [s for s in slots if s.kind == slot.kind
               and (s.kind != "NAME" or " " in s.value or s.value in claimed)]  # "Treasurer": a role, not a rival
        dimension = _dimension(slot.kind)
        if same and dimension and all(_dimension(s.kind) and s.kind != slot.kind for s in same):
            return True  # the same number in another unit ("95 watts" where the source has "95 dB")
        compared = slot.value in given and _compared(slot, claim_tokens, [s for s in slots if s.kind == slot.kind])
        if not same and slot.kind != "NAME" and (compared or _derived(slot, claim_slots, slots, arithmetic, rates,
                                                                 (given, document or f"{context} {evidence}"))):
            continue  # the question's amount set against a limit ("at 125 kg you would be over it"), or computed
        if not same:
            if any(s.value not in claimed or slot.value in given for s in kin) and slot.kind not in ("NAME", ""):
                return True  # a different number counting the same thing (not one the claim gives as well)
            others = [s for s in kin if s.value not in claimed]  # the claim's own names are no rivals
            if others and slot.kind == "NAME" and _taken_by_rival(tokens, others, [w for w, ks in mine_of.items() if ks == {k}]):
                return True  # another name where the claim puts this one ("reported to the Laboratory Manager")
            present = slot.value in given or (slot.kind == "NAME" and _name_present(slot.value, evidence, context, document))
            absent = absent or not present
            continue
        rivals = sorted({r for r in {*same, *kin} if r.value == slot.value or not _range_partner(tokens, r, same)},
                        key=lambda s: s.place)
        if len({s.value for s in rivals}) < 2:
            continue
        owners = _owners(tokens, [s.place for s in rivals], shared_head=True)
        votes: Counter[str] = Counter()
        for word in (w for w, ks in mine_of.items() if ks == {k}):  # a word shared by several slots says nothing
            if len(owners.get(word, ())) == 1:
                votes[rivals[next(iter(owners[word]))].value] += 1
        if votes and max(votes.values()) > votes[slot.value]:
            return True
    return None if absent else False


_VAGUE = frozenset(_stem(w) for w in "roughly approximately approx around nearly almost just exactly precisely "
                   "total altogether combined overall".split())


def content_of(text: str) -> frozenset[str]:
    """The stemmed content words of ``text`` as the checks read them (numbers as digits, units in one spelling)."""
    return _content(words(_normalise(text)))


def coverage(claim: str, evidence: str) -> float:
    """The share of the claim's content words the evidence holds; words that only say how exact or how
    summed a number is ("roughly 360 g a day in total") are left to the number checks."""
    tokens, theirs = words(_normalise(claim)), words(_normalise(evidence))
    # a number's unit where the evidence gives the quantity in another unit of it ("3 years" for "36 months"): the
    # number checks compare the two, the word is not missing
    dimensions = {DIMENSIONS[t] for t in theirs if t in DIMENSIONS}
    wanted = _content([t for before, t in zip(["", *tokens], tokens, strict=False)
                       if not (before[:1].isdigit() and DIMENSIONS.get(t) in dimensions)]) - _VAGUE
    if not wanted:
        return 1.0
    held = _content(theirs)
    # a word the claim shortens ("2-bath" for "2-bathroom", "dept" for "department") is held by the word it begins;
    # not below four letters ("man" begins "manager", "age" "agent")
    return sum(1 for w in wanted if w in held or (len(w) >= 4 and any(h.startswith(w) for h in held))) / len(wanted)
