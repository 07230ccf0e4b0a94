"""The same sentence-transformers model run by ONNX Runtime, fp32 or int8, exported locally.

``OnnxEmbedder`` reads a model directory once with sentence-transformers and torch to
export its transformer to ONNX (``torch.onnx.export``), fuses the graph's attention, layer
norms and GELU into ONNX Runtime's BERT kernels (``indexes/onnx_fusion.py``), and for
``onnx-int8`` quantises the weights of its matrix products, fused attention included, to int8
(``onnxruntime.quantization.quantize_dynamic``, per channel, signed weights: the VNNI
instructions of recent x86 CPUs run these at 4x the width of fp32). Nothing is downloaded:
the export reads the packaged weights. Over 300 lines on purpose: the export recipe and the
cache that guards it change together.

The export is cached per user under ``$XDG_CACHE_HOME/rag/embedders/`` (``~/.cache``),
one directory per model and backend, keyed by the model directory and its weights' size
and mtime. It is built in a temporary directory and renamed into place, so a concurrent
first use never sees half a model: the loser of the race discards its copy. A directory
whose files do not match its ``ready.json`` (a truncated copy, a full disk) or that ONNX
Runtime cannot load is moved aside and exported again.

After the export, embedding needs neither torch nor transformers: the model's fast
tokenizer (``tokenizer.json``), ONNX Runtime, then the model's own pooling (mean, CLS or
max, read from its ``1_Pooling/config.json``) and L2 normalisation in NumPy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexes.errors import ModelError
from indexes.onnx_fusion import fuse_transformer

__all__ = ["EXPORT_VERSION", "ONNX_BACKENDS", "OnnxEmbedder", "default_cache_dir", "export_dir", "plain_tokenizer"]

log = logging.getLogger(__name__)

ONNX_BACKENDS = ("onnx", "onnx-int8")
EXPORT_VERSION = 2  # bump when the export recipe changes: old cache entries are then ignored
_READY = "ready.json"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/rag/embedders`` (``~/.cache/rag/embedders``): a cache, rebuilt from the packaged weights."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rag" / "embedders"


def export_dir(model_path: str, backend: str, cache_dir: Path | None = None) -> Path:
    """Where the export of the model at ``model_path`` for ``backend`` is cached."""
    root = Path(model_path).resolve()
    weights = sorted(p for p in root.iterdir() if p.suffix in (".safetensors", ".bin") and p.is_file())
    stamp = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in weights]
    key = hashlib.sha256(json.dumps([str(root), stamp, EXPORT_VERSION]).encode()).hexdigest()[:16]
    return (cache_dir or default_cache_dir()) / f"{root.name}-{key}-{backend}"


class OnnxEmbedder:
    """A sentence-transformers model directory embedded by ONNX Runtime (``onnx`` or ``onnx-int8``)."""

    def __init__(self, path: str, *, name: str | None = None, backend: str = "onnx", batch_size: int = 64,
                 cache_dir: Path | None = None) -> None:
        if backend not in ONNX_BACKENDS:
            raise ModelError(f"unknown ONNX backend {backend!r}: one of {', '.join(ONNX_BACKENDS)}")
        if not Path(path).is_dir():
            raise ModelError(f"the {backend} backend exports from a local model directory; {path!r} is not one "
                             "(use --embed-backend torch, or pass --embedder DIR)")
        self.path, self.name, self.backend, self.batch_size = path, name or path, backend, batch_size
        self._pooling = _pooling_mode(Path(path))
        self.max_tokens = int(json.loads((Path(path) / "sentence_bert_config.json").read_text())["max_seq_length"])
        self._tokenizer = _tokenizer(Path(path), self.max_tokens)
        self.directory = export_dir(path, backend, cache_dir)
        self.exported = False  # whether this load had to export (False: the cache was used)
        self._sessions: dict[int, Any] = {}
        self._session(0)
        self.dimension = int(self.embed(["dimension probe"]).shape[1])

    # -- the cache -------------------------------------------------------------------
    def _session(self, threads: int) -> Any:
        """An ONNX Runtime session (``threads`` 0: as many as cores), exporting first if the cache lacks the model."""
        if threads in self._sessions:
            return self._sessions[threads]
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle threads sleep instead of spinning: on a shared 2-core machine a spinning thread takes the core
        # the parser worker needs.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        for attempt in (0, 1):
            model = self._ensure_export(repair=attempt == 1)
            try:
                session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
                break
            except Exception as exc:  # onnxruntime raises its own untyped errors for a damaged file
                if attempt:
                    raise ModelError(f"ONNX Runtime cannot load {model}: {exc}") from exc
                log.warning("the cached %s model %s is damaged (%s): exporting it again", self.backend, model, exc)
        self._sessions[threads] = session
        return session

    def _ensure_export(self, *, repair: bool) -> Path:
        if repair or (self.directory.exists() and not _complete(self.directory)):
            _discard(self.directory)
        if not self.directory.exists():
            self.directory.parent.mkdir(parents=True, exist_ok=True)
            tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=self.directory.parent))
            try:
                _export(Path(self.path), tmp, self.backend)
                try:
                    os.rename(tmp, self.directory)
                    self.exported = True
                    log.info("exported %s for the %s backend to %s", self.name, self.backend, self.directory)
                except OSError:  # another process finished first: use its copy
                    if not _complete(self.directory):
                        raise
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        return self.directory / "model.onnx"

    # -- embedding -------------------------------------------------------------------
    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # A query or two runs on one thread (as the torch backend does): more only wait on each other. Batches
        # always use the all-cores session: each session keeps its own memory arena (~1 GB at 64 x 256 tokens),
        # so no third one for ingestion beside a parser (idle threads sleep instead, see allow_spinning).
        session = self._session(1 if len(texts) <= 2 else 0)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # similar lengths together: little padding
        out: np.ndarray | None = None
        for start in range(0, len(order), self.batch_size):
            rows = order[start:start + self.batch_size]
            encodings = self._tokenizer.encode_batch([texts[i] for i in rows])
            feed = {key: np.array([getattr(e, attr) for e in encodings], dtype=np.int64)
                    for key, attr in zip(_INPUTS, ("ids", "attention_mask", "type_ids"), strict=True)}
            hidden = session.run(None, feed)[0]
            vectors = _pool(hidden, feed["attention_mask"], self._pooling)
            if out is None:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
        assert out is not None
        return out

    def tokenize(self, text: str) -> list[int]:
        ids: list[int] = self._tokenizer.encode(text, add_special_tokens=False).ids
        return ids

    def tokenize_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]


def plain_tokenizer(backend: Any) -> Any:
    """A private copy of a ``tokenizers.Tokenizer`` with no truncation or padding, for counting tokens.

    The chunker counts tokens of ~16 pieces per chunk: through transformers' ``__call__`` each
    count costs ~0.5 ms of Python and a batch of one on the Rust thread pool; the bare
    tokenizer's ``encode`` gives the same ids for a fraction of that. A copy, because
    transformers sets truncation and padding on its own tokenizer at every call."""
    plain = backend.__class__.from_str(backend.to_str())
    plain.no_truncation()
    plain.no_padding()
    return plain


def _tokenizer(path: Path, max_tokens: int) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
    except Exception as exc:  # tokenizers raises its own exception type
        raise ModelError(f"cannot read the tokenizer of {path} ({exc}); the ONNX backends need tokenizer.json") from exc
    encoder = plain_tokenizer(tokenizer)  # the batch copy: truncated and padded
    encoder.enable_truncation(max_tokens)
    encoder.enable_padding()
    return _Tokenizers(plain_tokenizer(tokenizer), encoder)


class _Tokenizers:
    """The plain tokenizer for counting (``encode``), the padded one for batches (``encode_batch``)."""

    def __init__(self, plain: Any, padded: Any) -> None:
        self.plain, self.padded = plain, padded

    def encode(self, text: str, *, add_special_tokens: bool) -> Any:
        return self.plain.encode(text, add_special_tokens=add_special_tokens)

    def encode_batch(self, texts: list[str], *, add_special_tokens: bool = True) -> list[Any]:
        if not add_special_tokens:
            return list(self.plain.encode_batch(texts, add_special_tokens=False))
        return list(self.padded.encode_batch(texts))


def _pooling_mode(path: Path) -> str:
    try:
        modules = json.loads((path / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling_dir = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((path / pooling_dir / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration) as exc:
        raise ModelError(f"{path} is not a sentence-transformers model the ONNX backends can run ({exc}); "
                         "use --embed-backend torch") from exc
    modes = [m for m in ("cls_token", "max_tokens", "mean_tokens") if config.get(f"pooling_mode_{m}")]
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"} or len(modes) != 1:
        raise ModelError(f"{path}: modules {kinds} with pooling {modes or 'none'}: the ONNX backends run "
                         "Transformer + one of mean/CLS/max pooling (+ Normalize); use --embed-backend torch")
    return modes[0]


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    if mode == "cls_token":
        pooled = hidden[:, 0]
    elif mode == "max_tokens":
        pooled = np.where(weights > 0, hidden, -1e9).max(axis=1)
    else:
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def _export(model_dir: Path, target: Path, backend: str) -> None:
    """Write ``target/model.onnx`` (fused; fp32, or int8 weights) and ``target/ready.json`` listing the files' sizes."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    hf_logging.disable_progress_bar()
    # Eager attention: the graph ONNX Runtime's optimizer recognises as attention (see indexes/onnx_fusion.py).
    model = SentenceTransformer(str(model_dir), device="cpu", model_kwargs={"attn_implementation": "eager"})
    transformer: Any = model[0].auto_model
    transformer.eval()
    sample = model.tokenizer(["an example sentence", "two"], padding=True, return_tensors="pt")
    names = [n for n in _INPUTS if n in sample]

    class _Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    raw = target / "raw.onnx"
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    import warnings

    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(_Hidden(), tuple(sample[n] for n in names), str(raw), input_names=names,
                          output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)
    if names != list(_INPUTS):
        raise ModelError(f"{model_dir} takes inputs {names}; the ONNX backends expect {list(_INPUTS)}")
    config = transformer.config
    fused = target / ("model.onnx" if backend == "onnx" else "fused.onnx")
    counts = fuse_transformer(raw, fused, num_heads=int(getattr(config, "num_attention_heads", 0)),
                              hidden_size=int(getattr(config, "hidden_size", 0)))
    log.info("fused %s", counts)
    raw.unlink()
    if backend == "onnx-int8":
        from onnx import TensorProto
        from onnxruntime.quantization import QuantType, quantize_dynamic

        logging.disable(logging.WARNING)  # the quantizer logs advice on the root logger, not to our users
        try:
            # The fused Attention becomes QAttention (query/key/value projection in int8, one kernel). The
            # embedding tables stay fp32: a lookup costs nothing to speak of, and int8 tables lowered the
            # cosine to torch (min 0.972 against 0.979 on 300 PDF chunks) for no measurable speed.
            quantize_dynamic(str(fused), str(target / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True,
                             reduce_range=False, op_types_to_quantize=["MatMul", "Attention"],
                             extra_options={"DefaultTensorType": TensorProto.FLOAT})
        finally:
            logging.disable(logging.NOTSET)
        fused.unlink()
    files = {p.name: p.stat().st_size for p in target.iterdir()}
    (target / _READY).write_text(json.dumps({"backend": backend, "version": EXPORT_VERSION, "files": files}))


def _complete(directory: Path) -> bool:
    """Do the files of an export directory match its ``ready.json``?"""
    try:
        ready = json.loads((directory / _READY).read_text())
        return bool(ready["files"]) and all((directory / n).stat().st_size == s for n, s in ready["files"].items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _discard(directory: Path) -> None:
    """Move a damaged export out of the way (rename first, so no reader sees it half deleted), then delete it."""
    if not directory.exists():
        return
    aside = Path(tempfile.mkdtemp(prefix=".damaged-", dir=directory.parent)) / "old"
    try:
        os.rename(directory, aside)
    except OSError:  # another process moved or replaced it already
        pass
    shutil.rmtree(aside.parent, ignore_errors=True)
