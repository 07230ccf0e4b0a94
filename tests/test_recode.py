"""The default model re-encoded from Q4_1 to Q8_0 for llama.cpp's faster CPU kernels: the same model
(its next-token distribution matches the packaged file's), made once, kept apart from models that are
large or already fast, and never in the way when the copy cannot be made."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from indexes.errors import ConfigError
from rag.config import load_config
from rag.generation.models import default_model_path
from rag.generation.policy import header_keys, read_model_info
from rag.generation.recode import SLOW_TYPES, recoded_model

from .gguf_tools import write_tiny_gguf

Q4_1, Q8_0 = 3, 7
PROMPT = b"<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def recoded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    cache = tmp_path_factory.mktemp("models")
    choice = recoded_model(default_model_path(), "auto", cache_dir=cache)
    assert choice.recoded and choice.source == default_model_path()
    return choice.source, choice.path


def _last_logits(path: Path) -> np.ndarray:
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=256, n_threads=1, logits_all=True, verbose=False)
    try:
        llm.eval(llm.tokenize(PROMPT, special=True))
        return np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
    finally:
        llm.close()


def test_the_default_q4_1_model_runs_as_q8_0_with_the_same_predictions(recoded: tuple[Path, Path]) -> None:
    source, copy = recoded
    assert read_model_info(source).file_type == Q4_1 and read_model_info(copy).file_type == Q8_0
    assert 1.4 < copy.stat().st_size / source.stat().st_size < 1.7  # 8.5 bits a weight against 5
    before, after = _last_logits(source), _last_logits(copy)
    assert before.std() > 1 and after.std() > 1  # real logits, not an empty buffer
    assert int(before.argmax()) == int(after.argmax())
    top = np.argsort(-before)[:20]
    assert set(top[:5].tolist()) == set(np.argsort(-after)[:5].tolist())
    assert np.corrcoef(before[top], after[top])[0, 1] > 0.99


def test_the_copy_is_made_once_and_reused(recoded: tuple[Path, Path]) -> None:
    source, copy = recoded
    stamp = copy.stat().st_mtime_ns
    again = recoded_model(source, "auto", cache_dir=copy.parent)
    assert again.path == copy and copy.stat().st_mtime_ns == stamp
    assert [p.name for p in copy.parent.iterdir()] == [copy.name]  # no temporary file left behind
    assert recoded_model(source, "off", cache_dir=copy.parent).path == source
    assert recoded_model(source, "auto", cache_dir=copy.parent, gpu_layers=20).path == source  # GPU: kernels differ


def test_a_newer_source_replaces_the_older_copy(tmp_path: Path) -> None:
    import os
    import shutil
    import time

    source = Path(shutil.copy(default_model_path(), tmp_path / "model.gguf"))
    cache = tmp_path / "cache"
    first = recoded_model(source, "auto", cache_dir=cache).path
    stale = cache / ".recode-interrupted.gguf"  # what a killed re-encoding leaves
    stale.write_bytes(b"GGUF")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    os.utime(source, (time.time() + 10, time.time() + 10))  # the package was upgraded: a new stamp
    second = recoded_model(source, "auto", cache_dir=cache).path
    assert second != first and second.is_file()
    assert sorted(p.name for p in cache.iterdir()) == [second.name]  # the older copy and the leftover are gone


def test_a_copy_llama_cpp_cannot_load_is_deleted_and_the_packaged_file_runs(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from rag import RAG

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    first = recoded_model(default_model_path(), "auto")
    first.path.write_bytes(first.path.read_bytes()[:4096])  # a truncated copy
    rag = RAG.open(tmp_path / "index", create=True)
    try:
        assert rag.generator is not None and rag.model_file is not None
        assert rag.model_file.path == default_model_path() and "did not load" in rag.model_file.reason
        assert not first.path.exists()  # made again, whole, on next use
    finally:
        rag.close()
    assert recoded_model(default_model_path(), "auto").path == first.path and first.path.stat().st_size > 10**8


def test_a_quantizer_that_fails_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    monkeypatch.setattr(llama_cpp, "llama_model_quantize", lambda *args: 1)
    choice = recoded_model(default_model_path(), "auto", cache_dir=tmp_path / "cache")
    assert choice.path == default_model_path() and "could not re-encode" in choice.reason
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_model_already_in_a_fast_type_runs_as_it_is(recoded: tuple[Path, Path]) -> None:
    _source, copy = recoded
    for choice in ("auto", "q8_0"):
        kept = recoded_model(copy, choice, cache_dir=copy.parent / "other")
        assert kept.path == copy and not kept.recoded and "fast CPU kernels" in kept.reason
    assert not (copy.parent / "other").exists()


@pytest.mark.parametrize("file_type", sorted(SLOW_TYPES))
def test_auto_leaves_a_large_model_alone(tmp_path: Path, file_type: int) -> None:
    big = write_tiny_gguf(tmp_path / "llama-2-7b-chat.gguf", size_label="7B", file_type=file_type)
    kept = recoded_model(big, "auto", cache_dir=tmp_path / "cache")
    assert kept.path == big and "under 1B" in kept.reason
    assert not (tmp_path / "cache").exists()


def test_a_copy_that_cannot_be_made_falls_back_to_the_source(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache directory should be")
    with caplog.at_level(logging.WARNING, logger="rag.generation.recode"):
        choice = recoded_model(default_model_path(), "auto", cache_dir=blocked)
    assert choice.path == default_model_path() and "failed" in choice.reason
    assert "cannot re-encode" in caplog.text and blocked.read_text().startswith("a file")


def test_a_header_that_cannot_be_read_is_left_to_llama_cpp(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF\x03\x00\x00\x00" + b"\xff" * 40)
    choice = recoded_model(broken, "auto", cache_dir=tmp_path / "cache")
    assert choice.path == broken and "unreadable" in choice.reason


def test_the_header_reader_skips_nested_arrays_and_agrees_with_gguf(tmp_path: Path) -> None:
    import gguf

    path = tmp_path / "nested.gguf"
    writer = gguf.GGUFWriter(path, arch="llama")
    writer.add_array("general.tags", [["a", "bb"], ["ccc"]])  # an array of arrays comes before the keys wanted
    writer.add_string("general.size_label", "135M")
    writer.add_file_type(Q4_1)
    writer.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    info = read_model_info(path)
    assert (info.file_type, info.parameters, info.parameters_from) == (Q4_1, 135_000_000, "general.size_label")
    # the key walker reads what gguf's full reader reads, for every scalar and string key of the default model
    reader = gguf.GGUFReader(str(default_model_path()), "r")
    keys = header_keys(default_model_path())
    full = {name: field.contents() for name, field in reader.fields.items()
            if not name.startswith("GGUF.") and field.types and field.types[0] != gguf.GGUFValueType.ARRAY}
    assert keys == full and keys["general.file_type"] == Q4_1 and "tokenizer.chat_template" in keys


def test_recode_model_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_RECODE_MODEL", "q4_0")
    with pytest.raises(ConfigError, match="recode_model 'q4_0' is not one of auto, q8_0, off"):
        load_config()
    monkeypatch.setenv("RAG_RECODE_MODEL", "off")
    assert load_config().recode_model == "off"
