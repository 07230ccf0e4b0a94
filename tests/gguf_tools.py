"""Helpers that write GGUF files for tests, using the ``gguf`` package.

Modelled on ``gguf/scripts/gguf_new_metadata.py``: every key/value field and
every tensor is copied as is, except the keys a test wants gone (for example
``tokenizer.chat_template``, to get a Llama file that must fall back to the
Llama 2 chat format).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import gguf

__all__ = ["CHAT_TEMPLATE_KEY", "copy_gguf_without_keys", "write_tiny_gguf"]

CHAT_TEMPLATE_KEY: str = gguf.Keys.Tokenizer.CHAT_TEMPLATE


def copy_gguf_without_keys(src: Path, dst: Path, drop: Iterable[str]) -> Path:
    """Write ``dst``: a copy of GGUF ``src`` without the metadata keys in ``drop``.

    A key ``k`` in ``drop`` also removes its variants ``k.*`` (named chat
    templates live under ``tokenizer.chat_template.<name>``).
    """
    dropped = set(drop)
    reader = gguf.GGUFReader(src, "r")
    arch_field = reader.get_field(gguf.Keys.General.ARCHITECTURE)
    if arch_field is None:
        raise ValueError(f"{src} has no {gguf.Keys.General.ARCHITECTURE}")
    writer = gguf.GGUFWriter(dst, arch=str(arch_field.contents()), endianess=reader.endianess)
    alignment = reader.get_field(gguf.Keys.General.ALIGNMENT)
    if alignment is not None:
        writer.data_alignment = int(alignment.contents())

    for field in reader.fields.values():
        # The writer emits the architecture itself; GGUF.* are virtual header fields.
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        if any(field.name == key or field.name.startswith(key + ".") for key in dropped):
            continue
        val_type = field.types[0]
        sub_type = field.types[-1] if val_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), val_type, sub_type=sub_type)

    for tensor in reader.tensors:
        writer.add_tensor_info(
            tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes, tensor.tensor_type
        )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in reader.tensors:
        writer.write_tensor_data(tensor.data, tensor_endianess=reader.endianess)
    writer.close()
    return dst


def write_tiny_gguf(dst: Path, *, size_label: str | None = None, parameter_count: int | None = None,
                    arch: str = "llama", context_length: int = 4096, file_type: int | None = None,
                    tensors: Iterable[tuple[str, tuple[int, ...]]] = (("token_embd.weight", (8, 4)),)) -> Path:
    """Write a GGUF with no real weights whose header declares a size (``size_label`` "7B" or
    ``parameter_count``) or, without either, only the tensor table to count elements from."""
    import numpy as np

    writer = gguf.GGUFWriter(dst, arch=arch)
    writer.add_name("tiny test model")
    if size_label is not None:
        writer.add_string("general.size_label", size_label)
    if parameter_count is not None:
        writer.add_uint64("general.parameter_count", parameter_count)
    writer.add_context_length(context_length)
    if file_type is not None:
        writer.add_file_type(file_type)
    for name, shape in tensors:
        writer.add_tensor(name, np.zeros(shape, dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return dst
