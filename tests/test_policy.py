"""The answer style per model: read from a GGUF header (no weights loaded), configured, or flagged."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexes import ConfigError
from rag.config import load_config
from rag.generation.policy import choose_style, read_model_info

from .gguf_tools import write_tiny_gguf


def test_size_label_of_a_7b_chat_model_chooses_generative(tmp_path: Path) -> None:
    info = read_model_info(write_tiny_gguf(tmp_path / "llama-2-7b-chat.gguf", size_label="7B"))
    assert (info.parameters, info.parameters_from, info.architecture, info.context_length) == (
        7_000_000_000, "general.size_label", "llama", 4096)
    choice = choose_style("auto", info)
    assert choice.style == "generative" and "7.0B" in choice.reason and "size_label" in choice.reason


def test_parameter_count_wins_over_the_label(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "m.gguf", size_label="7B", parameter_count=135_000_000)
    info = read_model_info(path)
    assert info.parameters == 135_000_000
    assert choose_style("auto", info).style == "extractive"


def test_without_metadata_the_tensor_table_is_counted(tmp_path: Path) -> None:
    info = read_model_info(write_tiny_gguf(tmp_path / "m.gguf", tensors=[("a", (8, 4)), ("b", (3,))]))
    assert (info.parameters, info.parameters_from) == (35, "tensor table")
    assert choose_style("auto", info).style == "extractive"


def test_mixture_label_multiplies_experts(tmp_path: Path) -> None:
    info = read_model_info(write_tiny_gguf(tmp_path / "m.gguf", size_label="8x7B"))
    assert info.parameters == 56_000_000_000


def test_configured_style_is_kept_and_the_default_model_is_extractive() -> None:
    assert choose_style("generative", None).style == "generative"
    assert choose_style("auto", None).style == "extractive"


def test_answer_style_is_validated_and_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="answer_style 'chatty' is not one of auto, extractive, generative"):
        load_config({"answer_style": "chatty"})
    monkeypatch.setenv("RAG_ANSWER_STYLE", "generative")
    assert load_config().answer_style == "generative"


def test_answer_style_flag_reaches_the_settings() -> None:
    from rag.cli.parser import _settings, build_parser

    args = build_parser().parse_args(["ask", "What?", "--answer-style", "generative"])
    assert _settings(args)["answer_style"] == "generative"


def test_explain_says_which_style_and_why(tmp_path: Path) -> None:
    from indexes import HashEmbedder
    from rag import RAG
    from rag.answering.explain import explain_json, explain_lines
    from rag.generation import EchoGenerator

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text("The tower is 31 metres tall.\n", encoding="utf-8")
    model = write_tiny_gguf(tmp_path / "llama-2-13b-chat.gguf", size_label="13B")
    with RAG.open(tmp_path / "idx", create=True, embedder=HashEmbedder(), workers=0) as rag:
        rag.ingest([docs])
    with RAG.open(tmp_path / "idx", embedder=HashEmbedder(), generator=EchoGenerator("x"), model=str(model)) as rag:
        plan = rag.prepare("How tall is the tower?")
        assert rag.answer_tokens == 512
    assert "style:     generative (auto: llama-2-13b-chat.gguf has 13.0B parameters (general.size_label), >= 1B)" \
        in explain_lines(plan)
    assert explain_json(plan)["style"]["style"] == "generative"
