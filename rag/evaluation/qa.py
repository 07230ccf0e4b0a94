"""End-to-end answer evaluation on SQuAD-format data (``rag eval qa FILE``).

Every article becomes one text document (its paragraphs separated by blank
lines) and is indexed with the user's embedder and chunk settings. Each sampled
question is asked through the real ``RAG.ask`` path, and scored:

- ``retrieval_hit@k``: a retrieved chunk comes from the question's article and
  covers the gold answer's character span (the annotated occurrence, not any
  string match);
- ``contains_gold``: the normalised answer contains a normalised gold answer;
- ``f1``: SQuAD token F1 against the best gold answer (CJK text is compared
  character by character, as MLQA does);
- ``citation_accuracy``: of the answered questions that cite (or infer) a
  source, the share where a cited chunk contains a gold answer;
- ``abstention``: negatives are the same questions asked against an index that
  lacks their article. The articles are split into two folds by position (even,
  odd), each fold indexed on its own, and a question is asked against the other
  fold. The share of those answers that abstain;
- ``false_abstention``: the share of answerable questions that abstained;
- ``latency_ms``: wall time of ``ask`` on the answerable questions (p50, p95).

Questions are picked as ``random.Random(seed).sample(range(total), n)`` over the
flat question list (articles, then paragraphs, then questions, in file order).

Over 300 lines on purpose: the run, its negatives index and the report are one measurement; split when the docqa set joins.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexes import DEFAULT_EMBEDDER, ConfigError, Embedder, Hit
from rag.answering.abstention import CALIBRATED, calibration_for
from rag.config import data_root
from rag.evaluation.metrics import mean, percentile
from rag.evaluation.squad import (
    QADataset,
    QAQuestion,
    answer_tokens,
    contains_gold,
    load_squad,
    sample_indices,
    token_f1,
    write_articles,
)
from rag.generation import Generator, Message
from rag.records import Answer

__all__ = [
    "QADataset",
    "QAQuestion",
    "QAReport",
    "QAResult",
    "answer_tokens",
    "collect_evidence",
    "contains_gold",
    "evaluate_qa",
    "load_squad",
    "sample_indices",
    "score_answer",
    "token_f1",
    "workdir_for",
    "write_articles",
]

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- running


@dataclass(frozen=True)
class QAResult:
    """One answerable question's outcome, and its negative's when asked."""

    index: int
    id: str
    question: str
    answer: str
    grounding: str
    model_answer: str
    abstained: bool
    retrieval_hit: bool
    contains_gold: bool
    model_contains_gold: bool
    f1: float
    citation_correct: bool | None   # None: abstained or nothing cited
    latency_ms: float
    evidence: float | None
    negative_abstained: bool | None = None
    negative_evidence: float | None = None
    negative_answer: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass
class QAReport:
    """Aggregates over the evaluated questions (see the module docstring)."""

    results: list[QAResult] = field(default_factory=list)
    k: int = 5
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        r = self.results
        answered = [x for x in r if x.citation_correct is not None]
        negatives = [x for x in r if x.negative_abstained is not None]
        latencies = [x.latency_ms for x in r]

        def share(values: Sequence[bool]) -> float | None:
            return round(sum(values) / len(values), 4) if values else None

        return {
            f"retrieval_hit@{self.k}": share([x.retrieval_hit for x in r]),
            "contains_gold": share([x.contains_gold for x in r]),
            "f1": round(mean([x.f1 for x in r]), 4),
            "citation_accuracy": share([bool(x.citation_correct) for x in answered]),
            "abstention": share([bool(x.negative_abstained) for x in negatives]),
            "false_abstention": share([x.abstained for x in r]),
            "latency_ms": {"p50": round(percentile(latencies, 50), 1), "p95": round(percentile(latencies, 95), 1)},
            "questions": len(r),
            "negatives": len(negatives),
            "model_contains_gold": share([x.model_contains_gold for x in r]),
            "grounding": dict(collections.Counter(x.grounding for x in r)),
        }

    def to_json(self, *, details: bool = False) -> dict[str, Any]:
        data = {**self.summary(), "settings": self.settings}
        if details:
            data["results"] = [x.to_json() for x in self.results]
        return data


def _covers(hit: Hit, question: QAQuestion, article_file: str) -> bool:
    """The chunk is from the question's article and spans an annotated gold answer."""
    if Path(hit.chunk.source).name != article_file:
        return False
    return any(hit.chunk.start <= s and e <= hit.chunk.end for s, e in question.spans)


def score_answer(index: int, question: QAQuestion, article_file: str, answer: Answer, latency_ms: float,
                 negative: Answer | None = None) -> QAResult:
    """Score one answer (and its negative) against the gold answers."""
    text = "" if answer.abstained else answer.text
    chunk_text = {h.chunk.id: h.chunk.text for h in answer.hits}
    citation_correct = None
    if not answer.abstained and answer.cited:
        citation_correct = any(contains_gold(chunk_text.get(c.chunk_id, c.quote), question.answers)
                               for c in answer.cited)
    return QAResult(
        index=index, id=question.id, question=question.question, answer=answer.text, grounding=answer.grounding,
        model_answer=answer.model_text, abstained=answer.abstained,
        retrieval_hit=any(_covers(h, question, article_file) for h in answer.hits),
        contains_gold=contains_gold(text, question.answers),
        model_contains_gold=contains_gold(answer.model_text, question.answers),
        f1=token_f1(text, question.answers), citation_correct=citation_correct, latency_ms=latency_ms,
        evidence=answer.evidence,
        negative_abstained=None if negative is None else negative.abstained,
        negative_evidence=None if negative is None else negative.evidence,
        negative_answer=None if negative is None else negative.text)


class _Shared:
    """A generator lent to several ``RAG`` objects: only its owner closes it."""

    def __init__(self, generator: Generator) -> None:
        self._generator = generator
        self.context_length = generator.context_length

    @property
    def last_run(self) -> Any:
        """The lent generator's report on its latest reply, if it gives one."""
        return getattr(self._generator, "last_run", None)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return self._generator.count_tokens(messages)

    def stream(self, messages: Sequence[Message], *, max_tokens: int, temperature: float = 0.0,
               stop: Sequence[str] = ()) -> Iterator[str]:
        return self._generator.stream(messages, max_tokens=max_tokens, temperature=temperature, stop=stop)

    def close(self) -> None:
        pass


def workdir_for(path: Path, embedder_name: str, settings: dict[str, Any]) -> Path:
    """Where the articles and indexes for ``path`` are cached (under ``$RAG_HOME/eval``)."""
    stat = path.stat()
    key = json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns, embedder_name,
                      settings.get("chunk_size"), settings.get("chunk_overlap")])
    slug = re.sub(r"[^\w.-]+", "-", path.stem)
    return data_root() / "eval" / f"qa-{slug}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


class _Indexes:
    """The article files of a dataset and the RAG objects over them: ``all`` and the two folds."""

    def __init__(self, path: Path, dataset: QADataset, *, negatives: bool, workdir: str | Path | None,
                 settings: dict[str, Any], embedder: Embedder | None, generator: Generator | None) -> None:
        from rag.engine import RAG

        settings = dict(settings)
        spec = settings.pop("embedder", None)  # a model name or directory given as a setting
        # Loads the models only; its (never written) index directory keeps the user's default index out of it.
        self.owner = RAG.open(data_root() / "eval" / "models", create=True, embedder=embedder or spec,
                              generator=generator, **settings)
        self.embedder = self.owner.embedder
        self.root = Path(workdir).expanduser() if workdir else workdir_for(path, self.embedder.name, settings)
        files = write_articles(dataset, self.root / "articles")
        self.names = [p.name for p in files]
        shared = _Shared(self.owner.generator)
        self.rags: dict[str, RAG] = {}
        try:
            for name, members in (("all", files), ("fold0", files[0::2]), ("fold1", files[1::2])):
                if name != "all" and not negatives:
                    continue
                rag = RAG.open(self.root / name, create=True, embedder=self.embedder, generator=shared,
                               **{**settings, "workers": 0})
                self.rags[name] = rag
                ingested = rag.ingest(members)
                if ingested.exit_code:
                    raise ConfigError(f"indexing the articles of {path.name} into {self.root / name} failed: "
                                      f"{ingested.summary()}")
        except BaseException:
            self.close()
            raise

    def lacking(self, question: QAQuestion) -> Any:
        """The RAG over the fold that lacks the question's article."""
        return self.rags["fold1" if question.article % 2 == 0 else "fold0"]

    def close(self) -> None:
        for rag in self.rags.values():
            rag.close()
        self.owner.close()


def _thresholds(embedder_name: str, configured: float | None) -> dict[str, Any] | None:
    if configured is not None or embedder_name != DEFAULT_EMBEDDER:
        calibration = calibration_for(embedder_name, configured)
        return None if calibration is None else {"all": calibration.threshold}
    return {script: {"weight": c.weight, "threshold": c.threshold, "strong": c.strong}
            for script, c in CALIBRATED.items()}


def evaluate_qa(path: str | Path, *, sample: int | None = None, seed: int = 0, negatives: bool = True,
                workdir: str | Path | None = None, settings: dict[str, Any] | None = None,
                embedder: Embedder | None = None, generator: Generator | None = None,
                indices: Sequence[int] | None = None,
                progress: Callable[[int, int], None] | None = None) -> QAReport:
    """Index the articles of ``path`` (cached), ask the sampled questions, score them.

    ``settings`` are ``RAG.open`` settings (model, top_k, mode, abstain_threshold...);
    ``indices`` overrides the sample with explicit positions in the flat question list.
    """
    path = Path(path).expanduser()
    dataset = load_squad(path)
    settings = {k: v for k, v in (settings or {}).items() if v is not None and k != "index"}
    chosen = list(indices) if indices is not None else sample_indices(len(dataset.questions), sample, seed)
    indexes = _Indexes(path, dataset, negatives=negatives, workdir=workdir, settings=settings, embedder=embedder,
                       generator=generator)
    main = indexes.rags["all"]
    report = QAReport(k=main.config.top_k, settings={
        "file": str(path), "sample": sample, "seed": seed, "questions_total": len(dataset.questions),
        "model": main.config.model or "default", "embedder": indexes.embedder.name, "top_k": main.config.top_k,
        "mode": getattr(main.config, "mode", "dense"), "workdir": str(indexes.root),
        "abstain_threshold": _thresholds(indexes.embedder.name, main.config.abstain_threshold)})
    try:
        if chosen:  # warm up: first-call costs (BM25 load, llama.cpp buffers) stay out of the latencies
            main.ask(dataset.questions[chosen[0]].question)
        for done, i in enumerate(chosen, start=1):
            q = dataset.questions[i]
            started = time.perf_counter()
            answer = main.ask(q.question)
            latency = (time.perf_counter() - started) * 1000
            negative = indexes.lacking(q).ask(q.question) if negatives else None
            report.results.append(score_answer(i, q, indexes.names[q.article], answer, latency, negative))
            if progress is not None:
                progress(done, len(chosen))
    finally:
        indexes.close()
    return report


def collect_evidence(path: str | Path, indices: Sequence[int], *, workdir: str | Path | None = None,
                     settings: dict[str, Any] | None = None,
                     progress: Callable[[int, int], None] | None = None) -> list[dict[str, float]]:
    """Evidence components of each question against the full index (positive) and against the fold
    lacking its article (negative), without generating: the data ``abstain_threshold`` is calibrated on."""
    path = Path(path).expanduser()
    dataset = load_squad(path)
    settings = {k: v for k, v in (settings or {}).items() if v is not None and k != "index"}
    indexes = _Indexes(path, dataset, negatives=True, workdir=workdir, settings=settings, embedder=None,
                       generator=None)
    rows = []
    try:
        for done, i in enumerate(indices, start=1):
            q = dataset.questions[i]
            pos = indexes.rags["all"].prepare(q.question).evidence
            neg = indexes.lacking(q).prepare(q.question).evidence
            rows.append({"index": i, "similarity": pos.similarity, "overlap": pos.overlap,
                         "negative_similarity": neg.similarity, "negative_overlap": neg.overlap})
            if progress is not None:
                progress(done, len(indices))
    finally:
        indexes.close()
    return rows
