"""What ``rag ask --explain`` shows: retrieval, the evidence decision, the packed prompt, where the time went.

The plan is shown before the model runs; the timings (model load, retrieval, planning, prompt tokens
evaluated and reused from the prefix cache, first token, generation) once the answer is done."""

from __future__ import annotations

from typing import Any

from rag.answering.excerpts import GAP
from rag.answering.plan import Plan
from rag.answering.prompting import PackedPrompt, source_label
from rag.records import Answer

__all__ = ["explain_json", "explain_lines", "timing_lines", "timings_json"]


def _decision(plan: Plan) -> str:
    if not plan.hits:
        return "abstain: nothing retrieved"
    if plan.threshold is None:
        return "answer (no evidence threshold for this embedder; set abstain_threshold)"
    verb = "abstain" if plan.evidence.score < plan.threshold else "answer"
    return f"{verb}: evidence {plan.evidence.score:.3f} {'<' if verb == 'abstain' else '>='} threshold {plan.threshold:.3f}"


def explain_json(plan: Plan, answer: Answer | None = None) -> dict[str, Any]:
    """The ``explain`` key of ``rag ask --json --explain``; with the finished ``answer``, its ``timings``."""
    packed = plan.packed
    data: dict[str, Any] = {
        "query": plan.query, "retrieved": len(plan.hits), "retrieve_ms": round(plan.retrieve_ms, 1),
        "evidence": {"score": round(plan.evidence.score, 4), "similarity": round(plan.evidence.similarity, 4),
                     "overlap": round(plan.evidence.overlap, 4), "weight": plan.evidence.weight,
                     "threshold": plan.threshold,
                     "overrules_refusal_from": plan.calibration.strong if plan.calibration else None},
        "decision": _decision(plan), "style": {"style": plan.style, "reason": plan.style_reason}, "prompt": None}
    if packed is not None:
        data["prompt"] = {
            "messages": [{"role": role, "content": content} for role, content in packed.messages],
            "tokens": packed.prompt_tokens, "budget": packed.budget,
            "parts": [{"part": part, "tokens": tokens} for part, tokens in packed.parts],
            "left_out": [{"rank": _rank(plan, n), "source": source_label(hit), "reason": _why_left_out(packed, n)}
                         for n, hit in enumerate(packed.dropped, start=len(packed.hits) + 1)],
            "history_turns_left_out": packed.history_dropped // 2,
            "excerpts": [{"n": n, "source": source_label(hit), "sentences_left_out": _left_out(plan, n - 1)}
                         for n, hit in enumerate(packed.hits, start=1)],
        }
    if answer is not None:
        data["timings"] = timings_json(answer)
    return data


def timings_json(answer: Answer) -> dict[str, Any]:
    """Where the answer's time went, in ms: ``load`` is 0 once the models are loaded; ``plan`` ranks
    the retrieved sentences and packs the prompt; ``prompt``
    counts the tokens taken from the prefix cache apart from those evaluated for this question;
    ``first_token`` and ``total`` run from the start of retrieval. ``prompt`` and ``generation``
    are None when the model did not run."""
    t = answer.timings
    run = answer.generation
    return {
        "load_ms": round(t.get("load_ms", 0.0), 1), "retrieve_ms": round(t.get("retrieve_ms", 0.0), 1),
        "plan_ms": round(t.get("plan_ms", 0.0), 1),
        "prompt": None if run is None else {"tokens": run.prompt_tokens, "reused_tokens": run.reused_tokens,
                                            "evaluated_tokens": run.evaluated_tokens, "ms": round(run.prompt_ms, 1)},
        "first_token_ms": round(t["first_token_ms"], 1) if "first_token_ms" in t else None,
        "generation": None if run is None else {"tokens": run.tokens, "ms": round(run.generate_ms, 1),
                                                "tokens_per_s": round(run.tokens_per_s, 1)},
        "total_ms": round(t.get("total_ms", 0.0), 1)}


def timing_lines(answer: Answer) -> list[str]:
    """The answer's timings for the terminal (shown after the answer)."""
    t = timings_json(answer)
    lines = [f"load:        {t['load_ms']:.0f} ms" + ("  (models already loaded)" if t["load_ms"] < 1 else ""),
             f"retrieval:   {t['retrieve_ms']:.0f} ms",
             f"planning:    {t['plan_ms']:.0f} ms (ranking sentences, packing the prompt)"]
    prompt, generation = t["prompt"], t["generation"]
    if prompt is None or generation is None:
        lines.append("model:       not run (abstained before generation)")
    else:
        lines.append(f"prompt:      {prompt['evaluated_tokens']} tokens evaluated in {prompt['ms']:.0f} ms, "
                     f"{prompt['reused_tokens']} reused from the prefix cache")
        if t["first_token_ms"] is not None:
            lines.append(f"first token: {t['first_token_ms']:.0f} ms from the start of retrieval")
        lines.append(f"generation:  {generation['tokens']} tokens in {generation['ms']:.0f} ms "
                     f"({generation['tokens_per_s']:.1f} tokens/s)")
    lines.append(f"total:       {t['total_ms']:.0f} ms")
    return lines


def _rank(plan: Plan, n: int) -> int:
    """The 1-based retrieval rank of the source at 1-based position ``n`` of the plan's hits."""
    return plan.ranks[n - 1] + 1 if n - 1 < len(plan.ranks) else n


def _why_left_out(packed: PackedPrompt, n: int) -> str:
    """Why the source at 1-based position ``n`` is not in the prompt."""
    if packed.limit is not None and n > packed.limit:
        return f"the extractive prompt shows at most {packed.limit} sources"
    return "did not fit"


def _left_out(plan: Plan, rank: int) -> int:
    total = sum(1 for s in plan.sentences if s.source == rank)
    packed = plan.packed
    if packed is None or rank >= len(packed.excerpts):
        return total
    shown = sum(1 for s in plan.sentences if s.source == rank and s.text in packed.excerpts[rank])
    return total - shown if GAP.strip() in packed.excerpts[rank] else 0


def explain_lines(plan: Plan) -> list[str]:
    """Human-readable lines for the terminal."""
    e = plan.evidence
    lines = [f"query:     {plan.query}",
             f"retrieved: {len(plan.hits)} chunks in {plan.retrieve_ms:.0f} ms",
             f"evidence:  {e.score:.3f} = similarity {e.similarity:.3f} + {e.weight} x word overlap {e.overlap:.3f}",
             f"decision:  {_decision(plan)}",
             f"style:     {plan.style} ({plan.style_reason or 'configured'})"]
    packed = plan.packed
    if packed is None:
        return lines
    lines.append(f"prompt:    {packed.prompt_tokens} tokens of {packed.budget} available "
                 "(context minus the answer's max tokens)")
    for part, tokens in packed.parts:
        note = ""
        if part.startswith("["):
            n = int(part[1:part.index("]")])
            left = _left_out(plan, n - 1)
            note = f"  ({left} sentence{'s' if left != 1 else ''} left out)" if left else ""
        lines.append(f"  {tokens:>6}  {part}{note}")
    for n, hit in enumerate(packed.dropped, start=len(packed.hits) + 1):
        lines.append(f"  left out: rank {_rank(plan, n)} {source_label(hit)} ({_why_left_out(packed, n)})")
    if packed.history_dropped:
        lines.append(f"  left out: {packed.history_dropped // 2} earlier turn(s) of the conversation")
    lines.append("---- prompt " + "-" * 60)
    for role, content in packed.messages:
        lines.append(f"<{role}>")
        lines.append(content)
    lines.append("-" * 72)
    return lines
