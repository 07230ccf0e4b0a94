"""Quantifiers: does a claim say "all" ("every", "always", "the entire") where its evidence speaks of some?

A rule stated for some cases ("code 2 when some files failed") is not one for all of them; a bare plural before
its verb ("Timings were tested in Margit's oven") is a statement of the kind, true of all of them, while one
narrowed by what follows it ("Rooms facing the sea") is not. Text is normalised as the other checks of a claim
read it (``rag.answering.facts``).
"""

from __future__ import annotations

import re

# The shared reading of a sentence (normalised words and their stems, numbers as slots).
from rag.answering.facts import _content, _normalise, stream, words

__all__ = ["STATING_VERB", "exclusive_conflict", "quantifier_gap"]

_UNIVERSAL = re.compile(r"\b(?:all(?<!at all)|every|everything|everyone|entire|whole|always|any time|without exception)\b")
_UNIVERSAL_EVIDENCE = re.compile(r"\b(?:all|every|each|any|everything|everyone|entire|whole|always|"
                                 r"no matter|regardless|whatever|whichever)\b")


_PARTIAL = re.compile(r"\b(?:some|several|certain|a few|most|part of)\b")


_VERBS = frozenset("are were is was have has had can could must may might will would should shall do does did get "
                   "need take run include cover".split())
# The verbs a reply states a fact of something with: where a subject named with "both" or "only" ends.
STATING_VERB = "|".join(sorted(_VERBS | set("needs use uses used gets include includes contain contains require requires "
                                            "receive receives pay pays qualify qualifies offer offers takes cost costs".split())))
_ALL_OF = re.compile(r"\ball (?:of )?(?:the |its |your |our )?([a-z]+)")


def _generic(claimed: str, text: str) -> bool:
    """Does the evidence open with a bare plural the claim says "all" of ("All the timings were tested" against
    "Timings were tested"): a statement of the kind, true of all of them?"""
    noun = _ALL_OF.search(claimed)
    first = re.match(r"[^a-z]*([a-z]+)\s+([a-z]+)", text)
    return bool(noun and first and noun.group(1).endswith("s") and first.group(1) == noun.group(1)
                and first.group(2) in _VERBS)  # "Rooms facing the sea", "Rooms on the first floor": some of them


# "Five points for every calendar day late": a rate ("per day"), not a rule for all days.
_EVERY_UNIT = re.compile(r"\b(?:every|each)\s+(?:(?:calendar|working|business|full|extra|additional|further)\s+)?"
                         r"(?=(?:minute|hour|day|night|week|month|year|mile|km|kg|person|guest|adult|child|item|page)s?\b)")


def quantifier_gap(claim: str, evidence: str) -> bool:
    """The claim says "all" ("every", "always", "the entire") and the evidence says nothing of the kind:
    a rule for some cases stated as a rule for all of them."""
    claimed = _EVERY_UNIT.sub("per ", _normalise(claim))
    if not _UNIVERSAL.search(claimed):
        return False
    text = _normalise(evidence)
    if not _PARTIAL.search(text):
        return not _UNIVERSAL_EVIDENCE.search(text) and not _generic(claimed, text)
    # "code 0 when every file was ingested, 2 when some files failed": the clause the claim's number stands in.
    numbers = {s.value for s in stream(claim)[1] if s.kind != "NAME"}
    clauses = [c for c in re.split(r"[,;]", text) if c.strip()]
    about = [c for c in clauses if numbers & {s.value for s in stream(c)[1]}] or clauses
    wanted = _content(words(claimed))
    clause = max(about, key=lambda c: len(wanted & _content(words(c))))
    return not _UNIVERSAL_EVIDENCE.search(clause)


# "only the buns use yeast": what follows "only" up to its verb is the one thing the rest is true of.
_ONLY = re.compile(rf"\b(?<!not )(?<!n't )only\s+((?:the |its |your |our )?(?:[a-z][\w'-]* ){{0,3}}?)(?:{STATING_VERB})"
                   r"\s+([^,;:]+)")
_NOT_A_THING = frozenset("on in at by for from to with within after before during until when if once".split())


def exclusive_conflict(claim: str, evidence: str) -> bool:
    """Does the claim say of another thing what the evidence says of "only" one ("the apple cake uses yeast"
    against "the cake and the buns both contain butter, but only the buns use yeast")? The claim must state
    what follows (every content word of it), not name the one thing, and name something else the sentence
    names. "Only on weekdays", "only in May" restrict when, not what, and "not only ... but also" adds: neither is
    read."""
    plain = _normalise(evidence)
    mine = _content(words(_normalise(claim)))
    for match in _ONLY.finditer(plain):
        thing = words(match.group(1))
        if not thing or thing[0] in _NOT_A_THING:
            continue
        one, said = _content(thing), _content(words(match.group(2)))
        others = _content(words(plain[:match.start()] + " " + plain[match.end():])) - one - said
        if one and said and said <= mine and not one & mine and others & mine:
            return True
    return False
