"""`rag doctor`: each problem a user can have is reported as a failure or warning with its fix."""

from __future__ import annotations

import json
import shutil
from collections import namedtuple
from pathlib import Path

import pytest

from indexes import HashEmbedder
from rag import RAG
from rag.cli import main
from rag.config import load_config
from rag.doctor import Check, llama_build, run_checks
from tests.serve_support import write_corpus


@pytest.fixture
def index(tmp_path: Path) -> Path:
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), workers=0) as rag:
        rag.ingest([write_corpus(tmp_path / "docs")])
    return tmp_path / "idx"


def _by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


@pytest.mark.model
def test_a_healthy_install_and_index_pass(index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--index", str(index), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] and checks["index"]["status"] == "ok" and "2 files" in checks["index"]["detail"]
    assert "chat format: template" in checks["model"]["detail"]
    assert "Q4_1 re-encoded to Q8_0" in checks["model"]["detail"] and ".q8_0.gguf" in checks["model"]["detail"]
    assert "backends: CPU" in checks["llama.cpp"]["detail"]


def test_a_missing_model_file_fails_with_the_fix(index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--index", str(index), "--model", "/nowhere/llama-2-7b.gguf"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  model" in out and "Model file not found: /nowhere/llama-2-7b.gguf" in out and "fix: pass --model" in out


def test_gpu_layers_that_would_not_offload_are_reported(tmp_path: Path) -> None:
    if llama_build()[1]:
        pytest.skip("this llama.cpp build can offload")
    check = _by_name(run_checks(load_config({"index": str(tmp_path / "none"), "n_gpu_layers": 20})))["llama.cpp"]
    assert check.status == "fail" and "--gpu-layers 20 would not offload" in check.detail and "GGML_CUDA" in (check.fix or "")


def test_an_embedder_other_than_the_indexs_fails(index: Path) -> None:
    check = _by_name(run_checks(load_config({"index": str(index), "embedder": "intfloat/e5-small-v2"})))["embedder"]
    assert check.status == "fail" and "intfloat/e5-small-v2" in check.detail and "rebuild" in (check.fix or "")


def test_a_damaged_index_fails(index: Path) -> None:
    for vectors in index.glob("vectors-*"):
        vectors.unlink() if vectors.is_file() else shutil.rmtree(vectors)
    check = _by_name(run_checks(load_config({"index": str(index)})))["index"]
    assert check.status == "fail" and "rebuild" in (check.fix or "")


def test_low_disk_space_warns(index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("rag.doctor.shutil.disk_usage", lambda _: usage(10 << 30, (10 << 30) - (200 << 20), 200 << 20))
    check = _by_name(run_checks(load_config({"index": str(index)})))["disk"]
    assert check.status == "warn" and "0.2 GiB free" in check.detail
