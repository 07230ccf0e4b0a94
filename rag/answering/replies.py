"""What a small model's reply is worth, before its words are checked against the sources.

- ``guard_reply`` ends a streamed reply at its first line break (the extractive prompt asks
  for one sentence; what a small model writes after it is a new "source" or "question") and
  when it starts repeating itself; ``without_repeats`` drops sentences it already said.
- ``states``: a bare number or list enumerator, or a question, asserts nothing.
- ``restates``: a reply made only of the question's own words says nothing the question did not.
- ``cut_short``: a reply that copies the opening of a source sentence and stops before the part
  the question asks about.

Each of these replies passes a word-support check (its words are in the sources because the
question's are), so ``rag.answering.plan`` quotes the best source sentence instead.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rag.answering.excerpts import Sentence
from rag.text import NEGATIONS, content_words, is_cjk_token, numbers, sentence_spans, strip_markers, tokens

__all__ = ["cut_short", "guard_reply", "restates", "states", "without_repeats"]

MIN_COPY_WORDS = 3      # a copied opening shorter than this is not called a copy ...
MIN_COPYCJK_CHARS = 6  # ... nor one of fewer CJK characters
_QUESTION_MARKS = ("?", "？", "؟")  # Latin, full-width (CJK), Arabic and Persian
# Questions answered by picking among what they name: yes/no (an auxiliary first) and either/or.
_CHOOSES = re.compile(r"^\W*(?:is|are|was|were|am|do|does|did|can|could|has|have|had|will|would|shall|should|may|might|"
                      r"must|ist|sind|war|waren|hat|haben|kann|können|gibt|wird|est-ce|peut)\b|\b(?:or|oder|ou)\b|"
                      r"还是|或者|또는|아니면|أم|یا", re.IGNORECASE)
_NEGATIONS = NEGATIONS | frozenset("nicht kein keine keinen nie pas jamais aucun".split())  # + German, French


def guard_reply(pieces: Iterable[str], *, window: int = 24, one_line: bool = True) -> Iterator[str]:
    """Pass pieces through until the reply's first line break after some text (``one_line``), or
    until it loops (a sentence repeated, or its last ``window`` characters already seen twice)."""
    text = ""
    for piece in pieces:
        candidate = text + piece
        first = len(candidate) - len(candidate.lstrip())  # where the reply's text begins
        newline = candidate.find("\n", first) if one_line and first < len(candidate) else -1
        if newline >= 0:
            if newline > len(text):
                yield candidate[len(text):newline]
            return
        text = candidate
        yield piece
        tail = text[-window:]
        if len(text) > 3 * window and text.count(tail) >= 3:
            return
        sentences = [text[a:b] for a, b in sentence_spans(text)]
        if len(sentences) >= 3 and sentences[-2] in sentences[:-2]:
            return


def without_repeats(text: str) -> str:
    """The text with sentences it already said removed (what the loop guard let through)."""
    kept: list[str] = []
    for sentence in (text[a:b] for a, b in sentence_spans(text)):
        if sentence not in kept:
            kept.append(sentence)
    return " ".join(kept)


def states(reply: str) -> bool:
    """Does the reply state something in words? A bare number or list enumerator ("1.", "2:", "923.": a small
    model that starts a list is cut at its first line break) names nothing, and a question (the one asked,
    echoed, or one copied from a source) asserts nothing: its support proves nothing, so the best source
    sentence answers instead."""
    text = strip_markers(reply).strip()
    return not text.endswith(_QUESTION_MARKS) and any(any(ch.isalpha() for ch in token) for token in tokens(text))


def restates(reply: str, question: str) -> bool:
    """Does ``reply`` say nothing the question did not? Every content word and number of it is in the
    question ("The ball was stripped from Newton on a 3rd and nine." for "Who stripped the ball from Newton
    on a 3rd and nine?"): all of it is in the sources because the question is, so its support proves nothing.

    Not for questions whose answer picks among what they name (yes/no, either/or: "Is the exit code 0 or 2?",
    "It is 2."), nor for a reply that negates what the question does not ("It does not support German.")."""
    if _CHOOSES.search(question) or (_negates(reply) and not _negates(question)):
        return False
    said = content_words(reply) | numbers(reply)
    return not said - (content_words(question) | numbers(question))


def _negates(text: str) -> bool:
    lowered = text.lower()
    return "n't" in lowered or any(t in _NEGATIONS for t in tokens(lowered))


def cut_short(reply: str, question: str, sentences: Iterable[Sentence]) -> Sentence | None:
    """The source sentence whose opening words ``reply`` copies, when the copy stops before the
    question's own terms that the sentence goes on to hold; else None.

    A small model copies the start of the right sentence and stops too early: asked which exit
    code rag ingest returns *when some files fail*, it answers "The exit code of rag ingest is 0"
    from "The exit code of rag ingest is 0 when every readable file was ingested, 2 when some
    files failed ...". Every word of that reply is in the source, so it passes the support check,
    yet it answers another part of the sentence than the one asked about. The whole sentence,
    which holds the reply, answers instead."""
    words = tokens(reply)
    cjk = sum(1 for w in words if is_cjk_token(w))
    if len(words) - cjk < MIN_COPY_WORDS and cjk < MIN_COPYCJK_CHARS:
        return None
    wanted = content_words(question) - content_words(reply)
    if not wanted:
        return None
    for sentence in sentences:
        source_words = tokens(sentence.text)
        if (len(source_words) > len(words) and source_words[:len(words)] == words
                and wanted & content_words(sentence.text)):
            return sentence
    return None
