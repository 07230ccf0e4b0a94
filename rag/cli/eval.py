"""``rag eval``: retrieval quality and latency on a BEIR folder or a SQuAD file.

    rag eval beir DIR   [--index DIR] [--mode M] [--split test] [--max-queries N] [--json]
    rag eval squad FILE [--index DIR] [--mode M] [--max-queries N] [--json]
    rag eval qa FILE    [--sample N] [--seed S] [--json]      answers end to end (rag.cli.qa)
    rag eval docqa QUESTIONS DOCS [--json] [--details]        page-cited answers (rag.cli.docqa)
    rag eval self [--index DIR] [--sample N] [--json]         your own index, no labels (rag.cli.selftest)

The parser is built without importing the evaluation code, so ``rag --help`` stays light.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rag.cli.common import emit_json, retrieval_args
from rag.cli.docqa import add_docqa_parser, cmd_eval_docqa
from rag.cli.qa import add_qa_parser, cmd_eval_qa
from rag.cli.selftest import add_self_parser, cmd_eval_self

__all__ = ["add_eval_parser", "cmd_eval"]


def add_eval_parser(sub: Any) -> None:
    p = sub.add_parser("eval", help="retrieval quality: nDCG@10, Recall@k, MRR, latency")
    kinds = p.add_subparsers(dest="eval_kind", metavar="KIND")
    kinds.required = True
    beir = kinds.add_parser("beir", help="a BEIR folder: corpus.jsonl, queries.jsonl, qrels/test.tsv")
    beir.add_argument("path", metavar="DIR")
    beir.add_argument("--split", default="test", help="qrels file to judge with (default test)")
    squad = kinds.add_parser("squad", help="a SQuAD-format JSON file: hit@1/@5 of each question's paragraph")
    squad.add_argument("path", metavar="FILE")
    for q in (beir, squad):
        q.add_argument("--index", metavar="DIR", help="index to build or reuse (default: cached under $RAG_HOME/eval)")
        q.add_argument("--json", action="store_true", help="print one JSON document on stdout")
        q.add_argument("--max-queries", type=int, metavar="N", help="evaluate only the first N queries")
        retrieval_args(q, where=False)
        q.add_argument("--fusion", choices=("score", "rrf"), help="hybrid fusion (default score)")
        q.add_argument("--dense-weight", type=float, metavar="W", help="hybrid weight of dense (default 1)")
        q.add_argument("--bm25-weight", type=float, metavar="W", help="hybrid weight of BM25 (default 1)")
    add_qa_parser(kinds)  # rag eval qa: answers end to end (rag.cli.qa)
    add_docqa_parser(kinds)  # rag eval docqa: page-cited answers on real documents (rag.cli.docqa)
    add_self_parser(kinds)  # rag eval self: retrieval on the user's own index, no labels (rag.cli.selftest)


def cmd_eval(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    if args.eval_kind == "qa":
        return cmd_eval_qa(args, settings)
    if args.eval_kind == "docqa":
        return cmd_eval_docqa(args, settings)
    if args.eval_kind == "self":
        return cmd_eval_self(args, settings)
    from indexes import load_embedder
    from rag.config import load_config
    from rag.evaluation.beir import build_corpus_index, eval_index_dir, evaluate, load_beir, load_squad
    from rag.retrieval import RetrievalSettings

    for name in ("fusion", "dense_weight", "bm25_weight"):
        if getattr(args, name, None) is not None:
            settings[name] = getattr(args, name)
    config = load_config(settings)
    data = load_beir(args.path, args.split) if args.eval_kind == "beir" else load_squad(args.path)
    # Only an explicit --index is used: RAG_INDEX or rag.toml name the user's own index, never an eval's.
    given = Path(settings["index"]).expanduser() if settings.get("index") else None
    embedder = load_embedder(config.embedder, backend=config.embed_backend or _backend_of(given))
    directory = given or eval_index_dir(data, embedder)
    tty = sys.stderr.isatty() and not args.json
    index = build_corpus_index(directory, data.corpus, embedder, progress=_bar("indexing", tty))
    with index:
        result = evaluate(index, embedder, data, RetrievalSettings.from_config(config),
                          max_queries=args.max_queries, progress=_bar("queries", tty))
    if args.json:
        emit_json(result)
        return 0
    print(f"{result['dataset']}: {result['queries']} queries, {result['documents']} documents, "
          f"{result['chunks']} chunks; mode {result['mode']}" + (f" ({result['fusion']} fusion)" if "fusion" in result
                                                                 else ""))
    for key in ("ndcg@10", "recall@10", "recall@100", "mrr@10", "hit@1", "hit@5"):
        if key in result:
            print(f"  {key:<11} {result[key]:.4f}")
    print(f"  latency     p50 {result['latency_ms']['p50']:.1f} ms, p95 {result['latency_ms']['p95']:.1f} ms")
    print(f"  index       {result['index']}")
    return 0


def _backend_of(index: Path | None) -> str:
    """The backend an existing index records, else the default for a new one."""
    from indexes.compat import recorded_backend
    from indexes.manifest import read_manifest
    from rag.config import DEFAULT_EMBED_BACKEND

    if index is None or not (index / "manifest.json").exists():
        return DEFAULT_EMBED_BACKEND
    return recorded_backend(read_manifest(index).settings)


def _bar(label: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, file=sys.stderr, leave=False, dynamic_ncols=True)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update
