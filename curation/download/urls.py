"""The url list the download reads: one url per uid, shard = position in uid order // shard size.

The position of a uid in uid order fixes its shard, so the same (uid, url) set always gives the
same shards, however the source is partitioned. Positions are computed in Spark SQL, never by
sending rows through Python: uids are bucketed by their first ``BUCKET_CHARS`` characters (an
order-preserving key: ordering by (bucket, uid) is ordering by uid), the bucket sizes (at most
16**3 = 4096 rows for curation's hex uids) give each bucket's first position, and a
``row_number`` over the uids of one bucket gives the rest. The list is written as one directory
per shard (``url_list/shard=<n>/``, uid-sorted), so a download task reads exactly its shard; a
manifest (fingerprint of the (uid, url) set + the shard settings) lets a re-run reuse the list
and refuse to mix shards of another list or other settings into the images folder.
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
LAYOUT = "shard-directories-v1"  # url_list/shard=<n>/part-*.parquet (uid, url), sorted by uid
BUCKET_CHARS = 3
ROWS_PER_WRITE_TASK = 1_000_000
MAX_SHARDS = 100_000  # shard files are named 00000 ... 99999 (img2dataset oom_shard_count 5)


def shard_of(position: int, number_sample_per_shard: int) -> int:
    """Shard of the url at ``position`` (0-based) in uid order: ``position // number_sample_per_shard``."""
    return position // number_sample_per_shard


def shard_dir(urls_dir: str, shard: int) -> str:
    """The directory holding the urls of one shard (Spark's partition-directory naming)."""
    return f"{urls_dir.rstrip('/')}/shard={shard}"


def unique_urls(source):
    """One row per uid of ``source``: ``uid, url, n_urls`` (min url when a uid has several)."""
    from pyspark.sql import functions as F

    url = F.when(F.trim(F.col("url")) != "", F.col("url"))
    return (source.select("uid", url.alias("url")).groupBy("uid")
            .agg(F.min("url").alias("url"), F.countDistinct("url").alias("n_urls")))


def bucket_offsets(sizes: dict[str, int]) -> dict[str, int]:
    """First position of each bucket in uid order: the sizes of all smaller buckets summed."""
    offsets, total = {}, 0
    for bucket in sorted(sizes, key=lambda b: b.encode("utf-8")):  # Spark orders strings by UTF-8 bytes
        offsets[bucket] = total
        total += sizes[bucket]
    return offsets


def assign_shards(urls, number_sample_per_shard: int):
    """``(uid, url, shard)`` for every row of ``urls`` (unique uids), and the row count.

    ``shard = position // number_sample_per_shard`` with ``position`` the uid's 0-based rank in
    uid order, computed as ``offset[bucket(uid)] + row_number() over (bucket order by uid) - 1``.
    One small aggregation (rows per bucket) reaches the driver; the rows never leave the JVM."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = urls.sparkSession
    keyed = urls.select("uid", "url", F.substring("uid", 1, BUCKET_CHARS).alias("bucket"))
    sizes = {r["bucket"]: int(r["count"]) for r in keyed.groupBy("bucket").count().collect()}
    total = sum(sizes.values())
    n_shards = math.ceil(total / number_sample_per_shard)
    if n_shards > MAX_SHARDS:
        raise ConfigError(f"{total} urls make {n_shards} shards (at most {MAX_SHARDS}); "
                          "raise --number-sample-per-shard")
    offsets = spark.createDataFrame(sorted(bucket_offsets(sizes).items()), "bucket string, offset long")
    rank = F.row_number().over(Window.partitionBy("bucket").orderBy("uid"))
    listed = (keyed.join(F.broadcast(offsets), "bucket").withColumn("rank", rank)
              .select("uid", "url", F.expr(f"(offset + rank - 1) div {int(number_sample_per_shard)}").alias("shard")))
    return listed, total


def write_url_list(listed, urls_dir: str, total: int) -> None:
    """``url_list/shard=<n>/`` directories, each one uid-sorted file (a shard is never split)."""
    n_tasks = max(1, math.ceil(total / ROWS_PER_WRITE_TASK))
    (listed.repartition(n_tasks, "shard").sortWithinPartitions("shard", "uid")
     .write.mode("errorifexists").partitionBy("shard").parquet(urls_dir))


def urls_fingerprint(urls) -> tuple[str, dict]:
    """Order-independent fingerprint of the (uid, url) set plus counts, in one aggregation."""
    from pyspark.sql import functions as F

    row = urls.agg(
        F.count(F.lit(1)).alias("uids"),
        F.sum(F.col("uid").isNull().cast("long")).alias("null_uid"),
        F.sum(F.col("url").isNull().cast("long")).alias("no_url"),
        F.sum((F.col("n_urls") > 1).cast("long")).alias("several_urls"),
        F.sum(F.xxhash64("uid", F.coalesce("url", F.lit(""))).cast("decimal(38,0)")).alias("h1"),
        F.sum(F.xxhash64(F.lit("wwclip"), "uid", F.coalesce("url", F.lit(""))).cast("decimal(38,0)")).alias("h2"),
    ).collect()[0]
    if row["null_uid"]:
        raise ConfigError(f"{row['null_uid']} rows of the source have no uid; every row needs one "
                          "(curation tables always have it)")
    counts = {"uids": int(row["uids"]), "no_url": int(row["no_url"] or 0),
              "several_urls": int(row["several_urls"] or 0)}
    digest = hashlib.sha256(f"{row['uids']}|{row['h1']}|{row['h2']}".encode()).hexdigest()[:16]
    return digest, counts


def prepare_url_list(spark, cfg: DownloadConfig, source) -> dict:
    """Write ``<images>/url_list`` (reused when the source and settings are unchanged); the manifest.

    Refuses to mix shards of a different url list or different image settings into ``<images>``:
    that needs ``--overwrite`` (or another ``--images-dir``). A list of an older layout with the
    same urls and shard size is rewritten: its shards hold the same uids."""
    from pyspark import StorageLevel

    urls_dir = f"{cfg.images}/{URLS_DIR}"
    urls = unique_urls(source).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        fingerprint, counts = urls_fingerprint(urls)
        wanted = {"urls_fingerprint": fingerprint, **counts, "settings": cfg.shard_settings(),
                  "layout": LAYOUT, "source": cfg.source,
                  "source_table": f"{cfg.output.rstrip('/')}/{cfg.source}"}
        manifest = read_json(spark, f"{urls_dir}/{MANIFEST}") if exists(spark, urls_dir) else {}
        done = completed_shards(spark, cfg.images)
        same_urls = manifest.get("urls_fingerprint") == fingerprint and \
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
        if same_urls and manifest.get("layout") == LAYOUT and exists(spark, f"{urls_dir}/_SUCCESS"):
            log.info("url list unchanged (%s): reusing %s", fingerprint, urls_dir)
        else:
            delete(spark, urls_dir)
            if counts["uids"] > counts["no_url"]:
                listed, total = assign_shards(urls.where("url IS NOT NULL"), cfg.number_sample_per_shard)
                write_url_list(listed, urls_dir, total)
                log.info("wrote the url list: %d urls in uid order -> %s", total, urls_dir)
        n_urls = counts["uids"] - counts["no_url"]
        manifest = {**wanted, "urls": n_urls, "shards": math.ceil(n_urls / cfg.number_sample_per_shard)}
        write_json(spark, f"{urls_dir}/{MANIFEST}", manifest)  # last: the url list is complete
        return manifest
    finally:
        urls.unpersist()
