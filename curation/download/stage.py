"""Image download stage: curated URLs -> image shards keyed by uid (img2dataset on Spark) -> a
training-ready table.

Reads ``curated`` (offline) or ``matched`` (online balancing) under a curation output root,
de-duplicates by uid and downloads every image once with img2dataset's ``pyspark`` distributor on
the active SparkSession. Layout (``<images>`` defaults to ``<root>/images/<source>``)::

    <images>/url_list/                  uid, url, shard: the url list img2dataset reads, sorted by
                                        uid, cut into files of whole shards; _manifest.json
    <images>/00000.parquet              img2dataset shard (uid, key, status, error_message, width,
    <images>/00000_stats.json           height, ..., jpg) and its per-shard stats (the completion
                                        marker img2dataset's incremental mode trusts)
    <root>/<source>_download_status     one row per uid of the source: downloaded, or failed with a
                                        reason (http_404, timeout, decode_error, too_small, ...)
    <root>/<source>_images              the source rows of downloaded images joined with their bytes
                                        (column ``jpg``): what ``training.launch --table`` reads
    <root>/_stats.json                  section ``download_<source>``

``<source>`` is ``curated`` or ``matched``. Failed images are only in the status table; the
training table holds successes only.
Re-running resumes: the url list is reused when the source is unchanged and img2dataset skips
every shard that has its ``_stats.json``. The same source always gives the same shard assignment
(shard = position of the uid in uid order // samples per shard).

CLI: ``wwclip-download`` / ``python -m curation.download`` / ``spark-submit jobs/download.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import os
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone

from curation import __version__
from curation.config import ConfigError, parse_spark_conf
from curation.spark.tables import (FORMATS, TableError, acquire_lock, arrange, delete_path, path_bytes, path_exists,
                                   read_json, read_table, release_lock, table_path, write_json, write_table)

log = logging.getLogger("curation.download")

SOURCES = ("curated", "matched")
OUTPUT_FORMATS = ("parquet", "webdataset", "files")
RESIZE_MODES = ("no", "keep_ratio", "center_crop", "border", "keep_ratio_largest")
ENCODE_FORMATS = ("jpg", "png", "webp")
DEFAULT_DISALLOWED = ("noai", "noimageai", "noindex", "noimageindex")
URLS_DIR = "url_list"
MANIFEST = "_manifest.json"
STATS_FILE = "_stats.json"
SHARD_DIGITS = 5  # img2dataset oom_shard_count: shard files 00000.parquet ... 99999.parquet
SHARDS_PER_URL_FILE = 100  # url-list files hold whole shards, so file boundaries never move shards
TARGET_FILE_BYTES = 256 * 1024 * 1024
DOWNLOADED, FAILED = "downloaded", "failed"
# Settings that change what a shard contains: a resumed run must use the same ones.
SHARD_SETTINGS = ("output_format", "image_size", "resize_mode", "resize_only_if_bigger", "encode_format",
                  "encode_quality", "min_image_size", "max_image_area", "max_aspect_ratio", "extract_exif",
                  "compute_hash", "number_sample_per_shard", "disallowed_header_directives")
INCOMPLETE_EXIT_CODE = 3


# ---------------------------------------------------------------- configuration

@dataclass
class DownloadConfig:
    """One download run. Defaults: CLIP-sized JPEGs, polite crawling (see docs/download.md)."""

    output: str = "output/curation"  # curation output root: source tables in, tables out
    format: str = "parquet"  # table format of the source and of the tables written
    source: str = "curated"  # curated (offline training) or matched (online balancing)
    images_dir: str | None = None  # img2dataset output folder; default <output>/images/<source>
    output_format: str = "parquet"  # img2dataset shards: parquet, webdataset or files
    image_size: int = 256
    resize_mode: str = "keep_ratio"  # shorter side -> image_size; training crops later
    resize_only_if_bigger: bool = True  # never upscale small images
    encode_format: str = "jpg"
    encode_quality: int = 95
    min_image_size: int = 32  # shorter side in pixels; smaller images fail as too_small
    max_image_area: float = float("inf")
    max_aspect_ratio: float = float("inf")
    timeout: int = 10  # seconds per socket operation
    retries: int = 0  # img2dataset retries every failure (404 and opt-out too): 0 is the polite default
    user_agent_token: str | None = "wwclip"  # "(compatible; wwclip; ...)" in the User-Agent
    disallowed_header_directives: tuple[str, ...] = DEFAULT_DISALLOWED  # X-Robots-Tag opt-outs honoured
    thread_count: int = 64  # concurrent requests per Spark task (one task = one shard)
    number_sample_per_shard: int = 10_000
    subjob_size: int = 1000  # shards per Spark job
    max_shard_retry: int = 1
    extract_exif: bool = False
    compute_hash: str | None = "sha256"
    overwrite: bool = False  # delete <images> and start again
    output_partitions: int = 0  # files of the training table; 0: one per 256 MB of images
    master: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    quiet: bool = False

    @property
    def images(self) -> str:
        return _absolute(self.images_dir or f"{self.output.rstrip('/')}/images/{self.source}")

    @property
    def view_table(self) -> str:
        return f"{self.source}_images"

    @property
    def status_table(self) -> str:
        return f"{self.source}_download_status"

    @property
    def stats_section(self) -> str:
        return f"download_{self.source}"

    @property
    def image_column(self) -> str | None:
        """The training table's image-bytes column (None for ``files``: a path column instead)."""
        return None if self.output_format == "files" else self.encode_format

    def validate(self) -> "DownloadConfig":
        checks = [
            (self.format in FORMATS, f"--format must be one of {FORMATS}, got {self.format!r}"),
            (self.source in SOURCES, f"--source must be one of {SOURCES}, got {self.source!r}"),
            (self.output_format in OUTPUT_FORMATS,
             f"--output-format must be one of {OUTPUT_FORMATS}, got {self.output_format!r}"),
            (self.resize_mode in RESIZE_MODES,
             f"--resize-mode must be one of {RESIZE_MODES}, got {self.resize_mode!r}"),
            (self.encode_format in ENCODE_FORMATS,
             f"--encode-format must be one of {ENCODE_FORMATS}, got {self.encode_format!r}"),
            (self.image_size >= 8, "--image-size must be >= 8"),
            (0 <= self.encode_quality <= (9 if self.encode_format == "png" else 100),
             "--encode-quality must be 0-100 (png: compression 0-9)"),
            (self.min_image_size >= 0, "--min-image-size must be >= 0"),
            (self.max_image_area > 0 and self.max_aspect_ratio >= 1,
             "--max-image-area must be > 0 and --max-aspect-ratio >= 1"),
            (self.timeout >= 1, "--timeout must be >= 1 second"),
            (self.retries >= 0 and self.max_shard_retry >= 0, "--retries and --max-shard-retry must be >= 0"),
            (self.thread_count >= 1 and self.subjob_size >= 1, "--thread-count and --subjob-size must be >= 1"),
            (self.number_sample_per_shard >= 1, "--number-sample-per-shard must be >= 1"),
            (self.output_partitions >= 0, "--output-partitions must be >= 0"),
            (self.compute_hash in (None, "md5", "sha256", "sha512"),
             "--compute-hash must be md5, sha256, sha512 or none"),
            (bool(self.output), "--output is required"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        if self.user_agent_token is not None and not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", self.user_agent_token):
            raise ConfigError("--user-agent-token must be 1-64 letters, digits, '.', '_' or '-' (it is also the "
                              f"token matched in 'X-Robots-Tag: <token>: noai'), got {self.user_agent_token!r}")
        self.disallowed_header_directives = tuple(d.strip().lower() for d in self.disallowed_header_directives
                                                  if d.strip())
        return self

    def shard_settings(self) -> dict:
        return {k: _jsonable(getattr(self, k)) for k in SHARD_SETTINGS}

    def to_dict(self) -> dict:
        return {k: _jsonable(v) for k, v in asdict(self).items()}


def _jsonable(value):
    if isinstance(value, float) and math.isinf(value):
        return "inf"
    if isinstance(value, tuple):
        return list(value)
    return value


def _absolute(path: str) -> str:
    """img2dataset (fsspec) and Spark (Hadoop) must see the same folder: make local paths absolute."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", path):  # a URI (s3a://, hdfs://, dbfs:/, file:/...)
        return path.rstrip("/")
    return os.path.abspath(path)


def build_parser(prog: str = "wwclip-download") -> argparse.ArgumentParser:
    d = DownloadConfig()
    p = argparse.ArgumentParser(prog=prog, description=(
        "Download the images of a curation output with img2dataset (pyspark distributor) and write "
        "<source>_download_status plus a training-ready <source>_images table."))
    p.add_argument("--output", default=d.output, help="curation output root (local path or URI) [%(default)s]")
    p.add_argument("--format", default=d.format, choices=FORMATS, help="table format [%(default)s]")
    p.add_argument("--source", default=d.source, choices=SOURCES,
                   help="curated (offline) or matched (online balancing: every text of an image kept) [%(default)s]")
    p.add_argument("--images-dir", default=None, help="img2dataset output folder [<output>/images/<source>]")
    p.add_argument("--output-format", default=d.output_format, choices=OUTPUT_FORMATS,
                   help="img2dataset shard format [%(default)s]")
    g = p.add_argument_group("images (img2dataset resize/encode)")
    g.add_argument("--image-size", type=int, default=d.image_size, help="[%(default)s]")
    g.add_argument("--resize-mode", default=d.resize_mode, choices=RESIZE_MODES, help="[%(default)s]")
    g.add_argument("--resize-always", dest="resize_only_if_bigger", action="store_false",
                   help="also upscale images smaller than --image-size (default: only downscale)")
    g.add_argument("--encode-format", default=d.encode_format, choices=ENCODE_FORMATS, help="[%(default)s]")
    g.add_argument("--encode-quality", type=int, default=d.encode_quality, help="[%(default)s]")
    g.add_argument("--min-image-size", type=int, default=d.min_image_size,
                   help="shorter side in pixels; smaller images fail as too_small [%(default)s]")
    g.add_argument("--max-image-area", type=float, default=d.max_image_area, help="[%(default)s]")
    g.add_argument("--max-aspect-ratio", type=float, default=d.max_aspect_ratio, help="[%(default)s]")
    g.add_argument("--extract-exif", action="store_true", help="keep EXIF in the shards")
    g.add_argument("--compute-hash", default=d.compute_hash, help="md5, sha256, sha512 or none [%(default)s]")
    c = p.add_argument_group("crawling (politeness and throughput)")
    c.add_argument("--timeout", type=int, default=d.timeout, help="seconds per socket operation [%(default)s]")
    c.add_argument("--retries", type=int, default=d.retries,
                   help="extra attempts per failed image (img2dataset retries 404s and opt-outs too) [%(default)s]")
    c.add_argument("--user-agent-token", default=d.user_agent_token,
                   help="crawler token in the User-Agent and in 'X-Robots-Tag: <token>: ...' [%(default)s]")
    c.add_argument("--disallowed-header-directives", default=",".join(d.disallowed_header_directives),
                   help="X-Robots-Tag directives that opt an image out (comma list; '' disables) [%(default)s]")
    c.add_argument("--thread-count", type=int, default=d.thread_count,
                   help="concurrent requests per Spark task; parallel tasks = executor cores [%(default)s]")
    c.add_argument("--number-sample-per-shard", type=int, default=d.number_sample_per_shard, help="[%(default)s]")
    c.add_argument("--subjob-size", type=int, default=d.subjob_size, help="shards per Spark job [%(default)s]")
    c.add_argument("--max-shard-retry", type=int, default=d.max_shard_retry,
                   help="re-runs of a shard whose task failed, within this run [%(default)s]")
    r = p.add_argument_group("run")
    r.add_argument("--overwrite", action="store_true", help="delete the images folder and download everything again")
    r.add_argument("--output-partitions", type=int, default=d.output_partitions,
                   help="files of the training table (0: one per 256 MB of images) [%(default)s]")
    r.add_argument("--master", default=None, help="Spark master when not under spark-submit [local[*]]")
    r.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark conf")
    r.add_argument("--quiet", action="store_true", help="do not print the summary")
    return p


def config_from_args(args: argparse.Namespace) -> DownloadConfig:
    conf = parse_spark_conf(args.conf)
    names = {f.name for f in fields(DownloadConfig)}
    values = {k: v for k, v in vars(args).items() if k in names}
    values["disallowed_header_directives"] = tuple(args.disallowed_header_directives.split(","))
    values["compute_hash"] = None if str(args.compute_hash).lower() in ("none", "") else args.compute_hash
    values["user_agent_token"] = args.user_agent_token or None
    values["spark_conf"] = conf
    return DownloadConfig(**values).validate()


# ---------------------------------------------------------------- failure reasons (pure)

# img2dataset error message (lower-cased substring) -> reason, first match wins. HTTP errors
# ("HTTP Error 404: Not Found") become http_<status>; see failure_reason.
FAILURE_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("opt_out", ("x-robots-tag",)),
    ("hash_mismatch", ("hash mismatch",)),
    ("timeout", ("timed out", "timeout")),
    ("too_small", ("image too small",)),
    ("too_large", ("image area too large",)),
    ("bad_aspect_ratio", ("aspect ratio too large",)),
    ("decode_error", ("image decoding error",)),
    ("bad_url", ("unknown url type", "no host given", "control characters", "invalid url")),
    ("ssl_error", ("ssl", "certificate")),
    ("connection_error", ("urlopen error", "connection", "remote end closed", "incompleteread",
                          "name or service not known", "name resolution", "reset by peer", "too many redirections",
                          "redirect")),
)
HTTP_ERROR = re.compile(r"^HTTP Error (\d{3})")
# Reasons that are not error messages.
OTHER_DOWNLOAD_ERROR, OTHER_RESIZE_ERROR = "download_error", "resize_error"
NO_URL, NOT_DOWNLOADED, MISSING_FROM_SHARD = "no_url", "not_downloaded", "missing_from_shard"


def failure_reason(status: str | None, error_message: str | None) -> tuple[str | None, int | None]:
    """``(reason, http_status)`` of one img2dataset result row; ``(None, None)`` for a success.

    ``status`` is img2dataset's ``success`` / ``failed_to_download`` / ``failed_to_resize``.
    The same rules run in Spark as ``failure_reason_columns`` (a test keeps them equal)."""
    if status == "success":
        return None, None
    message = error_message or ""
    http = HTTP_ERROR.match(message)
    if http:
        return f"http_{http.group(1)}", int(http.group(1))
    lower = message.lower()
    for reason, needles in FAILURE_RULES:
        if any(n in lower for n in needles):
            return reason, None
    return (OTHER_RESIZE_ERROR if status == "failed_to_resize" else OTHER_DOWNLOAD_ERROR), None


def failure_reason_columns(status, error_message):
    """Spark columns ``(reason, http_status)`` computing exactly ``failure_reason``."""
    from pyspark.sql import functions as F

    message = F.coalesce(error_message, F.lit(""))
    code = F.regexp_extract(message, HTTP_ERROR.pattern, 1)
    lower = F.lower(message)
    reason = F.when(status == "success", F.lit(None).cast("string")).when(code != "", F.concat(F.lit("http_"), code))
    for name, needles in FAILURE_RULES:
        hit = F.lit(False)
        for n in needles:
            hit = hit | lower.contains(n)
        reason = reason.when(hit, F.lit(name))
    reason = reason.when(status == "failed_to_resize", F.lit(OTHER_RESIZE_ERROR)).otherwise(F.lit(OTHER_DOWNLOAD_ERROR))
    http_status = F.when((status != "success") & (code != ""), code.cast("int"))
    return reason, http_status


# ---------------------------------------------------------------- url list and shard assignment

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


# ---------------------------------------------------------------- files (Hadoop FS: local, HDFS, S3, ...)

def _fs(spark, path: str):
    jvm = spark.sparkContext._jvm
    jpath = jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jpath


def _list_names(spark, directory: str) -> list[str]:
    fs, jpath = _fs(spark, directory)
    if not fs.exists(jpath):
        return []
    return sorted(st.getPath().getName() for st in fs.listStatus(jpath))


def completed_shards(spark, images: str) -> list[int]:
    """Shards with img2dataset's ``{shard}_stats.json``: written last, so the shard is complete."""
    done = []
    for name in _list_names(spark, images):
        m = re.fullmatch(r"(\d+)_stats\.json", name)
        if m:
            done.append(int(m.group(1)))
    return sorted(done)


def shard_name(shard: int) -> str:
    return f"{shard:0{SHARD_DIGITS}d}"


# ---------------------------------------------------------------- url list + manifest

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
        manifest = read_json(spark, f"{urls_dir}/{MANIFEST}") if path_exists(spark, urls_dir) else {}
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
        if same_urls and path_exists(spark, f"{urls_dir}/_SUCCESS"):
            log.info("url list unchanged (%s): reusing %s", fingerprint, urls_dir)
        else:
            delete_path(spark, urls_dir)
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


# ---------------------------------------------------------------- img2dataset

def _activate(spark) -> None:
    """img2dataset's pyspark distributor uses ``SparkSession.getActiveSession()`` and *stops* a
    session it had to create: make ours the active one of this thread so it is reused, not stopped."""
    from pyspark.sql import SparkSession

    if SparkSession.getActiveSession() is None:
        spark._jvm.org.apache.spark.sql.SparkSession.setActiveSession(spark._jsparkSession)
    if SparkSession.getActiveSession() is None:  # pragma: no cover - defensive
        raise RuntimeError("could not make the SparkSession active for img2dataset")


def run_img2dataset(spark, cfg: DownloadConfig, urls_dir: str) -> None:
    """img2dataset.download on the active session, incremental: complete shards are skipped."""
    # albumentations (imported by img2dataset) checks PyPI for updates on import unless told not to;
    # executors get the variable through the SparkContext environment of the Python workers.
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    spark.sparkContext.environment.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    try:
        import img2dataset
    except ImportError as exc:  # pragma: no cover - the 'download' extra installs it
        raise ConfigError("the download job needs img2dataset: pip install 'worldwide-clip[download]' "
                          f"(and the same on the Spark executors) ({exc})") from exc
    _activate(spark)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main_thread else None
    try:
        img2dataset.download(
            url_list=urls_dir, input_format="parquet", url_col="url", save_additional_columns=["uid"],
            output_folder=cfg.images, output_format=cfg.output_format, distributor="pyspark",
            incremental_mode="incremental", processes_count=1, thread_count=cfg.thread_count,
            subjob_size=cfg.subjob_size, max_shard_retry=cfg.max_shard_retry,
            number_sample_per_shard=cfg.number_sample_per_shard, oom_shard_count=SHARD_DIGITS,
            image_size=cfg.image_size, resize_mode=cfg.resize_mode, resize_only_if_bigger=cfg.resize_only_if_bigger,
            encode_format=cfg.encode_format, encode_quality=cfg.encode_quality, min_image_size=cfg.min_image_size,
            max_image_area=cfg.max_image_area, max_aspect_ratio=cfg.max_aspect_ratio,
            timeout=cfg.timeout, retries=cfg.retries, user_agent_token=cfg.user_agent_token,
            disallowed_header_directives=list(cfg.disallowed_header_directives),
            extract_exif=cfg.extract_exif, compute_hash=cfg.compute_hash, enable_wandb=False)
    except SystemExit as exc:  # img2dataset's SIGINT handler calls sys.exit(0): an interrupted run is no success
        _stop_logger_processes()
        raise KeyboardInterrupt("download interrupted: re-run the same command to resume") from exc
    except BaseException:
        _stop_logger_processes()
        raise
    finally:
        if main_thread:  # restore what img2dataset's signal.signal replaced
            signal.signal(signal.SIGINT, previous)


def _stop_logger_processes() -> None:
    """img2dataset starts a non-daemon logger process and joins it only on success; after a
    failure it would keep the interpreter from exiting. Stop the ones it started in this process."""
    import multiprocessing

    for child in multiprocessing.active_children():
        if type(child).__module__.startswith("img2dataset"):
            child.terminate()
            child.join(timeout=10)


def shard_stats(spark, images: str, shards: Sequence[int], top: int = 20) -> dict:
    """img2dataset's per-shard ``_stats.json`` summed (read by Spark: one task per file batch)."""
    if not shards:
        return {"count": 0, "successes": 0, "failed_to_download": 0, "failed_to_resize": 0,
                "download_seconds": 0.0, "top_errors": {}}
    wanted = {shard_name(s) for s in shards}
    files = spark.sparkContext.wholeTextFiles(f"{images}/*_stats.json")
    files = files.filter(lambda kv: kv[0].rsplit("/", 1)[-1].split("_", 1)[0] in wanted)

    def parse(text: str) -> tuple:
        st = json.loads(text)
        errors = {k: v for k, v in st.get("status_dict", {}).items() if k != "success"}
        return (st["count"], st["successes"], st["failed_to_download"], st["failed_to_resize"],
                st.get("duration", 0.0), errors)

    def add(a: tuple, b: tuple) -> tuple:
        errors = dict(a[5])
        for k, v in b[5].items():
            errors[k] = errors.get(k, 0) + v
        if len(errors) > 10 * top:  # bounded, like img2dataset's CappedCounter
            errors = dict(sorted(errors.items(), key=lambda kv: -kv[1])[:5 * top])
        return tuple(x + y for x, y in zip(a[:5], b[:5])) + (errors,)

    total = files.values().map(parse).reduce(add)
    return {"count": total[0], "successes": total[1], "failed_to_download": total[2],
            "failed_to_resize": total[3], "download_seconds": round(total[4], 2),
            "top_errors": dict(sorted(total[5].items(), key=lambda kv: (-kv[1], kv[0]))[:top])}


# ---------------------------------------------------------------- tables

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
    listed = spark.read.parquet(urls_dir).select("uid", "shard") if _has_parquet(spark, urls_dir) else None
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


def _has_parquet(spark, directory: str) -> bool:
    return any(n.endswith(".parquet") for n in _list_names(spark, directory))


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
        shard = F.expr(f"CAST(key AS BIGINT) DIV {_key_divisor(cfg)}")
        path = F.format_string(f"%0{SHARD_DIGITS}d/%s.{cfg.encode_format}", shard, F.col("key"))
        return ok.select(*keep, path.alias("image_path"))
    tars = spark.createDataFrame([(f"{cfg.images}/{shard_name(s)}.tar",) for s in shards], "path string")
    tars = tars.repartition(max(1, min(len(shards), spark.sparkContext.defaultParallelism * 4)), "path")
    blobs = tars.mapInPandas(_tar_images(cfg.encode_format), f"key string, {cfg.encode_format} binary")
    return ok.select(*keep).join(blobs, "key", "inner")


def _key_divisor(cfg: DownloadConfig) -> int:
    """img2dataset key = shard * 10**ceil(log10(samples per shard)) + index in shard."""
    return 10 ** math.ceil(math.log10(cfg.number_sample_per_shard))


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


# ---------------------------------------------------------------- the stage

def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _counts(df, *columns: str) -> list[tuple]:
    from pyspark.sql import functions as F

    return [(*(r[c] for c in columns), int(r["n"]))
            for r in df.groupBy(*columns).agg(F.count(F.lit(1)).alias("n")).collect()]


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


def _img2dataset_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("img2dataset")
    except PackageNotFoundError:
        return "not installed"


def run_download(spark, cfg: DownloadConfig) -> dict:
    """The whole stage; returns the section ``download_<source>`` it records in ``<output>/_stats.json``.

    Every uid of the source ends in exactly one ``<source>_download_status`` row (checked here, else
    RuntimeError); the training table holds the source rows of downloaded uids only."""
    cfg.validate()
    t0 = time.time()
    source = read_source(spark, cfg)  # schema errors before anything is written
    acquire_lock(spark, cfg.output, {"host": socket.gethostname(), "pid": os.getpid(), "since": _now(),
                                     "job": "download"})
    try:
        if cfg.overwrite:
            log.warning("--overwrite: deleting %s", cfg.images)
            delete_path(spark, cfg.images)
        steps: dict[str, float] = {}
        clock = [time.time()]

        def step(name: str) -> None:
            now = time.time()
            steps[name] = round(now - clock[0], 2)
            clock[0] = now
            log.info("download: %s done in %.1fs", name, steps[name])

        manifest = prepare_url_list(spark, cfg, source)
        step("url_list")
        done = [s for s in completed_shards(spark, cfg.images) if s < manifest["shards"]]
        if len(done) < manifest["shards"]:
            log.info("download: %d of %d shards to fetch", manifest["shards"] - len(done), manifest["shards"])
            run_img2dataset(spark, cfg, f"{cfg.images}/{URLS_DIR}")
        else:
            log.info("download: all %d shards complete, nothing to fetch", manifest["shards"])
        step("img2dataset")
        shards = [s for s in completed_shards(spark, cfg.images) if s < manifest["shards"]]

        n_status = max(1, math.ceil(path_bytes(spark, f"{cfg.images}/{URLS_DIR}") / TARGET_FILE_BYTES))
        status = status_table(spark, cfg, source, shards)
        write_table(arrange(status, n_status, "uid", ["uid"]), cfg.output, cfg.status_table, cfg.format)
        status = read_table(spark, cfg.output, cfg.status_table, cfg.format)
        groups = _counts(status, "status", "reason")
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
            view_rows, view_uids = written.count(), written.select("uid").distinct().count()
            if view_uids != downloaded:
                raise RuntimeError(f"{cfg.view_table} has {view_uids} images but {downloaded} were downloaded: "
                                   f"the shards under {cfg.images} are inconsistent (use --overwrite)")
        else:  # never leave a training table of an earlier run next to a status table that disowns it
            delete_path(spark, table_path(cfg.output, cfg.view_table))
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
            "versions": {"worldwide_clip": __version__, "img2dataset": _img2dataset_version()},
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


def main(argv: list[str] | None = None) -> int:
    """``wwclip-download``. Exit status: 0 complete, 3 shards missing (re-run to resume), 2 bad config."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from curation.spark.session import get_spark

    try:
        cfg = config_from_args(args)
        spark = get_spark("wwclip-download", cfg.master, cfg.spark_conf)
        section = run_download(spark, cfg)
    except (ConfigError, TableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cfg.quiet:
        print(format_summary(section))
    return 0 if section["complete"] else INCOMPLETE_EXIT_CODE


def main_download() -> None:
    """Console script ``wwclip-download``."""
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
