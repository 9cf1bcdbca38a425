"""Hierarchical retrieval (SPEC §6.1; paper §3.2 "hierarchical retrieval").

Each image is linked to k real sentences from the *global* sentence pool in two steps: the
nearest sentence-cluster centroid by inner product, then the top-k sentences of that cluster
by inner product. Against brute force over all S sentences this costs C + S/C dot products
per image instead of S (the paper: 40 GPU-hours instead of > 10,000).

Conventions (SPEC §6.1): embeddings float32 and L2-normalised by the caller, so inner product
= cosine; ties break towards the lower index; a cluster with fewer than k sentences pads the
result with id -1 and score -inf.

The Spark stage runs the same two steps, ``nearest_centroid`` on executors and
``topk_inner_product`` once per cluster, with a cluster's sentences in ascending id order, so
its ties break exactly as here.
"""

from __future__ import annotations

import numpy as np

CHUNK_ROWS = 1024  # query rows scored at once: bounds the [rows, keys] score matrix


def _as_matrix(name: str, x: np.ndarray, dim: int | None = None) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array [n, d], got shape {x.shape}")
    if dim is not None and x.shape[1] != dim:
        raise ValueError(f"{name} has dimension {x.shape[1]}, expected {dim}")
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return x


def nearest_centroid(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Index of the centroid with the largest inner product for each row of ``x`` (int64[N]);
    the lower index on ties (``np.argmax`` returns the first maximum)."""
    x = _as_matrix("x", x)
    centroids = _as_matrix("centroids", centroids, x.shape[1])
    if len(centroids) == 0:
        raise ValueError("no centroids")
    out = np.empty(len(x), dtype=np.int64)
    for start in range(0, len(x), CHUNK_ROWS):
        out[start:start + CHUNK_ROWS] = np.argmax(x[start:start + CHUNK_ROWS] @ centroids.T, axis=1)
    return out


def top_centroids(x: np.ndarray, centroids: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` nearest centroids of each row (int64[N, n], best first, ties to the lower
    index); column 0 is ``nearest_centroid``. Used to probe neighbouring clusters."""
    ids, _ = topk_inner_product(x, centroids, min(n, len(centroids)))
    return ids


def topk_inner_product(queries: np.ndarray, keys: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k of ``queries @ keys.T`` per query: (int64[N, k] key indices, float32[N, k]
    scores), best first, ties towards the lower key index, padded with -1 / -inf when there
    are fewer than k keys.

    Selection without a full sort: the k-th largest score ``v`` of a row (``np.partition``)
    splits it into keys scoring above ``v`` (all taken) and keys equal to ``v`` (the lowest
    indices taken until k); the k winners, in ascending index order, are then sorted stably
    by descending score, which leaves equal scores in ascending index order.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    queries = _as_matrix("queries", queries)
    keys = _as_matrix("keys", keys, queries.shape[1])
    n, m = len(queries), len(keys)
    ids = np.full((n, k), -1, dtype=np.int64)
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    take = min(k, m)
    if n == 0 or take == 0:
        return ids, scores
    for start in range(0, n, CHUNK_ROWS):
        s = queries[start:start + CHUNK_ROWS] @ keys.T
        rows = len(s)
        if take < m:
            kth = -np.partition(-s, take - 1, axis=1)[:, take - 1]
            above = s > kth[:, None]
            equal = s == kth[:, None]
            need = take - above.sum(axis=1)
            chosen = above | (equal & (np.cumsum(equal, axis=1) <= need[:, None]))
            cols = np.nonzero(chosen)[1].reshape(rows, take)  # ascending index within each row
        else:
            cols = np.broadcast_to(np.arange(m), (rows, m))
        vals = np.take_along_axis(s, cols, axis=1)
        order = np.argsort(-vals, axis=1, kind="stable")
        ids[start:start + rows, :take] = np.take_along_axis(cols, order, axis=1)
        scores[start:start + rows, :take] = np.take_along_axis(vals, order, axis=1)
    return ids, scores


def hierarchical_topk(image_emb: np.ndarray, centroids: np.ndarray, sentence_cluster: np.ndarray,
                      sentence_emb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """SPEC §6.1: for each image, the nearest centroid by inner product, then the top-k
    sentences of that cluster by inner product.

    Returns (int64[N, k] indices into ``sentence_emb``, float32[N, k] scores), best first,
    ties to the lower sentence index, -1 / -inf where the cluster has fewer than k sentences.
    ``sentence_cluster[s]`` is the cluster of sentence ``s`` (in ``[0, C)``).
    """
    image_emb = _as_matrix("image_emb", image_emb)
    centroids = _as_matrix("centroids", centroids, image_emb.shape[1])
    sentence_emb = _as_matrix("sentence_emb", sentence_emb, image_emb.shape[1])
    sentence_cluster = np.asarray(sentence_cluster)
    if sentence_cluster.shape != (len(sentence_emb),):
        raise ValueError(f"sentence_cluster has shape {sentence_cluster.shape}, expected ({len(sentence_emb)},)")
    if len(sentence_cluster) and (sentence_cluster.min() < 0 or sentence_cluster.max() >= len(centroids)):
        raise ValueError(f"sentence_cluster values must lie in [0, {len(centroids)})")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    ids = np.full((len(image_emb), k), -1, dtype=np.int64)
    scores = np.full((len(image_emb), k), -np.inf, dtype=np.float32)
    if len(image_emb) == 0:
        return ids, scores
    image_cluster = nearest_centroid(image_emb, centroids)
    by_cluster = np.argsort(sentence_cluster, kind="stable")  # ascending index inside each cluster
    bounds = np.searchsorted(sentence_cluster[by_cluster], np.arange(len(centroids) + 1))
    for c in np.unique(image_cluster):
        images = np.flatnonzero(image_cluster == c)
        members = by_cluster[bounds[c]:bounds[c + 1]]
        local, sc = topk_inner_product(image_emb[images], sentence_emb[members], k)
        ids[images] = np.where(local >= 0, members[np.maximum(local, 0)], -1)
        scores[images] = sc
    return ids, scores


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean over queries of |found ∩ exact| / |exact| (ids, -1 = padding ignored): how much of
    the brute-force top-k the hierarchical search recovers."""
    found, exact = np.asarray(found), np.asarray(exact)
    if found.shape[0] != exact.shape[0]:
        raise ValueError("found and exact must have the same number of rows")
    hits, total = 0, 0
    for f, e in zip(found, exact):
        e = set(e[e >= 0].tolist())
        hits += len(e & set(f[f >= 0].tolist()))
        total += len(e)
    return hits / total if total else 1.0
