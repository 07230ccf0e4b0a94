"""rag serve on the real stack (all-MiniLM-L6-v2, SmolLM2 through llama.cpp): `rag serve` then curl, and the
OpenAI client streaming a cited answer whose source is the user guide's page 3."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from rag import RAG
from rag.serve import ServeSettings, create_app
from tests.serve_support import build_index, free_port, running

pytestmark = [pytest.mark.model, pytest.mark.slow]

QUESTION = "Which exit code does rag ingest return when some files fail?"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path, real_embedder: Any) -> Path:
    return build_index(tmp_path_factory.mktemp("serve-real") / "idx", sample_dir, real_embedder)


def _cites_page_3(rag_doc: dict[str, Any]) -> bool:
    return any(c["file"].endswith("user-guide.pdf") and c["page"] == 3 and (c["cited"] or c["inferred"])
               for c in rag_doc["citations"])


def test_openai_client_streams_a_cited_answer(index: Path, real_embedder: Any, real_generator: Any) -> None:
    with RAG.open(index, embedder=real_embedder, generator=real_generator) as rag, \
            running(create_app(rag, ServeSettings(model_name="SmolLM2"))) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="none", max_retries=0)
        chunks = list(client.chat.completions.create(model="SmolLM2", stream=True,
                                                     messages=[{"role": "user", "content": QUESTION}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    rag_doc = (chunks[-1].model_extra or {})["rag"]
    assert len(chunks) > 4 and re.search(r"\b2\b", rag_doc["answer"]) and "fail" in rag_doc["answer"].lower()
    assert text.endswith(rag_doc["answer"]) or rag_doc["grounding"] == "model"
    assert _cites_page_3(rag_doc)
    assert rag_doc["timings"]["first_token_ms"] > 0


def _wait_healthy(url: str, process: subprocess.Popen[str], seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"rag serve exited {process.returncode}: {process.stderr.read() if process.stderr else ''}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError("rag serve did not come up")


@pytest.fixture
def rag_serve(index: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "rag", "serve", "--index", str(index), "--port", str(port),
                                "--threads", "1"], stderr=subprocess.PIPE, text=True, env={**os.environ})
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_rag_serve_then_curl(rag_serve: str) -> None:
    body = json.dumps({"model": "rag", "stream": True, "messages": [{"role": "user", "content": QUESTION}]})
    out = subprocess.run(["curl", "-sN", "-H", "Content-Type: application/json", "-d", body,
                          f"{rag_serve}/v1/chat/completions"], capture_output=True, text=True, timeout=300, check=True)
    events = [line.removeprefix("data: ") for line in out.stdout.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]" and len(events) > 4
    last = json.loads(events[-2])
    assert last["choices"][0]["finish_reason"] == "stop" and _cites_page_3(last["rag"])
    models = json.loads(subprocess.run(["curl", "-s", f"{rag_serve}/v1/models"], capture_output=True, text=True,
                                       check=True).stdout)
    assert models["data"][0]["id"].startswith("SmolLM2")
