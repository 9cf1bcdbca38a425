"""SPEC §6.1 CODER rules against small hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.coder import (
    neighbour_representation,
    ovo_pair_sims,
    rerank,
    softmax_margin,
    tip_adapter_logits,
    top_candidates,
    zero_shot_scores,
)

# ---------------------------------------------------------------- neighbour_representation


def test_neighbour_representation_is_bank_times_image():
    image = np.array([[1.0, 0.0], [0.6, 0.8]], np.float32)
    bank = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], np.float32)
    phi = neighbour_representation(image, bank)
    assert phi.dtype == np.float32 and phi.shape == (2, 3)
    np.testing.assert_allclose(phi, [[1.0, 0.0, 0.6], [0.6, 0.8, 1.0]], atol=1e-7)


def test_neighbour_representation_rejects_mismatched_dims():
    with pytest.raises(ValueError, match="dim"):
        neighbour_representation(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="2-D"):
        neighbour_representation(np.ones(3), np.ones((4, 3)))


# ---------------------------------------------------------------- zero_shot_scores

KIND = ["name", "synonym", "attribute", "analogous", "ovo", "name", "name"]
CLS = [0, 0, 0, 0, 0, 1, 1]


def test_zero_shot_mean_of_descriptions_and_best_name():
    sims = np.array([[0.2, 0.5, 0.3, 0.1, 0.9, 0.4, 0.1],
                     [0.6, 0.1, 0.0, 0.3, -1.0, 0.2, 0.25]], np.float32)
    s = zero_shot_scores(sims, CLS, KIND, 2)
    # class 0: mean(att 0.3, ana 0.1, max(name 0.2, syn 0.5)) = 0.3; the ovo text (0.9) is ignored.
    # class 1 has no description texts: 100 * max name = 40.
    np.testing.assert_allclose(s[0], [30.0, 40.0], atol=1e-5)
    # image 2: class 0 mean(0.0, 0.3, 0.6) = 0.3; class 1 max(0.2, 0.25)
    np.testing.assert_allclose(s[1], [30.0, 25.0], atol=1e-5)


def test_zero_shot_class_order_of_bank_rows_does_not_matter():
    rng = np.random.default_rng(0)
    sims = rng.normal(size=(3, 7))
    perm = rng.permutation(7)
    a = zero_shot_scores(sims, CLS, KIND, 2)
    b = zero_shot_scores(sims[:, perm], np.array(CLS)[perm], np.array(KIND)[perm], 2)
    np.testing.assert_allclose(a, b)


def test_zero_shot_rejects_bad_banks():
    sims = np.zeros((1, 3))
    with pytest.raises(ValueError, match="without a name"):
        zero_shot_scores(sims, [0, 1, 1], ["name", "attribute", "analogous"], 2)
    with pytest.raises(ValueError, match="unknown text kinds"):
        zero_shot_scores(sims, [0, 0, 0], ["name", "nom", "name"], 1)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        zero_shot_scores(sims, [0, 1, 2], ["name"] * 3, 2)
    with pytest.raises(ValueError, match="one entry per bank text"):
        zero_shot_scores(sims, [0, 1], ["name", "name"], 2)
    with pytest.raises(ValueError, match="n_classes"):
        zero_shot_scores(sims, [0, 0, 0], ["name"] * 3, 0)


# ---------------------------------------------------------------- softmax_margin / candidates


def test_softmax_margin_hand_values():
    m = softmax_margin(np.array([[math.log(3.0), 0.0], [5.0, 5.0], [1.0, 1.0]]))
    np.testing.assert_allclose(m, [0.5, 0.0, 0.0], atol=1e-12)
    assert softmax_margin(np.array([[3.0]]))[0] == 1.0  # one class: never a close call


def test_top_candidates_ties_go_to_lower_index():
    cand = top_candidates(np.array([[1.0, 3.0, 3.0, 0.0, 3.0, 2.0, 1.0]]), 5)
    assert cand.tolist() == [[1, 2, 4, 5, 0]]


# ---------------------------------------------------------------- rerank


def test_rerank_hand_case_and_missing_pairs_count_zero():
    scores = np.array([[10.0, 10.0, 0.0],     # tie: margin 0 -> re-ranked
                       [0.0, 50.0, 0.0]])     # confident: kept
    ovo = {(1, 0): np.array([0.5, 0.9]), (0, 1): np.array([0.2, 0.0])}
    # image 0: r0 = mean(0.2-0.5, 0 [no (0,2) texts]) = -0.15, r1 = 0.15, r2 = 0 -> class 1
    assert rerank(scores, ovo, 0.1).tolist() == [1, 1]
    assert rerank(scores, {}, 0.1).tolist() == [0, 1]  # no ovo texts: argmax, tie to the lower index
    # one direction only: the pair counts 0 (as the reference does), so argmax stays
    assert rerank(scores, {(1, 0): np.array([0.5, 0.9])}, 0.1).tolist() == [0, 1]


def test_rerank_equal_r_keeps_higher_ranked_candidate():
    scores = np.array([[0.0, 1.0, 0.9]])  # margin < 1; without texts every r is 0
    assert rerank(scores, {}, 1.0).tolist() == [1]  # not class 0, the lowest index among the candidates
    # r_1 = r_2 (symmetric evidence), class 1 is ranked higher by score
    ovo = {(1, 0): np.array([0.4]), (0, 1): np.array([0.2]), (2, 0): np.array([0.4]), (0, 2): np.array([0.2])}
    assert rerank(scores, ovo, 1.0).tolist() == [1]


def test_rerank_tau_exactly_at_the_boundary_does_not_rerank():
    scores = np.array([[2.0, 1.0, 0.0]])
    ovo = {(1, 0): np.array([0.9]), (0, 1): np.array([0.1])}
    margin = float(softmax_margin(scores)[0])
    assert rerank(scores, ovo, margin).tolist() == [0]  # margin < tau is strict
    assert rerank(scores, ovo, float(np.nextafter(margin, 1.0))).tolist() == [1]
    assert rerank(np.zeros((1, 2)), {(1, 0): np.ones(1), (0, 1): np.zeros(1)}, 0.0).tolist() == [0]  # 0 < 0 false


def test_rerank_only_considers_the_top5():
    scores = np.array([[6.0, 5.9, 5.8, 5.7, 5.6, 5.5]])  # class 5 is sixth
    ovo = {}
    for o in range(5):
        ovo[(5, o)], ovo[(o, 5)] = np.array([1.0]), np.array([-1.0])
    assert rerank(scores, ovo, 1.0).tolist() == [0]
    ovo[(1, 0)], ovo[(0, 1)] = np.array([0.3]), np.array([0.1])
    assert rerank(scores, ovo, 1.0).tolist() == [1]


def test_rerank_rejects_hostile_ovo():
    scores = np.zeros((2, 3))
    with pytest.raises(ValueError, match="different classes"):
        rerank(scores, {(1, 1): np.zeros(2)}, 0.1)
    with pytest.raises(ValueError, match="finite values"):
        rerank(scores, {(0, 1): np.array([0.0, np.nan])}, 0.1)
    with pytest.raises(ValueError, match="finite values"):
        rerank(scores, {(0, 1): np.zeros(3)}, 0.1)
    with pytest.raises(ValueError, match="tau"):
        rerank(scores, {}, 1.5)
    with pytest.raises(ValueError, match="mapping"):
        rerank(scores, np.zeros((2, 3, 3)), 0.1)


def test_ovo_pair_sims_means_per_ordered_pair():
    sims = np.array([[0.1, 0.3, 0.5], [1.0, 0.0, -0.5]])
    out = ovo_pair_sims(sims, [0, 0, 1], [1, 1, 0])
    assert set(out) == {(0, 1), (1, 0)}
    np.testing.assert_allclose(out[(0, 1)], [0.2, 0.5])
    np.testing.assert_allclose(out[(1, 0)], [0.5, -0.5])
    with pytest.raises(ValueError, match="itself"):
        ovo_pair_sims(sims, [0, 0, 1], [1, 0, 0])


# ---------------------------------------------------------------- tip_adapter_logits

ZS = np.array([[1.0, 0.0]])
LABELS = np.array([[1, 0], [0, 1], [0, 1]], np.float32)


def test_tip_adapter_hand_case():
    # A' = [0, 0.5, 1]; beta = ln 4 -> weights [1/4, 1/2, 1]; cache = [0.25, 1.5]; alpha 2
    out = tip_adapter_logits(ZS, np.array([[0.2, 0.6, 1.0]]), LABELS, 2.0, math.log(4.0))
    np.testing.assert_allclose(out, [[1.5, 3.0]])


def test_tip_adapter_all_equal_affinities_count_as_nearest():
    out = tip_adapter_logits(ZS, np.array([[0.3, 0.3, 0.3]]), LABELS, 2.0, 5.0)
    np.testing.assert_allclose(out, [[3.0, 4.0]])  # A' = 1 everywhere: weights 1, cache = shot counts
    one_key = tip_adapter_logits(ZS, np.array([[0.7]]), np.array([[0, 1]]), 1.0, 3.0)
    np.testing.assert_allclose(one_key, [[1.0, 1.0]])


def test_tip_adapter_without_minmax_and_with_absent_keys():
    raw = tip_adapter_logits(ZS, np.array([[0.5, 0.5, 1.0]]), LABELS, 1.0, 2.0, minmax=False)
    np.testing.assert_allclose(raw, [[1.0 + math.exp(-1.0), math.exp(-1.0) + 1.0]])
    # NaN = key left out (leave-one-out): min-max over [0.6, 1.0] -> weights [0, 1/4, 1]
    loo = tip_adapter_logits(ZS, np.array([[np.nan, 0.6, 1.0]]), LABELS, 1.0, math.log(4.0))
    np.testing.assert_allclose(loo, [[1.0, 1.25]])
    zero_alpha = tip_adapter_logits(ZS, np.array([[0.2, 0.6, 1.0]]), LABELS, 0.0, 3.0)
    np.testing.assert_allclose(zero_alpha, ZS)


def test_tip_adapter_rejects_hostile_inputs():
    aff = np.array([[0.2, 0.6, 1.0]])
    with pytest.raises(ValueError, match="one-hot"):
        tip_adapter_logits(ZS, aff, np.array([[1, 1], [0, 1], [0, 1]]), 1.0, 1.0)
    with pytest.raises(ValueError, match="labels_onehot must be"):
        tip_adapter_logits(ZS, aff, LABELS[:2], 1.0, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        tip_adapter_logits(ZS, aff, LABELS, -1.0, 1.0)
    with pytest.raises(ValueError, match="beta"):
        tip_adapter_logits(ZS, aff, LABELS, 1.0, float("nan"))
    with pytest.raises(ValueError, match="at least one available"):
        tip_adapter_logits(ZS, np.full((1, 3), np.nan), LABELS, 1.0, 1.0)
    with pytest.raises(ValueError, match="finite"):
        tip_adapter_logits(ZS, np.array([[np.inf, 0.6, 1.0]]), LABELS, 1.0, 1.0)
