"""Conversations: follow-up questions over one index (``rag chat``, ``RAG.chat()``).

    >>> chat = rag.chat()                                     # doctest: +SKIP
    >>> chat.ask("How many parameters does the small model have?").text
    >>> chat.ask("and what about the big model?").query   # what retrieval searched for
    'and what about the big model? many parameters small'

A follow-up such as "and what about the big model?" retrieves nothing useful on
its own. Rewriting it with the generator is what large systems do; a 135M model
rewrites unreliably (it drops the question or answers it instead), so the
rewrite here is deterministic and testable: when a question looks like a
follow-up (it opens with a connective such as "and", "what about", "also", or
leans on a pronoun such as "it", "they", "that", or has at most two content
words), retrieval searches the question followed by the key terms of the
previous standalone query that it does not already contain. The model is shown
the question as typed, with the earlier turns as chat history, packed newest
first into whatever room the sources leave (``rag.answering.prompting.pack_prompt``).
Abstentions stay out of that history (they would teach the model to abstain),
but their questions still carry their terms to the next follow-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from rag.generation import Message
from rag.records import Answer
from rag.text import STOP_WORDS, content_words, strip_markers, words

__all__ = ["Answerer", "Conversation", "Turn", "is_follow_up", "key_terms", "rewrite_follow_up"]

MAX_TURNS = 6          # turns remembered; the prompt budget decides how many the model sees
MAX_CARRIED_TERMS = 8  # terms carried from the previous query into a follow-up's search
_OPENERS = re.compile(
    r"^\s*(?:and|but|also|so|then|or|what about|how about|what else|and what|and how|and why|and who|and when|"
    r"same for|same question|why|how come|und|und was|was ist mit|wie ist es mit)\b", re.IGNORECASE)
_PRONOUNS = frozenset("it its it's itself they them their theirs this that these those he him his she her hers "
                      "former latter else".split())


@dataclass(frozen=True)
class Turn:
    question: str   # as asked
    query: str      # what retrieval searched for
    answer: Answer


def key_terms(text: str) -> list[str]:
    """The words of ``text`` that carry its topic, in order, once each (stop words dropped)."""
    out: list[str] = []
    for word in words(text):
        if word.lower() not in STOP_WORDS and word.lower() not in _PRONOUNS and len(word) > 1 and word not in out:
            out.append(word)
    return out


def is_follow_up(question: str) -> bool:
    """Does ``question`` lean on an earlier one? (a connective opening, a pronoun, or hardly any content)"""
    lowered = {w.lower() for w in words(question)}
    return bool(_OPENERS.match(question)) or bool(lowered & _PRONOUNS) or len(content_words(question)) <= 2


def rewrite_follow_up(question: str, previous_query: str | None) -> str:
    """The retrieval query for ``question``: itself, or, for a follow-up, itself plus the key terms
    of ``previous_query`` it does not already contain (at most ``MAX_CARRIED_TERMS``)."""
    question = " ".join(question.split())
    if not previous_query or not is_follow_up(question):
        return question
    have = content_words(question)
    carried = [t for t in key_terms(previous_query) if not content_words(t) <= have][:MAX_CARRIED_TERMS]
    return f"{question} {' '.join(carried)}".strip()


class Answerer(Protocol):
    """What a conversation needs of the facade (``rag.RAG`` satisfies it): a streamed answer
    given the question as typed, the retrieval query and the earlier turns."""

    def stream(self, question: str, k: int | None = None, *, mode: str | None = None, where: str | None = None,
               history: Sequence[Message] = (), query: str | None = None) -> Iterator[str | Answer]: ...


class Conversation:
    """Questions asked in turn over one ``RAG``; ``ask``/``stream`` as on ``RAG``, plus ``reset``."""

    def __init__(self, rag: Answerer, *, k: int | None = None, max_turns: int = MAX_TURNS, **retrieval: Any) -> None:
        self.rag = rag
        self.k = k
        self.max_turns = max_turns
        self.retrieval = retrieval   # mode=, where=
        self.turns: list[Turn] = []

    @property
    def last(self) -> Answer | None:
        """The latest answer (its citations are what ``/sources`` lists)."""
        return self.turns[-1].answer if self.turns else None

    def reset(self) -> None:
        """Forget the conversation: the next question stands alone."""
        self.turns.clear()

    def rewrite(self, question: str) -> str:
        """What retrieval will search for if ``question`` is asked next."""
        return rewrite_follow_up(question, self.turns[-1].query if self.turns else None)

    def history(self) -> list[Message]:
        """Earlier answered turns as chat messages, oldest first, citation markers removed."""
        messages: list[Message] = []
        for turn in self.turns:
            if not turn.answer.abstained:
                messages += [("user", turn.question), ("assistant", strip_markers(turn.answer.text).strip())]
        return messages

    def stream(self, question: str) -> Iterator[str | Answer]:
        """Yield the reply's pieces, then the ``Answer`` (whose ``query`` shows any rewrite)."""
        query = self.rewrite(question)
        for item in self.rag.stream(question, self.k, history=self.history(), query=query, **self.retrieval):
            if isinstance(item, Answer):
                self.turns.append(Turn(question, query, item))
                del self.turns[:-self.max_turns]
            yield item

    def ask(self, question: str) -> Answer:
        answer: Answer | None = None
        for item in self.stream(question):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer
