"""Embedder backends: torch, onnx, onnx-int8 chosen by config and recorded in the index;
another backend accepted only after a measured agreement; the ONNX export cached and repaired.

The model tests use the packaged all-MiniLM-L6-v2 and export it for real (ONNX, int8).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from indexes import ConfigError, EmbedderMismatchError, HashEmbedder, Index, load_embedder
from indexes.compat import BACKEND_KEY, MIN_AGREEMENT, agreement, recorded_backend, require_backend
from indexes.embedders import default_embedder_path
from indexes.onnx_embedder import OnnxEmbedder, export_dir
from ingest import ingest_paths
from rag import RAG
from rag.cli import main
from rag.config import load_config

TEXTS = ["The lighthouse keeper lit the lamp at dusk.", "Tide tables list high and low water for each day.",
         "ﬁrst naïve café: 東京 모델은 in one line", ""]


def test_backend_is_chosen_by_config_environment_and_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_config().embed_backend is None  # the index's own, or the default for a new index
    assert load_config({"embed_backend": "onnx-int8"}).embed_backend == "onnx-int8"
    monkeypatch.setenv("RAG_EMBED_BACKEND", "onnx")
    assert load_config().embed_backend == "onnx"
    with pytest.raises(ConfigError, match="embed_backend 'tensorrt' is not one of torch, onnx, onnx-int8"):
        load_config({"embed_backend": "tensorrt"})
    with pytest.raises(ConfigError, match="embed backend 'gpu'"):
        load_embedder(None, backend="gpu")
    with pytest.raises(SystemExit):
        main(["--embed-backend", "fast", "status"])


def test_an_index_without_a_record_is_torch_and_keeps_it(tmp_path: Path, sample_dir: Path) -> None:
    report = ingest_paths(tmp_path / "idx", [sample_dir], HashEmbedder(dimension=64))
    assert report.exit_code == 0
    with Index.open(tmp_path / "idx") as index:
        assert index.manifest.settings[BACKEND_KEY] == "torch"  # a fake has no backend: it counts as torch
    assert recorded_backend({}) == "torch"  # an index made before backends existed
    with RAG.open(tmp_path / "idx") as rag:
        assert rag.embedder.backend == "torch"  # type: ignore[attr-defined]


@pytest.mark.model
@pytest.mark.slow
def test_a_new_index_records_its_backend_and_reopens_with_it(tmp_path: Path, sample_dir: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--embed-backend", "onnx-int8", "ingest", str(sample_dir), "--index", str(tmp_path / "idx"),
                 "--json"]) == 0
    capsys.readouterr()
    assert json.loads((tmp_path / "idx" / "manifest.json").read_text())["settings"][BACKEND_KEY] == "onnx-int8"
    assert main(["status", "--index", str(tmp_path / "idx")]) == 0
    assert "onnx-int8 backend" in capsys.readouterr().out
    with RAG.open(tmp_path / "idx") as rag:  # no backend asked for: the index's own
        assert rag.embedder.backend == "onnx-int8"  # type: ignore[attr-defined]
        hits = rag.search("What is the speed limit inside the harbour?", 3, mode="dense")
        assert hits and hits[0].chunk.source.endswith("tide-table.html") and "5 knots" in hits[0].chunk.text


@pytest.mark.model
@pytest.mark.slow
def test_onnx_matches_torch_tokens_and_vectors(real_embedder: object) -> None:
    onnx = load_embedder(None, backend="onnx")
    int8 = load_embedder(None, backend="onnx-int8")
    for text in TEXTS:  # same tokens: chunks are cut the same on every backend
        assert onnx.tokenize(text) == int8.tokenize(text) == real_embedder.tokenize(text)  # type: ignore[attr-defined]
    reference = real_embedder.embed(TEXTS)  # type: ignore[attr-defined]
    assert onnx.max_tokens == int8.max_tokens == 256 and onnx.dimension == 384
    np.testing.assert_allclose(np.sum(onnx.embed(TEXTS) * reference, axis=1), 1.0, atol=1e-4)
    cosines = np.sum(int8.embed(TEXTS) * reference, axis=1)
    assert cosines.min() > 0.95 and not np.allclose(cosines, 1.0, atol=1e-4)  # close, yet really int8
    assert np.allclose(np.linalg.norm(int8.embed(TEXTS), axis=1), 1.0, atol=1e-5)
    # Both run the fused graph: one attention kernel per layer (int8: QAttention, every product in int8).
    layers = 6  # all-MiniLM-L6-v2
    fp32 = _ops(onnx)
    assert (fp32["Attention"], fp32["EmbedLayerNormalization"], fp32["SkipLayerNormalization"], fp32["BiasGelu"]) \
        == (layers, 1, 2 * layers, layers)
    assert not {"Softmax", "Erf", "ReduceMean"} & set(fp32)  # no unfused attention, GELU or layer norm left
    assert {k: v for k, v in _ops(int8).items() if k.startswith("Q")} == {"QAttention": layers}
    assert _ops(int8)["EmbedLayerNormalization"] == 1  # embedding tables stay fp32
    assert "MatMul" not in _ops(int8) and _ops(int8)["MatMulInteger"] == 3 * layers


def _ops(embedder: object) -> dict[str, int]:
    """How many nodes of each operator the embedder's exported ``model.onnx`` holds."""
    import onnx

    graph = onnx.load(str(embedder.directory / "model.onnx")).graph  # type: ignore[attr-defined]
    return dict(Counter(node.op_type for node in graph.node))


@pytest.mark.model
def test_token_counts_match_the_models_own_tokenizer_call(real_embedder: object) -> None:
    """The chunker counts with a bare copy of the fast tokenizer: the same ids as transformers' call."""
    tokenizer = real_embedder._model.tokenizer  # type: ignore[attr-defined]
    words = Path(__file__).read_text(encoding="utf-8").split()
    texts = [*TEXTS, " ".join(words[:400]), "\u00a0tab\there\r\nZ\u0301\ufb01 ﾃｽﾄ 😀 " * 3, "x" * 3000]
    for text in texts:
        expected = tokenizer(text, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        assert real_embedder.tokenize(text) == expected  # type: ignore[attr-defined]
    tokenizer(["long " * 400], truncation=True, max_length=256)  # transformers leaves truncation on its tokenizer
    assert len(real_embedder.tokenize("long " * 400)) == 400  # type: ignore[attr-defined]


@pytest.mark.model
@pytest.mark.slow
def test_another_backend_is_refused_below_the_agreement_and_accepted_above(
        tmp_path: Path, sample_dir: Path, real_embedder: object, caplog: pytest.LogCaptureFixture) -> None:
    assert ingest_paths(tmp_path / "idx", [sample_dir], real_embedder).exit_code == 0  # type: ignore[arg-type]
    assert real_embedder.threads is None  # type: ignore[attr-defined]  # the cores lent to the parser are given back
    int8 = load_embedder(None, backend="onnx-int8")
    with Index.open(tmp_path / "idx") as index:
        mean, low = agreement(index, int8, real_embedder)  # type: ignore[arg-type]
        assert MIN_AGREEMENT <= mean < 0.9999 and low <= mean
        with pytest.raises(EmbedderMismatchError, match="built with the torch backend; the onnx-int8 backend agrees") as err:
            require_backend(index, int8, min_agreement=0.9999)
        assert err.value.code == "embed_backend_mismatch" and "--embed-backend torch" in err.value.message
        with caplog.at_level(logging.INFO, logger="indexes.compat"):
            require_backend(index, int8)
        assert "agrees with it (mean cosine 0.99" in caplog.text
    # Through the user's path: searching the torch index with the int8 backend is accepted after measuring.
    with RAG.open(tmp_path / "idx", embed_backend="onnx-int8") as rag:
        assert rag.search("lighthouse keeper", 2)
    with Index.open(tmp_path / "idx") as index:
        assert recorded_backend(index.manifest.settings) == "torch"  # the record stays what built the vectors


@pytest.mark.model
@pytest.mark.slow
def test_export_is_cached_reused_and_a_damaged_copy_is_exported_again(tmp_path: Path) -> None:
    path = default_embedder_path()
    first = OnnxEmbedder(path, backend="onnx-int8", cache_dir=tmp_path)
    model = export_dir(path, "onnx-int8", tmp_path) / "model.onnx"
    assert first.exported and model.is_file()
    stamp = model.stat().st_mtime_ns, model.stat().st_ino
    vectors = first.embed(TEXTS)

    second = OnnxEmbedder(path, backend="onnx-int8", cache_dir=tmp_path)
    assert not second.exported and (model.stat().st_mtime_ns, model.stat().st_ino) == stamp  # no second export
    np.testing.assert_array_equal(second.embed(TEXTS), vectors)

    with open(model, "r+b") as handle:  # a partial copy: cut short
        handle.truncate(model.stat().st_size // 2)
    third = OnnxEmbedder(path, backend="onnx-int8", cache_dir=tmp_path)
    assert third.exported
    np.testing.assert_allclose(third.embed(TEXTS), vectors, atol=1e-6)

    size = model.stat().st_size  # damaged in place, size intact: ONNX Runtime refuses it, so it is exported again
    model.write_bytes(os.urandom(size))
    fourth = OnnxEmbedder(path, backend="onnx-int8", cache_dir=tmp_path)
    assert fourth.exported
    np.testing.assert_allclose(fourth.embed(TEXTS), vectors, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == [model.parent.name]  # no temporary or damaged copy left


@pytest.mark.model
@pytest.mark.slow
def test_concurrent_first_uses_share_one_complete_export(tmp_path: Path) -> None:
    """Two processes exporting into the same empty cache at once: both embed, one copy stays, nothing half-made."""
    script = ("import sys; from indexes.embedders import default_embedder_path; from indexes.onnx_embedder import "
              "OnnxEmbedder; e = OnnxEmbedder(default_embedder_path(), backend='onnx', cache_dir=__import__('pathlib')"
              ".Path(sys.argv[1])); print(e.exported, float(e.embed(['tide tables'])[0][:3].sum()))")
    runs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True)
            for _ in range(2)]
    outputs = [run.communicate(timeout=600)[0].split() for run in runs]
    assert [run.returncode for run in runs] == [0, 0]
    assert outputs[0][1] == outputs[1][1]  # the same vector from either copy
    assert sorted(p.name for p in tmp_path.iterdir()) == [export_dir(default_embedder_path(), "onnx", tmp_path).name]
    assert OnnxEmbedder(default_embedder_path(), backend="onnx", cache_dir=tmp_path).exported is False


def test_the_onnx_backends_need_a_local_model_directory(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="exports from a local model directory"):
        OnnxEmbedder(str(tmp_path / "absent"), backend="onnx")
    model = tmp_path / "model"
    shutil.copytree(default_embedder_path(), model, ignore=shutil.ignore_patterns("*.safetensors"))
    (model / "modules.json").write_text(json.dumps([{"path": "", "type": "sentence_transformers.models.Transformer"}]))
    with pytest.raises(Exception, match="use --embed-backend torch"):
        OnnxEmbedder(str(model), backend="onnx-int8", cache_dir=tmp_path / "cache")
