"""Time to first token and answer latency with the default model, the prefix cache on and off.

One process. The index holds the 48 English XQuAD articles (``../shared/data/qa/xquad/xquad.en.json``,
built once under ``--workdir``, or pass ``--index DIR`` with ``--questions-file``). ``--questions``
questions are sampled with ``random.Random(seed)``. Measured:

- **cold**: a new ``RAG`` answers the first question; the wall time from ``RAG.open`` to the first
  piece of text and to the finished answer, model loading included;
- **warm**: two ``RAG`` objects, each with its own model, one with the prefix cache (the system
  prompt's evaluated state kept between questions) and one without, both warmed by that first
  question, answer every question in turn (which goes first alternates). Time to first token is the
  wall time from ``RAG.stream`` to its first piece (retrieval, planning, prompt evaluation and the
  first sampled token); the answer time runs to the finished ``Answer`` (claim checks included).

Also reported: the process's CPU seconds to the first piece (far steadier than wall time when
other jobs share the cores) and the median of each question's off/on ratio (the pair ran back to back).
The two must give the same answers (the cache changes only time); the report counts how many do.
Questions answered before the model runs (abstentions on the evidence) are left out of the timings.

``--against recode`` compares instead the default model as packaged (Q4_1, ``recode_model = "off"``) with
the copy re-encoded to Q8_0 that runs by default (``rag.generation.recode``), both with the prefix cache:
"on" is the default, "off" the baseline, in the same process, on the same questions.

    python benchmarks/first_token.py [--questions 20] [--seed 0] [--top-k 5] [--threads N] [--against cache|recode]
                                     [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from rag import RAG
from rag.evaluation.squad import load_squad, sample_indices, write_articles
from rag.records import Answer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa" / "xquad" / "xquad.en.json"
TARGETS = {"warm_first_token_s": 1.0, "answer_p50_s": 3.0}


def build_index(workdir: Path, settings: dict[str, Any]) -> Path:
    """The XQuAD English articles, one file each, ingested once into ``workdir/index``."""
    index = workdir / "index"
    files = write_articles(load_squad(DATA), workdir / "articles")
    with RAG.open(index, create=True, **settings) as rag:
        report = rag.ingest(files)
    if report.exit_code:
        sys.exit(f"ingesting {workdir / 'articles'} failed: {report.summary()}")
    return index


def timed(rag: RAG, question: str) -> tuple[float, float, float, Answer]:
    """(seconds to the first piece, seconds to the answer, CPU seconds of this process to the first
    piece, the answer). CPU time moves far less than wall time when other jobs share the cores."""
    started, cpu = time.perf_counter(), time.process_time()
    first = first_cpu = 0.0
    answer: Answer | None = None
    for item in rag.stream(question):
        if isinstance(item, Answer):
            answer = item
        elif not first:
            first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    assert answer is not None
    return first, time.perf_counter() - started, first_cpu, answer


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(rows: list[dict[str, Any]], side: str) -> dict[str, Any]:
    ran = [r[side] for r in rows if r[side]["model_ran"]]
    ttft = [r["first_token_s"] for r in ran]
    cpu = [r["first_token_cpu_s"] for r in ran]
    total = [r["answer_s"] for r in ran]
    return {"questions": len(ran),
            "first_token_s": {"p50": round(statistics.median(ttft), 3), "p95": round(percentile(ttft, 95), 3)},
            "answer_s": {"p50": round(statistics.median(total), 3), "p95": round(percentile(total, 95), 3)},
            "first_token_cpu_s": {"p50": round(statistics.median(cpu), 3), "p95": round(percentile(cpu, 95), 3)},
            "prompt_tokens_evaluated_mean": round(statistics.mean(r["evaluated_tokens"] for r in ran), 1),
            **{f"{part}_ms_p50": round(statistics.median(r[f"{part}_ms"] for r in ran), 1)
               for part in ("retrieve", "plan", "prompt")}}


def row(first: float, total: float, first_cpu: float, answer: Answer) -> dict[str, Any]:
    run = answer.generation
    return {"model_ran": run is not None, "first_token_s": round(first, 3), "answer_s": round(total, 3),
            "first_token_cpu_s": round(first_cpu, 3),
            "evaluated_tokens": run.evaluated_tokens if run else 0, "reused_tokens": run.reused_tokens if run else 0,
            "prompt_ms": round(run.prompt_ms, 1) if run else 0.0, "retrieve_ms": round(answer.timings["retrieve_ms"], 1),
            "plan_ms": round(answer.timings.get("plan_ms", 0.0), 1), "text": answer.model_text or answer.text}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: llama.cpp's choice)")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/rag-first-token"))
    parser.add_argument("--against", choices=("cache", "recode"), default="cache",
                        help="the baseline: the prefix cache off (default), or the model as packaged, not re-encoded")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not DATA.exists():
        sys.exit(f"{DATA} is missing (the shared evaluation data)")
    settings: dict[str, Any] = {"top_k": args.top_k, "n_threads": args.threads, "workers": 0}
    index = build_index(args.workdir, settings)
    dataset = load_squad(DATA)
    chosen = [dataset.questions[i].question for i in sample_indices(len(dataset.questions), args.questions + 1,
                                                                    args.seed)]
    warmup, questions = chosen[0], chosen[1:]

    started = time.perf_counter()
    cached = RAG.open(index, **settings)
    opening = time.perf_counter() - started  # the open counts too: a cold process starts here
    cold_first, cold_total, _, cold_answer = timed(cached, warmup)
    cold = {"first_token_s": round(opening + cold_first, 3), "answer_s": round(opening + cold_total, 3),
            "load_ms": round(cold_answer.timings.get("load_ms", 0.0), 1)}
    baseline = {"prefix_cache": False} if args.against == "cache" else {"recode_model": "off"}
    whole = RAG.open(index, embedder=cached.embedder, **{**settings, **baseline})
    timed(whole, warmup)

    rows: list[dict[str, Any]] = []
    for n, question in enumerate(questions):
        order = [("on", cached), ("off", whole)] if n % 2 == 0 else [("off", whole), ("on", cached)]
        measured = {side: row(*timed(rag, question)) for side, rag in order}
        rows.append({"question": question, **measured})
        if not args.json:
            print(f"{n + 1:>3}/{len(questions)}  on {measured['on']['first_token_s']:.2f} s / "
                  f"{measured['on']['answer_s']:.2f} s   off {measured['off']['first_token_s']:.2f} s / "
                  f"{measured['off']['answer_s']:.2f} s", file=sys.stderr)
    cached.close()
    whole.close()

    on, off = summary(rows, "on"), summary(rows, "off")
    paired = [r for r in rows if r["on"]["model_ran"] and r["off"]["model_ran"]]
    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average": [round(x, 2) for x in os.getloadavg()]},
        "settings": {"questions": len(questions), "seed": args.seed, "top_k": args.top_k, "threads": args.threads,
                     "index": str(index)},
        "against": args.against, "model_files": {side: r.model_file.path.name if r.model_file else None
                                                 for side, r in (("on", cached), ("off", whole))},
        "cold": cold, "prefix_cache_on" if args.against == "cache" else "default": on,
        "prefix_cache_off" if args.against == "cache" else "not_recoded": off,
        "ratio_off_on": {"first_token_p50": round(off["first_token_s"]["p50"] / on["first_token_s"]["p50"], 3),
                         "answer_p50": round(off["answer_s"]["p50"] / on["answer_s"]["p50"], 3),
                         "prompt_ms_p50": round(off["prompt_ms_p50"] / on["prompt_ms_p50"], 3),
                         "first_token_cpu_p50": round(off["first_token_cpu_s"]["p50"] / on["first_token_cpu_s"]["p50"], 3),
                         # each question's off/on ratio, then their median: the pairs ran back to back
                         "first_token_paired_median": round(statistics.median(
                             r["off"]["first_token_s"] / r["on"]["first_token_s"] for r in paired), 3)},
        "identical_answers": sum(r["on"]["text"] == r["off"]["text"] for r in rows),
        "targets": {"warm_first_token_p50_met": on["first_token_s"]["p50"] <= TARGETS["warm_first_token_s"],
                    "answer_p50_met": on["answer_s"]["p50"] <= TARGETS["answer_p50_s"]},
    }
    if args.json:
        print(json.dumps({**report, "rows": rows}, indent=2))
        return 0
    print(f"cold first answer (open + load included): first token {cold['first_token_s']:.2f} s, "
          f"answer {cold['answer_s']:.2f} s (model load {cold['load_ms'] / 1000:.2f} s)")
    label = "prefix cache" if args.against == "cache" else "recoded"
    print(f"{label:<14}{'TTFT p50':>10}{'TTFT p95':>10}{'answer p50':>12}{'answer p95':>12}"
          f"{'CPU s to TTFT p50':>19}{'prompt tokens evaluated':>25}{'retrieve/plan/prompt ms p50':>30}")
    for name, s in (("on", on), ("off", off)):
        print(f"{name:<14}{s['first_token_s']['p50']:>10.2f}{s['first_token_s']['p95']:>10.2f}"
              f"{s['answer_s']['p50']:>12.2f}{s['answer_s']['p95']:>12.2f}{s['first_token_cpu_s']['p50']:>19.2f}"
              f"{s['prompt_tokens_evaluated_mean']:>25.1f}"
              f"{s['retrieve_ms_p50']:>10.0f} /{s['plan_ms_p50']:>6.0f} /{s['prompt_ms_p50']:>6.0f}")
    r = report["ratio_off_on"]
    print(f"ratio off/on: TTFT p50 {r['first_token_p50']:.3f} (paired median {r['first_token_paired_median']:.3f}, "
          f"CPU {r['first_token_cpu_p50']:.3f}), answer p50 {r['answer_p50']:.3f}, "
          f"prompt ms p50 {r['prompt_ms_p50']:.3f}; identical answers {report['identical_answers']}/{len(rows)}; "
          f"{on['questions']} of {len(rows)} questions reached the model; load average {report['machine']['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
