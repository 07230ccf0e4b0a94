"""Ingestion throughput on the shared real documents, with the default embedder.

For each corpus (copied to a temporary folder first, since the last step edits a
file): a first ingest into a fresh index (pages/s, chunks/s); a second, unchanged
ingest of the same folder (must read and embed nothing; target < 5 % of the
first); then one changed file (target: time proportional to that file, reported
against the first run's per-chunk rate). The embedder is loaded before timing.

``--parts`` measures instead, in one process, our pipeline against the raw parts of the
same work on the same texts: ``ingest_paths`` into a fresh index, then pypdf page
extraction alone of every page of every PDF, then one encode of exactly the texts we
embedded (chunks with their headers, read back from the index) at our batch size, with
the library's own call (``SentenceTransformer.encode`` for torch). The report is our wall
time as a ratio of the parts' sum, pages/s, chunks/s, CPU seconds and peak RSS. Each
step runs ``--repeat`` times, interleaved, and the fastest run of each counts, because
the machine may be shared.

    python benchmarks/ingest_speed.py [--corpus pdfs/real text/real] [--workers 1] [--json]
    python benchmarks/ingest_speed.py --parts [--corpus pdfs/real] [--embed-backend torch] [--repeat 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from indexes import Embedder, Index, load_embedder
from ingest import IngestOptions, ingest_paths
from ingest.headers import embedding_texts

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _timed(index: Path, folder: Path, embedder: Embedder, options: IngestOptions) -> tuple[Any, float]:
    started = time.perf_counter()
    report = ingest_paths(index, [folder], embedder, options)
    return report, time.perf_counter() - started


def bench(corpus: Path, embedder: Embedder, workers: int) -> dict[str, Any]:
    options = IngestOptions(workers=workers)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "corpus"
        shutil.copytree(corpus, folder)
        index = Path(tmp) / "idx"
        first, first_s = _timed(index, folder, embedder, options)
        second, second_s = _timed(index, folder, embedder, options)
        added = [f for f in first.files if f.status == "added" and f.chunks > 1]
        target = Path(sorted(added, key=lambda f: f.chunks)[len(added) // 2].path)  # a median-sized file
        if target.suffix == ".pdf":  # appending to a PDF breaks it: give it new bytes at the end instead
            target.write_bytes(target.read_bytes() + b"\n% edited\n")
        else:
            target.write_text(target.read_text(encoding="utf-8", errors="replace") + "\n\nAn added closing line.\n",
                              encoding="utf-8")
        third, third_s = _timed(index, folder, embedder, options)
    totals = first.summary()
    changed = [f for f in third.files if f.status == "updated"]
    per_chunk = first_s / max(totals["chunks"], 1)
    return {
        "corpus": corpus.name if corpus.name != "real" else f"{corpus.parent.name}/real",
        "files": len(first.files), "indexed": totals.get("added", 0), "failed": totals.get("failed", 0),
        "skipped": totals.get("skipped", 0), "pages": totals["pages"], "chunks": totals["chunks"],
        "seconds": round(first_s, 2), "pages_per_s": round(totals["pages"] / first_s, 1),
        "chunks_per_s": round(totals["chunks"] / first_s, 1),
        "unchanged_seconds": round(second_s, 3), "unchanged_fraction": round(second_s / first_s, 4),
        "unchanged_all": all(f.status in ("unchanged", "failed", "skipped") for f in second.files),
        "changed_file": target.name, "changed_chunks": sum(f.chunks for f in changed),
        "changed_seconds": round(third_s, 3),
        "changed_expected_seconds": round(per_chunk * sum(f.chunks for f in changed), 3),
    }


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the parser workers)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _peak_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)


def _pypdf_pages(folder: Path) -> int:
    """Extract the text of every page of every PDF under ``folder`` with pypdf alone, as our reader calls it."""
    from pypdf import PdfReader

    pages = 0
    for path in sorted(folder.rglob("*.pdf")):
        try:
            reader = PdfReader(path, strict=False)
            for page in reader.pages:
                page.extract_text()
                pages += 1
        except Exception as exc:  # damaged or encrypted: our pipeline reports those files as failed
            print(f"pypdf could not read {path.name}: {exc}", file=sys.stderr)
    return pages


def _encode(embedder: Embedder, texts: list[str]) -> None:
    """One encode of ``texts`` with the backend's own library call, at our batch size."""
    model = getattr(embedder, "_model", None)
    if getattr(embedder, "backend", "torch") == "torch" and model is not None:
        model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True,  # type: ignore[attr-defined]
                     convert_to_numpy=True, show_progress_bar=False)
    else:
        embedder.embed(texts)


def _stored_texts(directory: Path, embedder: Embedder) -> list[str]:
    """Exactly what the pipeline embedded: the stored chunks with the header the index records."""
    with Index.open(directory) as index:
        ids = index.chunk_ids() if hasattr(index, "chunk_ids") else sorted(index._vectors.ids().tolist())  # older code
        found = index.chunks(ids)
        return embedding_texts([found[i] for i in sorted(found)], index.manifest.settings, embedder)


def parts(corpus: Path, embedder: Embedder, workers: int, repeat: int, ocr: bool = False) -> dict[str, Any]:
    """Our pipeline against pypdf + encode on the same texts; fastest of ``repeat`` runs of each.

    OCR is off unless ``ocr``: the raw parts have no OCR step, and with it our side would also
    render and read the ~10 pages of ``pdfs/real`` that lack a text layer (about 70 CPU seconds)."""
    times: dict[str, list[float]] = {"ours": [], "parse": [], "encode": []}
    cpu: dict[str, list[float]] = {key: [] for key in times}
    pages = chunks = 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            cpu0, started = _cpu(), time.perf_counter()
            report = ingest_paths(Path(tmp) / "idx", [corpus], embedder, IngestOptions(workers=workers, ocr=ocr))
            times["ours"].append(time.perf_counter() - started)
            cpu["ours"].append(_cpu() - cpu0)
            texts = _stored_texts(Path(tmp) / "idx", embedder)
        summary = report.summary()
        pages, chunks = summary["pages"], summary["chunks"]
        cpu0, started = _cpu(), time.perf_counter()
        raw_pages = _pypdf_pages(corpus)
        times["parse"].append(time.perf_counter() - started)
        cpu["parse"].append(_cpu() - cpu0)
        cpu0, started = _cpu(), time.perf_counter()
        _encode(embedder, texts)
        times["encode"].append(time.perf_counter() - started)
        cpu["encode"].append(_cpu() - cpu0)
    best = {key: min(values) for key, values in times.items()}
    best_cpu = {key: min(values) for key, values in cpu.items()}
    return {
        "corpus": corpus.name if corpus.name != "real" else f"{corpus.parent.name}/real",
        "backend": getattr(embedder, "backend", "torch"), "ocr": ocr, "pages": pages, "pypdf_pages": raw_pages,
        "chunks": chunks, "texts": len(texts), "seconds": {k: round(v, 2) for k, v in best.items()},
        "cpu_seconds": {k: round(v, 2) for k, v in best_cpu.items()},
        "ratio": round(best["ours"] / (best["parse"] + best["encode"]), 3),
        "cpu_ratio": round(best_cpu["ours"] / (best_cpu["parse"] + best_cpu["encode"]), 3),
        "pages_per_s": round(pages / best["ours"], 2), "chunks_per_s": round(chunks / best["ours"], 2),
        "parts_pages_per_s": round(pages / (best["parse"] + best["encode"]), 2),
        "peak_rss_mb": _peak_mb(resource.RUSAGE_SELF), "peak_worker_rss_mb": _peak_mb(resource.RUSAGE_CHILDREN),
        "runs": {k: [round(v, 2) for v in values] for k, values in times.items()},
    }


def _print_parts(rows: list[dict[str, Any]]) -> None:
    print("| corpus | backend | pages | chunks | ours | pypdf alone | encode alone | ours / parts (wall) "
          "| ours / parts (CPU) | pages/s | chunks/s | peak RSS (main + worker) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s, c = r["seconds"], r["cpu_seconds"]
        print(f"| {r['corpus']} | {r['backend']} | {r['pages']} | {r['chunks']} | {s['ours']:.1f} s "
              f"| {s['parse']:.1f} s | {s['encode']:.1f} s | **{r['ratio']:.2f}x** | {r['cpu_ratio']:.2f}x "
              f"({c['ours']:.0f} / {c['parse'] + c['encode']:.0f} CPU s) | {r['pages_per_s']} | {r['chunks_per_s']} "
              f"| {r['peak_rss_mb']:.0f} + {r['peak_worker_rss_mb']:.0f} MB |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", nargs="+", default=None, help="default: pdfs/real text/real (--parts: pdfs/real)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--parts", action="store_true", help="our pipeline against pypdf + encode alone")
    parser.add_argument("--embed-backend", default="torch", choices=("torch", "onnx", "onnx-int8"))
    parser.add_argument("--repeat", type=int, default=1, help="--parts: runs of each step (the fastest counts)")
    parser.add_argument("--ocr", action="store_true", help="--parts: OCR pages without text on our side too")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.corpus = args.corpus or (["pdfs/real"] if args.parts else ["pdfs/real", "text/real"])
    embedder = load_embedder(None, backend=args.embed_backend) if args.embed_backend != "torch" else load_embedder(None)
    embedder.embed(["warm up"] * 8)
    if args.parts:
        found = [DATA / name for name in args.corpus if (DATA / name).exists()]
        if not found:
            print(f"skipping: none of {args.corpus} under {DATA}", file=sys.stderr)
            return 0
        results = [parts(corpus, embedder, args.workers, args.repeat, args.ocr) for corpus in found]
        if args.json:
            print(json.dumps({"machine": _machine(), "results": results}, indent=2))
        else:
            print(f"machine: {_machine()}; embedder: {embedder.name}; parser workers: {args.workers}\n")
            _print_parts(results)
        return 0
    rows = []
    for name in args.corpus:
        corpus = DATA / name
        if not corpus.exists():
            print(f"skipping {name}: {corpus} not found", file=sys.stderr)
            continue
        rows.append(bench(corpus, embedder, args.workers))
    if args.json:
        print(json.dumps({"machine": _machine(), "results": rows}, indent=2))
        return 0
    print(f"machine: {_machine()}; embedder: {embedder.name}; parser workers: {args.workers}\n")
    print("| corpus | files | pages | chunks | first ingest | pages/s | chunks/s | unchanged re-run "
          "| one changed file |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['corpus']} | {r['files']} ({r['failed']} failed) | {r['pages']} | {r['chunks']} "
              f"| {r['seconds']:.1f} s | {r['pages_per_s']} | {r['chunks_per_s']} "
              f"| {r['unchanged_seconds']:.2f} s ({100 * r['unchanged_fraction']:.2f} %) "
              f"| {r['changed_file']}: {r['changed_chunks']} chunks in {r['changed_seconds']:.2f} s "
              f"(first-run rate predicts {r['changed_expected_seconds']:.2f} s) |")
    return 0


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


if __name__ == "__main__":
    raise SystemExit(main())
