"""Image near-duplicates in Spark (paper §3.1: perceptual and semantic duplicates, Union-Find).

Semantic: two images are linked when their embeddings' cosine is >= ``image_dup_cosine``.
Instead of all pairs, each image goes to its ``probe`` nearest image-cluster centroids; inside
one cluster (one whole group per task, rows in uid order) a faiss range search finds the
linked pairs and a union-find (``graph.components``) turns them into star edges (member ->
the group's smallest uid). Perceptual: images with the same dHash are linked the same way.
The edges of all clusters are merged by Spark connected components (``spark_graph``); each
component keeps its smallest uid, the others get ``near_duplicate`` and ``dup_of``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from curation.realsyn.arrow import emb_matrix, whole_groups
from curation.realsyn.graph import components
from curation.sampling import image_runs

NEAR_DUPLICATE = "near_duplicate"


def range_pairs(x: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of rows of ``x`` with inner product >= ``threshold`` (faiss range
    search on a flat inner-product index; faiss keeps scores > radius, so the radius is the
    next float below the threshold and ``>=`` is applied here)."""
    import faiss

    x = np.ascontiguousarray(x, dtype=np.float32)
    if len(x) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    radius = float(np.nextafter(np.float32(threshold), np.float32(-np.inf)))
    lims, scores, ids = index.range_search(x, radius)
    src = np.repeat(np.arange(len(x)), np.diff(lims).astype(np.int64))
    keep = (scores >= np.float32(threshold)) & (src < ids)
    return src[keep], ids[keep].astype(np.int64)


def group_edges(uids: list[str], x: np.ndarray, threshold: float) -> list[tuple[str, str]]:
    """Star edges (root uid, member uid) of the duplicate components among ``uids`` (sorted)."""
    left, right = range_pairs(x, threshold)
    if len(left) == 0:
        return []
    roots = components(len(uids), left, right)
    return [(uids[r], uids[i]) for i, r in enumerate(roots.tolist()) if r != i]


def _near_dup_mapper(threshold: float):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        import faiss

        faiss.omp_set_num_threads(1)
        for table in whole_groups(batches, "probe_cluster"):
            keys = np.asarray(table.column("probe_cluster").to_numpy())
            uids = table.column("uid").to_pylist()
            x = emb_matrix(table.column("emb"))
            src, dst = [], []
            bounds = image_runs(keys).tolist()
            for a, b in zip(bounds[:-1], bounds[1:]):
                for root, member in group_edges(uids[a:b], x[a:b], threshold):
                    src.append(root)
                    dst.append(member)
            yield pa.RecordBatch.from_arrays([pa.array(src, pa.string()), pa.array(dst, pa.string())],
                                             ["src", "dst"])
    return run


def duplicate_edges(images, threshold: float, n_partitions: int, perceptual: bool):
    """``images(uid, emb, probe_clusters, phash)`` of kept images -> edges ``(src, dst)``."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    exploded = (images.select("uid", "emb", F.explode("probe_clusters").alias("probe_cluster"))
                .repartition(n_partitions, "probe_cluster").sortWithinPartitions("probe_cluster", "uid"))
    edges = exploded.mapInArrow(_near_dup_mapper(threshold), "src string, dst string")
    if perceptual:
        root = F.min("uid").over(Window.partitionBy("phash"))
        same_hash = (images.where(F.col("phash").isNotNull()).select("uid", root.alias("src"))
                     .where(F.col("src") != F.col("uid")).select("src", F.col("uid").alias("dst")))
        edges = edges.union(same_hash)
    return edges


def near_duplicates(images, threshold: float, n_partitions: int, perceptual: bool = True):
    """``(uid, dup_of)`` for every kept image that is a near duplicate of a smaller uid."""
    from pyspark.sql import functions as F

    from curation.realsyn.spark_graph import connected_components

    comps = connected_components(duplicate_edges(images, threshold, n_partitions, perceptual))
    return comps.where(F.col("component") != F.col("node")).select(F.col("node").alias("uid"),
                                                                  F.col("component").alias("dup_of"))
