"""Config layering: defaults < rag.toml < RAG_* environment < flags; unknown keys are errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexes import ConfigError
from rag.config import Config, load_config, load_passwords


def test_defaults_and_default_index_under_rag_home(tmp_path: Path) -> None:
    config = load_config()
    assert config == Config()
    assert config.index_dir() == tmp_path / "rag-home" / "index"


def test_layering_file_then_env_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rag.toml").write_text('top_k = 3\nn_ctx = 2048\nmodel = "/models/a.gguf"\nexclude = ["*.log"]\n')
    assert load_config().top_k == 3
    monkeypatch.setenv("RAG_TOP_K", "7")
    monkeypatch.setenv("RAG_EXCLUDE", "*.tmp, drafts/*")
    config = load_config()
    assert (config.top_k, config.n_ctx, config.model) == (7, 2048, "/models/a.gguf")
    assert config.exclude == ("*.tmp", "drafts/*")
    flagged = load_config({"top_k": 9, "model": None})
    assert (flagged.top_k, flagged.model) == (9, "/models/a.gguf")


def test_rag_config_env_selects_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("temperature = 0.5\n")
    monkeypatch.setenv("RAG_CONFIG", str(path))
    assert load_config().temperature == 0.5
    monkeypatch.setenv("RAG_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="missing.toml"):
        load_config()


def test_unknown_key_in_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "rag.toml").write_text("topk = 3\n")
    with pytest.raises(ConfigError, match="unknown setting.*topk"):
        load_config()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"top_k": 0}, "top_k must be at least 1"),
    ({"n_ctx": "lots"}, "n_ctx = 'lots' is not a valid int"),
    ({"max_answer_tokens": 5000}, "max_answer_tokens 5000 must be between 1 and n_ctx 4096"),
    ({"colour": "red"}, "unknown setting 'colour'"),
])
def test_bad_values_name_the_setting(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(overrides)


def test_password_file(tmp_path: Path) -> None:
    path = tmp_path / "pw.toml"
    path.write_text('"*lease*.pdf" = "secret"\n')
    assert load_passwords(path) == {"*lease*.pdf": "secret"}
    path.write_text('"*.pdf" = 3\n')
    with pytest.raises(ConfigError, match="must be strings"):
        load_passwords(path)
