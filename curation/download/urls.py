"""The url list img2dataset reads: one url per uid, in uid order, cut into files of whole shards.

The position of a uid in uid order fixes its shard, so the same (uid, url) set always gives the
same shards; a manifest (fingerprint of that set + the shard settings) lets a re-run reuse the
list and refuse to mix shards of another list or other settings into the images folder.
"""

from __future__ import annotations

import hashlib
import logging
import math

from curation.pipeline.config import ConfigError
from curation.download.config import DownloadConfig
from curation.download.img2dataset import completed_shards
from curation.spark.fs import delete, exists, read_json, write_json

log = logging.getLogger("curation.download")

URLS_DIR = "url_list"
MANIFEST = "_manifest.json"
SHARDS_PER_URL_FILE = 100  # url-list files hold whole shards, so file boundaries never move shards


def shard_of(position: int, number_sample_per_shard: int) -> int:
    """img2dataset shard of the url at ``position`` in the url list (files hold whole shards)."""
    return position // number_sample_per_shard


def unique_urls(source):
    """One row per uid of ``source``: ``uid, url, n_urls`` (min url when a uid has several)."""
    from pyspark.sql import functions as F

    url = F.when(F.trim(F.col("url")) != "", F.col("url"))
    return (source.select("uid", url.alias("url")).groupBy("uid")
            .agg(F.min("url").alias("url"), F.countDistinct("url").alias("n_urls")))


def assign_shards(urls, number_sample_per_shard: int, shards_per_file: int = SHARDS_PER_URL_FILE,
                  total: int | None = None):
    """``uid, url, shard`` in uid order, one partition per url-list file of whole shards.

    The position of a uid in uid order fixes its shard, so the same set of (uid, url) always
    gives the same shards, whatever the source's partitioning. Partition ``p`` holds positions
    ``[p*S, (p+1)*S)`` with ``S = number_sample_per_shard * shards_per_file``; written as-is,
    part file ``p`` sorts before ``p+1`` and img2dataset numbers shards across files in order."""
    from pyspark.sql import types as T

    per_file = number_sample_per_shard * shards_per_file
    ordered = urls.select("uid", "url").orderBy("uid").rdd.zipWithIndex()
    total = ordered.count() if total is None else total
    n_files = max(1, math.ceil(total / per_file))
    if n_files >= 100_000:  # part-%05d names stop sorting numerically there
        raise ConfigError(f"{total} urls make {n_files} url-list files; raise --number-sample-per-shard")
    n = number_sample_per_shard
    keyed = ordered.map(lambda t: (t[1] // per_file, (t[0][0], t[0][1], shard_of(t[1], n))))
    rows = keyed.partitionBy(n_files, lambda k: k).values()
    schema = T.StructType([T.StructField("uid", T.StringType(), False), T.StructField("url", T.StringType(), False),
                           T.StructField("shard", T.LongType(), False)])
    return urls.sparkSession.createDataFrame(rows, schema).sortWithinPartitions("uid"), total


def urls_fingerprint(urls) -> tuple[str, dict]:
    """Order-independent fingerprint of the (uid, url) set plus counts, in one aggregation."""
    from pyspark.sql import functions as F

    row = urls.agg(
        F.count(F.lit(1)).alias("uids"),
        F.sum(F.col("url").isNull().cast("long")).alias("no_url"),
        F.sum((F.col("n_urls") > 1).cast("long")).alias("several_urls"),
        F.sum(F.xxhash64("uid", F.coalesce("url", F.lit(""))).cast("decimal(38,0)")).alias("h1"),
        F.sum(F.xxhash64(F.lit("wwclip"), "uid", F.coalesce("url", F.lit(""))).cast("decimal(38,0)")).alias("h2"),
    ).collect()[0]
    counts = {"uids": int(row["uids"]), "no_url": int(row["no_url"] or 0),
              "several_urls": int(row["several_urls"] or 0)}
    digest = hashlib.sha256(f"{row['uids']}|{row['h1']}|{row['h2']}".encode()).hexdigest()[:16]
    return digest, counts


def prepare_url_list(spark, cfg: DownloadConfig, source) -> dict:
    """Write ``<images>/url_list`` (reused when the source and settings are unchanged); the manifest.

    Refuses to mix shards of a different url list or different image settings into ``<images>``:
    that needs ``--overwrite`` (or another ``--images-dir``)."""
    from pyspark import StorageLevel

    urls_dir = f"{cfg.images}/{URLS_DIR}"
    urls = unique_urls(source).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        fingerprint, counts = urls_fingerprint(urls)
        wanted = {"urls_fingerprint": fingerprint, **counts, "settings": cfg.shard_settings(),
                  "shards_per_file": SHARDS_PER_URL_FILE, "source": cfg.source,
                  "source_table": f"{cfg.output.rstrip('/')}/{cfg.source}"}
        manifest = read_json(spark, f"{urls_dir}/{MANIFEST}") if exists(spark, urls_dir) else {}
        done = completed_shards(spark, cfg.images)
        same_urls = manifest.get("urls_fingerprint") == fingerprint and \
            manifest.get("shards_per_file") == SHARDS_PER_URL_FILE and \
            manifest.get("settings", {}).get("number_sample_per_shard") == cfg.number_sample_per_shard
        if done and not same_urls:
            raise ConfigError(
                f"{cfg.images} holds {len(done)} shards of a different url list (the {cfg.source} table changed, "
                f"or --number-sample-per-shard differs, or they were not written by this job); resuming would mix "
                f"them up. Use --overwrite to download again, or another --images-dir")
        if done and manifest.get("settings") != wanted["settings"]:
            diff = {k: (manifest.get("settings", {}).get(k), v) for k, v in wanted["settings"].items()
                    if manifest.get("settings", {}).get(k) != v}
            raise ConfigError(f"{cfg.images} holds shards made with other settings {diff} (was, now); resume with "
                              "the same settings, or use --overwrite to download again")
        if same_urls and exists(spark, f"{urls_dir}/_SUCCESS"):
            log.info("url list unchanged (%s): reusing %s", fingerprint, urls_dir)
        else:
            delete(spark, urls_dir)
            if counts["uids"] > counts["no_url"]:
                listed, total = assign_shards(urls.where("url IS NOT NULL"), cfg.number_sample_per_shard,
                                              total=counts["uids"] - counts["no_url"])
                listed.write.mode("errorifexists").parquet(urls_dir)
                log.info("wrote the url list: %d urls in uid order -> %s", total, urls_dir)
        n_urls = counts["uids"] - counts["no_url"]
        manifest = {**wanted, "urls": n_urls, "shards": math.ceil(n_urls / cfg.number_sample_per_shard)}
        write_json(spark, f"{urls_dir}/{MANIFEST}", manifest)  # last: the url list is complete
        return manifest
    finally:
        urls.unpersist()
