"""Chat formats for models without a template of their own: Meta's Llama 2 format and a plain transcript."""

from __future__ import annotations

from collections.abc import Sequence

from rag.generation.base import Message, check_messages

__all__ = ["format_llama2", "format_plain"]


def format_llama2(messages: Sequence[Message], *, bos: str = "<s>", eos: str = "</s>") -> str:
    """Render messages in Meta's Llama 2 chat format, without the leading BOS.

    Mirrors ``chat_completion`` in meta-llama/llama: an optional first system
    message is folded into the first user turn inside ``<<SYS>>`` markers, each
    turn's content is stripped, and every completed ``[INST] ... [/INST] answer``
    pair ends with EOS followed by BOS for the next turn.

    >>> format_llama2([("system", "S"), ("user", "U")])
    '[INST] <<SYS>>\\nS\\n<</SYS>>\\n\\nU [/INST]'
    >>> format_llama2([("user", "a"), ("assistant", "b"), ("user", "c")])
    '[INST] a [/INST] b </s><s>[INST] c [/INST]'
    """
    dialog = check_messages(messages)
    if dialog[0][0] == "system":
        if len(dialog) < 2:
            raise ValueError("a Llama 2 prompt needs a user message after the system message")
        system, (role, content) = dialog[0][1], dialog[1]
        dialog = [(role, f"<<SYS>>\n{system}\n<</SYS>>\n\n{content}"), *dialog[2:]]
    expected = ["user" if i % 2 == 0 else "assistant" for i in range(len(dialog))]
    if [role for role, _ in dialog] != expected or dialog[-1][0] != "user":
        raise ValueError("Llama 2 chat needs an optional system message, then alternating "
                         "user/assistant messages ending with a user message")
    turns = [f"[INST] {user.strip()} [/INST] {answer.strip()} "
             for (_, user), (_, answer) in zip(dialog[:-1:2], dialog[1::2], strict=True)]
    turns.append(f"[INST] {dialog[-1][1].strip()} [/INST]")
    return f"{eos}{bos}".join(turns)


def format_plain(messages: Sequence[Message]) -> str:
    """A neutral transcript for models with neither a template nor a known format."""
    lines = [f"{role.capitalize()}: {text.strip()}" for role, text in check_messages(messages)]
    return "\n\n".join([*lines, "Assistant:"])
