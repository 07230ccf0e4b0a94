"""Retrieval metrics against examples worked out by hand."""

from __future__ import annotations

import math

import pytest

from rag.evaluation.metrics import hit_at_k, mean, mrr_at_k, ndcg_at_k, percentile, recall_at_k

RANKED = ["a", "b", "c", "d"]
RELEVANT = {"b": 1, "d": 1, "e": 1, "c": 0}  # "e" is never retrieved; "c" is judged not relevant


def test_ndcg_binary() -> None:
    # DCG = 1/log2(3) + 1/log2(5) = 0.63093 + 0.43068; ideal = 1 + 1/log2(3) + 1/log2(4) = 2.13093
    assert ndcg_at_k(RANKED, RELEVANT, 10) == pytest.approx((0.630930 + 0.430677) / 2.130930, abs=1e-6)
    assert ndcg_at_k(RANKED, RELEVANT, 10) == pytest.approx(0.498190, abs=1e-6)


def test_ndcg_graded_and_cut_off() -> None:
    # DCG = 1/log2(2) + 2/log2(3) = 2.26186; ideal puts the 2 first: 2 + 1/log2(3) = 2.63093
    assert ndcg_at_k(["a", "b"], {"a": 1, "b": 2}, 10) == pytest.approx(2.261860 / 2.630930, abs=1e-6)
    assert ndcg_at_k(["a", "b"], {"b": 2, "a": 1}, 1) == pytest.approx(1 / 2, abs=1e-9)  # top 1: gain 1 vs ideal 2
    assert ndcg_at_k([f"n{i}" for i in range(10)] + ["b"], {"b": 1}, 10) == 0.0  # rank 11 is past the cut
    assert ndcg_at_k(["b"], {"b": 1}, 10) == 1.0


def test_recall() -> None:
    assert recall_at_k(RANKED, RELEVANT, 10) == pytest.approx(2 / 3)
    assert recall_at_k(RANKED, RELEVANT, 2) == pytest.approx(1 / 3)
    assert recall_at_k(RANKED, {"c": 0}, 10) == 0.0  # nothing relevant: 0, not a division by zero


def test_mrr() -> None:
    assert mrr_at_k(RANKED, RELEVANT, 10) == 0.5
    assert mrr_at_k(RANKED, {"d": 1}, 3) == 0.0  # first relevant at rank 4, past the cut
    assert mrr_at_k(RANKED, {"a": 1, "b": 1}, 10) == 1.0


def test_hit_mean_percentile() -> None:
    assert hit_at_k(RANKED, "c", 3) == 1.0 and hit_at_k(RANKED, "d", 3) == 0.0
    assert mean([1.0, 0.0, 0.5]) == 0.5 and mean([]) == 0.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5   # between 2 and 3
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)  # rank 2.85: 3 + 0.85 * (4 - 3)
    assert percentile([7.0], 95) == 7.0 and percentile([], 50) == 0.0
    assert math.isclose(percentile(list(map(float, range(101))), 95), 95.0)
