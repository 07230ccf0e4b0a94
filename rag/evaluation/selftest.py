"""A self-test on the user's own collection (``rag eval self``): no labelled data needed.

Sentences are sampled from the index itself, stratified by file (``rag.evaluation.self_queries``),
and two queries are made of each: its rarest words, and a question about its key phrase. Each
query goes through the retriever ``rag search`` uses, in each retrieval mode, and counts a hit
when a retrieved chunk is the sentence's own place: the same file and page (PDF), the same file
and locator (slides, sheets, chapters, messages), or for a file without either (text, Markdown,
HTML) a chunk overlapping the sentence, which is stricter than a page. A chunk elsewhere that
holds the very same sentence (a running header, a repeated clause) also counts.

What it measures: whether a passage a user half-remembers can be found again, per file type and
language, and which files it fails on. What it does not: answers to questions phrased in other
words than the document's (a query of a sentence's own rare words is easy for BM25, which is why
dense, BM25 and hybrid are reported apart), nor anything about the generator.

The index is opened read-only: nothing is written into it, and an index of an older format
(which opening would migrate) is refused with the command that migrates it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexes import DEFAULT_EMBEDDER, FORMAT_VERSION, Chunk, ConfigError, IndexFormatError
from indexes.manifest import read_manifest
from rag.config import MODES
from rag.evaluation.metrics import mean, percentile
from rag.evaluation.self_queries import QUERY_KINDS, FileSample, Probe, sample_probes

__all__ = ["SelfReport", "SelfResult", "evaluate_self", "is_hit"]

FAILING_FILES = 10       # files listed with the lowest hit rate
FEW_SENTENCES = 3        # below this a file's rate is mostly noise


def _folded(text: str) -> str:
    return " ".join(text.split())


def is_hit(probe: Probe, chunk: Chunk) -> bool:
    """Is ``chunk`` the sentence's own place (see the module docstring)?"""
    if chunk.source == probe.source:
        if probe.page is not None or probe.locator is not None:
            if chunk.page == probe.page and chunk.locator == probe.locator:
                return True
        elif chunk.start < probe.end and chunk.end > probe.start:
            return True
    return probe.text in _folded(chunk.text)


@dataclass(frozen=True)
class SelfResult:
    """One query in one mode: the rank of the first hit within the top k (None: missed)."""

    probe: int
    kind: str
    mode: str
    query: str
    rank: int | None
    latency_ms: float
    top: tuple[tuple[str, int | None], ...]   # retrieved (file, page), best first


def _scores(results: Sequence[SelfResult], k: int) -> dict[str, Any]:
    return {"hit@1": round(mean([r.rank == 1 for r in results]), 4),
            f"hit@{k}": round(mean([r.rank is not None for r in results]), 4),
            f"mrr@{k}": round(mean([1 / r.rank if r.rank else 0.0 for r in results]), 4),
            "queries": len(results)}


@dataclass
class SelfReport:
    probes: list[Probe]
    files: dict[str, FileSample]
    results: list[SelfResult] = field(default_factory=list)
    k: int = 5
    modes: tuple[str, ...] = MODES
    mode: str = "hybrid"            # the mode ``rag search`` uses: per-file figures and hints follow it
    settings: dict[str, Any] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    failed_files: int = 0           # files the index holds as failed (never ingested: nothing to sample)

    def _rate(self, results: Sequence[SelfResult]) -> float | None:
        return round(mean([r.rank is not None for r in results]), 4) if results else None

    def _by(self, key: Callable[[Probe], str]) -> dict[str, dict[str, Any]]:
        groups: dict[str, list[SelfResult]] = {}
        for r in self.results:
            groups.setdefault(key(self.probes[r.probe]), []).append(r)
        return {name: {"sentences": len({r.probe for r in rs}),
                       **{m: self._rate([r for r in rs if r.mode == m]) for m in self.modes}}
                for name, rs in sorted(groups.items())}

    def by_mode(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for m in self.modes:
            rs = [r for r in self.results if r.mode == m]
            latencies = [r.latency_ms for r in rs]
            out[m] = {**{kind: _scores([r for r in rs if r.kind == kind], self.k) for kind in QUERY_KINDS},
                      "all": _scores(rs, self.k),
                      "latency_ms": {"p50": round(percentile(latencies, 50), 2),
                                     "p95": round(percentile(latencies, 95), 2)}}
        return out

    def failing_files(self) -> list[dict[str, Any]]:
        """Files with no usable sentence, then those whose sentences were missed most (in ``mode``), with a hint why."""
        rows: list[dict[str, Any]] = []
        for path, stats in self.files.items():
            mine = [r for r in self.results if r.mode == self.mode and self.probes[r.probe].source == path]
            rate = self._rate(mine)
            if rate is not None and rate >= 1.0:
                continue
            langs = [self.probes[i].lang for i in {r.probe for r in mine}]
            lang = Counter(langs).most_common(1)[0][0] if langs else None
            rows.append({"file": path, "type": stats.file_type, "lang": lang, "sentences": stats.sampled,
                         f"hit@{self.k}": rate, "reason": self._hint(path, stats, mine, lang)})
        key = f"hit@{self.k}"
        rows.sort(key=lambda row: (row[key] is not None, row[key] or 0.0, -int(row["sentences"])))
        return rows[:FAILING_FILES]

    def _hint(self, path: str, stats: FileSample, mine: Sequence[SelfResult], lang: str | None) -> str:
        if not stats.sampled:
            skipped = ", ".join(f"{n} {reason.replace('_', ' ')}" for reason, n in sorted(stats.skipped.items()))
            why = skipped or "no sentence punctuation: a form, a table or garbled text"
            return f"no sentence a query can be made from ({why})"
        hints = []
        if stats.examined and stats.ocr_chunks * 2 >= stats.examined:
            hints.append("OCR'd pages: recognition errors change the words")
        if lang not in (None, "en", "latin"):
            hints.append(f"non-English text ({lang})" + (": the default embedder is trained on English"
                                                        if self.settings.get("embedder") == DEFAULT_EMBEDDER else ""))
        examined = stats.eligible + sum(stats.skipped.values())
        debris = stats.skipped.get("debris", 0) + stats.skipped.get("too_long", 0)
        if examined and debris * 2 >= examined:
            hints.append(f"mostly tables, numbers or formulas ({debris} of {examined} sentences skipped)")
        missed = [r for r in mine if r.rank is None]
        same_file = sum(1 for r in missed if r.top and r.top[0][0] == path)
        if missed and same_file * 2 >= len(missed):
            hints.append("other places in the same file outrank the right one (repetitive text)")
        elif missed:
            others = [r.top[0][0] for r in missed if r.top and r.top[0][0] != path]
            if others:
                hints.append(f"other files outrank it, most often {Path(Counter(others).most_common(1)[0][0]).name}")
        if stats.sampled < FEW_SENTENCES:
            hints.append(f"few sentences ({stats.sampled}): the rate is noisy")
        return "; ".join(hints) or "-"

    def summary(self) -> dict[str, Any]:
        sampled = sum(1 for f in self.files.values() if f.sampled)
        return {**self.settings, "top_k": self.k, "modes": list(self.modes), "mode": self.mode,
                "sentences": len(self.probes),
                "files": {"indexed": len(self.files), "sampled": sampled,
                          "without_sentences": sum(1 for f in self.files.values() if not f.sampled),
                          "failed": self.failed_files},
                "skipped": self.skipped, "by_mode": self.by_mode(),
                "by_type": self._by(lambda p: p.file_type), "by_lang": self._by(lambda p: p.lang),
                "failing_files": self.failing_files()}

    def to_json(self, *, details: bool = False) -> dict[str, Any]:
        data = self.summary()
        if details:
            data["queries"] = [self.detail(r) for r in self.results]
        return data

    def detail(self, r: SelfResult) -> dict[str, Any]:
        p = self.probes[r.probe]
        return {"file": p.source, "page": p.page, "locator": p.locator, "type": p.file_type, "lang": p.lang,
                "sentence": p.text, "kind": r.kind, "mode": r.mode, "query": r.query, "rank": r.rank,
                "latency_ms": round(r.latency_ms, 2), "retrieved": [list(t) for t in r.top]}


def _require_current_format(directory: Path) -> None:
    """Opening an older index migrates it (a write): refuse instead, naming the command that does it."""
    if not (directory / "manifest.json").exists():
        return  # RAG.open names the missing index
    version = read_manifest(directory).version
    if version != FORMAT_VERSION:
        raise IndexFormatError(f"index {directory} has format version {version}; the self-test only reads and "
                               f"does not migrate it to {FORMAT_VERSION}: run `rag status --index {directory}` "
                               "(which migrates it), then the self-test again")


def evaluate_self(index: str | Path | None = None, *, sample: int = 200, seed: int = 0, top_k: int = 5,
                  modes: Sequence[str] | None = None, settings: dict[str, Any] | None = None, embedder: Any = None,
                  progress: Callable[[int, int], None] | None = None) -> SelfReport:
    """Sample ``sample`` sentences of the index at ``index`` (default: the configured one), query each
    in every mode of ``modes`` (default dense, bm25 and hybrid), and score where the retriever finds them."""
    from rag.engine import RAG

    if sample <= 0 or top_k <= 0:
        raise ConfigError(f"the sample ({sample}) and top-k ({top_k}) must both be positive")
    settings = {k: v for k, v in (settings or {}).items() if v is not None and k not in ("index", "top_k")}
    if embedder is not None:
        settings["embedder"] = embedder
    with RAG.open(index, **settings) as rag:
        _require_current_format(rag.directory)
        sampling = sample_probes(rag.index, sample, seed)
        chosen = tuple(modes or MODES)
        records = rag.sources()
        report = SelfReport(sampling.probes, sampling.files, k=top_k, modes=chosen,
                            mode=rag.config.mode if rag.config.mode in chosen else chosen[-1],
                            skipped=sampling.skipped(), failed_files=sum(1 for r in records if r.status != "indexed"),
                            settings={"index": str(rag.directory), "embedder": rag.embedder.name, "sample": sample,
                                      "seed": seed, "reranker": rag.config.reranker})
        queries = [(n, kind, text) for n, p in enumerate(sampling.probes) for kind, text in p.queries]
        for m in chosen:  # warm up: the embedder loads and BM25 maps its files outside the timings
            rag.search("warm up", top_k, mode=m)
        total = len(queries) * len(chosen)
        for done, (m, (n, kind, text)) in enumerate(((m, q) for m in chosen for q in queries), start=1):
            started = time.perf_counter()
            hits = rag.search(text, top_k, mode=m)
            latency = (time.perf_counter() - started) * 1000
            rank = next((i for i, h in enumerate(hits, start=1) if is_hit(sampling.probes[n], h.chunk)), None)
            report.results.append(SelfResult(n, kind, m, text, rank, latency,
                                             tuple((h.chunk.source, h.chunk.page) for h in hits)))
            if progress is not None:
                progress(done, total)
    return report
