"""Claim checks on realistic chat-model replies: right ones kept, wrong ones flagged.

    python benchmarks/verification.py [--cases tests/data/replies/cases.jsonl] [--style generative]
                                      [--embedder default|hash] [--json] [-v] [--details]

Indexes the ``docs`` folder beside the cases (with the default embedding model, as users run it, or
the hashing one: fast, but it retrieves by shared words only) and asks each case's
question through ``RAG.ask`` with a scripted generator that replies with the case's text, its
``[1]`` renumbered to the prompt source from the case's document and ``[2]`` to one from another.
A right reply is *kept* when it stays the model's answer (``grounding == "model"``) with every
claim supported; a wrong one is *flagged* when it is not shown as the answer or one of its claims
is not supported.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from indexes import Embedder, HashEmbedder, load_embedder
from rag import RAG
from rag.generation import EchoGenerator, Message
from rag.records import Answer

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "data" / "replies" / "cases.jsonl"
_SOURCE_HEAD = re.compile(r"^\[(\d+)\] ([^\n]*)", re.MULTILINE)


def scripted(reply: str, doc: str) -> Any:
    """A reply function: the case's reply with its markers numbered as the prompt numbers sources."""
    def respond(messages: Sequence[Message]) -> str:
        prompt = "\n".join(content for _, content in messages)
        heads = [(int(n), head) for n, head in _SOURCE_HEAD.findall(prompt)]
        own = next((n for n, head in heads if doc in head), 1)
        other = next((n for n, head in heads if doc not in head), own)
        return re.sub(r"\[(\d)\]", lambda m: f"[{own if m.group(1) == '1' else other}]", reply)
    return respond


def flagged(answer: Answer) -> bool:
    """The reply is not shown as a fully supported answer."""
    return answer.abstained or answer.grounding != "model" or bool(answer.unsupported)


def run(cases_path: Path, settings: dict[str, Any], verbose: bool, embedder: Embedder | None = None) -> dict[str, Any]:
    """Both figures for the cases in ``cases_path``; ``embedder`` defaults to the hashing one (fast, no meaning)."""
    cases = [json.loads(line) for line in cases_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    docs = cases_path.parent / "docs"
    embedder = embedder or HashEmbedder()
    with tempfile.TemporaryDirectory() as tmp:
        index = Path(tmp) / "idx"
        with RAG.open(index, create=True, embedder=embedder, workers=0) as rag:
            rag.ingest([docs])
        right: Counter[str] = Counter()
        wrong: Counter[str] = Counter()
        misses = []
        for case in cases:
            generator = EchoGenerator(scripted(case["reply"], case["doc"]))
            with RAG.open(index, embedder=embedder, generator=generator, **settings) as rag:
                answer = rag.ask(case["question"])
            bad = flagged(answer)
            tally = right if case["label"] == "right" else wrong
            ok = (not bad) if case["label"] == "right" else bad
            tally["ok" if ok else "miss"] += 1
            if not ok:
                misses.append({"id": case["id"], "kind": case["kind"], "label": case["label"], "reply": case["reply"],
                               "answer": answer.text, "grounding": answer.grounding,
                               "unsupported": list(answer.unsupported),
                               "claims": [{"text": k.text, "label": k.label, "quote": k.quote} for k in answer.claims]})
    total_right, total_wrong = sum(right.values()), sum(wrong.values())
    result = {"cases": len(cases), "right": total_right, "wrong": total_wrong,
              "right_kept": round(right["ok"] / max(total_right, 1), 3),
              "wrong_flagged": round(wrong["ok"] / max(total_wrong, 1), 3), "settings": settings}
    if verbose:
        result["misses"] = misses
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=CASES)
    parser.add_argument("--style", default=None, help="answer_style to use (default: the config's)")
    parser.add_argument("--embedder", choices=("default", "hash"), default="default",
                        help="retrieve and rank with the default embedding model (as users do) or the hashing one (fast)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the cases missed")
    parser.add_argument("--details", action="store_true", help="list the cases missed with each claim's label and quote")
    args = parser.parse_args(argv)
    settings = {"answer_style": args.style} if args.style else {}
    embedder = HashEmbedder() if args.embedder == "hash" else load_embedder("default")
    details = args.details
    result = run(args.cases, settings, args.verbose or details, embedder)
    result["embedder"] = args.embedder
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['cases']} cases: right replies kept as the model's answer {result['right_kept']:.3f} "
              f"({result['right']}), wrong replies flagged {result['wrong_flagged']:.3f} ({result['wrong']})")
        for miss in result.get("misses", []):
            print(f"  missed {miss['id']} {miss['label']}/{miss['kind']}: {miss['reply']!r} -> {miss['grounding']}: "
                  f"{miss['answer']!r} unsupported={miss['unsupported']}")
            for claim in miss["claims"] if details else ():
                print(f"      {claim['label']}: {claim['text']!r} <- {claim['quote']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
