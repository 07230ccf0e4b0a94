"""``rag doctor``: print the install and index checks (``rag.doctor``) and what to fix."""

from __future__ import annotations

import argparse
from typing import Any

from rag.cli.common import emit_json
from rag.config import load_config
from rag.doctor import run_checks

__all__ = ["add_doctor_parser", "cmd_doctor"]

_MARKS = {"ok": "ok  ", "warn": "warn", "fail": "FAIL"}


def add_doctor_parser(sub: Any, model_args: Any) -> None:
    p = sub.add_parser("doctor", help="check the install, the model, llama.cpp and the index; say what to fix")
    p.add_argument("--index", metavar="DIR")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    model_args(p)


def cmd_doctor(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    checks = run_checks(load_config(settings))
    failed = any(c.status == "fail" for c in checks)
    if args.json:
        emit_json({"ok": not failed, "checks": [c.to_json() for c in checks]})
    else:
        for c in checks:
            print(f"{_MARKS[c.status]}  {c.name:<10} {c.detail}")
            if c.fix and c.status != "ok":
                print(f"            fix: {c.fix}")
    return 1 if failed else 0
