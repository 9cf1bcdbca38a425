"""The download stage end to end: curate -> download (img2dataset, pyspark distributor, against a
local HTTP server) -> train, plus resume, shard determinism and failure reasons."""

from __future__ import annotations

import glob
import io
import json
import os
from collections import Counter

import pyarrow.parquet as pq
import pytest
from PIL import Image

from curation.download import (DownloadConfig, assign_shards, build_parser, config_from_args, failure_reason,
                               failure_reason_columns, format_summary, run_download, unique_urls)
from curation.download.urls import bucket_offsets, shard_dir, write_url_list
from curation.metadata import metadata_from_lists, write_metadata
from curation.pipeline.config import ConfigError, CurationConfig
from curation.pipeline.curate import run_curate
from curation.spark.tables import read_table

from ..pipeline_fixtures import METADATA, TEXTS
from .conftest import EXPECTED_REASON

pytest.importorskip("img2dataset")
pytestmark = pytest.mark.spark

# Captions that match the test metadata; broken images all get the first (English) one.
CAPTIONS = [t for lang in ("en", "zh", "ja", "de", "th") for t in TEXTS[lang] if "nothing" not in t]
KINDS = {"img": 30, "png": 3, "missing": 2, "error": 1, "truncated": 2, "html": 1, "slow": 2, "tiny": 1, "optout": 1}
PER_SHARD = 8


def write_alt_texts(server, path: str) -> dict[str, str]:
    """JSONL alt-texts pointing at the server; every 4th good image has a second caption. -> {url: kind}"""
    kinds, n = {}, 0
    with open(path, "w", encoding="utf-8") as f:
        for kind, count in KINDS.items():
            for _ in range(count):
                url = server.url(kind, n)
                kinds[url] = kind
                caption = CAPTIONS[n % len(CAPTIONS)] if kind in ("img", "png") else CAPTIONS[0]
                f.write(json.dumps({"url": url, "text": caption}, ensure_ascii=False) + "\n")
                if kind == "img" and n % 4 == 0:
                    second = CAPTIONS[(n + 3) % len(CAPTIONS)]
                    f.write(json.dumps({"url": url, "text": second}, ensure_ascii=False) + "\n")
                n += 1
    return kinds


def curate(spark, server, tmp, fmt: str) -> tuple[str, dict[str, str]]:
    """A real curation run (all five stages) over the server's URLs; t_en so high that every
    matched image is kept, so each broken kind reaches ``curated``."""
    kinds = write_alt_texts(server, str(tmp / "alt_texts.jsonl"))
    write_metadata(metadata_from_lists(METADATA, "test"), str(tmp / "metadata.parquet"))
    root = str(tmp / "out")
    cfg = CurationConfig(input=str(tmp / "alt_texts.jsonl"), metadata=str(tmp / "metadata.parquet"), output=root,
                         format=fmt, t_en="1000000")
    run_curate(spark, cfg.validate())
    return root, kinds


def download_config(root: str, fmt: str, **kw) -> DownloadConfig:
    base = dict(output=root, format=fmt, timeout=2, retries=0, thread_count=8, number_sample_per_shard=PER_SHARD,
                image_size=64, min_image_size=16, user_agent_token="wwclip-test")
    base.update(kw)
    return DownloadConfig(**base).validate()


def status_rows(spark, root: str, fmt: str, source: str = "curated") -> dict[str, dict]:
    return {r["uid"]: r.asDict() for r in read_table(spark, root, f"{source}_download_status", fmt).collect()}


@pytest.fixture(scope="module")
def offline(spark, image_server, tmp_path_factory):
    """curated (Parquet) -> download (parquet shards)."""
    root, kinds = curate(spark, image_server, tmp_path_factory.mktemp("dl_parquet"), "parquet")
    image_server.reset()
    section = run_download(spark, download_config(root, "parquet"))
    return {"root": root, "kinds": kinds, "section": section, "hits": Counter(image_server.hits)}


def test_every_uid_is_downloaded_or_failed_with_its_reason(spark, offline):
    root, kinds = offline["root"], offline["kinds"]
    curated = {r["uid"]: r["url"] for r in read_table(spark, root, "curated", "parquet").select("uid", "url").collect()}
    assert set(kinds) == set(curated.values())  # every image, broken ones included, was curated
    status = status_rows(spark, root, "parquet")
    assert set(status) == set(curated)  # exactly one status row per uid
    for uid, row in status.items():
        expected = EXPECTED_REASON[kinds[row["url"]]]
        if expected is None:
            assert (row["status"], row["reason"]) == ("downloaded", None), row
            assert row["width"] and row["key"]
        else:
            assert (row["status"], row["reason"]) == ("failed", expected), row
            assert row["error_message"]
    assert status[next(u for u, r in status.items() if kinds[r["url"]] == "missing")]["http_status"] == 404
    section = offline["section"]
    reasons = Counter(EXPECTED_REASON[kinds[u]] for u in curated.values() if EXPECTED_REASON[kinds[u]])
    assert section["failed_by_reason"] == dict(reasons) and section["complete"] and section["accounting_ok"]
    assert section["downloaded"] == KINDS["img"] + KINDS["png"] == section["training_rows"]
    assert section["shards"]["total"] == section["shards"]["complete"] == -(-len(curated) // PER_SHARD)
    assert section["img2dataset"]["count"] == len(curated)
    assert section["img2dataset"]["successes"] == section["downloaded"]
    stats = json.load(open(os.path.join(root, "_stats.json")))
    assert stats["stages"]["download_curated"]["downloaded"] == section["downloaded"] and "sample" in stats["stages"]
    # img2dataset's own per-shard stats stay next to its shards
    shard_stats = sorted(glob.glob(os.path.join(section["images_dir"], "*_stats.json")))
    assert len(shard_stats) == section["shards"]["total"]
    assert sum(json.load(open(p))["count"] for p in shard_stats) == len(curated)
    assert "downloaded 33" in format_summary(section)


def test_training_table_holds_only_downloaded_images(spark, offline):
    root = offline["root"]
    status = status_rows(spark, root, "parquet")
    view = pq.read_table(os.path.join(root, "curated_images"))
    assert set(view.column("uid").to_pylist()) == {u for u, r in status.items() if r["status"] == "downloaded"}
    assert view.num_rows == len(set(view.column("uid").to_pylist()))
    curated = {r["uid"]: r["text"] for r in read_table(spark, root, "curated", "parquet").collect()}
    for uid, text, jpg in zip(view.column("uid").to_pylist(), view.column("text").to_pylist(),
                              view.column("jpg").to_pylist()):
        assert text == curated[uid]
        with Image.open(io.BytesIO(jpg)) as im:
            assert im.format == "JPEG" and min(im.size) >= 16  # keep_ratio, never upscaled
    for name in ("uid", "text", "lang", "entry_ids", "keep_prob", "url", "key", "width", "height", "sha256"):
        assert name in view.column_names


def test_user_agent_and_one_request_per_image(offline, image_server):
    hits = offline["hits"]
    assert all(n == 1 for n in hits.values())  # retries=0: one request per url
    assert {p.split("?")[0] for p in hits} == {u.split(str(image_server.port))[1] for u in offline["kinds"]}
    assert any("(compatible; wwclip-test;" in ua for ua in image_server.user_agents)


def test_trains_a_few_steps_on_the_downloaded_images(offline, tmp_path):
    from training.reader import DataConfig
    from training.train import TrainConfig, train

    cfg = TrainConfig(data=DataConfig(table=os.path.join(offline["root"], "curated_images"), seed=1),
                      output_dir=str(tmp_path / "run"), model="wwclip-tiny", tokenizer_vocab_size=600, batch_size=8,
                      max_steps=3, warmup_steps=1, workers=0, log_every=1, save_every=None)
    summary = train(cfg)
    assert summary["steps"] == 3 and summary["finished"] and summary["last_loss"] == summary["last_loss"]


def test_rerun_fetches_only_missing_shards(spark, offline, image_server):
    """Kill-and-resume: a shard without its _stats.json is fetched again, nothing else."""
    root, images = offline["root"], offline["section"]["images_dir"]
    before = status_rows(spark, root, "parquet")
    image_server.reset()
    again = run_download(spark, download_config(root, "parquet"))
    assert sum(image_server.hits.values()) == 0 and again["downloaded"] == offline["section"]["downloaded"]

    os.remove(os.path.join(images, "00002_stats.json"))  # as if the job died while writing shard 2
    with open(os.path.join(images, "00002.parquet"), "r+b") as f:
        f.truncate(100)
    shard2 = {r["url"] for r in before.values() if r["shard"] == 2}
    assert len(shard2) == PER_SHARD
    image_server.reset()
    resumed = run_download(spark, download_config(root, "parquet"))
    fetched = {f"http://127.0.0.1:{image_server.port}{p}" for p in image_server.hits}
    assert fetched == shard2
    after = status_rows(spark, root, "parquet")
    drop = ("error_message",)  # e.g. the port in a message; everything else is identical
    assert {u: {k: v for k, v in r.items() if k not in drop} for u, r in after.items()} == \
        {u: {k: v for k, v in r.items() if k not in drop} for u, r in before.items()}
    assert resumed["downloaded"] == offline["section"]["downloaded"] and resumed["complete"]


def test_changed_settings_or_input_refuse_to_mix_shards(spark, offline):
    root = offline["root"]
    with pytest.raises(ConfigError, match="other settings"):
        run_download(spark, download_config(root, "parquet", image_size=128))
    with pytest.raises(ConfigError, match="different url list"):
        run_download(spark, download_config(root, "parquet", number_sample_per_shard=5))


def test_same_urls_give_the_same_shards_whatever_the_partitioning(spark, tmp_path):
    """Shard = position in uid order // samples per shard, whatever the input's partitioning;
    uids of any length and alphabet (bucketed by their first characters) sort as Spark sorts."""
    rows = [(f"{i * 7919 % 1000:04d}-{i}", f"http://h/{i}.jpg") for i in range(203)]
    rows += [(u, f"http://h/{u}.jpg") for u in ("a", "ab", "abc", "abd", "b", "Z", "é", "éa", "z\u4e2d", "")]
    in_order = sorted((u for u, _ in rows), key=lambda u: u.encode("utf-8"))
    expected = {u: i // 10 for i, u in enumerate(in_order)}
    for n_partitions in (1, 7):
        df = spark.createDataFrame(rows, "uid string, url string").repartition(n_partitions)
        listed, total = assign_shards(unique_urls(df), 10)
        assert total == len(rows)
        assert {r.uid: r.shard for r in listed.collect()} == expected
    urls_dir = str(tmp_path / "url_list")
    write_url_list(listed, urls_dir, total)
    for shard in range(-(-len(rows) // 10)):  # one directory per shard, its uids in order
        got = pq.read_table(shard_dir(urls_dir, shard), partitioning=None).column("uid").to_pylist()
        assert got == [u for u in in_order if expected[u] == shard]


def test_bucket_offsets_follow_spark_string_order():
    """Offsets are the sizes of all smaller buckets, in UTF-8 byte order (Spark's string order)."""
    offsets = bucket_offsets({"b": 2, "a": 3, "\u00e9": 1, "z": 4, "Z": 5})
    assert offsets == {"Z": 0, "a": 5, "b": 8, "z": 10, "\u00e9": 14}
    assert bucket_offsets({}) == {}


def test_failure_reasons_are_the_same_rule_in_python_and_spark(spark):
    cases = [("success", None), ("failed_to_download", "HTTP Error 404: Not Found"),
             ("failed_to_download", "HTTP Error 503: Service Unavailable"), ("failed_to_download", "timed out"),
             ("failed_to_download", "<urlopen error timed out>"), ("failed_to_resize", "image too small"),
             ("failed_to_resize", "Image decoding error"), ("failed_to_resize", "image area too large"),
             ("failed_to_resize", "aspect ratio too large"),
             ("failed_to_download", "Use of image disallowed by X-Robots-Tag directive"),
             ("failed_to_download", "<urlopen error [Errno 111] Connection refused>"),
             ("failed_to_download", "unknown url type: 'notaurl'"), ("failed_to_download", "hash mismatch"),
             ("failed_to_download", "<urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] ...>"),
             ("failed_to_download", "something else"), ("failed_to_resize", "OpenCV(4.x) error"),
             ("failed_to_download", None),
             ("failed_to_download", "HTTP Error 301: The HTTP server returned a redirect error that would lead to "
                                    "an infinite loop.\nThe last 30x error message was:\nMoved Permanently"),
             ("failed_to_download", "redirect loop: more than 10 redirects from http://a/"),
             ("failed_to_download", "empty body: the server sent 0 bytes"),
             ("failed_to_resize", "OpenCV(4.9) error: (-215:Assertion failed) !buf.empty() in function 'imdecode_'"),
             ("failed_to_download", "body too large: more than 5 bytes"),
             ("failed_to_download", "timed out: shard deadline passed before this image was requested"),
             ("failed_to_download", "redirect to a ftp: URL refused (ftp://x/)")]
    from pyspark.sql import functions as F

    df = spark.createDataFrame(cases, "status string, error_message string")
    reason, http = failure_reason_columns(F.col("status"), F.col("error_message"))
    got = [(r["reason"], r["http"]) for r in df.select(reason.alias("reason"), http.alias("http")).collect()]
    assert got == [failure_reason(s, m) for s, m in cases]
    assert got[1] == ("http_404", 404) and got[3] == ("timeout", None) and got[9] == ("opt_out", None)
    assert got[14] == ("download_error", None) and got[15] == ("resize_error", None)
    assert got[17:] == [("redirect_loop", None), ("redirect_loop", None), ("empty_body", None), ("empty_body", None),
                        ("body_too_large", None), ("shard_deadline", None), ("bad_url", None)]


def test_cli_flags_become_a_validated_config(tmp_path):
    args = build_parser().parse_args(["--output", str(tmp_path), "--source", "matched", "--format", "delta",
                                      "--disallowed-header-directives", "noai, NoImageAI", "--compute-hash", "none",
                                      "--resize-always", "--conf", "spark.x=1"])
    cfg = config_from_args(args)
    assert cfg.source == "matched" and cfg.disallowed_header_directives == ("noai", "noimageai")
    assert cfg.compute_hash is None and not cfg.resize_only_if_bigger and cfg.spark_conf == {"spark.x": "1"}
    assert cfg.images == os.path.join(str(tmp_path), "images", "matched") and cfg.view_table == "matched_images"
    d = DownloadConfig()
    assert (d.image_size, d.resize_mode, d.encode_format, d.timeout, d.retries, d.user_agent_token) == \
        (256, "keep_ratio", "jpg", 10, 0, "wwclip")
    assert set(d.disallowed_header_directives) == {"noai", "noimageai", "noindex", "noimageindex"}
    for bad in (dict(source="texts"), dict(output_format="tfrecord"), dict(timeout=0), dict(resize_mode="x"),
                dict(user_agent_token="has space"), dict(encode_quality=101)):
        with pytest.raises(ConfigError):
            DownloadConfig(**bad).validate()


def test_missing_source_table_fails_clearly(spark, tmp_path):
    from curation.spark.tables import TableError

    with pytest.raises(TableError, match="curated"):
        run_download(spark, download_config(str(tmp_path), "parquet"))


# ---------------------------------------------------------------- Delta, online balancing, other formats

@pytest.fixture(scope="module")
def online(spark, offline, tmp_path_factory):
    """The same curation output as Delta tables -> download of ``matched`` (webdataset shards)."""
    from curation.spark.tables import write_batch, write_table

    root = str(tmp_path_factory.mktemp("dl_delta") / "out")
    for name in ("curated", "entry_probs"):
        write_table(read_table(spark, offline["root"], name, "parquet"), root, name, "delta")
    matched = read_table(spark, offline["root"], "matched", "parquet")
    write_batch(matched.repartition(2, "uid").sortWithinPartitions("uid", "text"), root, "matched", "delta", "base",
                replace_all=True)
    section = run_download(spark, download_config(root, "delta", source="matched", output_format="webdataset"))
    return {"root": root, "kinds": offline["kinds"], "section": section}


def test_matched_images_keep_every_text_of_each_image(spark, online):
    root, section = online["root"], online["section"]
    assert section["complete"] and section["output_format"] == "webdataset"
    assert glob.glob(os.path.join(section["images_dir"], "00000.tar"))
    matched = read_table(spark, root, "matched", "delta").select("uid", "text").collect()
    status = status_rows(spark, root, "delta", "matched")
    ok = {u for u, r in status.items() if r["status"] == "downloaded"}
    view = read_table(spark, root, "matched_images", "delta").select("uid", "text", "jpg").collect()
    expected = sorted((r["uid"], r["text"]) for r in matched if r["uid"] in ok)
    assert sorted((r["uid"], r["text"]) for r in view) == expected
    assert len(view) > len(ok)  # some images have two texts
    assert all(r["jpg"][:2] == b"\xff\xd8" for r in view)
    assert section["failed_by_reason"]["http_404"] == 2


def test_online_balancing_trains_on_matched_images(online, tmp_path):
    from training.reader import DataConfig
    from training.train import TrainConfig, train

    table = os.path.join(online["root"], "matched_images")
    cfg = TrainConfig(data=DataConfig(table=table, mode="online", seed=2), output_dir=str(tmp_path / "run"),
                      model="wwclip-tiny", tokenizer_vocab_size=600, batch_size=8, max_steps=2, warmup_steps=1,
                      workers=0, log_every=1, save_every=None)
    assert train(cfg)["steps"] == 2


def test_files_output_gives_a_path_column_the_loader_reads(spark, online):
    from training.dataset import CuratedDataset, make_loader
    from training.reader import DataConfig

    root = online["root"]
    section = run_download(spark, download_config(root, "delta", source="curated", output_format="files"))
    assert section["image_column"] == "image_path" and section["downloaded"] == KINDS["img"] + KINDS["png"]
    ds = CuratedDataset(DataConfig(table=os.path.join(root, "curated_images"), image_path_column="image_path",
                                   image_root=section["images_dir"]), batch_size=64, drop_last=False,
                        image_transform=lambda im: im.size)
    batches = list(make_loader(ds, num_workers=0))
    assert sum(len(b["uids"]) for b in batches) == section["downloaded"]
    assert not any(b["stats"].get("missing_file") or b["stats"].get("decode_error") for b in batches)
