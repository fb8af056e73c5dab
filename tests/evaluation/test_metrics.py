"""Metrics checked on rankings computed by hand."""

from __future__ import annotations

import math

import pytest

from skillmap.evaluation.metrics import (f1_at_k, ndcg_at_k, precision_at_k, recall_at_k,
                                         reciprocal_rank, rp_at_k, score_rankings)

RANKING = ["a", "x", "b", "y", "z", "c"]   # gold hits at positions 1, 3 and 6
GOLD = {"a", "b", "c", "d"}


def test_rp_divides_by_min_of_k_and_gold_size():
    assert rp_at_k(RANKING, GOLD, 5) == 2 / 4          # min(5, 4) = 4, not k = 5
    assert rp_at_k(RANKING, {"a", "b"}, 5) == 1.0      # min(5, 2) = 2: a perfect score
    assert rp_at_k(RANKING, GOLD, 2) == 1 / 2
    assert rp_at_k(RANKING, GOLD, 10) == 3 / 4         # k larger than the ranking


def test_precision_recall_f1_by_hand():
    assert precision_at_k(RANKING, GOLD, 5) == 2 / 5
    assert precision_at_k(RANKING, GOLD, 10) == 3 / 10  # missing positions are misses
    assert recall_at_k(RANKING, GOLD, 5) == 2 / 4
    assert f1_at_k(RANKING, GOLD, 5) == pytest.approx(2 * 0.4 * 0.5 / 0.9)
    assert f1_at_k(["x", "y"], GOLD, 5) == 0.0


def test_mrr_counts_only_gold_hits():
    assert reciprocal_rank(["x", "y", "b"], GOLD) == 1 / 3   # non-gold x and y do not count
    assert reciprocal_rank(["x", "y"], GOLD) == 0.0
    assert reciprocal_rank(["x", "y", "b"], GOLD, k=2) == 0.0
    assert reciprocal_rank(["b", "a"], GOLD) == 1.0


def test_ndcg_by_hand():
    dcg = 1 + 1 / math.log2(4)                      # hits at positions 1 and 3
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4) + 1 / math.log2(5)
    assert ndcg_at_k(RANKING, GOLD, 5) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)


def test_repeated_ids_count_once_at_their_first_position():
    assert rp_at_k(["a", "a", "a", "b"], GOLD, 3) == 2 / 3   # unique top 3 = a, b
    assert precision_at_k(["a", "a", "b"], GOLD, 2) == 1.0   # unique top 2 = a, b


def test_empty_gold_is_undefined_and_left_out_of_averages():
    for metric in (rp_at_k, precision_at_k, recall_at_k, f1_at_k, ndcg_at_k):
        assert metric(RANKING, set(), 5) is None
    assert reciprocal_rank(RANKING, set()) is None
    averages = score_rankings([RANKING, ["q"], ["a"]], [GOLD, set(), {"a"}], ks=(5,))
    assert averages["n"] == 2 and averages["n_without_gold"] == 1
    assert averages["RP@5"] == pytest.approx((2 / 4 + 1.0) / 2)
    assert averages["MRR"] == pytest.approx((1.0 + 1.0) / 2)


def test_ties_are_taken_in_the_order_given():
    # two skills with the same score: whichever the ranker put first is at position 1
    assert reciprocal_rank(["x", "a"], {"a"}) == 0.5
    assert reciprocal_rank(["a", "x"], {"a"}) == 1.0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        score_rankings([["a"]], [])
