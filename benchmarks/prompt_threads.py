"""How llama.cpp's prompt evaluation holds up when the cores are shared: threads and OpenMP's wait policy.

    python benchmarks/prompt_threads.py [--tokens 530] [--rounds 5] [--json]

llama.cpp's CPU backend (as llama-cpp-python builds it here, with OpenMP) runs a prompt on
``n_threads_batch`` threads that meet at a barrier after every operation. OpenMP's default lets a
thread that reaches the barrier spin; when another process holds one of the two cores, the spinning
thread burns the core its partner needs and the evaluation stalls. ``OMP_WAIT_POLICY=PASSIVE`` makes
waiting threads sleep instead. This script measures a prompt of ``--tokens`` tokens (text from this
README, the default model) for each setting in a fresh process (the policy is read when OpenMP
starts): 1 thread, 2 threads spinning, 2 threads passive; each on the machine as it is ("as is") and
again beside a competing process that keeps one core busy ("one core busy"). The median of
``--rounds`` evaluations counts; CPU seconds show the spinning.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SETTINGS = (("1 thread", 1, None), ("2 threads, spinning (OpenMP default)", 2, "ACTIVE"),
            ("2 threads, passive", 2, "PASSIVE"))


def _child(tokens: int, threads: int, rounds: int) -> dict[str, float]:
    from llama_cpp import Llama

    from rag.generation.models import default_model_path

    llm = Llama(model_path=str(default_model_path()), n_ctx=4096, n_threads=threads, n_threads_batch=threads,
                verbose=False, logits_all=False)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    ids = llm.tokenize(text.encode())[:tokens]
    walls, cpus = [], []
    for _ in range(rounds):
        llm.reset()
        cpu, wall = time.process_time(), time.perf_counter()
        llm.eval(ids)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall_s": statistics.median(walls), "wall_max_s": max(walls), "cpu_s": statistics.median(cpus)}


def _busy(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def measure(tokens: int, rounds: int) -> list[dict[str, Any]]:
    rows = []
    for load in ("as is", "one core busy"):
        for label, threads, policy in SETTINGS:
            env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
            if policy:
                env["OMP_WAIT_POLICY"] = policy
            competitor = None
            if load == "one core busy":
                competitor = multiprocessing.Process(target=_busy, args=(600,), daemon=True)
                competitor.start()
            try:
                out = subprocess.run([sys.executable, __file__, "--child", str(tokens), str(threads), str(rounds)],
                                     env=env, capture_output=True, text=True, check=True, cwd=ROOT)
            finally:
                if competitor is not None:
                    competitor.terminate()
                    competitor.join()
            result = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append({"load": load, "setting": label, "threads": threads, "policy": policy or "default",
                         **{k: round(v, 3) for k, v in result.items()},
                         "tokens_per_s": round(tokens / result["wall_s"], 1)})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=530)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return 0
    rows = measure(args.tokens, args.rounds)
    report = {"tokens": args.tokens, "rounds": args.rounds, "cpus": os.cpu_count(), "load_average": os.getloadavg(),
              "rows": rows}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"prompt of {args.tokens} tokens, median of {args.rounds}; load average {os.getloadavg()[0]:.2f}\n")
    print("| machine | setting | wall (median) | wall (worst) | CPU s | tokens/s |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['load']} | {r['setting']} | {r['wall_s']:.2f} s | {r['wall_max_s']:.2f} s | {r['cpu_s']:.2f} "
              f"| {r['tokens_per_s']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
