"""wwclip-realsyn end to end on the demo documents (local Spark), checked against the pure rules,
the same tables from 1 and from 16 partitions, the HTML report of the output, and training a few
steps from it (``python -m training.launch --realsyn``)."""

from __future__ import annotations

import glob
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.realsyn.arrow import emb_matrix
from curation.realsyn.retrieval import hierarchical_topk

pytestmark = [pytest.mark.spark, pytest.mark.slow]
N_DOCS = 50
# The partitioning test's second run: the documents cut into MANY files, read, shuffled and
# written with MANY partitions. Six (was 16) still gives every shuffle several partitions on
# both sides and a hash layout unlike the 1-partition run, so a partition-dependent result
# (first occurrence, dup root, k-means sample, balancing draw, embedding batch) still shows;
# the test Spark runs 2 tasks at once, so 16 only added task waves (8 per Python step instead
# of 3), each paying Spark's and the Python worker's per-task overhead, for no new layout.
MANY = 6


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> str:
    from curation.realsyn.demo import generate

    root = str(tmp_path_factory.mktemp("realsyn_demo"))
    generate(root, documents=N_DOCS, seed=0, num_files=1, train_steps=0)
    # the same documents cut into MANY files, for the partitioning test
    table = pq.read_table(os.path.join(root, "documents"))
    os.makedirs(os.path.join(root, "documents_many"))
    for i, rows in enumerate(np.array_split(np.arange(table.num_rows), MANY)):
        pq.write_table(table.take(pa.array(rows)), os.path.join(root, "documents_many", f"part-{i:05d}.parquet"))
    return root


def _args(demo: str, out: str, documents: str, partitions: int) -> list[str]:
    return ["--documents", os.path.join(demo, documents), "--images", os.path.join(demo, "images"),
            "--clip-model", os.path.join(demo, "clip"), "--output", out, "--output-partitions", str(partitions),
            "--target-pairs", "30", "--image-dup-cosine", "1.0", "--kmeans-iter", "5",
            "--synthetic-captions", os.path.join(demo, "synthetic_captions"), "--syn-low", "-1", "--syn-high", "1",
            "--embed-batch-size", "16", "--carry-images"]


@pytest.fixture(scope="module")
def run_one(spark, demo, tmp_path_factory) -> str:
    from curation.realsyn.cli import main

    out = str(tmp_path_factory.mktemp("realsyn_out1"))
    spark.conf.set("spark.sql.shuffle.partitions", "1")
    try:
        assert main(_args(demo, out, "documents", 1)) == 0
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "4")
    return out


@pytest.fixture(scope="module")
def run_many(spark, demo, tmp_path_factory) -> str:
    from curation.realsyn.config import build_parser, config_from_args
    from curation.realsyn.pipeline import run_realsyn

    out = str(tmp_path_factory.mktemp("realsyn_out_many"))
    spark.conf.set("spark.sql.shuffle.partitions", str(MANY))
    try:
        run_realsyn(spark, config_from_args(build_parser().parse_args(_args(demo, out, "documents_many", MANY))))
    finally:
        spark.conf.set("spark.sql.shuffle.partitions", "4")
    return out


def _table(out: str, name: str) -> pa.Table:
    files = sorted(glob.glob(os.path.join(out, name, "*.parquet")))
    assert files, f"{name} not written"
    return pa.concat_tables([pq.read_table(f) for f in files])


def _stats(out: str) -> dict:
    with open(os.path.join(out, "_stats.json"), encoding="utf-8") as f:
        return json.load(f)["realsyn"]


def test_stats_account_for_every_document_and_reason(run_one):
    s = _stats(run_one)
    ex = s["extract"]
    assert ex["documents_in"] == N_DOCS
    assert ex["documents_rejected"] == {"unaligned_lists": 1}            # page 49 is broken on purpose
    assert ex["documents_used"] == N_DOCS - 1
    assert ex["element_rejects"].get("bad_url", 0) >= 1
    assert set(ex["sentence_refs"]) >= {"kept", "too_few_words"}
    se = s["sentences"]
    assert se["perplexity"] == {"skipped": True, "reason": "no --perplexity-model given"}
    assert se["exact_duplicates"] > 0 and se["reasons"].get("low_entropy", 0) > 0
    assert se["references_in"] == ex["sentence_refs"]["kept"]
    assert sum(se["reasons"].values()) == se["distinct"]
    im = s["images"]
    assert sum(im["reasons"].values()) == im["distinct"]
    assert im["reasons"].get("near_duplicate", 0) >= 1                    # re-encoded copies (dHash)
    pairs = s["pairs"]
    assert pairs["synthetic"]["skipped"] is False
    assert pairs["pairs"] == len(_table(run_one, "realsyn_pairs"))
    assert pairs["images_in"] == im["reasons"]["kept"]


def test_tables_agree_with_rejects_and_references(run_one):
    refs = _table(run_one, "realsyn_image_refs").to_pylist()
    images = {r["uid"]: r for r in _table(run_one, "realsyn_images").to_pylist()}
    assert {r["uid"] for r in refs if r["reason"] is None} == set(images)
    for r in images.values():
        if r["reason"] == "near_duplicate":
            assert images[r["dup_of"]]["reason"] is None and r["dup_of"] < r["uid"]
    rejects = _table(run_one, "realsyn_rejects").to_pylist()
    assert all(r["reason"] for r in rejects)
    assert any(r["position"] is None and r["texts"] is not None for r in rejects)  # raw row kept


def test_pairs_are_the_hierarchical_topk_of_the_written_embeddings(run_one, demo):
    pairs = _table(run_one, "realsyn_pairs").to_pylist()
    assert pairs
    sent = _table(run_one, "realsyn_sentence_emb").sort_by("sid")
    sids = sent.column("sid").to_pylist()
    text_of = dict(zip(sids, sent.column("text").to_pylist()))
    centroids = _table(run_one, "realsyn_sentence_centroids").sort_by("cluster")
    img = _table(run_one, "realsyn_image_emb")
    row_of = {u: i for i, u in enumerate(img.column("uid").to_pylist())}
    x = emb_matrix(img.column("emb"))
    ids, scores = hierarchical_topk(x, emb_matrix(centroids.column("centroid")),
                                    np.asarray(sent.column("cluster").to_numpy()), emb_matrix(sent.column("emb")), 3)
    captioned = set(pq.read_table(os.path.join(demo, "synthetic_captions")).column("uid").to_pylist())
    for p in pairs:
        r = row_of[p["uid"]]
        expected = [sids[i] if i >= 0 else None for i in ids[r]]
        assert p["sentence_ids"] == expected
        assert [p["text1"], p["text2"], p["text3"]] == [text_of.get(s) for s in expected]
        np.testing.assert_allclose(p["scores"], scores[r], atol=1e-5)
        assert p["text1"] is not None
        assert (p["syn_text"] is not None) == (p["uid"] in captioned)


def test_balancing_caps_every_cluster_at_t(run_one):
    s = _stats(run_one)["pairs"]["balance"]
    pairs = _table(run_one, "realsyn_pairs").to_pylist()
    sizes = {}
    for p in pairs:
        sizes[p["image_cluster"]] = sizes.get(p["image_cluster"], 0) + 1
    assert s["how"] == "target 30"
    assert max(sizes.values()) <= s["t"]
    assert len(pairs) >= min(30, s["eligible"])


def test_same_tables_from_1_and_many_partitions(run_one, run_many):
    for name, key in [("realsyn_pairs", "uid"), ("realsyn_sentences", "sid"), ("realsyn_images", "uid"),
                      ("realsyn_rejects", "doc_id"), ("realsyn_sentence_emb", "sid")]:
        a = _table(run_one, name).sort_by([(key, "ascending")]).to_pylist()
        b = _table(run_many, name).sort_by([(key, "ascending")]).to_pylist()
        if name == "realsyn_rejects":
            a, b = sorted(a, key=repr), sorted(b, key=repr)
        assert a == b, name
    one, many = _stats(run_one), _stats(run_many)
    assert many["output_partitions"] == MANY                          # truly another partitioning
    assert len(glob.glob(os.path.join(run_many, "realsyn_sentences", "*.parquet"))) > 1
    assert one["pairs"]["balance"] == many["pairs"]["balance"]


def test_report_of_the_run(run_one):
    from curation.report import build_report, collect

    data = collect(run_one)
    rs = data.realsyn
    pairs = _table(run_one, "realsyn_pairs")
    assert not data.curation and not data.missing and rs.pairs == pairs.num_rows == _stats(run_one)["pairs"]["pairs"]
    assert sum(rs.texts_per_pair.values()) == pairs.num_rows
    assert rs.texts_per_pair.get(3, 0) == sum(1 for p in pairs.to_pylist() if p["text3"] is not None)
    assert rs.with_synthetic == sum(1 for p in pairs.to_pylist() if p["syn_text"])
    balance = _stats(run_one)["pairs"]["balance"]
    assert rs.sizes_before == balance["sizes_before"] and rs.sizes_after == balance["sizes_after"]
    html = open(build_report(run_one), encoding="utf-8").read()
    assert "RealSyn: interleaved documents" in html and html.count("data:image/png;base64,") == 2


def test_training_runs_a_few_steps_from_the_output(run_one, tmp_path):
    """``python -m training.launch --realsyn --data <root>``: captions drawn among text1..3 and
    syn_text, images from the jpg column ``--carry-images`` copied into realsyn_pairs."""
    from training.launch import main as launch

    out = str(tmp_path / "train")
    assert launch(["--realsyn", "--data", run_one, "--output-dir", out, "--max-steps", "3", "--batch-size", "8",
                   "--workers", "0", "--device", "cpu", "--tokenizer-vocab-size", "300", "--warmup", "1",
                   "--log-every", "1", "--save-every", "3", "--record-data-order", "--cpu-threads", "1"]) == 0
    with open(os.path.join(out, "data_order", "rank0.jsonl"), encoding="utf-8") as f:
        steps = [json.loads(line) for line in f]
    assert [s["step"] for s in steps] == [1, 2, 3]
    trained = {u for s in steps for u in s["uids"]}
    assert trained and trained <= set(_table(run_one, "realsyn_pairs").column("uid").to_pylist())
