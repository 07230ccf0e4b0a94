"""Fusion of ranked lists from several retrievers: weighted z-score fusion and reciprocal-rank fusion."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["Ranked", "fuse_rrf", "fuse_scores"]

Ranked = tuple[np.ndarray, np.ndarray]  # (scores, ids), best first


def fuse_scores(lists: Sequence[Ranked], weights: Sequence[float],
                fills: Sequence[float | None] | None = None) -> list[tuple[int, float]]:
    """Weighted mean of normalised scores over the union of the lists' ids, best first.

    A list lacking an id scores it ``fills[i]`` (default: the list's lowest score, as the id
    ranked below all of it; BM25 passes 0, the true score of a text sharing no term with the
    query). Each list's scores over the union become ``z / 6 + 0.5`` (z-score: mostly 0..1),
    so one strong match keeps its weight even when a list has a single entry.
    """
    union = list(dict.fromkeys(i for _scores, ids in lists for i in ids.tolist()))
    if not union:
        return []
    position = {i: n for n, i in enumerate(union)}
    total = np.zeros(len(union))
    for n, ((scores, ids), weight) in enumerate(zip(lists, weights, strict=True)):
        fill = fills[n] if fills is not None and fills[n] is not None else (float(np.min(scores)) if len(scores) else 0.0)
        full = np.full(len(union), fill, dtype=np.float64)
        full[[position[i] for i in ids.tolist()]] = scores
        spread = full.std()
        z = (full - full.mean()) / spread if spread > 0 else np.zeros(len(union))
        total += weight * (z / 6 + 0.5)
    total /= float(sum(weights))
    order = sorted(range(len(union)), key=lambda n: (-total[n], union[n]))
    return [(union[n], float(total[n])) for n in order]


def fuse_rrf(lists: Sequence[Ranked], weights: Sequence[float], k: int = 60) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion, best first: ``sum(w / (k + rank))`` with ranks from 1,
    divided by its largest possible value so that first everywhere scores 1."""
    fused: dict[int, float] = {}
    for (_scores, ids), w in zip(lists, weights, strict=True):
        for rank, i in enumerate(ids.tolist(), start=1):
            fused[i] = fused.get(i, 0.0) + w / (k + rank)
    best = sum(w / (k + 1) for w in weights)
    return sorted(((i, s / best) for i, s in fused.items()), key=lambda item: (-item[1], item[0]))
