"""The answer style a model gets, chosen from its GGUF header without loading its weights.

``rag.answering`` has two styles. ``extractive`` suits tiny models (the 135M default): the prompt
holds each chunk's best two sentences, the reply is one line, and a source sentence is quoted when
the reply goes astray. ``generative`` suits capable chat models (~1B parameters and up, e.g. Llama 2
7B/13B chat): whole chunks, a complete answer with ``[n]`` markers, Markdown kept, each claim checked.

``answer_style = "auto"`` reads the model's size from its header: ``general.parameter_count``, else
``general.size_label`` ("7B", "135M", "8x7B"), else the sum of the tensors' element counts from the
tensor table (``gguf.GGUFReader`` maps the file; no weight is read into memory). ``rag.generation.recode``
reads the weight type from the same keys.
"""

from __future__ import annotations

import mmap
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["GENERATIVE_MIN_PARAMETERS", "ModelInfo", "StyleChoice", "choose_style", "header_keys", "read_model_info"]

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


_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def header_keys(path: Path) -> dict[str, object]:
    """The GGUF header's scalar and string keys, walked over a memory map (arrays, such as the vocabulary,
    skipped by their lengths). ``gguf.GGUFReader`` builds an object per vocabulary entry: 1.7 s for the
    default model, against milliseconds here. Raises ``ValueError`` (or ``struct.error``, ``KeyError``,
    ``OverflowError``) for a file that is not a well-formed little-endian GGUF v2/v3."""
    found: dict[str, object] = {}
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
        at = 0

        def take(fmt: str) -> Any:
            nonlocal at
            (value,) = struct.unpack_from("<" + fmt, data, at)
            at += struct.calcsize("<" + fmt)
            return value

        def string() -> str:
            nonlocal at
            length = take("Q")
            at += length
            return bytes(data[at - length:at]).decode("utf-8", errors="replace")

        def skip_array() -> None:
            nonlocal at
            item, count = take("I"), take("Q")
            if item in (_STRING, _ARRAY):  # items with their own lengths; arrays may nest
                for _item in range(count):
                    if item == _ARRAY:
                        skip_array()
                    else:
                        length = take("Q")  # read before moving: `at += take(...)` would add to the old offset
                        at += length
            else:
                at += count * struct.calcsize("<" + _SCALARS[item])
            if at > len(data):
                raise ValueError("the header runs past the end of the file")

        if take("4s") != b"GGUF" or take("I") not in (2, 3):
            raise ValueError("not a GGUF v2/v3 file")
        take("Q")
        for _ in range(take("Q")):
            key, kind = string(), take("I")
            if kind == _ARRAY:  # skipped (general.languages, the vocabulary, ...)
                skip_array()
                continue
            found[key] = string() if kind == _STRING else take(_SCALARS[kind])
    return found


def read_model_info(path: str | Path) -> ModelInfo:
    """Read size, architecture, context length, chat template and weight type from a GGUF file's header:
    its keys (``header_keys``, milliseconds), and the tensor table only when no key gives the size."""
    keys = header_keys(Path(path))
    architecture = keys.get("general.architecture")
    arch = str(architecture) if architecture is not None else None
    parameters: int | None = None
    source = ""
    count = keys.get("general.parameter_count")
    if isinstance(count, int) and count > 0:
        parameters, source = count, "general.parameter_count"
    label = keys.get("general.size_label")
    if parameters is None and isinstance(label, str) and (parsed := _size_label(label)):
        parameters, source = parsed, "general.size_label"
    if parameters is None:
        import gguf  # reads every field: only for the tensor table

        reader = gguf.GGUFReader(str(path), "r")
        if reader.tensors:
            parameters, source = sum(int(t.n_elements) for t in reader.tensors), "tensor table"
    context = keys.get(f"{arch}.context_length") if arch else None
    file_type = keys.get("general.file_type")
    return ModelInfo(str(path), parameters, source, arch, int(context) if isinstance(context, int) else None,
                     "tokenizer.chat_template" in keys, int(file_type) if isinstance(file_type, int) else None)


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
