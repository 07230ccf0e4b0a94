"""The ``Generator`` protocol every model adapter satisfies, and a deterministic fake for tests.

A generator turns chat messages into a stream of text. The rest of the project
needs three things from it: how many tokens a prompt costs (to pack retrieved
chunks into the context window), the context size, and a text stream.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from indexes.errors import ModelError

__all__ = ["ROLES", "EchoGenerator", "Generator", "Message", "RenderedPrompt", "check_messages", "fit_max_tokens"]

logger = logging.getLogger(__name__)

Message = tuple[str, str]
"""``(role, content)`` with role ``"system"``, ``"user"`` or ``"assistant"``."""

ROLES = ("system", "user", "assistant")


class Generator(Protocol):
    """Anything that streams a reply to chat messages within a token budget."""

    context_length: int

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of the fully rendered prompt, including BOS and generation prompt."""

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float = 0.0,
               stop: Sequence[str] = ()) -> Iterator[str]:
        """Yield the reply in pieces; temperature 0 is greedy and deterministic."""

    def close(self) -> None:
        """Release the model; the generator is unusable afterwards."""


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt as the model will see it."""

    text: str  # without the BOS token
    add_bos: bool  # prepend the BOS token id when tokenizing
    stop: tuple[str, ...]  # stop strings implied by the chat format
    chat_format: str  # "template" | "llama-2" | "plain"


def check_messages(messages: Sequence[Message]) -> list[Message]:
    checked = [(str(role), str(content)) for role, content in messages]
    if not checked:
        raise ValueError("no messages to render")
    unknown = sorted({role for role, _ in checked} - set(ROLES))
    if unknown:
        raise ValueError(f"unknown message role(s) {unknown}; expected one of {list(ROLES)}")
    return checked


def fit_max_tokens(prompt_tokens: int, max_tokens: int, context_length: int) -> int:
    """Shrink ``max_tokens`` so prompt + reply fit the context; refuse a prompt that cannot."""
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens}")
    room = context_length - prompt_tokens
    if room < 1:
        raise ModelError(f"The prompt needs {prompt_tokens} tokens but the model's context holds "
                         f"{context_length}; retrieve fewer chunks, shorten the question or raise n_ctx.")
    if max_tokens > room:
        logger.info("reply limited to %d tokens (asked %d) to fit the context", room, max_tokens)
    return min(max_tokens, room)


class EchoGenerator:
    """A deterministic :class:`Generator` for tests: no model, instant replies.

    ``reply`` is a fixed string or a function of the messages; by default the
    last user message is echoed. The reply streams word by word (each piece
    is one "token"), honours ``max_tokens`` and ``stop``, and refuses prompts
    that overflow ``context_length`` just as the real adapter does. Every call
    is recorded in ``calls``.
    """

    def __init__(self, reply: str | Callable[[Sequence[Message]], str] | None = None, *,
                 context_length: int = 4096) -> None:
        self.reply = reply
        self.context_length = context_length
        self.calls: list[list[Message]] = []
        self.closed = False

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """About one token per four characters (at least one per word), plus turn overhead."""
        total = 2  # BOS and the generation prompt
        for _, content in messages:
            total += 4 + max(len(content.split()), math.ceil(len(content) / 4))
        return total

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float = 0.0,
               stop: Sequence[str] = ()) -> Iterator[str]:
        """Yield the reply word by word (whitespace kept with the following word)."""
        if self.closed:
            raise ModelError("The generator has been closed.")
        messages = check_messages(messages)
        budget = fit_max_tokens(self.count_tokens(messages), max_tokens, self.context_length)
        self.calls.append(messages)
        if callable(self.reply):
            text = self.reply(messages)
        elif self.reply is not None:
            text = self.reply
        else:
            text = next((c for r, c in reversed(messages) if r == "user"), "")
        cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=len(text))
        text = text[:cut]
        pieces = re.findall(r"\s*\S+", text)
        tail = text[len("".join(pieces)) :]
        if tail:
            pieces.append(tail)
        return iter(pieces[:budget])

    def close(self) -> None:
        """Mark the fake closed; later ``stream`` calls raise :class:`ModelError`."""
        self.closed = True
