"""End-to-end answer quality on XQuAD with the default models, beside the LlamaIndex-starter anchor.

    python benchmarks/qa.py [--langs en de zh] [--sample 200] [--seed 0] [--json]
    python benchmarks/qa.py --calibrate [--target 0.92] [--check-langs de] [--save FILE]

The benchmark runs ``rag eval qa`` (``rag.evaluation.qa.evaluate_qa``) on
``random.Random(seed).sample(range(1190), sample)`` of each language's questions:
every article indexed as one document, each question asked through ``RAG.ask``,
and again against an index lacking its article (the abstention negatives).

``--calibrate`` (re)derives the thresholds of ``rag.answering.abstention`` on the questions
*outside* the benchmark sample, without generating: English for Latin-script
questions, Chinese for CJK ones. For each lexical weight it prints the threshold
that abstains on ``--target`` of the negatives, the "strong" evidence above
``STRONG_TARGET`` of them (it overrules a refusal by the model), the rates they
give, and the rates on ``--check-langs`` at the same thresholds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
from pathlib import Path
from typing import Any

from rag.answering.abstention import CALIBRATION_TARGET, GENERATIVE_TARGET, STRONG_TARGET, calibrate_threshold
from rag.evaluation.qa import collect_evidence, evaluate_qa

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qa" / "xquad"
TOTAL = 1190
# Measured on this machine with the same default models (the anchor): LlamaIndex starter.
ANCHOR = {"contains_gold": 0.140, "f1": 0.063, "seconds_per_question": 6.0, "retrieval_hit@2": 0.81}
TARGETS = {"contains_gold": 0.45, "citation_accuracy": 0.85, "abstention": 0.90, "false_abstention": 0.10,
           "latency_p50_s": 3.0}


def _progress(label: str) -> Any:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        print(f"\r{label}: {done}/{total}", end="" if done < total else "\n", file=sys.stderr, flush=True)

    return show


def _scores(rows: list[dict[str, float]], weight: float, side: str = "") -> list[float]:
    prefix = f"{side}_" if side else ""
    return [r[f"{prefix}similarity"] + weight * r[f"{prefix}overlap"] for r in rows]


def _rates(rows: list[dict[str, float]], weight: float, threshold: float) -> dict[str, float]:
    """Abstention on negatives and false abstention on positives at ``threshold``."""
    return {"abstention": round(sum(s < threshold for s in _scores(rows, weight, "negative")) / len(rows), 4),
            "false_abstention": round(sum(s < threshold for s in _scores(rows, weight)) / len(rows), 4)}


def calibrate(target: float, save: str | None, check_langs: list[str], check_n: int) -> dict[str, Any]:
    """Per script: English questions calibrate Latin-script questions, Chinese ones CJK questions."""
    held_out = set(random.Random(0).sample(range(TOTAL), 200))
    indices = [i for i in range(TOTAL) if i not in held_out]
    rows = {lang: collect_evidence(DATA / f"xquad.{lang}.json", indices, progress=_progress(f"calibration ({lang})"))
            for lang in ("en", "zh")}
    checks = {lang: collect_evidence(DATA / f"xquad.{lang}.json", indices[:check_n],
                                     progress=_progress(f"check ({lang})")) for lang in check_langs}
    if save:
        Path(save).write_text(json.dumps({**rows, **checks}), encoding="utf-8")
    out: dict[str, Any] = {"questions": len(indices), "target": target, "strong_target": STRONG_TARGET,
                           "check_questions": check_n if check_langs else 0, "runs": []}
    for weight in (0.0, 0.25, 0.5, 0.75, 1.0):
        run: dict[str, Any] = {"lexical_weight": weight}
        for script, lang in (("latin", "en"), ("cjk", "zh")):
            positives, negatives = _scores(rows[lang], weight), _scores(rows[lang], weight, "negative")
            threshold, _, _ = calibrate_threshold(positives, negatives, target)
            strong, _, _ = calibrate_threshold(positives, negatives, STRONG_TARGET)
            generative, _, generative_false = calibrate_threshold(positives, negatives, GENERATIVE_TARGET)
            run[script] = {"from": lang, "threshold": threshold, "strong": strong, "generative": generative,
                           "generative_false_abstention": round(generative_false, 4),
                           **_rates(rows[lang], weight, threshold)}
        for lang, lang_rows in checks.items():
            script = "cjk" if lang in ("zh", "ja", "ko") else "latin"
            run[lang] = {"script": script, **_rates(lang_rows, weight, run[script]["threshold"])}
        out["runs"].append(run)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--langs", nargs="+", default=["en", "de", "zh"])
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="llama.cpp threads (default: llama.cpp's choice)")
    parser.add_argument("--calibrate", action="store_true", help="derive the abstention threshold instead")
    parser.add_argument("--target", type=float, default=CALIBRATION_TARGET, help="share of negatives to abstain on")
    parser.add_argument("--save", metavar="FILE", help="--calibrate: also write the evidence components here")
    parser.add_argument("--check-langs", nargs="*", default=["de"], metavar="LANG",
                        help="--calibrate: report each English threshold's rates on these languages too")
    parser.add_argument("--check-questions", type=int, default=300, metavar="N",
                        help="--calibrate: questions per checked language (default 300)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not DATA.exists():
        print(f"shared data not found at {DATA}", file=sys.stderr)
        return 3
    if args.calibrate:
        result = calibrate(args.target, args.save, args.check_langs, args.check_questions)
        if args.json:
            print(json.dumps(result, indent=2))
            return 0
        print(f"calibration on the {result['questions']} questions outside the benchmark sample: threshold = "
              f"abstain on {result['target']:.0%} of negatives, strong = above {result['strong_target']:.0%} of them, "
              f"generative = abstain on {GENERATIVE_TARGET:.0%} of them")
        for run in result["runs"]:
            line = f"  lexical weight {run['lexical_weight']:<5}"
            for key, row in run.items():
                if key in ("latin", "cjk"):
                    line += (f" | {key} ({row['from']}): threshold {row['threshold']:.4f} strong {row['strong']:.4f} "
                             f"neg {row['abstention']:.3f} false {row['false_abstention']:.3f} "
                             f"generative {row['generative']:.4f} (false {row['generative_false_abstention']:.3f})")
                elif key != "lexical_weight":
                    line += f" | {key}: neg {row['abstention']:.3f} false {row['false_abstention']:.3f}"
            print(line)
        return 0
    machine = {"cpus": os.cpu_count(), "python": platform.python_version(), "machine": platform.machine()}
    results: dict[str, Any] = {"anchor_en": ANCHOR, "targets": TARGETS, "machine": machine, "langs": {}}
    settings = {"n_threads": args.threads}
    for lang in args.langs:
        path = DATA / f"xquad.{lang}.json"
        report = evaluate_qa(path, sample=args.sample, seed=args.seed, settings=settings,
                             progress=_progress(f"xquad.{lang}"))
        results["langs"][lang] = report.to_json()
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"XQuAD, {args.sample} questions (random.Random({args.seed}).sample(range({TOTAL}), {args.sample})), "
          f"default models, {machine['cpus']} CPUs")
    header = f"{'':<22}{'anchor (en)':>12}" + "".join(f"{lang:>10}" for lang in args.langs) + f"{'target':>9}"
    print(header)
    rows = [("retrieval hit@5", "retrieval_hit@5", None), ("contains gold", "contains_gold", "contains_gold"),
            ("  model's own words", "model_contains_gold", None), ("token F1", "f1", "f1"),
            ("citation accuracy", "citation_accuracy", None), ("abstention (neg.)", "abstention", None),
            ("false abstention", "false_abstention", None)]
    for label, key, anchor_key in rows:
        anchor = f"{ANCHOR[anchor_key]:.3f}" if anchor_key else "-"
        values = "".join(f"{_fmt(results['langs'][lang].get(key)):>10}" for lang in args.langs)
        target = TARGETS.get(key)
        print(f"{label:<22}{anchor:>12}{values}{(f'{target:.2f}' if target else ''):>9}")
    p50 = "".join(f"{results['langs'][lang]['latency_ms']['p50'] / 1000:>9.2f}s" for lang in args.langs)
    p95 = "".join(f"{results['langs'][lang]['latency_ms']['p95'] / 1000:>9.2f}s" for lang in args.langs)
    print(f"{'latency p50':<22}{ANCHOR['seconds_per_question']:>11.1f}s{p50}{TARGETS['latency_p50_s']:>8.1f}s")
    print(f"{'latency p95':<22}{'-':>12}{p95}")
    return 0


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}"


if __name__ == "__main__":
    raise SystemExit(main())
