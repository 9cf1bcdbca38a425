"""The download stage: source table -> url list -> img2dataset shards -> status and training tables.

``run_download`` is the runner; the functions before it are its Spark steps (DataFrame in,
DataFrame out). Every uid of the source ends in exactly one status row (checked).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone

from curation import __version__
from curation.pipeline.config import ConfigError
from curation.download.config import DownloadConfig
from curation.download.img2dataset import (
    SHARD_DIGITS,
    completed_shards,
    download_shards,
    img2dataset_version,
    key_divisor,
    shard_name,
    shard_stats,
)
from curation.download.lifecycle import check_cancelled
from curation.download.reasons import MISSING_FROM_SHARD, NO_URL, NOT_DOWNLOADED, failure_reason_columns
from curation.download.urls import URLS_DIR, prepare_url_list, unique_urls
from curation.layout import STATS_FILE
from curation.spark.aggregates import grouped_counts
from curation.spark.fs import delete, exists, path_bytes, read_json, write_json
from curation.layout import table_path
from curation.spark.lock import acquire_lock, owner, release_lock
from curation.spark.tables import arrange, read_table, write_table

log = logging.getLogger("curation.download")

TARGET_FILE_BYTES = 256 * 1024 * 1024
DOWNLOADED, FAILED = "downloaded", "failed"


def shard_rows(spark, cfg: DownloadConfig, shards: Sequence[int]):
    """img2dataset's result rows of the complete shards (None when there are none)."""
    if not shards:
        return None
    return spark.read.parquet(*[f"{cfg.images}/{shard_name(s)}.parquet" for s in shards])


def status_table(spark, cfg: DownloadConfig, source, shards: Sequence[int]):
    """One row per uid of ``source``: ``status`` downloaded / failed and, if failed, ``reason``."""
    from pyspark.sql import functions as F

    urls_dir = f"{cfg.images}/{URLS_DIR}"
    per_uid = unique_urls(source)
    rows = shard_rows(spark, cfg, shards)
    meta = ["key", "status", "error_message", "width", "height", "original_width", "original_height"]
    if rows is not None:
        extra = [cfg.compute_hash] if cfg.compute_hash else []
        rows = rows.select("uid", *meta, *extra).withColumnRenamed("status", "i2d_status")
    listed = (spark.read.parquet(urls_dir).select("uid", F.col("shard").cast("long"))
              if exists(spark, f"{urls_dir}/_SUCCESS") else None)
    df = per_uid.select("uid", "url")
    df = df.join(listed, "uid", "left") if listed is not None else df.withColumn("shard", F.lit(None).cast("long"))
    if rows is not None:
        df = df.join(rows, "uid", "left")
    else:
        for name, kind in (("key", "string"), ("i2d_status", "string"), ("error_message", "string"),
                           ("width", "int"), ("height", "int"), ("original_width", "int"), ("original_height", "int")):
            df = df.withColumn(name, F.lit(None).cast(kind))
    if cfg.compute_hash and cfg.compute_hash not in df.columns:
        df = df.withColumn(cfg.compute_hash, F.lit(None).cast("string"))
    reason, http_status = failure_reason_columns(F.col("i2d_status"), F.col("error_message"))
    done = F.col("shard").isin([int(s) for s in shards]) if shards else F.lit(False)
    reason = (F.when(F.col("url").isNull(), F.lit(NO_URL))
              .when(F.col("i2d_status").isNull() & done, F.lit(MISSING_FROM_SHARD))
              .when(F.col("i2d_status").isNull(), F.lit(NOT_DOWNLOADED))
              .otherwise(reason))
    status = F.when(F.col("i2d_status") == "success", F.lit(DOWNLOADED)).otherwise(F.lit(FAILED))
    out = df.select("uid", "url", status.alias("status"), reason.alias("reason"), http_status.alias("http_status"),
                    "error_message", "shard", "key", "width", "height", "original_width", "original_height",
                    *([cfg.compute_hash] if cfg.compute_hash else []))
    return out


def _tar_images(ext: str):
    """mapInPandas function: every ``{key}.{ext}`` member of the webdataset tars listed in ``path``."""

    def read(batches):
        import tarfile

        import fsspec
        import pandas as pd

        suffix = f".{ext}"
        for pdf in batches:
            for path in pdf["path"]:
                keys, blobs = [], []
                with fsspec.open(path, "rb") as f, tarfile.open(fileobj=f, mode="r|") as tar:
                    for member in tar:
                        if member.isfile() and member.name.endswith(suffix):
                            keys.append(member.name[:-len(suffix)].rsplit("/", 1)[-1])
                            blobs.append(tar.extractfile(member).read())
                        if len(keys) >= 256:
                            yield pd.DataFrame({"key": keys, ext: blobs})
                            keys, blobs = [], []
                if keys:
                    yield pd.DataFrame({"key": keys, ext: blobs})

    return read


def downloaded_images(spark, cfg: DownloadConfig, shards: Sequence[int]):
    """``uid`` + image column (bytes, or ``image_path`` for ``files``) + key/width/height/hash of successes."""
    from pyspark.sql import functions as F

    rows = shard_rows(spark, cfg, shards)
    keep = ["uid", "key", "width", "height"] + ([cfg.compute_hash] if cfg.compute_hash else [])
    ok = rows.where(F.col("status") == "success")
    if cfg.output_format == "parquet":
        return ok.select(*keep, cfg.encode_format)
    if cfg.output_format == "files":
        shard = F.expr(f"CAST(key AS BIGINT) DIV {key_divisor(cfg)}")
        path = F.format_string(f"%0{SHARD_DIGITS}d/%s.{cfg.encode_format}", shard, F.col("key"))
        return ok.select(*keep, path.alias("image_path"))
    tars = spark.createDataFrame([(f"{cfg.images}/{shard_name(s)}.tar",) for s in shards], "path string")
    tars = tars.repartition(max(1, min(len(shards), spark.sparkContext.defaultParallelism * 4)), "path")
    blobs = tars.mapInPandas(_tar_images(cfg.encode_format), f"key string, {cfg.encode_format} binary")
    return ok.select(*keep).join(blobs, "key", "inner")


def training_view(source, images, n_partitions: int, online: bool):
    """Source rows of downloaded images with their image column, laid out for the training loader:
    hash-partitioned by uid, sorted by uid (online mode needs an image's texts contiguous)."""
    clash = sorted(set(source.columns) & (set(images.columns) - {"uid"}))
    if clash:
        raise ConfigError(f"the source table already has columns {clash} that the download adds; "
                          "rename them in the source")
    joined = source.repartition(n_partitions, "uid").join(images.repartition(n_partitions, "uid"), "uid", "inner")
    keys = ["uid", "text"] if online else ["uid"]
    return arrange(joined, n_partitions, "uid", keys, shuffle=False)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def read_source(spark, cfg: DownloadConfig):
    """The source table, checked: string ``uid`` and ``url`` columns (+ what training needs)."""
    from pyspark.sql import types as T

    df = read_table(spark, cfg.output, cfg.source, cfg.format)
    types = {f.name: f.dataType for f in df.schema.fields}
    needed = ("uid", "url", "text") + (("lang", "entry_ids") if cfg.source == "matched" else ())
    for col in needed:
        if col not in types:
            raise ConfigError(f"table {cfg.source} under {cfg.output} has no column {col!r} (columns {sorted(types)})")
    for col in ("uid", "url"):
        if not isinstance(types[col], T.StringType):
            raise ConfigError(f"column {col!r} of {cfg.source} must be a string, found {types[col].simpleString()}")
    return df


def run_download(spark, cfg: DownloadConfig, cancel: threading.Event | None = None) -> dict:
    """The whole stage; returns the section ``download_<source>`` it records in ``<output>/_stats.json``.

    Every uid of the source ends in exactly one ``<source>_download_status`` row (checked here, else
    RuntimeError); the training table holds the source rows of downloaded uids only. ``cancel``
    (set by ``lifecycle.run_interruptibly`` on Ctrl-C) is checked between steps and download
    jobs: the run then raises ``Interrupted`` after releasing the lock."""
    cfg.validate()
    t0 = time.time()
    source = read_source(spark, cfg)  # schema errors before anything is written
    acquire_lock(spark, cfg.output, owner(job="download"))
    try:
        if cfg.overwrite:
            log.warning("--overwrite: deleting %s", cfg.images)
            delete(spark, cfg.images)
        steps: dict[str, float] = {}
        clock = [time.time()]

        def step(name: str) -> None:
            now = time.time()
            steps[name] = round(now - clock[0], 2)
            clock[0] = now
            log.info("download: %s done in %.1fs", name, steps[name])
            check_cancelled(cancel)

        manifest = prepare_url_list(spark, cfg, source)
        step("url_list")
        done = set(completed_shards(spark, cfg.images))
        todo = [s for s in range(manifest["shards"]) if s not in done]
        if todo:
            log.info("download: %d of %d shards to fetch", len(todo), manifest["shards"])
            download_shards(spark, cfg, f"{cfg.images}/{URLS_DIR}", todo, cancel)
        else:
            log.info("download: all %d shards complete, nothing to fetch", manifest["shards"])
        step("img2dataset")
        shards = [s for s in completed_shards(spark, cfg.images) if s < manifest["shards"]]

        n_status = max(1, math.ceil(path_bytes(spark, f"{cfg.images}/{URLS_DIR}") / TARGET_FILE_BYTES))
        status = status_table(spark, cfg, source, shards)
        write_table(arrange(status, n_status, "uid", ["uid"]), cfg.output, cfg.status_table, cfg.format)
        status = read_table(spark, cfg.output, cfg.status_table, cfg.format)
        groups = grouped_counts(status, "status", "reason")
        n_rows = sum(g[-1] for g in groups)
        n_unique = status.select("uid").distinct().count()
        if n_rows != manifest["uids"] or n_unique != n_rows:
            raise RuntimeError(f"download accounting broken: {manifest['uids']} uids in {cfg.source}, "
                               f"{n_rows} status rows, {n_unique} distinct uids")
        downloaded = sum(g[-1] for g in groups if g[0] == DOWNLOADED)
        by_reason = dict(sorted((g[1], g[-1]) for g in groups if g[0] == FAILED))
        step("status_table")

        view_rows = 0
        if downloaded:
            ratio = source.count() / max(1, manifest["uids"]) if cfg.source == "matched" else 1.0
            n_view = cfg.output_partitions or max(
                1, math.ceil(path_bytes(spark, cfg.images) * max(1.0, ratio) / TARGET_FILE_BYTES))
            view = training_view(source, downloaded_images(spark, cfg, shards), n_view, cfg.source == "matched")
            write_table(view, cfg.output, cfg.view_table, cfg.format)
            written = read_table(spark, cfg.output, cfg.view_table, cfg.format)
            from pyspark.sql import functions as F

            counted = written.agg(F.count(F.lit(1)).alias("rows"), F.countDistinct("uid").alias("uids")).first()
            view_rows, view_uids = int(counted["rows"]), int(counted["uids"])  # one job, not two
            if view_uids != downloaded:
                raise RuntimeError(f"{cfg.view_table} has {view_uids} images but {downloaded} were downloaded: "
                                   f"the shards under {cfg.images} are inconsistent (use --overwrite)")
        else:  # never leave a training table of an earlier run next to a status table that disowns it
            delete(spark, table_path(cfg.output, cfg.view_table))
        step("training_table")

        section = {
            "source": cfg.source, "source_table": table_path(cfg.output, cfg.source), "format": cfg.format,
            "images_dir": cfg.images, "output_format": cfg.output_format,
            "uids": manifest["uids"], "urls": manifest["urls"], "uids_with_several_urls": manifest["several_urls"],
            "downloaded": downloaded, "failed": n_rows - downloaded, "failed_by_reason": by_reason,
            "accounting_ok": True,
            "shards": {"total": manifest["shards"], "complete": len(shards),
                       "missing": [s for s in range(manifest["shards"]) if s not in set(shards)][:100]},
            "complete": len(shards) == manifest["shards"],
            "img2dataset": shard_stats(spark, cfg.images, shards),
            "status_table": table_path(cfg.output, cfg.status_table),
            "training_table": table_path(cfg.output, cfg.view_table) if view_rows else None,
            "training_rows": view_rows, "image_column": cfg.image_column or "image_path",
            "urls_fingerprint": manifest["urls_fingerprint"],
            "settings": {k: v for k, v in cfg.to_dict().items() if k != "spark_conf"},
            "step_seconds": steps, "seconds": round(time.time() - t0, 2),
            "completed_at": _now(),
            "versions": {"worldwide_clip": __version__, "img2dataset": img2dataset_version()},
        }
        stats = read_json(spark, table_path(cfg.output, STATS_FILE))
        stats.setdefault("stages", {})[cfg.stats_section] = section
        write_json(spark, table_path(cfg.output, STATS_FILE), stats)
        return section
    finally:
        release_lock(spark, cfg.output)


def format_summary(section: dict) -> str:
    """A few lines for the terminal, from the ``download_<source>`` section alone."""
    n, ok = section["uids"], section["downloaded"]
    reasons = ", ".join(f"{k}={v}" for k, v in section["failed_by_reason"].items())
    lines = [f"download: {n} images of '{section['source']}' -> {section['images_dir']} ({section['output_format']} "
             f"shards, {section['shards']['complete']} of {section['shards']['total']} complete)",
             f"downloaded {ok} ({100 * ok / n if n else 0:.1f}%), failed {section['failed']}"
             + (f" ({reasons})" if reasons else "")]
    if section["training_table"]:
        flags = " --mode online" if section["source"] == "matched" else ""
        if section["image_column"] == "image_path":
            flags += f" --image-path-column image_path --image-root {section['images_dir']}"
        lines.append(f"training table: {section['training_table']} ({section['training_rows']} rows); train with\n"
                     f"  python -m training.launch --table {section['training_table']}{flags} --output-dir runs/r1")
    if not section["complete"]:
        missing = section["shards"]["total"] - section["shards"]["complete"]
        lines.append(f"INCOMPLETE: {missing} shards missing; re-run the same command to fetch only those")
    lines.append(f"per-uid status: {section['status_table']} (status, reason); wall time {section['seconds']:.1f}s")
    return "\n".join(lines)
