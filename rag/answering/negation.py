"""Negation: does a claim deny what its evidence states, or state what it denies?

Polarity is read per clause, not per word, since a negation may stand anywhere in a clause ("None of the
parking is allocated" and "have no allocated parking" agree); what a negation denies (the content words after
it) and of what (those before it) decide whether two clauses of opposite polarity are about the same thing. A
rule with an exception ("refunds are not given unless you have a receipt") is read as a pair. Text is
normalised as the other checks of a claim read it (``rag.answering.facts``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# The shared reading of a sentence (normalised words and their stems) lives with the other checks of a claim.
from rag.answering.facts import _content, _is_content, _normalise, _stem, words
from rag.text import NEGATIONS

__all__ = ["denials", "negation_conflict"]

# Where a clause with its own polarity starts: not at every comma ("Block C's roof, replaced in 2019, is not
# part of this project" is one clause), but after ";", ":" or a comma and a conjunction, and at "but" or "unless".
_CLAUSES = re.compile(r"[;:]|\s[—–]\s|,\s*(?:and|while|whereas|or)\b|\b(?:but|whereas|unless)\b")
# Words that deny without a negation word: "the side wall was ruled out" is "it will not be placed on the side
# wall", "tenants over 75 are exempt" is "they do not have to take part". ("Instead of" and "rather than" are not
# denials: "72 hours instead of 24" states the 72.)
_IMPLICIT = [(re.compile(pattern), plain) for pattern, plain in (
    (r"\b(?:rules?|ruled|ruling) out\b", "not chosen"), (r"\bexempt(?:ed)?\b", "not required"),
    (r"\b(?:prohibited|forbidden|banned|disallowed)\b", "not allowed"), (r"\bunable\b", "not able"))]
_VERB_AFTER_AND = frozenset("have has had are is was were do does did can could will would must should may might "
                            "get gets need needs".split())
# "Neither ... nor" is one negation; "nobody" and "nowhere" are as negative as "no one", "excluding" as "not
# including".
_NEGATORS = (NEGATIONS | {"nobody", "nowhere", "excluding", "excluded"}) - {"nor"}
_SCOPE = 2  # content words after a negation that it denies ("not translated automatically")
# A clause that opens with its condition ("if a plot is not adequately cultivated, the tenant receives a notice"):
# the condition's polarity is not the statement's.
_CONDITION = re.compile(r"^\s*(?:if|when|whenever|once|where)\b([^,;:]+),(.*)$")


def _negative(tokens: Sequence[str]) -> bool:
    """Does a clause deny what it states: an odd number of negations ("not", "no", "never", "without"),
    one repeated across "and"/"or" counted once ("was not included and has not been booked")?"""
    count, seen = 0, False
    for i, token in enumerate(tokens):
        if token in _NEGATORS:
            count += not (seen and any(t in ("and", "or") for t in tokens[max(0, i - 3):i]))
            seen = True
    return count % 2 == 1


def _denied(tokens: Sequence[str]) -> tuple[frozenset[str], frozenset[str]]:
    """What a clause's negations deny (the first content words after each) and of what (the last ones before
    it: "personal spending money is not included")."""
    after: set[str] = set()
    before: set[str] = set()
    for i, token in enumerate(tokens):
        if token in _NEGATORS:
            after.update([_stem(t) for t in tokens[i + 1:] if _is_content(t)][:_SCOPE])
            head = tokens[:i]
            # "Courts 1-4 are artificial clay and have no floodlights": what "no" is about is the courts, not the
            # clay the clause states of them first (a verb after "and" starts a second predicate of one subject).
            joins = [j for j in range(len(head) - 1) if head[j] in ("and", "or") and head[j + 1] in _VERB_AFTER_AND]
            if joins:
                head = [t for t in head[:joins[-1]] if _is_content(t)][:1]
            before.update([_stem(t) for t in head if _is_content(t)][-3:])
    return frozenset(after), frozenset(before)


def _plain(text: str) -> str:
    """``text`` normalised as the checks read it, its implicit denials ("ruled out", "exempt") spelt with "not"."""
    text = _normalise(text)
    for pattern, plain in _IMPLICIT:
        text = pattern.sub(plain, text)
    return text


def denials(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """What the negations of ``text`` deny and what they are about, stemmed as the other checks read them:
    "Volunteering leave is not available during probation" denies available, probation, of volunteering leave;
    "Third parties have no right of appeal" denies right, appeal, of third parties."""
    return _denied(words(_plain(text)))


def _exception_conflict(claim: Sequence[str], rule: Sequence[str], exception: Sequence[str]) -> bool:
    """Does the claim break "``rule`` unless ``exception``": state the rule's opposite without the exception
    ("refunds are given without a receipt" against "refunds are not given unless you have a receipt"), or
    the rule itself where the exception holds ("cancellations made 48 hours before are not refunded"
    against "... are not refunded unless made 48 hours before")?"""
    if len(_content(claim) & _content(rule)) < 2:
        return False
    negated = _negated(claim)
    held = [w for w in _content(exception) if w in negated and not negated[w]]
    if len(held) >= max(1, (len(_content(exception)) + 1) // 2):
        return _negative(claim) == _negative(rule)
    denied, _ = _denied(rule)
    return _negative(rule) and any(w in negated and not negated[w] for w in denied)


def _adjunct(tokens: Sequence[str]) -> bool:
    """Are all of a clause's negations "without" or "with no" ("three times a day, with no running")? They deny
    the thing that follows, not something said of the clause's subject."""
    places = [i for i, t in enumerate(tokens) if t in _NEGATORS]
    return bool(places) and all(tokens[i] == "without" or (i and tokens[i - 1] == "with") for i in places)


def _condition_apart(claim: str, evidence: str) -> bool:
    """Do two clauses that both open with a condition differ in polarity only there, in words that do not deny
    the same thing? "If your plot falls short, you'll get a notice" and "if a plot is not adequately
    cultivated, the tenant receives a notice" agree: one condition says with a negation what the other says
    without. "If your plot is cultivated, ..." states what the evidence's condition denies: not apart."""
    mine, theirs = _CONDITION.match(claim), _CONDITION.match(evidence)
    if not (mine and theirs) or _negative(words(mine.group(2))) != _negative(words(theirs.group(2))):
        return False
    conditions = [words(mine.group(1)), words(theirs.group(1))]
    negative, positive = conditions if _negative(conditions[0]) else conditions[::-1]
    return not _denied(negative)[0] & {_stem(t) for t in positive if _is_content(t)}


def _negated(tokens: Sequence[str]) -> dict[str, bool]:
    """Each content word (stemmed) and whether a negation stands within the three words before it."""
    out: dict[str, bool] = {}
    for i, token in enumerate(tokens):
        if _is_content(token):
            out[_stem(token)] = out.get(_stem(token), False) or any(t in _NEGATORS for t in tokens[max(0, i - 3):i])
    return out


def negation_conflict(claim: str, evidence: str) -> bool:
    """Does a clause of the claim say the opposite of a clause of the evidence, one denying what the other
    states ("is translated automatically" against "is not translated automatically")? Polarity is read
    per clause, not per word, since a negation may stand anywhere in it: "None of the parking is
    allocated" and "have no allocated parking" agree. The clauses must be about the same thing: either
    the negation denies words the other clause states, of something it names too ("the scones use one
    egg" against "all three recipes use eggs; the scones contain no egg"), or, for the clause sharing most
    words, the other says something else of what the negation is about ("spending money is covered"
    against "spending money is not included"). "Fast (no food) before each visit" says nothing against
    "before each visit", nor "a seep, not yet dripping" against "spotted a seep"."""
    pieces = re.split(f"({_CLAUSES.pattern})", _plain(evidence))
    # A rule with an exception ("refunds are not given unless you have a receipt") is read as a pair.
    texts = pieces[::2]
    conditional = [i + 1 < len(texts) and pieces[2 * i + 1] == "unless" for i in range(len(texts))]
    claimed = words(_plain(claim))
    if any(_exception_conflict(claimed, words(texts[i]), words(texts[i + 1])) for i, c in enumerate(conditional) if c):
        return True
    kept = [(words(c), cond, c) for c, cond in zip(texts, conditional, strict=True) if c.strip()]
    clauses = [c for c, _, _ in kept]
    for part in _CLAUSES.split(_plain(claim)):
        mine = words(part)
        wanted = _content(mine)
        if len(wanted) < 2 or not clauses:
            continue
        shared = [len(wanted & _content(c)) for c in clauses]
        most = max(shared)
        for (clause, cond, text), n in zip(kept, shared, strict=True):
            if n < 2 or _negative(clause) == _negative(mine) or _condition_apart(part, text):
                continue
            negative, positive = (mine, clause) if _negative(mine) else (clause, mine)
            denied, subject = _denied(negative)
            stated = [_stem(t) for t in positive if _is_content(t)]
            if denied & set(stated) and (subject & set(stated) or not subject) and not cond:
                return True  # what one side denies, the other states of the same thing
            if (n == most >= max(2, (len(wanted) + 1) // 2) and len(subject) >= 2 and subject <= set(stated)
                    and not _adjunct(negative)
                    and max(stated.index(w) for w in subject) < len(stated) - 1):
                return True  # the other says something else of what the negation is about
    return False



