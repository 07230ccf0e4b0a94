"""Abstention: say "The documents don't answer this" when they don't.

Two signals decide it.

1. **Evidence before generation.** ``evidence = similarity + LEXICAL_WEIGHT * overlap``
   where ``similarity`` is the best cosine between the question and a sentence of
   the top ``EVIDENCE_DEPTH`` retrieved chunks (embedded by the index's own
   embedder) and ``overlap`` the best share of the question's content words found in one
   of those chunks. Below the threshold the model is not called at all: the
   answer abstains and the closest sources are listed for the user to check.
   Cosine alone separates poorly (a question about a missing article still finds
   a chunk on a related topic at cosine 0.4); the missing names and terms are
   what give it away, hence the lexical part.
2. **The model's own reply.** An answer that says the documents/sources/context
   do not contain the answer is an abstention too.

Calibration of ``EVIDENCE_THRESHOLD`` (all-MiniLM-L6-v2, 200-token chunks; rerun
with ``python benchmarks/qa.py --calibrate``): XQuAD English, the 990 questions
*outside* the 200-question benchmark sample. Positives: each question against
an index of all 48 articles. Negatives: the same question against an index of
the half of the articles (even or odd position) that lacks its article. The
threshold is the value that abstains on ``CALIBRATION_TARGET`` of those
negatives; the resulting false-abstention rate on the positives is recorded
below. The benchmark sample was not used to choose it. With another embedder
the similarity scale changes: recalibrate and set ``abstain_threshold``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from indexes import Hit
from rag.citations import content_words, numbers
from rag.excerpts import Sentence

__all__ = [
    "CALIBRATED",
    "CALIBRATION_TARGET",
    "EVIDENCE_DEPTH",
    "EVIDENCE_THRESHOLD",
    "LEXICAL_WEIGHT",
    "STRONG_TARGET",
    "Calibration",
    "Evidence",
    "calibrate_threshold",
    "calibration_for",
    "evidence_for",
    "is_refusal",
    "lexical_overlap",
    "overrules_refusal",
    "script_of",
    "should_abstain",
    "threshold_for",
]

EVIDENCE_DEPTH = 3
LEXICAL_WEIGHT = 0.25
CALIBRATION_TARGET = 0.92   # share of negatives the threshold abstains on
STRONG_TARGET = 0.99        # share of negatives below the evidence that overrules a refusal
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True)
class Calibration:
    """``threshold``: evidence below it abstains before generation. ``strong``: evidence at or above it
    overrules the model's own "not in the documents" (None: never)."""

    threshold: float
    strong: float | None


# Calibrated as described in the module docstring, per script of the question (README, "How answers are made").
CALIBRATED = {"latin": Calibration(0.5359, 0.99), "cjk": Calibration(0.75, 0.99)}
EVIDENCE_THRESHOLD = CALIBRATED["latin"].threshold


@dataclass(frozen=True)
class Evidence:
    """How well the retrieved chunks match the question."""

    similarity: float
    overlap: float

    @property
    def score(self) -> float:
        return self.similarity + LEXICAL_WEIGHT * self.overlap


def lexical_overlap(question: str, text: str) -> float:
    """Share of the question's content words and numbers (CJK: character bigrams) present in ``text``."""
    wanted = content_words(question) | numbers(question)
    if not wanted:
        return 0.0
    return len(wanted & (content_words(text) | numbers(text))) / len(wanted)


def evidence_for(question: str, hits: Sequence[Hit], sentences: Sequence[Sentence]) -> Evidence:
    """Evidence that the top ``EVIDENCE_DEPTH`` of ``hits`` answer ``question``; 0 for no hits.

    ``sentences`` are the hits' ranked sentences (``rag.excerpts.rank_sentences``), whose
    embedding cosines with the question give the similarity. It is recomputed there rather than
    taken from the hits' scores so that it stays a cosine whatever scale the retriever's own
    scores have (fused, BM25).
    """
    top = list(hits[:EVIDENCE_DEPTH])
    if not top:
        return Evidence(0.0, 0.0)
    similarity = max((s.similarity for s in sentences if s.source < EVIDENCE_DEPTH), default=0.0)
    overlap = max(lexical_overlap(question, h.chunk.text) for h in top)
    return Evidence(similarity, overlap)


_REFUSAL = re.compile(
    r"(?:documents?|sources?|context|texts?|passages?|information(?: provided)?)\s+(?:provided\s+)?"
    r"(?:do(?:es)?\s*n[o']t|did\s*n[o']t|cannot|can't|fails? to)\s+"
    r"(?:answer|say|mention|contain|include|provide|specify|state|tell|give)"
    r"|\bnot\s+(?:mentioned|stated|specified|found|given)\s+in\s+the\s+(?:documents?|sources?|context|texts?)"
    r"|\b(?:no|not enough)\s+information\s+(?:about|on|in|is|to)\b"
    r"|\bI\s+(?:do\s*n[o']t|cannot|can't)\s+(?:know|find|answer)",
    re.IGNORECASE)


def is_refusal(text: str) -> bool:
    """The model's reply says the documents don't answer (checked in its first sentence or 200 characters)."""
    head = text.strip()[:200]
    return bool(_REFUSAL.search(head))


def calibrate_threshold(positives: Sequence[float], negatives: Sequence[float],
                        target: float = CALIBRATION_TARGET) -> tuple[float, float, float]:
    """The lowest threshold that abstains on at least ``target`` of ``negatives``.

    Returns ``(threshold, abstention on negatives, false abstention on positives)``;
    a score strictly below the threshold abstains.
    """
    if not negatives:
        raise ValueError("calibration needs negative examples")
    ordered = sorted(negatives)
    needed = math.ceil(target * len(ordered))
    # Abstaining on the `needed` lowest negatives: a threshold just above the needed-th score (4 decimals).
    threshold = math.floor(ordered[needed - 1] * 10_000) / 10_000 + 0.0001 if needed else ordered[0]
    threshold = round(threshold, 4)
    abstain = sum(s < threshold for s in negatives) / len(negatives)
    false = sum(s < threshold for s in positives) / len(positives) if positives else 0.0
    return threshold, abstain, false


def script_of(text: str) -> str:
    """``"cjk"`` when at least a third of the letters of ``text`` are Chinese, Japanese or Korean, else ``"latin"``."""
    letters = [ch for ch in text if ch.isalpha()]
    cjk = sum(1 for ch in letters if _CJK_CHAR.match(ch))
    return "cjk" if letters and cjk * 3 >= len(letters) else "latin"


def calibration_for(embedder_name: str, configured: float | None, question: str = "") -> Calibration | None:
    """The thresholds in force for ``question``: a configured threshold (0 disables abstention on evidence),
    else the calibrated ones for the default embedder and the question's script; another embedder's
    similarity scale is unknown, so none."""
    from indexes import DEFAULT_EMBEDDER

    if configured is not None:
        return Calibration(configured, None) if configured > 0 else None
    return CALIBRATED[script_of(question)] if embedder_name == DEFAULT_EMBEDDER else None


def threshold_for(embedder_name: str, configured: float | None, question: str = "") -> float | None:
    """The evidence threshold in force for ``question`` (see ``calibration_for``)."""
    calibration = calibration_for(embedder_name, configured, question)
    return calibration.threshold if calibration is not None else None


def should_abstain(evidence: Evidence, threshold: float | None) -> bool:
    """Abstain before generation when the evidence score is below ``threshold`` (None: never)."""
    return threshold is not None and evidence.score < threshold


def overrules_refusal(evidence: Evidence, calibration: Calibration | None) -> bool:
    """Evidence so strong (above what almost no negative reaches) that a refusal by the model says more
    about the model than about the documents: the best source sentence is given instead."""
    return calibration is not None and calibration.strong is not None and evidence.score >= calibration.strong
