"""OCR accuracy and speed against pages whose text is known.

Pages of real English PDFs with a clean text layer (in ``../shared/data/pdfs/real``) are rendered
to images with pypdfium2 and read back by ``ingest.ocr``; each result is compared with pypdf's text
of the same page. Character accuracy = 1 - (Levenshtein distance / length of the reference), both
texts first normalised: Unicode NFKC, ligatures and typographic quotes and dashes folded to ASCII,
all whitespace (including line breaks) collapsed to single spaces, case kept. It is clipped at 0.
Seconds per page is rendering plus OCR, with the engine already loaded, on ``--threads`` threads
(wall clock, and the process's CPU time, which other load on the machine does not inflate).

    python benchmarks/ocr.py [--pages 2] [--dpi 200] [--min-score 0.5] [--threads 1] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

from ingest import ocr

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdfs" / "real"
# English, with a clean text layer; pages picked to mix prose, two columns and tables.
DOCUMENTS = (
    "paper_attention_is_all_you_need_1706.03762v5.pdf",
    "paper_naacl06_shinyama_two_column.pdf",
    "report_understanding_climate_change.pdf",
    "report_ibm_redbook_redp5110_sampled.pdf",
    "transcript_scotus_p1.pdf",
    "gov_federal_register_2020-17221_three_column.pdf",
)
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                       "\u2212": "-", "\u00ad": None, "\u2022": "*"})


def normalise(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).translate(_FOLD).split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance, one row at a time in numpy (insertions resolved by a running minimum)."""
    import numpy as np

    if not b:
        return len(a)
    target = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    offsets = np.arange(len(b) + 1)
    previous = offsets.copy()
    for i, char in enumerate(a.encode("utf-32-le")[k : k + 4] for k in range(0, 4 * len(a), 4)):
        code = int.from_bytes(char, "little")
        current = np.empty_like(previous)
        current[0] = i + 1
        current[1:] = np.minimum(previous[1:] + 1, previous[:-1] + (target != code))
        current = np.minimum.accumulate(current - offsets) + offsets
        previous = current
    return int(previous[-1])


def accuracy(reference: str, recognised: str) -> float:
    ref, got = normalise(reference), normalise(recognised)
    return max(0.0, 1 - edit_distance(ref, got) / max(len(ref), 1))


def bench(pages: int, dpi: int, min_score: float) -> list[dict[str, Any]]:
    from pypdf import PdfReader

    rows = []
    for name in DOCUMENTS:
        path = DATA / name
        if not path.exists():
            continue
        data = path.read_bytes()
        reader = PdfReader(io.BytesIO(data))
        for index in range(min(pages, len(reader.pages))):
            reference = reader.pages[index].extract_text() or ""
            started, cpu = time.perf_counter(), time.process_time()
            (_, image), = ocr.render_pdf_pages(data, [index], dpi=dpi)
            text = ocr.ocr_image(image, min_score=min_score)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            rows.append({"document": name, "page": index + 1, "reference_chars": len(normalise(reference)),
                         "accuracy": round(accuracy(reference, text), 4), "seconds": round(seconds, 2),
                         "cpu_seconds": round(cpu, 2)})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2, help="first N pages of each document (default 2)")
    parser.add_argument("--dpi", type=int, default=ocr.RENDER_DPI)
    parser.add_argument("--min-score", type=float, default=ocr.MIN_SCORE)
    parser.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads (default 1, as one worker)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 1
    ocr.set_threads(args.threads)
    (_, warm), = ocr.render_pdf_pages((DATA / DOCUMENTS[-2]).read_bytes(), [0], dpi=72)
    ocr.ocr_image(warm)  # load the engine before timing
    rows = bench(args.pages, args.dpi, args.min_score)
    chars = sum(r["reference_chars"] for r in rows)
    summary = {
        "pages": len(rows), "dpi": args.dpi, "min_score": args.min_score, "threads": args.threads,
        "char_accuracy": round(sum(r["accuracy"] * r["reference_chars"] for r in rows) / max(chars, 1), 4),
        "seconds_per_page": round(sum(r["seconds"] for r in rows) / max(len(rows), 1), 2),
        "cpu_seconds_per_page": round(sum(r["cpu_seconds"] for r in rows) / max(len(rows), 1), 2),
        "machine": f"{platform.machine()}, {platform.python_version()}",
    }
    if args.json:
        print(json.dumps({"summary": summary, "pages": rows}, indent=2))
        return 0
    print(f"{'document':<52} {'page':>4} {'chars':>6} {'accuracy':>8} {'s':>6} {'cpu s':>6}")
    for r in rows:
        print(f"{r['document'][:52]:<52} {r['page']:>4} {r['reference_chars']:>6} {r['accuracy']:>8.3f} "
              f"{r['seconds']:>6.2f} {r['cpu_seconds']:>6.2f}")
    print(f"\n{summary['pages']} pages at {args.dpi} dpi, min score {args.min_score}, {args.threads} thread(s): "
          f"character accuracy {summary['char_accuracy']:.3f} (weighted by page length), "
          f"{summary['seconds_per_page']:.2f} s per page ({summary['cpu_seconds_per_page']:.2f} s of CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
