"""Retrieval metrics as pure functions over one ranked list of ids and its judgements.

``ranked`` is best first and holds each id once. ``relevant`` maps ids to graded relevance
(BEIR qrels: 0 = judged not relevant, 1+ = relevant); unlisted ids count as 0. The
definitions follow trec_eval, which BEIR reports: nDCG with linear gain and log2 discount,
recall over the relevant ids, reciprocal rank of the first relevant id.

    >>> ranked = ["d3", "d1", "d7"]
    >>> relevant = {"d1": 1, "d9": 1}
    >>> recall_at_k(ranked, relevant, 10), mrr_at_k(ranked, relevant, 10)
    (0.5, 0.5)
    >>> round(ndcg_at_k(ranked, relevant, 10), 4)  # (1/log2(3)) / (1 + 1/log2(3))
    0.3869
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["hit_at_k", "mean", "mrr_at_k", "ndcg_at_k", "percentile", "recall_at_k"]


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Normalised discounted cumulative gain of the top ``k``: 0 when nothing is relevant."""
    dcg = sum(relevant.get(doc, 0) / math.log2(rank + 2) for rank, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(rank + 2) for rank, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """Share of the relevant ids found in the top ``k``."""
    wanted = {doc for doc, g in relevant.items() if g > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """1 / rank of the first relevant id within the top ``k``, else 0."""
    for rank, doc in enumerate(ranked[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def hit_at_k(ranked: Sequence[str], gold: str, k: int) -> float:
    """1 if ``gold`` is in the top ``k``, else 0."""
    return 1.0 if gold in ranked[:k] else 0.0


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), interpolating linearly between ranks (as numpy does)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
