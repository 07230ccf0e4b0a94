"""A small model's weights re-encoded, once, into a type llama.cpp's CPU kernels run fast.

llama.cpp's x86 CPU backend has fast matrix kernels for some weight types (Q8_0, Q4_0, Q5_0, F16:
llamafile's tinyBLAS and the repacked Q4_0 layouts) and only generic ones for others. The default
model ships as Q4_1, one of the slow ones: on this project's 2-core test machine the same SmolLM2-135M
re-encoded as Q8_0 evaluates a prompt 2.0x as fast and samples 0.9x as fast, its weights being 1.5x
the bytes (``benchmarks/weight_types.py``); a short answer's time is mostly its prompt, so the first token
comes 1.5x sooner (``benchmarks/first_token.py --against recode``). Q8_0 keeps
each Q4_1 weight to within 1/17 of a Q4_1 step when its block of 32 straddles zero, as weight blocks
do (16 levels become 255 over the block's largest magnitude): the same model re-rounded, whose next-token
logits nearly match the packaged file's (``tests/test_recode.py``: same top choice and top 5, correlation
> 0.99), not a coarser copy. Q4_0 would be faster still, but rounds the weights again. Greedy replies still
differ wherever two tokens nearly tie: 14 of 19 in the first-token benchmark, with answer quality within a
question or two either way on the evaluation sets (README, Time to first token).

``recode_model = "auto"`` (the default) re-encodes a model stored in a slow type (:data:`SLOW_TYPES`) when it
is small (under :data:`AUTO_MAX_PARAMETERS`): there prompt evaluation, which is compute-bound, dominates
the time to an answer, and the copy costs little (145 MB for the default's 98 MB file). A
7B model is left as it is: its Q8_0 copy would need 7 GB, and sampling, bound by memory bandwidth, reads
every weight per token, so more bytes slow each token (already 10 % at 135M), over answers of hundreds of
tokens. ``"q8_0"`` re-encodes any such
model, ``"off"`` never.

The copy is made with llama.cpp's own quantizer (``llama_model_quantize``, no network, a second or two
for the default) into ``$XDG_CACHE_HOME/rag/models/`` (``~/.cache``), named by the source's path, size
and mtime, written under a temporary name and renamed into place, so a concurrent first use or a crash
never leaves half a model under the final name. When the copy cannot be made (read-only cache, full
disk, an old llama-cpp-python) the original file runs, with a warning; a copy llama.cpp cannot load is
deleted and the original runs (:func:`run_model`). A newer copy of the same file replaces older ones.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import hashlib
import json
import logging
import os
import platform
import struct
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from indexes.errors import ConfigError, ModelError
from rag.config import RECODE_CHOICES
from rag.generation.policy import read_model_info

__all__ = ["AUTO_MAX_PARAMETERS", "SLOW_TYPES", "Recoded", "recoded_model", "requantize", "run_model"]

log = logging.getLogger(__name__)
T = TypeVar("T")

RECODE_VERSION = 1                      # bump when the recipe changes: older copies are then ignored
AUTO_MAX_PARAMETERS = 1_000_000_000     # auto re-encodes only models smaller than this
# llama_ftype values (general.file_type) whose matrices have no fast x86 CPU kernel in llama.cpp
# (benchmarks/weight_types.py: prompts at 0.5x Q8_0's speed; Q5_0 runs at 0.8x, so it stays as it is).
SLOW_TYPES = {3: "Q4_1", 9: "Q5_1"}
_Q8_0 = 7                               # LLAMA_FTYPE_MOSTLY_Q8_0


@dataclass(frozen=True)
class Recoded:
    """The file to run and why (``path`` is the source itself when nothing was re-encoded)."""

    path: Path
    source: Path
    reason: str

    @property
    def recoded(self) -> bool:
        return self.path != self.source


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag" / "models"


def recoded_model(source: Path, choice: str = "auto", *, cache_dir: Path | None = None, gpu_layers: int = 0) -> Recoded:
    """The GGUF file to run for ``source`` under ``choice`` (``auto``, ``q8_0`` or ``off``), re-encoding
    it into the cache on first use. ``auto`` applies on x86-64 CPUs only (the kernels measured), with no
    layer offloaded to a GPU (``gpu_layers``)."""
    if choice not in RECODE_CHOICES:
        raise ConfigError(f"recode_model {choice!r} is not one of {', '.join(RECODE_CHOICES)}")
    if choice == "off":
        return Recoded(source, source, "recode_model = off")
    if choice == "auto" and (platform.machine().lower() not in ("x86_64", "amd64") or gpu_layers):
        return Recoded(source, source, "auto re-encodes for x86-64 CPU kernels only (not on this machine or with "
                                       "GPU layers)")
    try:
        info = read_model_info(source)
    except (OSError, ValueError, KeyError, OverflowError, struct.error) as exc:  # llama.cpp says more when it loads
        return Recoded(source, source, f"header unreadable ({type(exc).__name__}: {exc})")
    file_type, parameters = info.file_type, info.parameters
    if file_type not in SLOW_TYPES:
        return Recoded(source, source, "its weight type has fast CPU kernels")
    if choice == "auto" and (parameters is None or parameters >= AUTO_MAX_PARAMETERS):
        return Recoded(source, source, f"{SLOW_TYPES[file_type]} kept: auto re-encodes models under 1B parameters")
    target = _target(source, cache_dir or default_cache_dir())
    if not target.is_file():
        try:
            requantize(source, target)
        except (OSError, ImportError, AttributeError) as exc:  # a full or read-only disk, an old llama-cpp-python
            log.warning("running %s as it is: cannot re-encode it to Q8_0 in %s (%s)", source.name, target.parent, exc)
            return Recoded(source, source, f"re-encoding failed ({exc})")
        log.info("re-encoded %s (%s) to Q8_0 for llama.cpp's faster CPU kernels: %s", source.name,
                 SLOW_TYPES[file_type], target)
        _drop_older_copies(target)
    return Recoded(target, source, f"{SLOW_TYPES[file_type]} re-encoded to Q8_0: faster CPU kernels, re-rounded weights")


def run_model(source: Path, choice: str, *, load: Callable[[Path], T], gpu_layers: int = 0,
              cache_dir: Path | None = None) -> tuple[T, Recoded]:
    """``load`` the file :func:`recoded_model` chooses for ``source``; a re-encoded copy that does not load
    (``ModelError``: truncated, damaged) is deleted, to be made again on next use, and ``source`` loads."""
    run = recoded_model(source, choice, cache_dir=cache_dir, gpu_layers=gpu_layers)
    try:
        return load(run.path), run
    except ModelError:
        if not run.recoded:
            raise
    log.warning("llama.cpp cannot load the re-encoded copy %s: deleting it, running %s", run.path, source)
    run.path.unlink(missing_ok=True)
    return load(source), Recoded(source, source, "the re-encoded copy did not load (deleted)")


def _target(source: Path, cache_dir: Path) -> Path:
    """``<stem>-<where>-<which>.q8_0.gguf``: ``where`` names the source's path, ``which`` its size, mtime and
    the recipe, so a newer copy of the same file replaces the older one (``_drop_older_copies``)."""
    resolved = source.resolve()
    stat = resolved.stat()
    where = hashlib.sha256(str(resolved).encode()).hexdigest()[:8]
    which = hashlib.sha256(json.dumps([stat.st_size, stat.st_mtime_ns, RECODE_VERSION]).encode()).hexdigest()[:8]
    return cache_dir / f"{source.stem}-{where}-{which}.q8_0.gguf"


def _drop_older_copies(target: Path) -> None:
    """After a new copy: delete the copies of the same source made before (an upgraded package, an older
    recipe), and temporary files an interrupted re-encoding left over an hour ago."""
    stem, where, _which = target.name[:-len(".q8_0.gguf")].rsplit("-", 2)
    old = [p for p in target.parent.glob(f"{glob.escape(stem)}-{where}-*.q8_0.gguf") if p != target]
    stale = [p for p in target.parent.glob(".recode-*.gguf") if time.time() - p.stat().st_mtime > 3600]
    for path in old + stale:
        with contextlib.suppress(OSError):
            path.unlink()


def requantize(source: Path, target: Path, ftype: int = _Q8_0) -> None:
    """Write ``source``'s weights re-encoded as ``ftype`` (a llama_ftype) to ``target`` with llama.cpp's own
    quantizer: through a temporary file in ``target``'s directory, fsynced and renamed into place."""
    import llama_cpp

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".recode-", suffix=".gguf", dir=target.parent)
    os.close(handle)
    tmp = Path(name)
    chatter = logging.getLogger("llama-cpp-python")  # llama.cpp's log callback prints at this logger's level
    level = chatter.level
    chatter.setLevel(logging.ERROR)  # not a line per tensor
    try:
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = ftype
        params.allow_requantize = True
        params.nthread = max(1, os.cpu_count() or 1)
        if llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), ctypes.byref(params)) != 0:
            raise OSError(f"llama.cpp could not re-encode {source}")
        with open(tmp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(tmp, target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
    finally:
        chatter.setLevel(level)
        tmp.unlink(missing_ok=True)
