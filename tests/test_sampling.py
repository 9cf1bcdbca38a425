"""Hash-based sampling: deterministic, order-free, and with the right frequencies."""

from __future__ import annotations

import numpy as np

from curation.sampling import choice_key, choose_text, keep_uniform, sample_image


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
