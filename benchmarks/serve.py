"""rag serve under load with the default models: time to first token and answers per minute at 1, 4 and 16 clients.

    python benchmarks/serve.py [--clients 1 4 16] [--answers 24] [--threads N] [--json]

Builds the sample corpus (samples/ plus the user-guide PDF) into a temporary index, starts
``rag serve`` as its own process on 127.0.0.1, and for each concurrency level runs that many
clients, each streaming chat completions (OpenAI's SSE shape) from a fixed list of questions
until ``--answers`` answers are done. Time to first token is from sending the request to the
first non-empty content delta, so it includes waiting in the queue for the one generator;
answers per minute is completed answers over the level's wall time. Traffic goes to loopback only,
and every loop is bounded by the answer count and a per-request timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "Which exit code does rag ingest return when some files fail?",
    "How many passages does rag ask retrieve by default?",
    "What do I need to install rag?",
    "What is the harbour speed limit?",
    "How tall is the Kestrel Point lighthouse?",
    "Where do settings come from?",
    "When is high tide?",
    "Which files can rag read?",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _build_index(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir()
    for path in (REPO / "samples").iterdir():
        if path.suffix in (".md", ".html", ".txt"):
            shutil.copy(path, docs / path.name)
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_sample_pdf.py"), str(REPO / "docs" / "user-guide.md"),
                    str(docs / "user-guide.pdf")], check=True)
    subprocess.run([sys.executable, "-m", "rag", "ingest", str(docs), "--index", str(root / "idx")], check=True,
                   stdout=subprocess.DEVNULL)
    return root / "idx"


def _ask(url: str, question: str) -> tuple[float | None, float, bool]:
    """(seconds to the first content delta, seconds to the end, whether the rag document arrived)."""
    body = {"model": "rag", "stream": True, "messages": [{"role": "user", "content": question}]}
    started = time.perf_counter()
    first: float | None = None
    finished = False
    with httpx.stream("POST", f"{url}/v1/chat/completions", json=body, timeout=600) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            chunk = json.loads(line[6:])
            if first is None and chunk["choices"][0]["delta"].get("content"):
                first = time.perf_counter() - started
            finished = finished or "rag" in chunk
    return first, time.perf_counter() - started, finished


def run_level(url: str, clients: int, answers: int) -> dict[str, Any]:
    lock = threading.Lock()
    next_question = iter(range(answers))
    ttft: list[float] = []
    totals: list[float] = []
    errors: list[str] = []

    def client() -> None:
        while True:
            with lock:
                i = next(next_question, None)
            if i is None:
                return
            try:
                first, total, finished = _ask(url, QUESTIONS[i % len(QUESTIONS)])
            except (httpx.HTTPError, ValueError) as exc:
                with lock:
                    errors.append(str(exc))
                continue
            with lock:
                if first is not None:
                    ttft.append(first)
                if finished:
                    totals.append(total)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ttft.sort()
    return {"clients": clients, "answers": len(totals), "errors": len(errors), "wall_s": round(wall, 1),
            "answers_per_minute": round(len(totals) / wall * 60, 1),
            "ttft_p50_s": round(statistics.median(ttft), 2) if ttft else None,
            "ttft_p95_s": round(ttft[min(len(ttft) - 1, int(0.95 * len(ttft)))], 2) if ttft else None,
            "answer_p50_s": round(statistics.median(totals), 2) if totals else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--answers", type=int, default=24, help="answers per concurrency level")
    parser.add_argument("--threads", type=int, help="llama.cpp threads (rag serve --threads)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rag-serve-bench-") as tmp:
        env = {**os.environ, "RAG_HOME": str(Path(tmp) / "home")}
        os.environ["RAG_HOME"] = env["RAG_HOME"]
        index = _build_index(Path(tmp))
        port = _free_port()
        command = [sys.executable, "-m", "rag", "serve", "--index", str(index), "--port", str(port)]
        if args.threads:
            command += ["--threads", str(args.threads)]
        server = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise SystemExit("rag serve did not start") from None
                    time.sleep(0.5)
            _ask(url, QUESTIONS[0])  # warm-up
            levels = []
            for n in args.clients:
                levels.append(run_level(url, n, max(args.answers, n)))
                print(json.dumps(levels[-1]), file=sys.stderr, flush=True)  # partial results survive an interrupt
        finally:
            server.terminate()
            server.wait(timeout=60)
    result = {"levels": levels, "model": "SmolLM2-135M-Instruct (default)", "threads": args.threads,
              "cpus": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()}
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{'clients':>7} {'answers':>7} {'ans/min':>8} {'TTFT p50':>9} {'TTFT p95':>9} {'answer p50':>10}")
        for r in levels:
            print(f"{r['clients']:>7} {r['answers']:>7} {r['answers_per_minute']:>8} {r['ttft_p50_s']:>8}s "
                  f"{r['ttft_p95_s']:>8}s {r['answer_p50_s']:>9}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
