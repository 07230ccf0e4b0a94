"""How fast llama.cpp runs the default model in each weight type, side by side in one process.

The packaged SmolLM2-135M (Q4_1) is re-encoded with llama.cpp's own quantizer into Q8_0, Q5_0, Q5_1 and
Q4_0 (into ``--workdir``; speed depends on the type, not on which file the weights came from). Each file
then evaluates the same prompt (``--tokens`` tokens of this README) from an empty context, best of
``--repeat``, and samples ``--generate`` tokens greedily after it. Reported: prompt tokens/s and generated
tokens/s per type, and each as a ratio to Q4_1 (the packaged type). ``rag.generation.recode`` runs a small
model stored in a slow type as Q8_0; this is the measurement behind that rule.

    python benchmarks/weight_types.py [--tokens 350] [--generate 40] [--repeat 3] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rag.generation.models import default_model_path  # noqa: E402
from rag.generation.recode import requantize  # noqa: E402

TYPES = {"Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9, "Q4_0": 2}


def measure(path: Path, prompt: bytes, tokens: int, generate: int, repeat: int, threads: int | None) -> dict[str, Any]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
    try:
        ids = llm.tokenize(prompt)[:tokens]
        best = float("inf")
        for _ in range(repeat):
            llm.reset()
            started = time.perf_counter()
            llm.eval(ids)
            best = min(best, time.perf_counter() - started)
        sampled = 0
        started = time.perf_counter()
        for _token in llm.generate(ids, temp=0.0, reset=True):
            sampled += 1
            if sampled == 1:
                started = time.perf_counter()  # from the first token: the prompt is timed above
            if sampled > generate:
                break
        sampling = time.perf_counter() - started
        return {"file_mb": round(path.stat().st_size / 1e6, 1), "prompt_tokens": len(ids),
                "prompt_s": round(best, 3), "prompt_tokens_per_s": round(len(ids) / best, 1),
                "generate_tokens_per_s": round(generate / sampling, 1)}
    finally:
        llm.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=350)
    parser.add_argument("--generate", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "rag-weight-types")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # not a line per tensor
    source = default_model_path()
    args.workdir.mkdir(parents=True, exist_ok=True)
    prompt = (REPO / "README.md").read_text(encoding="utf-8")[:8000].encode()
    results: dict[str, Any] = {}
    for name, ftype in TYPES.items():
        path = source if name == "Q4_1" else args.workdir / f"{source.stem}.{name.lower()}.gguf"
        if not path.exists():
            requantize(source, path, ftype)
        results[name] = measure(path, prompt, args.tokens, args.generate, args.repeat, args.threads)
    base = results["Q4_1"]
    for row in results.values():
        row["prompt_vs_q4_1"] = round(row["prompt_tokens_per_s"] / base["prompt_tokens_per_s"], 2)
        row["generate_vs_q4_1"] = round(row["generate_tokens_per_s"] / base["generate_tokens_per_s"], 2)
    report = {"model": source.name, "threads": args.threads, "load_average": [round(x, 2) for x in os.getloadavg()],
              "types": results}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{'type':<6}{'MB':>8}{'prompt tok/s':>14}{'x Q4_1':>8}{'gen tok/s':>11}{'x Q4_1':>8}")
    for name, row in results.items():
        print(f"{name:<6}{row['file_mb']:>8.1f}{row['prompt_tokens_per_s']:>14.1f}{row['prompt_vs_q4_1']:>8.2f}"
              f"{row['generate_tokens_per_s']:>11.1f}{row['generate_vs_q4_1']:>8.2f}")
    print(f"load average {report['load_average']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
