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
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from indexes import Embedder, Hit
from rag.answering.facts import coverage, negation_conflict, slot_conflict, stream, words
from rag.records import Claim
from rag.text import MARKER, split_sentences, strip_markers

__all__ = ["COVERAGE", "check_claims", "split_claims"]

COVERAGE = 0.6  # share of a claim's words the evidence must hold
_META = re.compile(r"\b(?:sources?|documents?|context|provided|passages?|excerpts?|information)\b", re.I)
_PREAMBLE = re.compile(r"^\s*(?:i\b|i'm\b|here\b|here's\b|sure\b|certainly\b|of course\b|hope\b|great question)", re.I)
_LEAD_IN = re.compile(
    r"^\s*(?:(?:yes|no|sure|certainly|okay|ok)[!.,]+\s*)?"
    r"(?:(?:based on|according to|as (?:stated|mentioned|described|shown) in|per)\s+[^,\d]{0,60}?,\s*"
    r"|(?:\[\d+\]|the (?:source|document|text|passage|guide|leaflet|report)s?(?:\s*\[\d+\])?)\s+"
    r"(?:says|states|notes|mentions|shows|indicates|explains)(?:\s+that)?\s+)?", re.I)
_BULLET = re.compile(r"(?m)^\s*(?:[*\-•+]|\d{1,2}[.)])\s+")
_CONJUNCTION = re.compile(r",\s*(?:and|while|whereas|but|or)\b\s*|;\s*")


def split_claims(reply: str) -> list[str]:
    """The claims of a reply, markers kept: sentences and list items, preambles, lead-ins and hedges aside."""
    text = _BULLET.sub("", reply.replace("**", "").replace("__", ""))
    claims: list[str] = []
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        for sentence in split_sentences(line) if line else []:
            cites = MARKER.findall(sentence)
            for clause in re.split(r";\s*(?:however,?\s*)?|,\s*however,\s*|\bbut\b", sentence):
                clause = _LEAD_IN.sub("", clause.strip()).strip(" ,;")
                if _is_aside(clause):
                    continue
                if cites and not MARKER.search(clause):
                    clause = f"{clause} [{cites[-1]}]"
                claims.append(clause)
    return claims


def _is_aside(clause: str) -> bool:
    """A preamble, a lead-in ending with a colon, a hedge about the sources, or nothing at all."""
    plain = strip_markers(clause).strip()
    if len(words(plain)) < 2 or plain.endswith(":"):
        return True
    if _PREAMBLE.match(plain):
        return True
    return bool(_META.search(plain)) and not re.search(r"\d", plain)


def _label(claim: str, evidence: str, context: str) -> str:
    slots = slot_conflict(claim, evidence, context)
    if slots is True or negation_conflict(claim, evidence):
        return "contradicted"
    # Numbers and dates found in place anchor a claim: fewer of its other words need be in the evidence.
    anchors = sum(1 for s in stream(claim)[1] if s.kind != "NAME")
    if slots is None or coverage(claim, evidence) < max(0.3, COVERAGE - 0.15 * anchors):
        return "unsupported"
    return "supported"


def _candidates(hits: Sequence[Hit], sources: Sequence[int]) -> list[tuple[int, str]]:
    return [(n, s) for n in sources for s in split_sentences(hits[n - 1].chunk.text)]


def _rank(claim: str, candidates: list[tuple[int, str]], embedder: Embedder | None) -> list[tuple[int, str]]:
    values = {s.value for s in stream(claim)[1]}

    def score(item: tuple[int, str]) -> float:
        return coverage(claim, item[1]) * 4 + 1.5 * len(values & {s.value for s in stream(item[1])[1]})
    scores = {i: score(c) for i, c in enumerate(candidates)}
    if embedder is not None and candidates and getattr(embedder, "name", "") != "hash":
        vectors = embedder.embed([strip_markers(claim)] + [c[1] for c in candidates])
        for i in scores:
            scores[i] += 3 * float(vectors[0] @ vectors[i + 1])
    return [candidates[i] for i in sorted(scores, key=lambda i: -scores[i])]


def _check(claim: str, hits: Sequence[Hit], sources: Sequence[int], embedder: Embedder | None) -> Claim:
    """Label one claim; a claim of conjoined parts ("X, and Y") is supported when each part is,
    by the best sentence or another (a claim may rest on two)."""
    candidates = _candidates(hits, sources)
    ranked = _rank(claim, candidates, embedder)
    text = strip_markers(claim)
    cites = tuple(int(p) for m in MARKER.finditer(claim) for p in re.split(r"[,;]", m.group(1))
                  if 1 <= int(p) <= len(hits))
    if not ranked:
        return Claim(text, "unsupported", (), "", cites)
    # A name may be the document's topic, named in its title rather than in the sentence.
    context = " ".join(next(iter(split_sentences(hits[n - 1].chunk.text)), "") for n in sources)
    n1, best = ranked[0]
    label = _label(claim, best, context)
    parts = [p for p in _CONJUNCTION.split(text) if len(words(p)) >= 2]
    if len(parts) < 2:
        return Claim(text, label, (n1,), best, cites)
    found: list[tuple[str, int, str]] = []
    for part in parts:
        labels = [(_label(part, sentence, context), n, sentence) for n, sentence in _rank(part, candidates, embedder)[:3]]
        found.append(next((x for x in labels if x[0] == "supported"), labels[0]))
    for wanted in ("contradicted", "unsupported"):
        if any(x[0] == wanted for x in found):
            bad = next(x for x in found if x[0] == wanted)
            return Claim(text, wanted, (bad[1],), bad[2], cites)
    quotes = list(dict.fromkeys(x[2] for x in found))
    return Claim(text, "supported", tuple(sorted({x[1] for x in found})), " ".join(quotes), cites)


def check_claims(reply: str, hits: Sequence[Hit], embedder: Embedder | None = None) -> list[Claim]:
    """Label each claim of ``reply`` against the sources it cites, then (if not supported) all of them."""
    out = []
    everything = list(range(1, len(hits) + 1))
    for claim in split_claims(reply):
        cited = sorted({int(p) for m in MARKER.finditer(claim) for p in re.split(r"[,;]", m.group(1))
                        if 1 <= int(p) <= len(hits)})
        result = _check(claim, hits, cited or everything, embedder)
        if result.label != "supported" and cited:
            wider = _check(claim, hits, everything, embedder)
            if wider.label == "supported" or (result.label == "unsupported" and wider.label == "contradicted"):
                result = wider
        out.append(result)
    return out
