"""Retrieval evaluation on BEIR folders and SQuAD files, through the real index and retriever.

The corpus is indexed the way ingestion indexes files (same chunker, same contextual header
with the document's title, same embedder, same BM25), one "source" per document, so the
figures measure what users get. A document longer than one chunk counts at the rank of its
best chunk. Indexes are cached under ``$RAG_HOME/eval/``, keyed by corpus file (path, size,
mtime) and embedder; an interrupted build resumes where it stopped.

    >>> data = load_beir("beir/scifact")                       # doctest: +SKIP
    >>> index = build_corpus_index(eval_index_dir(data, embedder), data.corpus, embedder)
    >>> evaluate(index, embedder, data, RetrievalSettings())["ndcg@10"]
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from indexes import ConfigError, Embedder, Index, IndexMissingError, SourceRecord, text_hash
from indexes.compat import BACKEND_KEY, backend_of, require_backend
from ingest import ChunkerSettings, PageChunker
from ingest.headers import embedding_text
from ingest.pipeline import embedder_info
from ingest.readers import Page
from rag.config import data_root
from rag.evaluation.metrics import hit_at_k, mean, mrr_at_k, ndcg_at_k, percentile, recall_at_k
from rag.retrieval import RetrievalSettings, Retriever

__all__ = ["EvalData", "build_corpus_index", "eval_index_dir", "evaluate", "load_beir", "load_squad"]

log = logging.getLogger(__name__)

EVAL_HEADER = {"header": {"version": 1, "title": "document title"}}
_BATCH = 256           # documents embedded together
_COMMIT_EVERY = 4096   # chunks


@dataclass(frozen=True)
class EvalData:
    """A corpus (id -> (title, text)), queries (id -> text) and judgements (query -> doc -> grade)."""

    name: str
    source: Path
    corpus: dict[str, tuple[str, str]]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    kind: str = "beir"


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def load_beir(folder: str | Path, split: str = "test") -> EvalData:
    """A BEIR folder: ``corpus.jsonl``, ``queries.jsonl``, ``qrels/<split>.tsv``.

    Only queries that have judgements are kept."""
    folder = Path(folder).expanduser().resolve()
    needed = [folder / "corpus.jsonl", folder / "queries.jsonl", folder / "qrels" / f"{split}.tsv"]
    missing = [str(p.relative_to(folder)) for p in needed if not p.is_file()]
    if missing:
        raise ConfigError(f"{folder} is not a BEIR folder: missing {', '.join(missing)}")
    corpus = {str(d["_id"]): (str(d.get("title") or ""), str(d.get("text") or "")) for d in _read_jsonl(needed[0])}
    all_queries = {str(q["_id"]): str(q["text"]) for q in _read_jsonl(needed[1])}
    qrels: dict[str, dict[str, int]] = {}
    with open(needed[2], encoding="utf-8") as handle:
        for line_no, line in enumerate(handle):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or (line_no == 0 and not parts[2].lstrip("-").isdigit()):
                continue  # the header, or a blank line
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    queries = {q: all_queries[q] for q in qrels if q in all_queries}
    if not queries:
        raise ConfigError(f"{needed[2]} judges none of the queries in {needed[1]}")
    return EvalData(folder.name, needed[0], corpus, queries, {q: qrels[q] for q in queries})


def load_squad(path: str | Path) -> EvalData:
    """A SQuAD-format JSON file: each paragraph is a document, titled by its article;
    each question's one relevant document is the paragraph it was written on."""
    path = Path(path).expanduser().resolve()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        corpus: dict[str, tuple[str, str]] = {}
        queries: dict[str, str] = {}
        qrels: dict[str, dict[str, int]] = {}
        for article in data["data"]:
            title = str(article.get("title") or "").replace("_", " ")
            for n, paragraph in enumerate(article["paragraphs"]):
                doc_id = f"{article.get('title') or len(corpus)}_{n}"
                corpus[doc_id] = (title, str(paragraph["context"]))
                for qa in paragraph["qas"]:
                    queries[str(qa["id"])] = str(qa["question"])
                    qrels[str(qa["id"])] = {doc_id: 1}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a readable SQuAD-format file ({exc})") from exc
    if not queries:
        raise ConfigError(f"{path} holds no questions")
    return EvalData(path.stem, path, corpus, queries, qrels, kind="squad")


def eval_index_dir(data: EvalData, embedder: Embedder) -> Path:
    """Where the cached index of this corpus for this embedder lives."""
    stat = data.source.stat()
    key = f"{data.source}\x00{stat.st_size}\x00{stat.st_mtime_ns}\x00{embedder.name}"
    if backend_of(embedder) != "torch":  # torch keeps the key it had before backends existed
        key += f"\x00{backend_of(embedder)}"
    slug = re.sub(r"[^\w.-]+", "-", data.name)
    return data_root() / "eval" / f"{slug}-{hashlib.sha1(key.encode()).hexdigest()[:12]}"


def build_corpus_index(directory: Path, corpus: Mapping[str, tuple[str, str]], embedder: Embedder, *,
                       chunker: ChunkerSettings | None = None,
                       progress: Callable[[int, int], None] | None = None) -> Index:
    """Index every document of ``corpus`` not yet in the index at ``directory`` (created if missing)."""
    try:
        index = Index.open(directory)
        index.require_embedder(embedder.name, embedder.dimension)
        require_backend(index, embedder)
    except IndexMissingError:
        settings = chunker or ChunkerSettings()
        index = Index.create(directory, embedder_info(embedder), {"chunker": settings.to_json(), **EVAL_HEADER,
                                                                  BACKEND_KEY: backend_of(embedder)})
    stored = index.manifest.settings.get("chunker")
    splitter = PageChunker.for_embedder(embedder, ChunkerSettings.stored(stored) if isinstance(stored, dict) else chunker)
    done = {s.path for s in index.sources()}
    todo = [doc_id for doc_id in corpus if doc_id not in done]
    if todo:
        log.info("indexing %d of %d documents into %s", len(todo), len(corpus), directory)
        with index.writer(wait=30.0) as writer:
            pending = 0
            for start in range(0, len(todo), _BATCH):
                pending += _add_batch(writer, todo[start:start + _BATCH], corpus, embedder, splitter)
                if pending >= _COMMIT_EVERY:
                    writer.commit()
                    pending = 0
                if progress is not None:
                    progress(min(start + _BATCH, len(todo)), len(todo))
            writer.commit()
        index.close()
        index = Index.open(directory)
    return index


def _add_batch(writer: Any, doc_ids: list[str], corpus: Mapping[str, tuple[str, str]], embedder: Embedder,
               splitter: PageChunker) -> int:
    per_doc = []
    for doc_id in doc_ids:
        title, text = corpus[doc_id]
        chunks = splitter.chunk(doc_id, [Page(None, text)]) if text.strip() else []
        per_doc.append((doc_id, chunks, [embedding_text(c, title or None, embedder) for c in chunks]))
    texts = [t for _d, _c, doc_texts in per_doc for t in doc_texts]
    vectors = embedder.embed(texts)
    offset = 0
    for doc_id, chunks, doc_texts in per_doc:
        n = len(chunks)
        record = SourceRecord(doc_id, "text", len(corpus[doc_id][1]), 0, text_hash(corpus[doc_id][1]),
                              "indexed" if n else "failed", None if n else "empty", None, 1, n)
        writer.replace_source(record, chunks, vectors[offset:offset + n], [text_hash(t) for t in doc_texts],
                              texts=doc_texts)
        offset += n
    return offset


def evaluate(index: Index, embedder: Embedder, data: EvalData, settings: RetrievalSettings, *,
             max_queries: int | None = None, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Run every judged query through the retriever; metrics over documents, latency per query."""
    retriever = Retriever(index, embedder, settings)
    documents = max(1, len(index.sources()))
    # Enough chunks to rank 100 distinct documents when documents span several chunks.
    k = min(len(index), 100 * math.ceil(len(index) / documents)) if len(index) else 0
    queries = list(data.queries.items())[:max_queries]
    if queries:
        retriever.search(queries[0][1], k)  # warm up: BM25 loaded, model caches filled
    per_query: dict[str, list[float]] = {m: [] for m in ("ndcg@10", "recall@10", "recall@100", "mrr@10",
                                                          "hit@1", "hit@5")}
    latencies: list[float] = []
    for n, (qid, text) in enumerate(queries, start=1):
        started = time.perf_counter()
        hits = retriever.search(text, k)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = list(dict.fromkeys(h.chunk.source for h in hits))
        relevant = data.qrels[qid]
        per_query["ndcg@10"].append(ndcg_at_k(ranked, relevant, 10))
        per_query["recall@10"].append(recall_at_k(ranked, relevant, 10))
        per_query["recall@100"].append(recall_at_k(ranked, relevant, 100))
        per_query["mrr@10"].append(mrr_at_k(ranked, relevant, 10))
        gold = max(relevant, key=lambda d: relevant[d])
        per_query["hit@1"].append(hit_at_k(ranked, gold, 1))
        per_query["hit@5"].append(hit_at_k(ranked, gold, 5))
        if progress is not None:
            progress(n, len(queries))
    wanted = ("hit@1", "hit@5", "mrr@10") if data.kind == "squad" else ("ndcg@10", "recall@10", "recall@100", "mrr@10")
    result: dict[str, Any] = {"dataset": data.name, "source": str(data.source), "kind": data.kind,
                              "index": str(index.directory), "embedder": embedder.name, "mode": settings.mode}
    if settings.mode == "hybrid":
        result["fusion"] = settings.fusion
        result["weights"] = {"dense": settings.dense_weight, "bm25": settings.bm25_weight}
    result.update({name: round(mean(per_query[name]), 4) for name in wanted})
    result.update({
        "latency_ms": {"p50": round(percentile(latencies, 50), 2), "p95": round(percentile(latencies, 95), 2)},
        "queries": len(queries), "documents": len(index.sources()), "chunks": len(index),
        "reranker": settings.reranker,
    })
    return result
