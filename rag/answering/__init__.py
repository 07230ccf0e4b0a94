"""Answering: the plan decided before the model runs, prompt packing, excerpts, claim checks, abstention, explain."""

from __future__ import annotations

from rag.answering.abstention import Calibration, calibration_for
from rag.answering.plan import ABSTAIN_TEXT, Plan, answer_stream, make_plan

__all__ = ["ABSTAIN_TEXT", "Calibration", "Plan", "answer_stream", "calibration_for", "make_plan"]
