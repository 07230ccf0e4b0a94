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
    monkeypatch.setenv("RAG_TRUST_LOCAL_CONFIG", "1")
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


def test_local_rag_toml_cannot_choose_what_is_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    """Running rag inside an untrusted folder: its rag.toml is read with a notice, but its model,
    reranker, embedder and password file are ignored unless the folder is trusted."""
    (tmp_path / "rag.toml").write_text('top_k = 4\nmodel = "evil.gguf"\nreranker = "evil-dir"\n'
                                       'embedder = "evil-embedder"\npassword_file = "pw.toml"\n')
    with caplog.at_level("WARNING", logger="rag.config"):
        config = load_config()
    assert config.top_k == 4
    assert (config.model, config.reranker, config.embedder, config.password_file) == (None, None, None, None)
    assert "current directory" in caplog.text and "ignoring model = 'evil.gguf'" in caplog.text
    monkeypatch.setenv("RAG_TRUST_LOCAL_CONFIG", "1")
    trusted = load_config()
    assert (trusted.model, trusted.reranker) == ("evil.gguf", "evil-dir")


def test_user_config_is_trusted_and_local_file_overrides_its_plain_settings(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "xdg"
    (home / "rag").mkdir(parents=True)
    (home / "rag" / "rag.toml").write_text('model = "/models/mine.gguf"\ntop_k = 2\n')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    (tmp_path / "rag.toml").write_text('top_k = 6\nmodel = "other.gguf"\n')
    config = load_config()
    assert (config.model, config.top_k) == ("/models/mine.gguf", 6)


def test_config_flag_selects_the_file_for_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from rag.cli import main

    monkeypatch.setenv("RAG_CONFIG", "")  # the flag sets it for the process; restored after the test
    path = tmp_path / "chosen.toml"
    path.write_text('top_k = 11\nmodel = "/models/x.gguf"\n')
    assert main(["--config", str(path), "config", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["top_k"], shown["model"]) == (11, "/models/x.gguf")


def test_local_rag_toml_cannot_send_documents_elsewhere_or_loosen_limits(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "rag.toml").write_text('index = "/tmp/attacker-index"\nfollow_symlinks = true\nworkers = 0\n'
                                       'max_file_mb = 100000\nfile_timeout = 99999\nmax_pages = 50\n')
    with caplog.at_level("WARNING", logger="rag.config"):
        config = load_config()
    assert config.index is None and config.follow_symlinks is False and config.workers == Config().workers
    assert (config.max_file_mb, config.file_timeout) == (Config().max_file_mb, Config().file_timeout)
    assert config.max_pages == 50  # tightening a limit is allowed
    assert "ignoring index" in caplog.text and "ignoring max_file_mb" in caplog.text
