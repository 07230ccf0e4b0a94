"""The ``rag`` subcommands: each calls the public API and prints the result."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import Any

from indexes import RagError
from ingest import FileResult, IngestReport
from rag.cli.common import emit_json
from rag.config import load_config
from rag.engine import RAG
from rag.records import Answer, hit_json, place_suffix, source_json

__all__ = ["cmd_ask", "cmd_chat", "cmd_config", "cmd_ingest", "cmd_remove", "cmd_search", "cmd_sources",
           "cmd_status"]


def _open(settings: dict[str, Any], *, create: bool = False) -> RAG:
    index = settings.pop("index", None)
    return RAG.open(index, create=create, **settings)


class _ProgressBar:
    """tqdm on stderr: files with an ETA, plus pages, chunks and failures so far."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self._bar = tqdm(unit=" files", file=sys.stderr, dynamic_ncols=True, leave=False)
        self._totals = {"pages": 0, "chunks": 0, "failed": 0}

    def planned(self, files: int) -> None:
        self._bar.reset(total=files)

    def done(self, result: FileResult) -> None:
        if result.status in ("added", "updated"):
            self._totals["pages"] += result.pages
            self._totals["chunks"] += result.chunks
        self._totals["failed"] += result.status == "failed"
        self._bar.set_postfix(self._totals, refresh=False)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def cmd_ingest(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    bar = _ProgressBar() if sys.stderr.isatty() and not args.json else None
    with _open(settings, create=True) as rag:
        try:
            report = rag.ingest(args.paths, dry_run=args.dry_run, progress=bar)
        finally:
            if bar is not None:
                bar.close()
    if args.json:
        emit_json(report.to_json())
    else:
        _print_report(report)
    return report.exit_code


def _print_report(report: IngestReport) -> None:
    for f in report.files:
        if f.status == "failed":
            print(f"failed    {f.path}: {f.reason}: {f.message}")
        elif f.flags:
            print(f"warning   {f.path}: {', '.join(f.flags)}")
        elif f.status in ("new", "changed", "removed") and report.dry_run:
            print(f"{f.status:<9} {f.path}")
        elif f.status == "removed":
            print(f"removed   {f.path}")
    totals = report.summary()
    parts = [f"{totals[k]} {k}" for k in ("added", "updated", "unchanged", "removed", "failed", "excluded",
                                          "new", "changed") if totals.get(k)]
    verb = "would change" if report.dry_run else "ingested"
    print(f"{verb}: {', '.join(parts) or 'nothing'}; {totals['pages']} pages, {totals['chunks']} chunks "
          f"in {report.seconds:.1f} s -> {report.index} (generation {report.generation})")


def _print_sources(answer: Answer, *, heading: str = "Sources:") -> None:
    if not answer.citations:
        return
    print(f"\n{heading}")
    for c in answer.citations:
        mark = "cited" if c.cited else "inferred" if c.inferred else "retrieved"
        check = "" if not (c.cited or c.inferred) else " ✓" if c.verified else " (unverified)"
        print(f"  [{c.n}] {c.label()}  score {c.score:.2f}  {mark}{check}")
        if c.quote:
            quote = c.quote if len(c.quote) <= 200 else c.quote[:199] + "…"
            print(f"      “{quote}”")
        print(f"      {c.file}")


_QUOTE_NOTES = {
    "unsupported": "No source supports the model's answer above. The passage that best answers the question:",
    "refusal_overruled": "The model says the documents don't answer, but a passage matches the question closely:",
    "cut_short": "The model's answer above stops short of the part of its source the question asks about. "
                 "The whole passage:",
    "restates_question": "The model's answer above only repeats the question. The passage that best answers it:",
}


def _print_outcome(answer: Answer, shown: str) -> None:
    """After the reply was shown (``shown``), say what became of it: kept, replaced by a quote, abstained."""
    if answer.grounding == "quote":
        print(f"\n({_QUOTE_NOTES.get(answer.quote_reason, _QUOTE_NOTES['unsupported'])})")
        print(answer.text)
    elif answer.abstained and shown.strip() != answer.text:
        print(answer.text)
    contradicted = {k.text: k.quote for k in answer.claims if k.label == "contradicted"}
    for sentence in answer.unsupported:
        if sentence in contradicted:
            print(f"  ✗ contradicted by the sources: “{sentence}” (source: “{contradicted[sentence]}”)")
        else:
            print(f"  ⚠ not supported by the sources: “{sentence}”")
    _print_sources(answer, heading="Closest sources (check them yourself):" if answer.abstained else "Sources:")


def cmd_ask(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    with _open(settings) as rag:
        plan = rag.prepare(args.question)
        if args.explain and not args.json:
            from rag.answering.explain import explain_lines

            print("\n".join(explain_lines(plan)), end="\n\n")
        if args.json or args.no_stream:
            answer = _finish(rag.generate(plan))
            if args.json:
                data = answer.to_json()
                if args.explain:
                    from rag.answering.explain import explain_json

                    data["explain"] = explain_json(plan, answer)
                    if rag.model_file is not None:
                        data["explain"]["model_file"] = {"path": str(rag.model_file.path),
                                                         "source": str(rag.model_file.source),
                                                         "reason": rag.model_file.reason}
                emit_json(data)
                return 0
            shown = answer.model_text or answer.text
            print(shown)
        else:
            answer, shown = _stream_to_stdout(rag.generate(plan))
    _print_outcome(answer, shown)
    if args.explain:
        from rag.answering.explain import timing_lines

        print("\n---- timings " + "-" * 59)
        print("\n".join(timing_lines(answer)))
        if rag.model_file is not None:
            print(f"model file:  {rag.model_file.path.name} ({rag.model_file.reason})")
    return 0


def _finish(items: Iterator[str | Answer]) -> Answer:
    answer: Answer | None = None
    for item in items:
        if isinstance(item, Answer):
            answer = item
    assert answer is not None  # every stream ends with an Answer
    return answer


def _stream_to_stdout(items: Iterator[str | Answer]) -> tuple[Answer, str]:
    answer: Answer | None = None
    shown: list[str] = []
    for item in items:
        if isinstance(item, Answer):
            answer = item
        else:
            shown.append(item)
            sys.stdout.write(item)
            sys.stdout.flush()
    print()
    assert answer is not None
    return answer, "".join(shown)


CHAT_HELP = "Ask about your documents; follow-ups may refer to the previous question. Commands: /sources, /reset, /quit"


def cmd_chat(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    with _open(settings) as rag:
        conversation = rag.chat()
        print(CHAT_HELP)
        while True:
            try:
                line = input("> ").strip()
            except EOFError:
                print()
                return 0
            if line in ("/quit", "/exit", "/q"):
                return 0
            if line == "/reset":
                conversation.reset()
                print("(conversation reset: the next question stands alone)")
                continue
            if line == "/sources":
                if conversation.last is None:
                    print("(no answer yet)")
                else:
                    _print_sources(conversation.last)
                continue
            if line.startswith("/"):
                print(f"unknown command {line}; {CHAT_HELP}")
                continue
            if not line:
                continue
            try:
                query = conversation.rewrite(line)
                if query != line:
                    print(f"(searching for: {query})")
                answer, shown = _stream_to_stdout(conversation.stream(line))
                _print_outcome(answer, shown)
            except RagError as exc:
                print(f"rag: error: {exc.message}", file=sys.stderr)


def cmd_search(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    with _open(settings) as rag:
        hits = rag.search(args.query, args.top_k)
    if args.json:
        emit_json({"query": args.query, "hits": [hit_json(i, h) for i, h in enumerate(hits, start=1)]})
        return 0
    for i, h in enumerate(hits, start=1):
        c = h.chunk
        where = c.source + place_suffix(c.page, c.locator, c.ocr)
        snippet = " ".join(h.chunk.text.split())
        print(f"{i}. {h.score:.3f}  {where}\n   {snippet[:300]}{'…' if len(snippet) > 300 else ''}")
    return 0 if hits else 3


def cmd_sources(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    with _open(settings) as rag:
        records = rag.sources()
    if args.json:
        emit_json({"sources": [source_json(r) for r in records]})
        return 0
    for r in records:
        units = source_json(r)["units"]
        detail = f"{r.pages} {units}, {r.chunks} chunks" if r.status == "indexed" else f"{r.reason}: {r.message}"
        print(f"{r.status:<8} {r.path}  ({detail})")
    print(f"{sum(r.status == 'indexed' for r in records)} indexed, {sum(r.status != 'indexed' for r in records)} failed")
    return 0


def cmd_remove(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    with _open(settings) as rag:
        removed = rag.remove(args.paths)
    if args.json:
        emit_json({"removed": removed})
    else:
        for path in removed:
            print(f"removed   {path}")
        print(f"{len(removed)} file(s) removed")
    return 0 if removed else 2


def cmd_status(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    with _open(settings) as rag:
        info = rag.status(check=args.check)
    problems = info.get("problems", [])
    if args.json:
        emit_json(info)
    else:
        emb = info["embedder"]
        print(f"index:      {info['index']}")
        print(f"format:     version {info['format_version']}, generation {info['generation']}")
        print(f"contents:   {info['counts'].get('sources', 0)} files, {info['counts'].get('chunks', 0)} chunks")
        print(f"embedder:   {emb['name']} ({emb['dimension']} dims, max {emb['max_tokens']} tokens, "
              f"{info['settings'].get('embed_backend') or 'torch'} backend)")
        print(f"chunking:   {info['settings'].get('chunker')}")
        print(f"generator:  {info['model']}")
        if args.check:
            print("check:      " + ("ok" if not problems else "; ".join(problems)))
    return 3 if problems else 0


def cmd_config(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    config = load_config(settings)
    if args.json:
        emit_json(config.to_json())
    else:
        for key, value in config.to_json().items():
            print(f"{key} = {value!r}")
    return 0
