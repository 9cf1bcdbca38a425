"""cluster_cap_mask and the cap for a target size (SPEC §6.1)."""

from __future__ import annotations

import numpy as np
import pytest

from curation.hashing import hash64
from curation.realsyn.balance import cap_for_target, capped_total, cluster_cap_mask


def test_cluster_exactly_at_t_is_kept_whole_and_larger_keeps_smallest_hashes():
    uids = [f"u{i}" for i in range(7)]
    clusters = np.array([0, 0, 0, 1, 1, 1, 1])  # cluster 0 has exactly t = 3, cluster 1 has 4
    mask = cluster_cap_mask(clusters, uids, 3, seed=5)
    assert mask[:3].all()
    big = [3, 4, 5, 6]
    by_hash = sorted(big, key=lambda i: hash64(5, uids[i]))
    assert set(np.flatnonzero(mask[3:]) + 3) == set(by_hash[:3])
    assert mask.sum() == 6


def test_cap_mask_independent_of_row_order_and_seed_dependent():
    rng = np.random.default_rng(0)
    uids = [f"img{i:04d}" for i in range(500)]
    clusters = rng.integers(0, 20, 500)
    mask = cluster_cap_mask(clusters, uids, 10, seed=1)
    perm = rng.permutation(500)
    mask_perm = cluster_cap_mask(clusters[perm], [uids[i] for i in perm], 10, seed=1)
    assert (mask_perm == mask[perm]).all()
    sizes = np.bincount(clusters, minlength=20)
    assert mask.sum() == capped_total(sizes, 10)
    assert (np.bincount(clusters[mask], minlength=20) == np.minimum(sizes, 10)).all()
    assert not (cluster_cap_mask(clusters, uids, 10, seed=2) == mask).all()


def test_cap_mask_edges():
    assert cluster_cap_mask(np.array([0, 0]), ["a", "b"], 0, 0).tolist() == [False, False]
    assert cluster_cap_mask(np.array([], dtype=int), [], 3, 0).tolist() == []
    # the same uid twice in a cluster: equal hashes, the lower row wins
    assert cluster_cap_mask(np.array([4, 4]), ["x", "x"], 1, 0).tolist() == [True, False]
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError):
            cluster_cap_mask(np.array([0]), ["a"], bad, 0)
    with pytest.raises(ValueError):
        cluster_cap_mask(np.array([0, 1]), ["a"], 1, 0)


def test_cap_for_target_hand_computed():
    sizes = np.array([1, 5, 10])
    # kept(t) = 3, 5, 7, 9, 11 for t = 1..5
    assert [capped_total(sizes, t) for t in range(1, 6)] == [3, 5, 7, 9, 11]
    assert cap_for_target(sizes, 3) == 1
    assert cap_for_target(sizes, 10) == 5
    assert cap_for_target(sizes, 11) == 5
    assert cap_for_target(sizes, 16) == 10       # everything
    assert cap_for_target(sizes, 100) == 10      # more than there is: keep everything
    with pytest.raises(ValueError):
        cap_for_target(sizes, 0)


def test_cap_for_target_is_smallest_sufficient():
    rng = np.random.default_rng(3)
    sizes = rng.zipf(1.8, 300).clip(max=5000)
    for target in (10, 500, 1234, int(sizes.sum())):
        t = cap_for_target(sizes, target)
        assert capped_total(sizes, t) >= target
        assert t == 1 or capped_total(sizes, t - 1) < target
