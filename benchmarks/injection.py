"""How often the instruction-like text screen flags ordinary prose, and how much real injection it catches.

    python benchmarks/injection.py [--show N]

False positives: every sentence of the real documents in ``../shared/data/pdfs/real`` and
``../shared/data/text/real`` (read by our readers, split by our sentence splitter), flagged sentences
per 10,000; the ReAct paper quotes model prompts on purpose and is reported apart. Recall: the
labelled sentences of ``tests/data/injection-sets/`` (injections and look-alike prose): ``tuning.jsonl``
was written beside the rules; ``heldout.jsonl`` was written by someone who never saw them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from indexes.errors import ReadError  # noqa: E402
from indexes.text import sentence_spans  # noqa: E402
from ingest.injection import instruction_spans  # noqa: E402
from ingest.readers import read_document  # noqa: E402

DATA = REPO.parent / "shared" / "data"
QUOTES_PROMPTS = ("react",)  # papers whose subject is prompting: they quote prompts on purpose


def false_positives(folders: list[Path]) -> dict[str, object]:
    sentences = flagged = quoted = 0
    examples: list[str] = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name not in ("README.md", "MANIFEST.md")):
            try:
                doc = read_document(path)
            except ReadError:
                continue
            exempt = any(k in path.name.lower() for k in QUOTES_PROMPTS)
            for page in doc.pages:
                spans = sentence_spans(page.text)
                hits = instruction_spans(page.text)
                hit_sentences = sum(1 for a, b in spans if any(s < b and e > a for s, e in hits))
                if exempt:
                    quoted += hit_sentences
                    continue
                sentences += len(spans)
                flagged += hit_sentences
                for s, e in hits:
                    examples.append(f"{path.name} p{page.number}: {' '.join(page.text[s:e].split())[:160]}")
    return {"sentences": sentences, "flagged": flagged, "per_10k": 1e4 * flagged / max(1, sentences),
            "react_paper_flagged": quoted, "examples": examples}


def recall(path: Path) -> dict[str, object]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    pos = [r for r in rows if r["label"] == "injection"]
    neg = [r for r in rows if r["label"] == "prose"]
    caught = [r for r in pos if instruction_spans(r["text"])]
    tripped = [r for r in neg if instruction_spans(r["text"])]
    return {"injections": len(pos), "caught": len(caught), "recall": len(caught) / max(1, len(pos)),
            "lookalikes": len(neg), "lookalikes_flagged": len(tripped),
            "missed": [r["text"] for r in pos if r not in caught], "tripped": [r["text"] for r in tripped]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=20, help="flagged real sentences to print")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folders = [DATA / "pdfs" / "real", DATA / "text" / "real"]
    if not all(f.is_dir() for f in folders):
        print(f"needs {folders}", file=sys.stderr)
        return 1
    fp = false_positives(folders)
    sets = {name: recall(REPO / "tests" / "data" / "injection-sets" / f"{name}.jsonl")
            for name in ("tuning", "heldout", "heldout2")}
    if args.json:
        print(json.dumps({"false_positives": fp, "recall": sets}, indent=2, ensure_ascii=False))
        return 0
    print(f"real prose: {fp['flagged']} of {fp['sentences']} sentences flagged = {fp['per_10k']:.2f} per 10,000 "
          f"(ReAct paper, quoting prompts on purpose: {fp['react_paper_flagged']})")
    for line in fp["examples"][: args.show]:  # type: ignore[index]
        print("  ", line)
    for name, rc in sets.items():
        print(f"{name}: {rc['caught']} of {rc['injections']} injections caught = recall {rc['recall']:.3f}; "
              f"look-alike prose flagged: {rc['lookalikes_flagged']} of {rc['lookalikes']}")
        for text in rc["missed"]:  # type: ignore[attr-defined]
            print("   missed:", text)
        for text in rc["tripped"]:  # type: ignore[attr-defined]
            print("   tripped:", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
