"""Hash-based sampling: deterministic, order-free, and with the right frequencies."""

from __future__ import annotations

import numpy as np
import pytest

from curation.balancing import keep_probabilities
from curation.sampling import (
    choice_key,
    choice_keys,
    choose_text,
    chosen_rows,
    image_runs,
    keep_uniform,
    sample_image,
    sample_images,
)


def test_draws_are_deterministic_and_depend_on_seed_epoch_uid():
    assert keep_uniform(1, 2, "u") == keep_uniform(1, 2, "u")
    assert len({keep_uniform(s, e, u) for s in (0, 1) for e in (0, 1) for u in ("a", "b")}) == 8
    assert 0 <= choice_key(0, 0, "u", "t") < 2 ** 63


def test_choice_does_not_depend_on_text_order():
    texts = ["a red car", "une voiture rouge", "赤い車"]
    chosen = texts[choose_text(3, 0, "img", texts)]
    for perm in ([2, 0, 1], [1, 2, 0], [2, 1, 0]):
        shuffled = [texts[i] for i in perm]
        assert shuffled[choose_text(3, 0, "img", shuffled)] == chosen


def test_choice_is_uniform_and_keep_rate_matches_probability():
    texts = ["x", "y", "z"]
    picks = np.bincount([choose_text(0, 0, f"u{i}", texts) for i in range(6000)], minlength=3)
    assert np.all(np.abs(picks / 6000 - 1 / 3) < 0.03)
    kept = [sample_image(0, 0, f"u{i}", ["t"], [[0.3]]) is not None for i in range(6000)]
    assert abs(np.mean(kept) - 0.3) < 0.03
    assert sample_image(0, 0, "u", ["t"], [[1.0]]) == 0
    assert sample_image(0, 0, "u", ["t"], [[0.0]]) is None


def test_image_runs_groups_consecutive_equal_uids():
    assert image_runs(["a", "a", "b", "c", "c", "c"]).tolist() == [0, 2, 3, 6]
    assert image_runs(["a"]).tolist() == [0, 1]
    assert image_runs([]).tolist() == [0]
    assert image_runs(["a", "b", "a"]).tolist() == [0, 1, 2, 3]  # not grouped: two images "a"
    assert image_runs(np.array(["x", "x"], dtype=object)).dtype == np.int64


def test_chosen_rows_takes_the_smallest_key_first_row_on_ties():
    # images rows 0-2, 3, 4-6: keys (5, 1, 1) -> row 1 (first of the tied 1s); (9) -> 3; (4, 2, 3) -> 5
    assert chosen_rows([0, 3, 4, 7], [5, 1, 1, 9, 4, 2, 3]).tolist() == [1, 3, 5]
    assert chosen_rows([0], []).tolist() == []
    for bounds, keys in (([0, 2], [1]), ([1, 2], [1, 2]), ([0, 1, 1, 2], [1, 2])):
        with pytest.raises(ValueError):
            chosen_rows(bounds, keys)


def test_batch_sample_equals_the_one_image_rule_on_every_image():
    rng = np.random.default_rng(4)
    uids, texts, probs = [], [], []
    for image in range(400):
        for _ in range(int(rng.integers(1, 5))):
            uids.append(f"img{image}")
            texts.append(str(rng.choice(["a cat", "ein Hund", "猫", "a cat"])))  # repeats inside an image
            probs.append(rng.random(int(rng.integers(0, 4))).astype(np.float32))
    bounds = image_runs(uids)
    keep = keep_probabilities([p.size for p in probs], np.concatenate(probs))
    got = sample_images(7, 2, uids, texts, bounds, keep)
    for k, (b, e) in enumerate(zip(bounds[:-1], bounds[1:])):
        one = sample_image(7, 2, uids[b], texts[b:e], probs[b:e])
        assert got[k] == (-1 if one is None else b + one)
        assert choose_text(7, 2, uids[b], texts[b:e]) == chosen_rows([0, e - b], choice_keys(
            7, 2, uids[b:e], texts[b:e]))[0] == int(np.argmin([choice_key(7, 2, uids[b], t) for t in texts[b:e]]))
    assert 0 < (got >= 0).sum() < len(got)
    with pytest.raises(ValueError):
        sample_image(0, 0, "u", [], [])
    with pytest.raises(ValueError):
        sample_image(0, 0, "u", ["a", "b"], [[0.5]])
