"""Few-shot: shot selection, the (α, β) search on the training shots only, Tip-Adapter vs CODER-Tip."""

from __future__ import annotations

import math

import numpy as np
import pytest

import training.coder.fewshot as fewshot
from training.coder.fewshot import (
    SearchConfig,
    evaluate_few_shot,
    grid,
    search_alpha_beta,
    select_shots,
    tune_on_shots,
)


def test_reference_grid():
    g = grid(0.1, 200.0, 500)
    assert len(g) == 500 and g[0] == 0.1 and g[1] == pytest.approx(0.4998) and g[-1] < 200.0


def test_select_shots_is_nested_order_free_and_per_class():
    ids = [f"img{i}" for i in range(30)]
    labels = [i % 3 for i in range(30)]
    s4, s8 = select_shots(ids, labels, 4, seed=1), select_shots(ids, labels, 8, seed=1)
    assert len(s4) == 12 and set(s4) < set(s8)
    assert np.bincount(np.asarray(labels)[s4]).tolist() == [4, 4, 4]
    perm = np.random.default_rng(0).permutation(30)
    again = select_shots([ids[p] for p in perm], [labels[p] for p in perm], 4, seed=1)
    assert sorted(ids[perm[i]] for i in again) == sorted(ids[i] for i in s4)
    assert set(select_shots(ids, labels, 4, seed=2)) != set(s4)
    assert len(select_shots(ids, labels, 50)) == 30  # a class with fewer images gives all it has
    with pytest.raises(ValueError, match="unique"):
        select_shots(["a", "a"], [0, 1], 1)


def test_search_finds_the_smallest_alpha_that_fixes_the_image():
    # one image, label 1, zero-shot prefers class 0 by 1; keys: class 0 at A=0, class 1 at A=1 -> A' = [0, 1]
    # beta = ln 2: cache = [1/2, 1]; correct iff 1 + alpha/2 < alpha iff alpha > 2 (alpha = 2 ties -> class 0)
    cfg = SearchConfig(beta_range=(math.log(2), math.log(2) + 1), beta_steps=1, alpha_range=(0.5, 5.5),
                       alpha_steps=10, rounds=1)
    zs, aff, keys, y = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), np.eye(2), np.array([1])
    alpha, beta, acc = search_alpha_beta(zs, aff, keys, y, cfg)
    assert (alpha, beta, acc) == (2.5, pytest.approx(math.log(2)), 1.0)
    # a second round searches [1.25, 3.75) but keeps the first best on equal accuracy
    assert search_alpha_beta(zs, aff, keys, y, SearchConfig(**{**cfg.__dict__, "rounds": 2}))[0] == 2.5


def test_one_shot_per_class_cannot_be_validated():
    q = np.eye(3)
    t = tune_on_shots(q, q, np.zeros((3, 3)), np.array([0, 1, 2]), 3, SearchConfig(init_alpha=2.0, init_beta=3.0))
    assert not t.searched and (t.alpha, t.beta, t.val_accuracy, t.val_images) == (2.0, 3.0, None, 0)


def test_leave_one_out_never_uses_the_shots_own_key():
    # zero-shot is wrong for every shot by 0.1. Each shot's own key would pull it to its class
    # (accuracy 1 at a large alpha); without it, the nearest remaining key is of the other class
    q = np.array([[0.6, 0, 0.8, 0], [0, 0.6, 0, 0.8],   # class 0: each resembles one class-1 shot
                  [0, 0, 1.0, 0], [0, 0, 0, 1.0]])      # class 1
    labels = np.array([0, 0, 1, 1])
    zs = np.array([[0, 0.1], [0, 0.1], [0.1, 0], [0.1, 0]])
    cfg = SearchConfig(beta_steps=5, alpha_steps=5, rounds=1)
    t = tune_on_shots(q, q, zs, labels, 2, cfg)
    assert t.searched and t.val_images == 4
    assert t.val_accuracy == 0.0 and t.alpha == cfg.alpha_range[0]
    own_key_in = search_alpha_beta(zs, q @ q.T, np.eye(2)[labels], labels, cfg)
    assert own_key_in[2] == 1.0  # what a leaky validation would have reported


def _clusters(rng, n_per_class, centres, noise=0.35):
    x = np.repeat(centres, n_per_class, axis=0)
    x = x + noise * rng.normal(size=x.shape)
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.repeat(np.arange(len(centres)), n_per_class)


def test_few_shot_beats_a_useless_text_classifier_and_search_sees_no_test_data(monkeypatch):
    rng = np.random.default_rng(0)
    d, c = 16, 4
    centres = rng.normal(size=(c, d))
    shots, y_shots = _clusters(rng, 8, centres)
    test_a, y_a = _clusters(rng, 30, centres)
    test_b, y_b = _clusters(rng, 30, centres, noise=0.6)
    classifier = rng.normal(size=(d, c))
    classifier /= np.linalg.norm(classifier, axis=0)
    bank = rng.normal(size=(64, d)).astype(np.float32)
    bank /= np.linalg.norm(bank, axis=1, keepdims=True)
    seen = []
    real = fewshot.tune_on_shots

    def spy(*args, **kw):
        seen.append([np.asarray(a) for a in args if isinstance(a, np.ndarray)])
        return real(*args, **kw)

    monkeypatch.setattr(fewshot, "tune_on_shots", spy)
    cfg = SearchConfig(beta_steps=40, alpha_steps=10, rounds=2)
    zero_shot = float(np.mean(np.argmax(test_a @ classifier, axis=1) == y_a))
    tip = evaluate_few_shot(shots, shots, y_shots, test_a, y_a, classifier, None, cfg)
    coder = evaluate_few_shot(shots, shots, y_shots, test_a, y_a, classifier, bank, cfg)
    assert tip.accuracy > zero_shot + 0.2 and coder.accuracy > zero_shot + 0.2
    assert tip.tuned.searched and tip.shots == 8
    # the search received shot-sized arrays only, none holding a test row ...
    for arrays in seen:
        assert all(a.shape[0] == len(shots) for a in arrays)
    # ... and another test set changes nothing about (alpha, beta)
    other = evaluate_few_shot(shots, shots, y_shots, test_b, y_b, classifier, bank, cfg)
    assert (other.tuned.alpha, other.tuned.beta) == (coder.tuned.alpha, coder.tuned.beta)
