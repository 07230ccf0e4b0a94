"""The llama.cpp adapter: a :class:`Generator` running any GGUF file with llama-cpp-python.

A generator turns chat messages into a stream of text. The rest of the project
needs three things from it: how many tokens a prompt costs (to pack retrieved
chunks into the context window), the context size, and a text stream.

Chat formatting is where local models go quietly wrong, so the adapter renders
prompts itself and tokenizes them itself, in this order of preference:

1. ``tokenizer.chat_template`` from the GGUF metadata, rendered with
   llama-cpp-python's Jinja2 formatter (as Hugging Face would render it);
2. for a Llama-family file without a template (most Llama 2 chat GGUFs),
   Meta's exact Llama 2 format, as built by ``chat_completion`` in
   meta-llama/llama ``generation.py``, with BOS added as a *token*;
3. otherwise a plain ``System:/User:/Assistant:`` transcript, with a warning.

The context keeps the system prompt's evaluated state between questions (the
prefix cache), so a warm question evaluates only what follows it. Every prompt
is evaluated in the same pieces whether the prefix comes from the cache or not,
so temperature 0 gives the same answer either way (``_evaluate_prompt``), and
``last_run`` reports each reply's prompt and generation costs.

``llama_cpp`` is imported only inside :class:`LlamaCppGenerator`, so importing
this module costs nothing. A llama.cpp context is not thread-safe: use one
generator per thread.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from indexes.errors import ModelError
from rag.generation.base import Message, RenderedPrompt, check_messages, fit_max_tokens
from rag.generation.formats import format_llama2, format_plain
from rag.generation.models import check_gguf_file
from rag.records import GenerationStats

if TYPE_CHECKING:
    from llama_cpp import Llama

__all__ = ["LlamaCppGenerator"]

logger = logging.getLogger(__name__)

# End-of-turn markers worth stopping on when they leak out as plain text.
_TURN_END_MARKERS = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "</s>")


def _token_text(llm: Any, token: int) -> str:
    """The text of one token, special tokens included ("" for an invalid id)."""
    if token < 0:
        return ""
    return bytes(llm.detokenize([token], special=True)).decode("utf-8", errors="replace")


def _can_truncate(llm: Any) -> bool:
    """Whether llama.cpp can drop the end of this model's context and keep its start (not so for
    recurrent or hybrid models; assumed not when this llama-cpp-python cannot tell)."""
    import llama_cpp

    checks = [getattr(llama_cpp, name, None) for name in ("llama_model_is_recurrent", "llama_model_is_hybrid")]
    return all(check is not None and not check(llm.model) for check in checks)


def _dedupe(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item for item in items if item))


def passive_openmp() -> None:
    """``OMP_WAIT_POLICY=PASSIVE`` unless set: llama.cpp's OpenMP threads sleep at barriers rather than spin
    on a core another process needs (``benchmarks/prompt_threads.py``). OpenMP reads it once, at start:
    call before llama.cpp loads. Process-wide: torch's own OpenMP then waits passively too."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class LlamaCppGenerator:
    """A :class:`Generator` running a GGUF file with llama-cpp-python."""

    def __init__(self, model_path: str | Path, *, n_ctx: int = 4096, n_threads: int | None = None,
                 n_gpu_layers: int = 0, seed: int = 0, repeat_penalty: float = 1.1, prefix_cache: bool = True) -> None:
        """Load ``model_path``; ``n_threads=None`` lets llama.cpp choose (half the cores).

        ``prefix_cache`` keeps the system prompt's evaluated state between questions (see
        ``_evaluate_prompt``); off, every prompt is evaluated whole, in the same pieces, with the
        same result."""
        self.model_path = Path(model_path).expanduser()
        check_gguf_file(self.model_path)
        passive_openmp()
        try:
            from llama_cpp import Llama
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise ModelError("llama-cpp-python is missing: pip install llama-cpp-python") from exc
        try:
            # n_threads also sets the prompt-evaluation threads (llama.cpp would use every core there):
            # threads that wait on each other stall badly when the cores are shared with other work.
            llm = Llama(model_path=str(self.model_path), n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads,
                        n_gpu_layers=n_gpu_layers, seed=seed, verbose=False, logits_all=False)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp could not load {self.model_path}: {exc}") from exc
        self._llm: Llama | None = llm
        self._seed = seed
        self._repeat_penalty = repeat_penalty
        # Recurrent and hybrid models cannot drop the tail of their state, so they evaluate every prompt whole.
        self._prefix_cache = prefix_cache and _can_truncate(llm)
        self._cached: list[int] = []  # the tokens whose state the context holds at positions 0..n-1
        self.last_run: GenerationStats | None = None  # the latest reply's prompt and generation costs
        self.context_length: int = llm.n_ctx()
        self.bos_id: int = llm.token_bos()
        eos_id = llm.token_eos()
        # llama.cpp returns the *text* of special tokens only through the model object.
        # Public API only (llama-cpp-python's ``Llama``): a special token's text is its detokenization with
        # special=True; whether the vocabulary adds BOS shows in what tokenize(add_bos=True) returns.
        self._bos = _token_text(llm, self.bos_id)
        self._eos = _token_text(llm, eos_id)
        probe = llm.tokenize(b"a", add_bos=True, special=False)
        self._model_adds_bos = self.bos_id >= 0 and bool(probe) and probe[0] == self.bos_id
        self._template: str | None = llm.metadata.get("tokenizer.chat_template") or None
        self._formatter: Any = None
        architecture = llm.metadata.get("general.architecture", "")
        if self._template:
            self.chat_format = "template"
            self._formatter = Jinja2ChatFormatter(template=self._template, eos_token=self._eos, bos_token=self._bos,
                                                  add_generation_prompt=True)
        elif architecture == "llama":
            self.chat_format = "llama-2"
        else:
            self.chat_format = "plain"
            logger.warning("%s has no chat template and is not a Llama model (%s); using a plain "
                           "System/User/Assistant prompt, answers may be poor",
                           self.model_path.name, architecture or "unknown architecture")
        logger.debug("loaded %s: n_ctx=%d, %s format", self.model_path, self.context_length, self.chat_format)

    @property
    def llm(self) -> Llama:
        """The underlying ``llama_cpp.Llama``; raises once closed."""
        if self._llm is None:
            raise ModelError(f"The generator for {self.model_path} has been closed.")
        return self._llm

    def render(self, messages: Sequence[Message]) -> RenderedPrompt:
        """Render messages in this model's chat format (see the module docstring)."""
        messages = [(role, self._defuse(text)) for role, text in check_messages(messages)]
        if self.chat_format == "llama-2":
            text = format_llama2(messages, bos=self._bos or "<s>", eos=self._eos or "</s>")
            return RenderedPrompt(text, self.bos_id >= 0, _dedupe([self._eos, "[INST]"]), "llama-2")
        if self.chat_format == "plain":
            stops = _dedupe([self._eos, "\nUser:", "\nSystem:"])
            return RenderedPrompt(format_plain(messages), self._model_adds_bos, stops, "plain")
        text = self._render_template(messages)
        bos = self._bos
        assert self._template is not None
        if bos and text.startswith(bos) and "bos_token" in self._template:
            # The template writes BOS itself (Llama 3, Gemma, Mistral...): keep it a token.
            text, add_bos = text[len(bos) :], True
        else:
            # Some vocabularies reuse a turn marker as BOS (SmolLM2: <|im_start|>); never double it.
            add_bos = self._model_adds_bos and not (bos and text.startswith(bos))
        stops = _dedupe([self._eos, *(m for m in _TURN_END_MARKERS if m in self._template)])
        return RenderedPrompt(text, add_bos, stops, "template")

    def _defuse(self, text: str) -> str:
        """Stop control-token text inside a message (say a document quoting
        ``<|im_start|>system``) from being tokenized as a real control token."""
        llm, data = self.llm, text.encode("utf-8")
        ids = llm.tokenize(data, add_bos=False, special=True)
        if ids == llm.tokenize(data, add_bos=False, special=False):
            return text
        for token in set(ids):
            marker = _token_text(llm, token)
            if marker and not llm.detokenize([token], special=False):  # a control token: text only when special
                text = text.replace(marker, f"{marker[:1]}\u200b{marker[1:]}")
        logger.debug("defused control-token text in a message")
        return text

    def _render_template(self, messages: list[Message]) -> str:
        attempts = [messages]
        if len(messages) > 1 and [r for r, _ in messages[:2]] == ["system", "user"]:
            # Some templates (Gemma's) reject a system role: fold it into the first user turn.
            attempts.append([("user", f"{messages[0][1]}\n\n{messages[1][1]}"), *messages[2:]])
        errors: list[Exception] = []
        for attempt in attempts:
            try:
                result = self._formatter(messages=[{"role": r, "content": c} for r, c in attempt])
                return str(result.prompt)
            except Exception as exc:  # jinja2 errors and the template's raise_exception() alike
                logger.debug("chat template failed on %d messages: %s", len(attempt), exc)
                errors.append(exc)
        raise ModelError(f"The chat template of {self.model_path.name} failed: {errors[0]}") from errors[0]

    def encode(self, rendered: RenderedPrompt) -> list[int]:
        """Token ids of a rendered prompt, exactly as sent to the model."""
        # tokenize(add_bos=True) only adds BOS when the vocabulary asks for it, so add it by hand.
        ids = self.llm.tokenize(rendered.text.encode("utf-8"), add_bos=False, special=True)
        return [self.bos_id, *ids] if rendered.add_bos else list(ids)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens of the rendered prompt, including BOS and the generation prompt."""
        return len(self.encode(self.render(messages)))

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float = 0.0,
               stop: Sequence[str] = ()) -> Iterator[str]:
        """Stream the reply. Checks the budget now; llama.cpp runs as the iterator is consumed.

        When the iterator finishes (or is closed), ``last_run`` says where the time went."""
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        messages = check_messages(messages)
        rendered = self.render(messages)
        ids = self.encode(rendered)
        budget = fit_max_tokens(len(ids), max_tokens, self.context_length)
        stops = list(_dedupe([*rendered.stop, *stop]))
        return self._generate(ids, self._fixed_prefix(messages, rendered, ids), budget, temperature, stops)

    def _fixed_prefix(self, messages: Sequence[Message], rendered: RenderedPrompt, ids: list[int]) -> int:
        """How many leading tokens of ``ids`` are the system prompt's (BOS, the system turn): the
        split at which every prompt with this system message is evaluated, cached or not."""
        if not messages or messages[0][0] != "system":
            return 0
        system = self._defuse(messages[0][1])
        end = rendered.text.find(system)
        if end < 0:
            return 0
        head = self.encode(RenderedPrompt(rendered.text[: end + len(system)], rendered.add_bos, (), ""))
        split = 0
        for mine, theirs in zip(head, ids, strict=False):  # a token may merge across the boundary
            if mine != theirs:
                break
            split += 1
        return min(split, len(ids) - 1)

    def _evaluate_prompt(self, ids: list[int], split: int) -> int:
        """Leave the context holding ``ids`` but its last token; return the tokens reused.

        Reusing a cached prefix changes the batch shapes, and with them the float rounding, unless
        every prompt is evaluated in the same pieces: the fixed prefix ``ids[:split]`` from an empty
        context, then ``ids[split:-1]``, then (inside ``create_completion``) the last token. Whether
        the prefix comes from the cache or is evaluated now, the numbers are then the same, so
        temperature 0 gives the same answer to the same question first or tenth in a process.
        """
        llm = self.llm
        prefix = ids[:split]
        if self._prefix_cache and split and self._cached == prefix:
            llm.n_tokens = split  # eval() drops the cached tokens after the prefix first
            reused = split
        else:
            llm.reset()
            self._cached = []
            if split:
                llm.eval(prefix)
                self._cached = prefix if self._prefix_cache else []
            reused = 0
        llm.eval(ids[split:-1])
        return reused

    def _generate(self, ids: list[int], split: int, max_tokens: int, temperature: float,
                  stop: list[str]) -> Iterator[str]:
        started = time.perf_counter()
        first = last = evaluated = 0.0
        reused = 0
        try:
            reused = self._evaluate_prompt(ids, split)
            evaluated = time.perf_counter()
            chunks = self.llm.create_completion(prompt=ids, max_tokens=max_tokens, temperature=temperature, stop=stop,
                                                stream=True, repeat_penalty=self._repeat_penalty, seed=self._seed)
            for chunk in chunks:
                piece = chunk["choices"][0]["text"]  # type: ignore[index]
                if piece:
                    last = time.perf_counter()
                    first = first or last
                    yield piece
        except (ValueError, RuntimeError) as exc:
            self._cached = []  # nothing in the context is trusted after a failure
            raise ModelError(f"llama.cpp failed generating with {self.model_path.name}: {exc}") from exc
        finally:
            if evaluated and self._llm is not None:
                # Every sampled token but the last was fed back to the model.
                tokens = self._llm.n_tokens - len(ids) + 1 if first else 0
                self.last_run = GenerationStats(
                    prompt_tokens=len(ids), reused_tokens=reused, prompt_ms=(evaluated - started) * 1000,
                    first_token_ms=(first - started) * 1000 if first else 0.0, tokens=tokens,
                    generate_ms=(last - first) * 1000 if first else 0.0)

    def close(self) -> None:
        """Free the model and its context (idempotent)."""
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

