"""The prefix cache with the real default model: the system prompt's state is reused between
questions, yet the same question gets the same answer whether it is asked first or after others,
with the cache or without it; the generator loads once per ``RAG``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import RAG

from .conftest import ingested

pytestmark = [pytest.mark.model, pytest.mark.slow]

QUESTION = "How tall is the Kestrel Point tower?"
OTHERS = ["Which exit code does rag ingest return when some files fail?",
          "What is the speed limit inside the Kestrel Point harbour?",
          "How many tokens of overlap are there between neighbouring chunks?"]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path, real_embedder: Any,
          real_generator: Any) -> Iterator[Path]:
    with ingested(tmp_path_factory.mktemp("prefix") / "idx", sample_dir, real_embedder, real_generator) as rag:
        yield rag.directory


def test_same_answer_first_or_after_other_questions_with_or_without_cache(index: Path, real_embedder: Any) -> None:
    # Each RAG loads its own default model (the config's prefix_cache goes to LlamaCppGenerator).
    with RAG.open(index, embedder=real_embedder) as cached, \
            RAG.open(index, embedder=real_embedder, prefix_cache=False) as whole:
        first = cached.ask(QUESTION)
        assert first.generation is not None and first.generation.reused_tokens == 0  # nothing cached yet
        for question in OTHERS:
            cached.ask(question)
            whole.ask(question)
        again = cached.ask(QUESTION)
        uncached = whole.ask(QUESTION)
    assert again.generation is not None and uncached.generation is not None
    # The warm question evaluated only what follows the system prompt; the uncached one all of it.
    assert 0 < again.generation.reused_tokens < again.generation.prompt_tokens
    assert again.generation.evaluated_tokens < first.generation.evaluated_tokens
    assert uncached.generation.reused_tokens == 0
    assert again.generation.prompt_tokens == first.generation.prompt_tokens == uncached.generation.prompt_tokens
    assert first.model_text and again.model_text == first.model_text == uncached.model_text
    assert again.text == first.text == uncached.text and "31" in again.text


def test_generator_loads_once_per_rag(index: Path, real_embedder: Any) -> None:
    with RAG.open(index, embedder=real_embedder) as rag:
        first = rag.ask(QUESTION)
        generator = rag.generator
        second = rag.ask(OTHERS[0])
        assert rag.generator is generator
    assert first.timings["load_ms"] > 50  # the default GGUF was loaded for the first question ...
    assert second.timings["load_ms"] < 5  # ... and only then
    assert second.generation is not None and second.generation.reused_tokens > 0
