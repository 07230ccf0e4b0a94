"""The answer style a model gets, chosen from its GGUF header without loading its weights.

``rag.answering`` has two styles. ``extractive`` suits tiny models (the 135M default): the prompt
holds each chunk's best two sentences, the reply is one line, and a source sentence is quoted when
the reply goes astray. ``generative`` suits capable chat models (~1B parameters and up, e.g. Llama 2
7B/13B chat): whole chunks, a complete answer with ``[n]`` markers, Markdown kept, each claim checked.

``answer_style = "auto"`` reads the model's size from its header: ``general.parameter_count``, else
``general.size_label`` ("7B", "135M", "8x7B"), else the sum of the tensors' element counts from the
tensor table (``gguf.GGUFReader`` maps the file; no weight is read into memory).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GENERATIVE_MIN_PARAMETERS", "ModelInfo", "StyleChoice", "choose_style", "read_model_info"]

GENERATIVE_MIN_PARAMETERS = 1_000_000_000
_SCALE = {"K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}


@dataclass(frozen=True)
class ModelInfo:
    """What a GGUF header says about a model."""

    path: str
    parameters: int | None
    parameters_from: str        # "general.parameter_count" | "general.size_label" | "tensor table" | ""
    architecture: str | None
    context_length: int | None
    has_chat_template: bool
    file_type: int | None = None  # general.file_type (llama_ftype: 3 = mostly Q4_1, 7 = mostly Q8_0, ...)


@dataclass(frozen=True)
class StyleChoice:
    """The style in force and why (``rag ask --explain`` prints both)."""

    style: str
    reason: str


def _size_label(label: str) -> int | None:
    """Parameters from a size label: "7B" -> 7e9, "135M" -> 1.35e8, "8x7B" -> 5.6e10."""
    match = re.fullmatch(r"\s*(?:(\d+)x)?(\d+(?:\.\d+)?)([KMBT])\s*", label, re.IGNORECASE)
    if not match:
        return None
    experts = int(match.group(1) or 1)
    return int(experts * float(match.group(2)) * _SCALE[match.group(3).upper()])


def read_model_info(path: str | Path) -> ModelInfo:
    """Read size, architecture, context length and chat template from a GGUF file's header."""
    import gguf  # heavy-ish; only when a model file is inspected

    reader = gguf.GGUFReader(str(path), "r")

    def value(key: str) -> object:
        field = reader.get_field(key)
        return None if field is None else field.contents()

    architecture = value(gguf.Keys.General.ARCHITECTURE)
    arch = str(architecture) if architecture is not None else None
    parameters: int | None = None
    source = ""
    count = value("general.parameter_count")
    if isinstance(count, int) and count > 0:
        parameters, source = count, "general.parameter_count"
    label = value("general.size_label")
    if parameters is None and isinstance(label, str) and (parsed := _size_label(label)):
        parameters, source = parsed, "general.size_label"
    if parameters is None and reader.tensors:
        parameters, source = sum(int(t.n_elements) for t in reader.tensors), "tensor table"
    context = value(f"{arch}.context_length") if arch else None
    file_type = value("general.file_type")
    return ModelInfo(str(path), parameters, source, arch, int(context) if isinstance(context, int) else None,
                     reader.get_field(gguf.Keys.Tokenizer.CHAT_TEMPLATE) is not None,
                     int(file_type) if isinstance(file_type, int) else None)


def _human(parameters: int) -> str:
    return f"{parameters / 1e9:.1f}B" if parameters >= 1e9 else f"{parameters / 1e6:.0f}M"


def choose_style(configured: str, info: ModelInfo | None) -> StyleChoice:
    """``configured`` unless it is ``auto``; then generative from ~1B parameters, else extractive."""
    if configured != "auto":
        return StyleChoice(configured, f"answer_style = {configured} (configured)")
    if info is None:
        return StyleChoice("extractive", "auto: the default model (SmolLM2-135M-Instruct) is tiny")
    if info.parameters is None:
        return StyleChoice("extractive", f"auto: the size of {Path(info.path).name} is unknown")
    size = f"{_human(info.parameters)} parameters ({info.parameters_from})"
    if info.parameters >= GENERATIVE_MIN_PARAMETERS:
        return StyleChoice("generative", f"auto: {Path(info.path).name} has {size}, >= 1B")
    return StyleChoice("extractive", f"auto: {Path(info.path).name} has {size}, < 1B")
