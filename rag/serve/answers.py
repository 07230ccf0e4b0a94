"""Answers for the HTTP face: messages to a question with history, and one generator shared in turn.

Retrieval and prompt packing (``RAG.prepare``) run in each request's own thread, alongside
whatever is being generated; generation (``RAG.generate``) holds one lock, so concurrent requests
queue for the model and their tokens never interleave. Each answer runs in a worker thread that
hands its pieces to the request's event loop; a client that goes away stops its generation.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Generator, Sequence
from dataclasses import dataclass

from rag.conversation import rewrite_follow_up
from rag.engine import ABSTAIN_TEXT, RAG
from rag.generation import Message
from rag.records import Answer
from rag.serve.errors import APIError
from rag.serve.schemas import ChatMessage
from rag.text import strip_markers

__all__ = ["AnswerQueue", "Turns", "turns_from"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Turns:
    """A chat request as the facade takes it: the question, what to search for, the earlier turns."""

    question: str
    query: str
    history: tuple[Message, ...]


def turns_from(messages: Sequence[ChatMessage], *, max_chars: int, max_messages: int) -> Turns:
    """The last user message is the question; earlier user/assistant pairs are the history (an
    abstention is left out, as ``rag chat`` does); each user question is rewritten as a follow-up
    of the one before. System messages are ignored: the server's own prompt governs answers."""
    if len(messages) > max_messages:
        raise APIError(400, "too_many_messages", f"{len(messages)} messages; at most {max_messages}",
                       param="messages")
    turns = [(m.role, m.text()) for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user":
        raise APIError(400, "no_question", "the last message must be the user's question", param="messages")
    question = turns[-1][1].strip()
    if len(question) > max_chars:
        raise APIError(400, "question_too_long", f"the question is {len(question)} characters; at most {max_chars}",
                       param="messages")
    query: str | None = None
    history: list[Message] = []
    for i, (role, text) in enumerate(turns[:-1]):
        if role == "user":
            query = rewrite_follow_up(text, query)
            reply = turns[i + 1] if i + 1 < len(turns) - 1 else None
            if reply is not None and reply[0] == "assistant" and reply[1].strip() != ABSTAIN_TEXT:
                history += [("user", text.strip()), ("assistant", strip_markers(reply[1]).strip())]
    return Turns(question, rewrite_follow_up(question, query), tuple(history))


_END = object()


class AnswerQueue:
    """One ``RAG`` answering many requests: retrieval in parallel, generation one at a time."""

    def __init__(self, rag: RAG, *, max_waiting: int = 32) -> None:
        self.rag = rag
        self.max_waiting = max_waiting
        self._generation = threading.Lock()
        self._count = threading.Lock()
        self.active = 0  # answers admitted and not yet finished

    def answer(self, turns: Turns, k: int | None = None) -> Generator[str | Answer, None, None]:
        """Pieces of the reply, then the ``Answer``; blocks while another answer is being generated."""
        plan = self.rag.prepare(turns.question, k, history=turns.history, query=turns.query)
        with self._generation:
            yield from self.rag.generate(plan)

    async def stream(self, turns: Turns, k: int | None = None) -> AsyncIterator[str | Answer]:
        """``answer`` run in a worker thread, its items delivered on the event loop."""
        with self._count:
            if self.active >= self.max_waiting:
                raise APIError(503, "busy", f"{self.active} answers are already queued; try again shortly")
            self.active += 1
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def deliver(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop is gone: the server is shutting down
                stop.set()

        def work() -> None:
            items = self.answer(turns, k)
            try:
                for item in items:
                    deliver(item)
                    if stop.is_set():
                        log.info("client went away; generation stopped")
                        break
            except BaseException as exc:  # handed to the request, which turns it into an error reply
                deliver(exc)
            finally:
                items.close()
                with self._count:
                    self.active -= 1
                deliver(_END)

        threading.Thread(target=work, name="rag-answer", daemon=True).start()
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, str | Answer)
                yield item
        finally:
            stop.set()
