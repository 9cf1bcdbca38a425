"""Spark glue of RealSyn against the pure functions, and independence from partitioning."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from curation.pipeline.config import ConfigError
from curation.realsyn.arrow import emb_matrix
from curation.realsyn.balance import cluster_cap_mask
from curation.realsyn.retrieval import nearest_centroid

pytestmark = pytest.mark.spark
FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "obelics_tiny.jsonl")
# Several partitions (was 16): the input is repartitioned to 7 and the step's own shuffle
# spreads the rows over 6, so rows of one cluster meet from different partitions; the test
# Spark runs 2 tasks at once, so 16 only added task waves (and Python per-task overhead).
MANY = 6


def _normalise(x):
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_read_documents_from_jsonl_fixture(spark):
    from curation.realsyn.documents import document_id
    from curation.realsyn.spark_io import read_documents

    df = read_documents(spark, FIXTURE, "jsonl", doc_id_column="id")
    rows = {r["doc_id"]: r for r in df.collect()}
    assert len(rows) == 9
    assert rows["texts-not-list"]["texts"] is None            # a string where a list belongs -> null -> reject
    nested = rows["nested-metadata"]
    assert json.loads(nested["metadata"])[2] == {"original_width": 1200, "original_height": 300}
    assert json.loads(nested["general_metadata"]) == {"url": "https://example.de/seite"}
    r = rows["good-en"]
    assert r["content_id"] == document_id(r["texts"], r["images"], r["metadata"], r["general_metadata"])
    no_ids = read_documents(spark, FIXTURE, "jsonl")
    assert sorted(no_ids.toPandas()["doc_id"]) == sorted(no_ids.toPandas()["content_id"])


def test_read_documents_rejects_wrong_schema(spark, tmp_path):
    from curation.realsyn.spark_io import read_documents, read_images

    path = str(tmp_path / "bad")
    spark.createDataFrame([("a", "b")], "texts string, images string").write.parquet(path)
    with pytest.raises(ConfigError, match="array<string>"):
        read_documents(spark, path)
    with pytest.raises(ConfigError, match="not found"):
        read_documents(spark, str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="uid"):
        read_images(spark, path)


def test_connected_components(spark):
    from curation.realsyn.spark_graph import connected_components

    edges = spark.createDataFrame([("d", "c"), ("c", "b"), ("b", "a"), ("x", "y"), ("z", "z")],
                                  "src string, dst string")
    comps = {r["node"]: r["component"] for r in connected_components(edges).collect()}
    assert comps == {"a": "a", "b": "a", "c": "a", "d": "a", "x": "x", "y": "x"}


@pytest.mark.parametrize("partitions", [1, MANY])
def test_cap_clusters_equals_pure_mask(spark, partitions):
    from curation.realsyn.pairs import cap_clusters

    rng = np.random.default_rng(0)
    uids = [f"u{i:05d}" for i in range(600)]
    clusters = rng.zipf(1.6, 600).clip(max=30).astype(int)
    df = spark.createDataFrame(list(zip(uids, clusters.tolist())), "uid string, image_cluster int").repartition(7)
    got = {r["uid"]: r["balanced_keep"] for r in cap_clusters(df, 5, seed=3, n_partitions=partitions).collect()}
    expected = cluster_cap_mask(clusters, uids, 5, 3)
    assert [got[u] for u in uids] == expected.tolist()


@pytest.mark.parametrize("partitions", [1, MANY])
def test_distributed_retrieval_equals_hierarchical_topk(spark, partitions):
    from curation.realsyn.arrow import emb_array
    from curation.realsyn.pairs import retrieve
    from curation.realsyn.retrieval import hierarchical_topk

    rng = np.random.default_rng(1)
    centroids = _normalise(rng.normal(size=(6, 8)))
    sentences = _normalise(np.repeat(centroids, 10, axis=0) + 0.5 * rng.normal(size=(60, 8)))
    sentences[5] = sentences[4]                       # an exact tie: the smaller sid must win
    cluster = nearest_centroid(sentences, centroids)
    images = _normalise(rng.normal(size=(40, 8)))
    sids = [f"s{i:03d}" for i in range(60)]
    s_df = spark.createDataFrame([(sids[i], f"text {i}", int(cluster[i]), sentences[i].tolist()) for i in range(60)],
                                 "sid string, text string, cluster int, emb array<float>")
    i_cluster = nearest_centroid(images, centroids)
    i_df = spark.createDataFrame([(f"img{j:03d}", int(i_cluster[j]), images[j].tolist()) for j in range(40)],
                                 "uid string, sentence_cluster int, emb array<float>")
    got = {r["uid"]: r for r in retrieve(i_df, s_df, 3, partitions).collect()}
    ids, scores = hierarchical_topk(images, centroids, cluster, sentences, 3)
    for j in range(40):
        row = got[f"img{j:03d}"]
        assert row["sentence_ids"] == [sids[i] if i >= 0 else None for i in ids[j]]
        assert row["texts"] == [f"text {i}" if i >= 0 else None for i in ids[j]]
        np.testing.assert_allclose(row["scores"], scores[j], atol=1e-6)
    assert emb_matrix(emb_array(images)).shape == (40, 8)
