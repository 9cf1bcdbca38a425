"""Semantic balancing (SPEC §6.1; paper §3.3 "semantic balance sampling").

Images are clustered by their embeddings (k-means; the paper uses 1M clusters over 168M
images); every cluster is capped at ``t`` members, MetaCLIP style: a cluster with <= t members
is kept whole, a larger one keeps t members, so rare concepts weigh more than in a random
sample. The paper's t = 20 / 35 / 180 give its 15M / 30M / 100M sets; ``cap_for_target``
finds the t of any target size.

The members a cluster keeps are the t with the smallest ``hash64(seed, uid)``: a function of
the seed and the image alone, so the choice does not depend on partitioning, task order or
retries, and the Spark stage (one call per whole cluster) gives exactly this mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from curation.hashing import hash64_many, hash_key


def cluster_cap_mask(cluster_ids: np.ndarray, uids: Sequence[str], t: int, seed: int) -> np.ndarray:
    """SPEC §6.1: bool[N], True for kept rows. A cluster with <= t rows keeps them all; a larger
    one keeps its t rows with the smallest ``hash64(seed, uid)``, ties (equal hashes: the same
    uid twice) towards the lower row index."""
    cluster_ids = np.asarray(cluster_ids)
    if cluster_ids.ndim != 1 or len(cluster_ids) != len(uids):
        raise ValueError(f"cluster_ids ({cluster_ids.shape}) and uids ({len(uids)}) must be 1-D of equal length")
    if isinstance(t, bool) or int(t) != t or t < 0:
        raise ValueError(f"t must be an integer >= 0, got {t!r}")
    n = len(cluster_ids)
    if n == 0:
        return np.zeros(0, dtype=bool)
    head = hash_key(seed, "")  # "seed\x1f": hash_key(seed, uid) without a join per row
    h = hash64_many([head + str(u) for u in uids])
    order = np.lexsort((np.arange(n), h, cluster_ids))  # by cluster, then hash, then row
    sorted_clusters = cluster_ids[order]
    starts = np.r_[0, np.flatnonzero(sorted_clusters[1:] != sorted_clusters[:-1]) + 1]
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    mask = np.zeros(n, dtype=bool)
    mask[order] = rank < t
    return mask


def capped_total(cluster_sizes: np.ndarray, t: int) -> int:
    """Rows kept by a cap t: Σ_c min(size_c, t)."""
    return int(np.minimum(np.asarray(cluster_sizes, dtype=np.int64), t).sum())


def cap_for_target(cluster_sizes: np.ndarray, target: int) -> int:
    """The smallest t >= 1 with Σ min(size_c, t) >= ``target`` (the kept count grows with t, so
    a binary search finds it); the largest cluster size when even that keeps fewer rows (then
    balancing keeps everything)."""
    sizes = np.asarray(cluster_sizes, dtype=np.int64)
    if target < 1:
        raise ValueError(f"target must be >= 1, got {target}")
    if sizes.size == 0:
        return 1
    if (sizes < 0).any():
        raise ValueError("cluster sizes must be >= 0")
    lo, hi = 1, max(1, int(sizes.max()))
    if capped_total(sizes, hi) < target:
        return hi
    while lo < hi:
        mid = (lo + hi) // 2
        if capped_total(sizes, mid) >= target:
            hi = mid
        else:
            lo = mid + 1
    return lo
