"""What ``rag ask --explain`` shows: retrieval, the evidence decision, the packed prompt and its costs."""

from __future__ import annotations

from typing import Any

from rag.answering.excerpts import GAP
from rag.answering.plan import Plan
from rag.answering.prompting import source_label

__all__ = ["explain_json", "explain_lines"]


def _decision(plan: Plan) -> str:
    if not plan.hits:
        return "abstain: nothing retrieved"
    if plan.threshold is None:
        return "answer (no evidence threshold for this embedder; set abstain_threshold)"
    verb = "abstain" if plan.evidence.score < plan.threshold else "answer"
    return f"{verb}: evidence {plan.evidence.score:.3f} {'<' if verb == 'abstain' else '>='} threshold {plan.threshold:.3f}"


def explain_json(plan: Plan) -> dict[str, Any]:
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
            "left_out": [{"rank": len(packed.hits) + i, "source": source_label(hit), "reason": "did not fit"}
                         for i, hit in enumerate(packed.dropped, start=1)],
            "history_turns_left_out": packed.history_dropped // 2,
            "excerpts": [{"n": n, "source": source_label(hit), "sentences_left_out": _left_out(plan, n - 1)}
                         for n, hit in enumerate(packed.hits, start=1)],
        }
    return data


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
    for i, hit in enumerate(packed.dropped, start=len(packed.hits) + 1):
        lines.append(f"  left out: rank {i} {source_label(hit)} (did not fit)")
    if packed.history_dropped:
        lines.append(f"  left out: {packed.history_dropped // 2} earlier turn(s) of the conversation")
    lines.append("---- prompt " + "-" * 60)
    for role, content in packed.messages:
        lines.append(f"<{role}>")
        lines.append(content)
    lines.append("-" * 72)
    return lines
