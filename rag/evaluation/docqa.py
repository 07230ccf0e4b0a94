"""Page-cited answering and abstention on a folder of real documents (``rag eval docqa QUESTIONS DOCS``).

The questions file is JSON lines in the ``pdf_dev`` shape: ``id``, ``question``,
``answers`` (gold strings, ``[]`` when unanswerable), ``file`` and ``page`` (1-based
physical page), ``lang`` and ``kind`` (``answerable`` | ``unanswerable``). The folder
is ingested once into a cache under ``$RAG_HOME/eval`` (never the user's index) and
every question is asked through ``RAG.ask``. Measures, over the answerable items:

- ``page_hit@k``: a retrieved chunk is on the gold file and page;
- ``page_cited``: a *cited* source (cited or inferred, not merely retrieved) is on the gold page;
- ``answer_correct``: some gold string occurs in the answer, not glued to a Latin, Greek or
  Cyrillic letter or digit (NFKC, case-folded, whitespace collapsed: the set's own rule);
- ``false_abstention``: the share that abstained;

and ``abstention`` over the unanswerable items, latency p50/p95, and the same measures per
question language. With ``retrieval_only`` no model runs: each question is only searched
(``RAG.search``, top-k), and only ``page_hit@k`` and the latency are measured (the way to compare
embedders without the generator's cost and noise).
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexes.manifest import FORMAT_VERSION
from rag.config import data_root
from rag.evaluation.metrics import percentile
from rag.records import Answer

__all__ = [
    "DocQuestion",
    "DocReport",
    "DocResult",
    "answer_correct",
    "evaluate_docqa",
    "load_questions",
    "page_correct",
]


@dataclass(frozen=True)
class DocQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    file: str | None
    page: int | None
    lang: str = "en"

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_questions(path: str | Path) -> list[DocQuestion]:
    """Read a pdf_dev-style JSON-lines file."""
    out = []
    for line in Path(path).expanduser().read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        out.append(DocQuestion(id=str(d["id"]), question=d["question"], answers=tuple(d.get("answers") or ()),
                               file=d.get("file"), page=d.get("page"), lang=d.get("lang") or "en"))
    return out


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text or "").casefold()).strip()


def _glue(ch: str) -> bool:
    if ch.isdigit():
        return True
    return ch.isalpha() and unicodedata.name(ch, "").split(" ")[0] in {"LATIN", "GREEK", "CYRILLIC"}


def _contains(haystack: str, needle: str) -> bool:
    h, n = _norm(haystack), _norm(needle)
    if not n:
        return False
    start = h.find(n)
    while start != -1:
        end = start + len(n)
        if (start == 0 or not (_glue(h[start - 1]) and _glue(n[0]))) and \
                (end == len(h) or not (_glue(h[end]) and _glue(n[-1]))):
            return True
        start = h.find(n, start + 1)
    return False


def answer_correct(answer: str, gold: Iterable[str]) -> bool:
    """Some gold string occurs in ``answer`` and is not glued into a longer word or number."""
    return any(_contains(answer, g) for g in gold)


def page_correct(pages: Iterable[tuple[str, int | None]], gold_file: str | None, gold_page: int | None) -> bool:
    """Some ``(file, page)`` names the gold file (by base name) and the gold page."""
    return any(Path(f).name == gold_file and p == gold_page for f, p in pages)


@dataclass(frozen=True)
class DocResult:
    id: str
    lang: str
    answerable: bool
    abstained: bool
    answer: str
    page_hit: bool
    page_cited: bool
    correct: bool
    latency_ms: float
    cited: tuple[tuple[str, int | None], ...] = ()
    retrieved: tuple[tuple[str, int | None], ...] = ()
    evidence: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def score(question: DocQuestion, answer: Answer, latency_ms: float) -> DocResult:
    """Score one answer against its question's gold strings and page."""
    cited = tuple((Path(c.file).name, c.page) for c in answer.cited) if not answer.abstained else ()
    retrieved = tuple((Path(h.chunk.source).name, h.chunk.page) for h in answer.hits)
    return DocResult(
        id=question.id, lang=question.lang, answerable=question.answerable, abstained=answer.abstained,
        answer=answer.text, page_hit=page_correct(retrieved, question.file, question.page),
        page_cited=page_correct(cited, question.file, question.page),
        correct=not answer.abstained and answer_correct(answer.text, question.answers),
        latency_ms=latency_ms, cited=cited, retrieved=retrieved, evidence=answer.evidence)


def _share(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _measures(results: Sequence[DocResult], k: int, retrieval_only: bool = False) -> dict[str, Any]:
    pos = [r for r in results if r.answerable]
    neg = [r for r in results if not r.answerable]
    if retrieval_only:  # nothing was answered: only where retrieval landed means anything
        return {f"page_hit@{k}": _share([r.page_hit for r in pos]), "page_cited": None, "answer_correct": None,
                "abstention": None, "false_abstention": None, "answerable": len(pos), "unanswerable": len(neg)}
    return {f"page_hit@{k}": _share([r.page_hit for r in pos]), "page_cited": _share([r.page_cited for r in pos]),
            "answer_correct": _share([r.correct for r in pos]), "abstention": _share([r.abstained for r in neg]),
            "false_abstention": _share([r.abstained for r in pos]), "answerable": len(pos), "unanswerable": len(neg)}


@dataclass
class DocReport:
    results: list[DocResult] = field(default_factory=list)
    k: int = 5
    settings: dict[str, Any] = field(default_factory=dict)
    retrieval_only: bool = False

    def summary(self) -> dict[str, Any]:
        latencies = [r.latency_ms for r in self.results]
        by_lang: dict[str, list[DocResult]] = {}
        for r in self.results:
            by_lang.setdefault(r.lang, []).append(r)
        return {**_measures(self.results, self.k, self.retrieval_only),
                "latency_ms": {"p50": round(percentile(latencies, 50), 1),
                               "p95": round(percentile(latencies, 95), 1)},
                "by_lang": {lang: _measures(rs, self.k, self.retrieval_only) for lang, rs in sorted(by_lang.items())}}

    def to_json(self, *, details: bool = False) -> dict[str, Any]:
        data = {**self.summary(), "settings": self.settings}
        if details:
            data["results"] = [r.to_json() for r in self.results]
        return data


def workdir_for(docs: Path, embedder: str, settings: dict[str, Any]) -> Path:
    """The cached index of ``docs``: keyed by its files (names, sizes, mtimes), the embedder, the chunk
    settings and the index format (a text clean-up that changes what is stored bumps it)."""
    files = sorted((str(p.relative_to(docs)), p.stat().st_size, p.stat().st_mtime_ns)
                   for p in docs.rglob("*") if p.is_file())
    key = json.dumps([str(docs.resolve()), files, embedder, settings.get("chunk_size"),
                      settings.get("chunk_overlap"), FORMAT_VERSION])
    slug = re.sub(r"[^\w.-]+", "-", docs.name)
    return data_root() / "eval" / f"docqa-{slug}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


def evaluate_docqa(questions: str | Path, docs: str | Path, *, settings: dict[str, Any] | None = None,
                   workdir: str | Path | None = None, ids: Sequence[str] | None = None,
                   embedder: Any = None, generator: Any = None, retrieval_only: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> DocReport:
    """Ingest ``docs`` (cached), ask every question of ``questions`` (or those in ``ids``), score them.

    ``embedder`` / ``generator`` are model objects to use instead of those the settings name.
    ``retrieval_only``: search each question instead of asking it (no model loads; page_hit@k only)."""
    from indexes import DEFAULT_EMBEDDER
    from rag.engine import RAG

    docs = Path(docs).expanduser()
    items = load_questions(questions)
    if ids is not None:
        items = [q for q in items if q.id in set(ids)]
    settings = {k: v for k, v in (settings or {}).items() if v is not None and k != "index"}
    root = Path(workdir).expanduser() if workdir else workdir_for(
        docs, str(getattr(embedder, "name", None) or settings.get("embedder") or DEFAULT_EMBEDDER), settings)
    if embedder is not None:
        settings["embedder"] = embedder
    rag = RAG.open(root, create=True, generator=generator, **settings)
    try:
        rag.ingest([docs])
        report = DocReport(k=rag.config.top_k, settings={
            "questions": str(questions), "docs": str(docs), "workdir": str(root),
            "model": rag.config.model or "default", "embedder": rag.embedder.name, "top_k": rag.config.top_k,
            "mode": getattr(rag.config, "mode", "dense"), "retrieval_only": retrieval_only},
            retrieval_only=retrieval_only)
        if items:  # warm up: first-call costs stay out of the latencies
            rag.search(items[0].question) if retrieval_only else rag.ask(items[0].question)
        for done, q in enumerate(items, start=1):
            started = time.perf_counter()
            if retrieval_only:
                hits = rag.search(q.question)
                retrieved = tuple((Path(h.chunk.source).name, h.chunk.page) for h in hits)
                report.results.append(DocResult(
                    id=q.id, lang=q.lang, answerable=q.answerable, abstained=False, answer="",
                    page_hit=page_correct(retrieved, q.file, q.page), page_cited=False, correct=False,
                    latency_ms=(time.perf_counter() - started) * 1000, retrieved=retrieved))
            else:
                answer = rag.ask(q.question)
                report.results.append(score(q, answer, (time.perf_counter() - started) * 1000))
            if progress is not None:
                progress(done, len(items))
    finally:
        rag.close()
    return report
