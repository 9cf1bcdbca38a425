"""Hierarchical retrieval, synthetic-caption band and semantic balancing in Spark (paper §3.2-3.3).

Retrieval: every kept image is assigned its nearest sentence centroid (executors,
``retrieval.nearest_centroid``); images and sentences are then co-partitioned by that
cluster, each task sees whole clusters (sentences in ascending sid order, then images) and
calls ``retrieval.topk_inner_product`` once per cluster: exactly ``hierarchical_topk``, with
ties towards the smaller sid. A cluster's sentences are held in memory while its images
stream past (bounded by the largest cluster, not the input).

Balancing: ``balance.cluster_cap_mask`` once per whole image cluster (rows in uid order), so
the kept set is the one the pure function gives on the whole table, whatever the partitioning.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from curation.realsyn.arrow import emb_matrix, whole_groups
from curation.realsyn.balance import cluster_cap_mask
from curation.realsyn.retrieval import topk_inner_product
from curation.realsyn.rules import in_synthetic_band_many
from curation.sampling import image_runs

NO_SENTENCES = "no_sentences"
SYNTHETIC_OUT_OF_BAND = "synthetic_out_of_band"
BALANCED_OUT = "balanced_out"
KIND_SENTENCE, KIND_IMAGE = 0, 1


def _retrieve_cluster(table: pa.Table, k: int) -> pa.RecordBatch | None:
    """Top-k of one cluster's images among its sentences (rows: sentences by sid, then images)."""
    kinds = np.asarray(table.column("kind").to_numpy())
    cluster = table.column("sentence_cluster")[0].as_py()
    sent = table.filter(pa.array(kinds == KIND_SENTENCE))
    img = table.filter(pa.array(kinds == KIND_IMAGE))
    if img.num_rows == 0:
        return None
    sids, texts = sent.column("id").to_pylist(), sent.column("text").to_pylist()
    x = emb_matrix(img.column("emb"))
    keys = emb_matrix(sent.column("emb"), x.shape[1]) if sent.num_rows else np.zeros((0, x.shape[1]), np.float32)
    ids, scores = topk_inner_product(x, keys, k)
    out_sids = [[sids[j] if j >= 0 else None for j in row] for row in ids.tolist()]
    out_texts = [[texts[j] if j >= 0 else None for j in row] for row in ids.tolist()]
    return pa.RecordBatch.from_arrays(
        [img.column("id").combine_chunks(), pa.array([cluster] * img.num_rows, pa.int32()),
         pa.array(out_sids, pa.list_(pa.string())), pa.array(out_texts, pa.list_(pa.string())),
         pa.array(scores.tolist(), pa.list_(pa.float32()))],
        ["uid", "sentence_cluster", "sentence_ids", "texts", "scores"])


def _retrieval_mapper(k: int):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for table in whole_groups(batches, "sentence_cluster"):
            keys = np.asarray(table.column("sentence_cluster").to_numpy())
            bounds = image_runs(keys).tolist()
            for a, b in zip(bounds[:-1], bounds[1:]):
                out = _retrieve_cluster(table.slice(a, b - a), k)
                if out is not None:
                    yield out
    return run


def retrieve(images, sentences, k: int, n_partitions: int):
    """``images(uid, emb, sentence_cluster)`` x ``sentences(sid, text, cluster, emb)`` ->
    ``(uid, sentence_cluster, sentence_ids, texts, scores)``, k entries each, null / -inf padded."""
    from pyspark.sql import functions as F

    s = sentences.select(F.col("cluster").alias("sentence_cluster"), F.lit(KIND_SENTENCE).alias("kind"),
                         F.col("sid").alias("id"), "text", "emb")
    i = images.select("sentence_cluster", F.lit(KIND_IMAGE).alias("kind"), F.col("uid").alias("id"),
                      F.lit(None).cast("string").alias("text"), "emb")
    both = (s.unionByName(i).repartition(n_partitions, "sentence_cluster")
            .sortWithinPartitions("sentence_cluster", "kind", "id"))
    return both.mapInArrow(_retrieval_mapper(k), "uid string, sentence_cluster int, sentence_ids array<string>, "
                                                 "texts array<string>, scores array<float>")


def _band_mapper(low: float, high: float):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            a, b = emb_matrix(batch.column("emb")), emb_matrix(batch.column("syn_emb"))
            cos = np.einsum("nd,nd->n", a, b).astype(np.float32)
            yield pa.RecordBatch.from_arrays(
                [batch.column("uid"), pa.array(cos), pa.array(in_synthetic_band_many(cos, low, high))],
                ["uid", "syn_score", "syn_in_band"])
    return run


def synthetic_scores(with_captions, low: float, high: float):
    """``(uid, emb, syn_emb)`` -> ``(uid, syn_score, syn_in_band)`` (``rules.in_synthetic_band``)."""
    return with_captions.mapInArrow(_band_mapper(low, high), "uid string, syn_score float, syn_in_band boolean")


def _cap_mapper(t: int, seed: int):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for table in whole_groups(batches, "image_cluster"):
            mask = cluster_cap_mask(table.column("image_cluster").to_numpy(), table.column("uid").to_pylist(), t, seed)
            yield pa.RecordBatch.from_arrays([table.column("uid").combine_chunks(), pa.array(mask)],
                                             ["uid", "balanced_keep"])
    return run


def cap_clusters(candidates, t: int, seed: int, n_partitions: int):
    """``(uid, image_cluster)`` -> ``(uid, balanced_keep)`` via ``cluster_cap_mask`` per cluster."""
    grouped = (candidates.select("uid", "image_cluster").repartition(n_partitions, "image_cluster")
               .sortWithinPartitions("image_cluster", "uid"))
    return grouped.mapInArrow(_cap_mapper(t, seed), "uid string, balanced_keep boolean")


def size_histogram(sizes: list[int]) -> dict[str, int]:
    """Clusters per size bin (1, 2-3, 4-7, ... powers of two): for the report."""
    hist: dict[str, int] = {}
    for s in sizes:
        if s <= 0:
            continue
        lo = 1 << (int(s).bit_length() - 1)
        key = f"{lo}" if lo == 1 else f"{lo}-{2 * lo - 1}"
        hist[key] = hist.get(key, 0) + 1
    return dict(sorted(hist.items(), key=lambda kv: int(kv[0].split("-")[0])))
