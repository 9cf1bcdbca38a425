"""Union-find: connected components of a duplicate graph inside one partition.

Used per image cluster on the edges of a faiss range search; the Spark stage
(``curation.realsyn.spark_graph``) then joins the per-partition components across partitions.
"""

from __future__ import annotations

import numpy as np


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """int64[n]: for each node the smallest node index of its component (edges ``left[i]-right[i]``).

    Union by smaller root, so every root is its component's minimum; path halving keeps finds
    short.
    """
    parent = np.arange(n, dtype=np.int64)
    left, right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    if left.shape != right.shape:
        raise ValueError("left and right must have the same shape")
    if left.size and (min(left.min(), right.min()) < 0 or max(left.max(), right.max()) >= n):
        raise ValueError(f"edge endpoints must lie in [0, {n})")
    p = parent.tolist()

    def find(x: int) -> int:
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    for a, b in zip(left.tolist(), right.tolist()):
        ra, rb = find(a), find(b)
        if ra != rb:
            if ra < rb:
                p[rb] = ra
            else:
                p[ra] = rb
    return np.array([find(x) for x in range(n)], dtype=np.int64)
