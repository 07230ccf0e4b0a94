"""Claim checks: split a reply into claims and label each against the source sentence that best supports it.

A reply is split into claims: its sentences, list items and ``;``/"however" clauses, with
preambles ("Sure! Based on the provided sources, here is the answer:"), lead-ins ("According to
the guide,", "[1] says") and hedges about the sources ("I apologize, but the sources do not list
...") set aside. Each claim is compared with the sentences of the sources it cites (then, if
none supports it, of every source): the best sentence, or two when the claim rests on two, by
shared words (numbers and units normalised: "four hours" is "4 hours", "€4,500" is "4500 euros")
and, with an embedder, by meaning. Then the parts that make it true or false are checked against
that evidence, not the whole chunk:

* each number with what it counts (the word after it: "8 tablets", "13.2 kg", a year) must be in
  the evidence attached to the same words; a different number counting the same thing, or the
  claimed number attached to another item of a list, *contradicts* it;
* each name (a capitalised phrase: "Maria Chen", "Trail 500") must be there, in the same role;
* a word negated in the claim must be negated in the evidence, and the reverse.

Labels: ``supported`` (enough of its words, every number and name, no contradiction),
``contradicted`` (the evidence says otherwise, quoted) and ``unsupported``. What this cannot
catch: synonyms and antonyms without an embedder, roles carried by common nouns ("the tenant" for
"the landlord") and claims the sources imply without saying.

Over 300 lines on purpose: splitting claims, choosing their evidence and labelling them share the
per-reply memo of sentence vectors and the claim's lead context; how source text is read (sentences, table
rows, a file's head) lives in ``rag.answering.passages``, the parts that make a claim true or false in
``rag.answering.facts``, ``.quantities``, ``.negation``, ``.quantifiers``, ``.comparison`` and ``.lists``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from indexes import Embedder, Hit
from rag.answering.comparison import comparison_conflict
from rag.answering.facts import content_of, coverage, slot_conflict, stream, words
from rag.answering.lists import list_gap
from rag.answering.negation import denials, negation_conflict
from rag.answering.passages import document_text, evidence_sentences, heads_of, is_rule, is_title, surroundings, title_numbers
from rag.answering.quantifiers import STATING_VERB, exclusive_conflict, quantifier_gap
from rag.records import Claim
from rag.text import MARKER, split_sentences, strip_markers

__all__ = ["COVERAGE", "check_claims", "claim_pairs", "split_claims"]

COVERAGE = 0.6  # share of a claim's words the evidence must hold
TOPICAL = 0.34  # share of a claim's words a sentence must hold for its numbers to contradict the claim
CLOSE = 0.75  # cosine (all-MiniLM-L6-v2) from which a claim and a sentence say the same thing, parts checked apart
_META = re.compile(r"\b(?:sources?|documents?|context|provided|passages?|excerpts?|information)\b", re.I)
_PREAMBLE = re.compile(r"^\s*(?:i\b|i'm\b|here\b|here's\b|sure\b|certainly\b|of course\b|hope\b|great question)", re.I)
_DOC_NOUN = (r"(?:source|document|text|passage|guide|leaflet|report|sheet|summary|manual|policy|contract|lease|article"
             r"|paper|page|table|notes?)")
_LEAD_IN = re.compile(
    r"^\s*(?:(?:(?:unfortunately|sadly|i'm afraid|generally|mostly)\s+)?(?:yes|no|not(?: yet| really| quite)?|sure|"
    r"certainly|okay|ok|indeed)\b\s*[!.,:—–]+\s*)?"
    r"(?:(?:based on|according to|as (?:stated|mentioned|described|shown) in|per|under)\s+"
    r"(?:[^,\d]{0,60}?|(?:the\s+)?(?:condition|section|clause|paragraph|article|table|page|item|rule|point|step|part|"
    r"schedule)\s+[\w.]{1,8}),\s*"
    rf"|(?:\[\d+\]|(?:the|this|that|your)\s+(?:[\w-]+\s+){{0,2}}?{_DOC_NOUN}s?(?:\s*\[\d+\])?)\s+"
    r"(?:says|states|notes|mentions|shows|indicates|explains|specifies|confirms|lists)(?:\s+that)?\s+"
    r"|(?:the|this|that|your)\s+(?:[\w-]+\s+){0,3}?(?:says|states|notes|mentions|shows|indicates|explains|specifies|"
    r"confirms)\s+that\s+)?", re.I)
# Hedges that open a claim without being part of it: "It appears that", "I believe", "Apparently,".
_HEDGE = re.compile(
    r"^\s*(?:it\s+(?:seems|appears|looks)(?:\s+(?:like|that))?|i\s+(?:believe|think|understand)(?:\s+that)?"
    r"|apparently|presumably|probably|it is likely that|in short|in summary|to summari[sz]e|so|therefore|thus"
    r"|(?:please\s+)?note that|keep in mind that|from what i can see|it looks like|in other words|that is"
    r"|first(?:ly)?|second(?:ly)?|third(?:ly)?|then|next|finally|also|additionally|in addition|after that"
    r"|by contrast|in contrast|on the other hand|meanwhile|likewise|similarly|however|as for)"
    r"\b\s*[,:]?\s*", re.I)
_BULLET = re.compile(r"(?m)^\s*(?:[*\-•+]|\d{1,2}[.)])\s+")
_BULLET_LINE = re.compile(r"^\s*(?:[*\-•+]|\d{1,2}[.)])\s+")
_CONJUNCTION = re.compile(r",\s*(?:and|while|whereas|but|or)\b\s*|;\s*")
# ", which is the headquarters" / ", who founded it,": a second claim about the word(s) before it.
_RELATIVE_CLAUSE = re.compile(
    r",\s*(?:which|who)\s+(?!(?:comes?|amounts?|works?|adds?) (?:to|out|up)|equals?|means?|makes?|totals?|gives?)"
    r"((?:[^,;]|,(?=\d))+?)(?=,(?!\d)|;|\s*$|\s*[.!?]\s*$)", re.I)
# "Both A and B <verb> ...": the subject ends at the first stating verb (auxiliaries, modals and the verbs replies
# state facts with), so "the apple and walnut cake" stays one thing.
_BOTH = re.compile(rf"^\W*(?:(?:yes|no)\b\W+)?both\s+(.+?)\s+and\s+(.+?)\s+((?:{STATING_VERB})\b.*)$",
                   re.IGNORECASE | re.DOTALL)
_LAST_NAME = re.compile(r"(?:[A-Z][\w&-]*(?:\s+(?:[A-Z][\w&-]*|\d+\b))*|[\w-]+)\W*$")


def _antecedent(before: str) -> str:
    """What a relative clause is about: the name or word right before its comma; after an amount, the
    clause that states it ("the monthly rent is €4,500, which is due ...": the rent, not "500")."""
    match = _LAST_NAME.search(before.rstrip())
    if match and match.group(0)[:1].isdigit():
        return re.split(r"[,;:]\s", before)[-1].strip()
    return match.group(0).strip(" ,") if match else ""


_PRONOUN_SUBJECT = re.compile(r"^\s*(?:it|they|this|these|those)\s+(?=\w)", re.I)
_SUBJECT_END = re.compile(r"\s+(?:is|are|was|were|has|have|had|can|could|must|may|might|will|would|should|shall|does|"
                          r"do|did|costs?|takes?|needs?|includes?|covers?|runs?|requires?|applies|lasts?|starts?|"
                          r"ends?|begins?|contains?)\b", re.I)


_PRONOUNS = frozenset("i you he she it we they this that these those there here".split())


def _with_subject(parts: list[str]) -> list[str]:
    """Conjoined clauses with the first one's subject where a later one points back to it with a pronoun
    ("Pocket money is optional, but it shouldn't be more than £50": "Pocket money shouldn't be ..."), so that
    a number of the later clause is read against what it is said of, not any sentence that holds it."""
    verb = _SUBJECT_END.search(parts[0]) if parts else None
    subject = parts[0][:verb.start()].strip() if verb else ""
    if not subject or len(words(subject)) > 6 or set(words(subject)) & _PRONOUNS:
        return parts  # no noun phrase to stand for the pronoun
    return [parts[0], *(_PRONOUN_SUBJECT.sub(subject + " ", p) for p in parts[1:])]


def split_claims(reply: str) -> list[str]:
    """The claims of a reply, markers kept: sentences and list items, preambles, lead-ins and hedges aside."""
    return [shown for shown, _ in claim_pairs(reply)]


def claim_pairs(reply: str) -> list[tuple[str, str]]:
    """Each claim as shown, and as checked: a list item or table row is checked under the line that
    introduces it ("By default it listens on:" + "Port: 8080"), since an item alone often has no
    subject; a sentence opening with "he" or "she" is checked with the name it stands for."""
    claims: list[tuple[str, str]] = []
    lead, header, person = "", False, ""
    for raw in reply.replace("**", "").replace("__", "").splitlines():
        is_row = raw.strip().startswith("|")
        is_item = bool(_BULLET_LINE.match(raw)) or is_row
        line = _BULLET.sub("", raw).strip().lstrip("#").strip()
        if is_row:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if is_rule(cells):
                continue  # the rule under a table's header
            line, header = " ".join(c for c in cells if c), not header and not any(re.search(r"\d", c) for c in cells)
            if header:  # a header row names the columns: context, not a claim
                continue
        else:
            header = False
        if not line:
            continue
        if not is_item:
            lead = ""
        for sentence in split_sentences(line):
            cites = MARKER.findall(sentence)
            sentence = _ADVICE_TAIL.sub(lambda m: "".join(f" [{c}]" for c in MARKER.findall(m.group(0))), sentence)
            clauses = [_unhedge(c) for c in re.split(r";\s*(?:however,?\s*)?|,\s*however,\s*|,\s*but\b", sentence)]
            for clause, meant in zip(clauses, _with_subject(clauses), strict=True):
                if _is_aside(clause):
                    continue
                if cites and not MARKER.search(clause):
                    clause, meant = f"{clause} [{cites[-1]}]", f"{meant} [{cites[-1]}]"
                checked = _PERSON_PRONOUN.sub(person, meant, count=1) if person else meant
                claims.append((clause, f"{lead}: {checked}" if is_item and lead else checked))
                person = next((n for n in reversed(_PERSON.findall(clause))), person)
        if not is_item and line.rstrip().endswith(":"):
            lead = _unhedge(_PREAMBLE_LEAD.sub("", line.rstrip().rstrip(":")))
    return claims


# "He is the Payroll Manager": checked as "Tom Becker is the Payroll Manager" after "... Tom Becker [2]."
_PERSON_PRONOUN = re.compile(r"^(?:he|she)\b", re.I)
_PERSON = re.compile(r"\b(?:(?:Dr|Prof|Mr|Mrs|Ms)\.?\s+)?[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")
_CLOSING = re.compile(r"^\s*(?:let me know|feel free|(?:i )?hope (?:this|that|it) helps|if you (?:have|need)|"
                      r"please (?:let|feel|note that you)|do you (?:want|need)|would you like|is there anything|"
                      r"you (?:may|might) (?:want|wish) to|you (?:may|might|could) consider|i (?:would )?(?:recommend|suggest)|"
                      r"it (?:may|might|would|could) be (?:worth|a good idea|wise)|it(?:'s| is) (?:worth|a good idea|wise)|"
                      r"(?:good|best of) luck|all the best|best wishes|take care|stay safe|fingers crossed|hopefully|"
                      r"enjoy (?:your|the)|have a (?:great|good|lovely|nice|safe|wonderful)|congratulations|"
                      r"happy \w+ing\b)", re.I)
# An advice tail after a claim ("..., so it may be worth reviewing your options"): the reply's suggestion, not a claim.
_ADVICE_TAIL = re.compile(r"[,;]?\s+(?:so|and)\s+(?:it\s+(?:may|might|could|would)\s+be|it(?:'s| is))\s+"
                          r"(?:worth|a good idea|wise)\b.*$"
                          r"|[,;]?\s+(?:so|and)\s+you\s+(?:may|might|could)\s+(?:want|wish)\s+to\b.*$", re.I)


_PREAMBLE_LEAD = re.compile(r"^\s*(?:sure|certainly|of course|okay|ok)\b[!.,]*\s*|^\s*here(?:'s| is| are)\s+", re.I)


def _unhedge(clause: str) -> str:
    """``clause`` without its lead-ins and hedges, however many are stacked, nor a short qualifier before
    a colon that opens a whole claim ("It is: the piano is listed", "During part of it: the first two weeks ...")."""
    clause = clause.strip()
    while True:
        stripped = _HEDGE.sub("", _LEAD_IN.sub("", clause, count=1), count=1).lstrip(" ,;:").rstrip(" ,;")
        head, colon, tail = stripped.partition(": ")
        if colon and len(words(head)) <= 5 and not re.search(r"\d|\b[A-Z]", head[1:]) and len(words(tail)) >= 6:
            stripped = tail
        if stripped == clause:
            return clause
        clause = stripped


_PARTICLES = frozenset("yes no nope not yet really quite exactly always necessarily i i'm am afraid unfortunately sadly "
                       "it doesn't does look looks like seems seem so that's right correct indeed absolutely of course "
                       "generally mostly partly sure certainly alas well okay ok".split())


def _is_aside(clause: str) -> bool:
    """A preamble, a lead-in ending with a colon, a hedge about the sources, or nothing at all."""
    plain = strip_markers(clause).strip()
    if len(words(plain)) < 2 or plain.endswith(":"):
        return True
    if _PREAMBLE.match(plain) or _CLOSING.match(plain) or plain.endswith("?"):
        return True  # a preamble, a closing offer, or the question restated
    if set(words(plain)) <= _PARTICLES:
        return True  # "Not yet, I'm afraid.", "It doesn't look like it.": the answer's polarity, stated by what follows
    return bool(_META.search(plain)) and not re.search(r"\d", plain)


def _label(claim: str, evidence: str, context: str, document: str = "", given: frozenset[str] = frozenset(),
           cosine: float | None = None) -> str:
    """``evidence``'s verdict on ``claim``: its checkable parts (numbers, names, negation) first, then
    whether it says the same thing: enough of its words, or (with an embedder) a meaning close enough."""
    slots = slot_conflict(claim, evidence, context, document, given)
    shared = coverage(claim, evidence)
    if slots is True and shared < TOPICAL and (cosine is None or cosine < CLOSE):
        slots = None  # another number in a sentence about something else says nothing against the claim
    if (slots is True or negation_conflict(claim, evidence) or comparison_conflict(claim, evidence)
            or exclusive_conflict(claim, evidence)):
        return "contradicted"
    if slots is None or quantifier_gap(claim, evidence) or list_gap(claim, evidence):
        return "unsupported"
    # Numbers and dates found in place anchor a claim: fewer of its other words need be in the evidence.
    # Three or more, all in place ("the lease term runs two years, from 1 April 2025 to 31 March 2027" against
    # "Term: 1 April 2025 to 31 March 2027 (24 months)"), say which sentence the claim restates: fewer of its
    # words need be there (a quarter of them with three, none from four).
    anchors = sum(1 for s in stream(claim)[1] if s.kind != "NAME")
    floor = 0.0 if anchors >= 3 and slots is False else 0.3
    if shared >= max(floor, COVERAGE - 0.15 * anchors) or (cosine is not None and cosine >= CLOSE):
        return "supported"
    return "unsupported"


_DATE_KINDS = frozenset(["DATE", "YEAR", *(stream(f"1 {month}")[1][0].kind for month in (
    "january february march april june july august september october november december".split()))])


def _candidates(hits: Sequence[Hit], sources: Sequence[int]) -> list[tuple[int, str]]:
    return [(n, s) for n in sources for s in evidence_sentences(hits[n - 1].chunk.text)]


@dataclass(frozen=True)
class _Reading:
    """What every claim of one reply is read with besides its sources."""

    given: frozenset[str] = frozenset()  # numbers the question states ("a ratio of 1.6")
    documents: Mapping[str, str] = field(default_factory=dict)  # source path -> all its indexed text
    heads: Mapping[str, list[str]] = field(default_factory=dict)  # source path -> its title and first sentences


class _Meaning:
    """Embedding cosines for one reply's checks: each sentence and claim is embedded once, however many
    claims, parts and source sets it is ranked for (one batch per call, only the texts not seen yet)."""

    def __init__(self, embedder: Embedder) -> None:
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def cosines(self, text: str, others: Sequence[str]) -> list[float]:
        missing = list(dict.fromkeys(t for t in (text, *others) if t not in self._vectors))
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed(missing), strict=True))
        query = self._vectors[text]
        return [float(query @ self._vectors[t]) for t in others]


def _rank(claim: str, candidates: list[tuple[int, str]], meaning: _Meaning | None) -> list[tuple[int, str]]:
    values = {s.value for s in stream(claim)[1]}

    def score(item: tuple[int, str]) -> float:
        return coverage(claim, item[1]) * 4 + 1.5 * len(values & {s.value for s in stream(item[1])[1]})
    scores = {i: score(c) for i, c in enumerate(candidates)}
    if meaning is not None and candidates:
        for i, cosine in enumerate(meaning.cosines(strip_markers(claim), [c[1] for c in candidates])):
            scores[i] += 3 * cosine
    return [candidates[i] for i in sorted(scores, key=lambda i: -scores[i])]


# Verbs that say little of what a negation denies ("do not get paid overtime" denies the overtime).
_LIGHT_VERBS = content_of("get gets got make makes made take takes took give gives gave use uses used")


def _check(claim: str, hits: Sequence[Hit], sources: Sequence[int], meaning: _Meaning | None,
           reading: _Reading) -> Claim:
    """Label one claim; a claim of conjoined parts ("X, and Y") is supported when each part is,
    by the best sentence or another (a claim may rest on two)."""
    text = strip_markers(claim)
    cites = tuple(int(p) for m in MARKER.finditer(claim) for p in re.split(r"[,;]", m.group(1))
                  if 1 <= int(p) <= len(hits))
    both = _BOTH.match(text)
    if both:  # "Both the buns and the cake use yeast": said of each, so true of each
        for one in (both.group(1), both.group(2)):
            said = _check(f"{one} {both.group(3)}", hits, sources, meaning, reading)
            if said.label != "supported":
                return dataclasses.replace(said, text=text, cites=cites)
    candidates = _candidates(hits, sources)
    ranked = _rank(claim, candidates, meaning)
    if not ranked:
        return Claim(text, "unsupported", (), "", cites)
    # A name may be the document's topic, named in its title, or the subject of the sentence before.
    around = surroundings(hits, sources, reading.heads)
    # A number of a file's title ("Tessellate 4.2.0 Release Notes": its first line, a heading rather than a
    # sentence) is what all of it is about, when the claim gives it beside one of the title's words ("Release 4.2.0").
    topics = {source: title_numbers(claim, line)
              for source, head in reading.heads.items() for line in head[:1] if is_title(line)}

    def label(claim: str, n: int, evidence: str, sentence: str | None = None) -> str:
        where = sentence or evidence
        cosine = meaning.cosines(strip_markers(claim), [where])[0] if meaning is not None else None
        return _label(claim, evidence, around.get((n, where), ""), document_text(hits, n, reading.documents),
                      reading.given | topics.get(hits[n - 1].chunk.source, frozenset()), cosine)

    n1, best = ranked[0]
    label_1 = label(claim, n1, best)
    if label_1 == "unsupported":
        # The closest sentence may miss a word the next one holds ("Non-refundable." after the hotel's line).
        n1, best, label_1 = next(((n, s, "supported") for n, s in ranked[1:3] if label(claim, n, s) == "supported"),
                                 (n1, best, label_1))
    context = around.get((n1, best), "")
    if label_1 == "supported":
        # What the closest sentence does not say may be denied by the next one ("2 paid days per year for a
        # registered charity." then "Volunteering leave is not available during probation."): a claim that
        # adds it ("including during probation") is contradicted there.
        # So may what it says of something the closest sentence does not name: "Both the applicant and third
        # parties may appeal" against "the applicant may appeal" and "Third parties have no right of appeal".
        unsaid = content_of(text) - content_of(best)
        for n, other in ranked[1:8] if unsaid else ():
            denied, about = denials(other)
            denied -= _LIGHT_VERBS
            if ((denied & unsaid or (about & unsaid and denied & content_of(text)))
                    and negation_conflict(claim, other)):
                return Claim(text, "contradicted", (n,), other, cites)
    if label_1 == "unsupported":
        # A claim may join two sentences of a source ("the deposit is three months' rent" and "rent is
        # 4,500 euros": "a deposit of 13,500 euros"): the best sentence read with one that holds a number it
        # lacks. Only numbers: a name from another sentence is how false recombinations are made.
        # The sentence before the best one is read with it too ("On 9 March Juniper had a laparotomy." then
        # "A 4 cm piece of toy was removed.": "During the laparotomy on 9 March, a 4 cm piece was removed").
        slots = stream(claim)[1]
        in_best = {s.value for s in stream(best)[1]}
        missing = {s.value for s in slots if s.kind != "NAME" and s.value not in in_best}
        names_held = all(s.value in in_best | {c.value for c in stream(context)[1]} for s in slots if s.kind == "NAME")
        sentences = evidence_sentences(hits[n1 - 1].chunk.text)
        dates = all(s.kind in _DATE_KINDS for s in slots if s.value in missing)  # only a date: who had what stays put
        before = [(n1, sentences[i - 1]) for i in range(1, len(sentences)) if sentences[i] == best and dates][:1]
        for n2, other in [*before, *ranked[1:4]] if missing and names_held else ():
            if (n2 == n1 and missing & {s.value for s in stream(other)[1]}
                    and label(claim, n1, f"{best} {other}", best) == "supported"):
                return Claim(text, "supported", (n1,), f"{best} {other}", cites)
    parts = _with_subject([p for p in _CONJUNCTION.split(_RELATIVE_CLAUSE.sub("", text)) if len(words(p)) >= 2])
    parts += [f"{_antecedent(text[:m.start()])} {m.group(1)}" for m in _RELATIVE_CLAUSE.finditer(text)]
    if len(parts) < 2:
        return Claim(text, label_1, (n1,), best, cites)
    found: list[tuple[str, int, str]] = []
    for part in parts:
        top = _rank(part, candidates, meaning)[:3]
        labels = [(label(part, n, sentence), n, sentence) for n, sentence in top]
        if not any(x[0] == "supported" for x in labels) and len(top) > 1 and top[0][0] == top[1][0]:
            # a part may rest on two sentences of one source too ("20% of the total" and "the total is £7,000"),
            # when the second gives a number the first lacks; never a name (how false recombinations are made)
            joined = f"{top[0][1]} {top[1][1]}"
            mine, first, second = (stream(t)[1] for t in (part, top[0][1], top[1][1]))
            lacking = {s.value for s in mine if s.kind != "NAME"} - {s.value for s in first}
            names = {s.value for s in mine if s.kind == "NAME"} <= {s.value for s in first}
            if (names and lacking & {s.value for s in second}
                    and label(part, top[0][0], joined, top[0][1]) == "supported"):
                labels.insert(0, ("supported", top[0][0], joined))
        found.append(next((x for x in labels if x[0] == "supported"), labels[0]))
    for wanted in ("contradicted", "unsupported"):
        if any(x[0] == wanted for x in found):
            bad = next(x for x in found if x[0] == wanted)
            return Claim(text, wanted, (bad[1],), bad[2], cites)
    quotes = list(dict.fromkeys(x[2] for x in found))
    quotes = [q for q in quotes if not any(q != other and q in other for other in quotes)]
    return Claim(text, "supported", tuple(sorted({x[1] for x in found})), " ".join(quotes), cites)


def check_claims(reply: str, hits: Sequence[Hit], embedder: Embedder | None = None, question: str = "",
                 documents: Mapping[str, str] | None = None) -> list[Claim]:
    """Label each claim of ``reply`` against the sources it cites, then (if not supported) all of them;
    a list item is checked alone first, then (if not supported) under the line that introduces it.
    Numbers the ``question`` states ("a ratio of 1.6") may be repeated without a source holding them."""
    meaning = _Meaning(embedder) if embedder is not None and getattr(embedder, "name", "") != "hash" else None
    # Only numbers: the question's names are what the reply must attach its facts to, not evidence of them.
    reading = _Reading(frozenset(s.value for s in stream(question)[1] if s.kind != "NAME"), documents or {},
                       heads_of(hits, documents or {}))
    out = []
    for shown, claim in claim_pairs(reply):
        if claim != shown and _PRONOUN_SUBJECT.match(shown):
            # "..., but it shouldn't be more than £50": what "it" stands for is what the number is checked against
            result = _check_cited(claim, hits, meaning, reading)
            if result.label == "unsupported":
                result = _check_cited(shown, hits, meaning, reading)
            out.append(dataclasses.replace(result, text=strip_markers(shown)))
            continue
        result = _check_cited(shown, hits, meaning, reading)
        if claim != shown and result.label != "supported":
            result = dataclasses.replace(_check_cited(claim, hits, meaning, reading), text=strip_markers(shown))
        out.append(result)
    return out


def _check_cited(claim: str, hits: Sequence[Hit], meaning: _Meaning | None, reading: _Reading) -> Claim:
    everything = list(range(1, len(hits) + 1))
    cited = sorted({int(p) for m in MARKER.finditer(claim) for p in re.split(r"[,;]", m.group(1))
                    if 1 <= int(p) <= len(hits)})
    result = _check(claim, hits, cited or everything, meaning, reading)
    if result.label != "supported" and cited:
        wider = _check(claim, hits, everything, meaning, reading)
        if wider.label == "supported" or (result.label == "unsupported" and wider.label == "contradicted"):
            result = wider
    return result
