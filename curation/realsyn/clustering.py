"""k-means of embeddings with faiss (paper: sentences into 2M clusters, images into 1M).

Trained on the driver on a bounded, deterministic sample (the rows with the smallest
``xxhash64(seed, id)``, in id order) and assigned on executors with
``retrieval.nearest_centroid``. Spherical k-means (centroids re-normalised every iteration),
since the embeddings are L2-normalised and compared by inner product. faiss runs single-
threaded here: its result then depends only on the sample and the seed.
"""

from __future__ import annotations

import numpy as np


def auto_clusters(n_rows: int, per_cluster: int) -> int:
    """The paper's rows-per-cluster ratio applied to ``n_rows`` (at least 1)."""
    return max(1, -(-n_rows // per_cluster))


def train_kmeans(x: np.ndarray, k: int, seed: int = 0, niter: int = 20) -> np.ndarray:
    """float32[min(k, n), D] L2-normalised centroids of ``x`` (float32[n, D], L2-normalised).

    ``k`` is lowered to the sample size when the sample is smaller (faiss needs >= k points);
    with k == n every point is its own centroid.
    """
    import faiss

    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"k-means needs a non-empty [n, d] sample, got shape {x.shape}")
    k = max(1, min(k, len(x)))
    if k == len(x):
        return x.copy()
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        km = faiss.Kmeans(x.shape[1], k, niter=niter, seed=seed, spherical=True, verbose=False,
                          min_points_per_centroid=1, max_points_per_centroid=max(1, len(x)))
        km.train(x)
    finally:
        faiss.omp_set_num_threads(threads)
    c = km.centroids.astype(np.float32)
    return c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)


def sample_for_kmeans(df, id_column: str, emb_column: str, n: int, seed: int) -> np.ndarray:
    """The ``emb_column`` of the ``n`` rows with the smallest ``xxhash64(seed, id)`` (ties by
    id), in that order: the same sample for any partitioning. At most ``n`` rows reach the driver."""
    from pyspark.sql import functions as F

    from curation.realsyn.arrow import emb_matrix

    rows = (df.select(F.xxhash64(F.lit(seed), F.col(id_column)).alias("_h"), id_column, emb_column)
            .orderBy("_h", id_column).limit(n).select(emb_column).toArrow())
    return emb_matrix(rows.column(emb_column))
