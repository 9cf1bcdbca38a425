"""Configuration of the download stage: ``DownloadConfig`` (validated before any work) and its CLI parser."""

from __future__ import annotations

import argparse
import math
import os
import re
from dataclasses import asdict, dataclass, field, fields

from curation.pipeline.config import ConfigError, add_spark_flags, parse_spark_conf
from curation.spark.tables import FORMATS

SOURCES = ("curated", "matched")
OUTPUT_FORMATS = ("parquet", "webdataset", "files")
RESIZE_MODES = ("no", "keep_ratio", "center_crop", "border", "keep_ratio_largest")
ENCODE_FORMATS = ("jpg", "png", "webp")
DEFAULT_DISALLOWED = ("noai", "noimageai", "noindex", "noimageindex")


# Settings that change what a shard contains: a resumed run must use the same ones.
SHARD_SETTINGS = ("output_format", "image_size", "resize_mode", "resize_only_if_bigger", "encode_format",
                  "encode_quality", "min_image_size", "max_image_area", "max_aspect_ratio", "extract_exif",
                  "compute_hash", "number_sample_per_shard", "disallowed_header_directives", "exif_orientation")


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
    image_deadline: float = 30.0  # wall-clock seconds per image (all its requests), no server can extend it
    shard_deadline: float = 0.0  # wall-clock seconds per shard; images not started by then fail; 0: none
    max_image_bytes: int = 32 * 1024 * 1024  # a larger body fails as body_too_large (bounds worker memory)
    exif_orientation: bool = True  # store photos upright (EXIF orientation applied before resizing)
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
    log_level: str | None = None  # Spark's and py4j's (None: $WWCLIP_SPARK_LOG_LEVEL or WARN)

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
            (self.image_deadline > 0 and math.isfinite(self.image_deadline),
             "--image-deadline must be a positive number of seconds"),
            (self.shard_deadline >= 0 and math.isfinite(self.shard_deadline),
             "--shard-deadline must be >= 0 seconds (0: no shard deadline)"),
            (self.max_image_bytes >= 1, "--max-image-bytes must be >= 1"),
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
    g.add_argument("--no-exif-orientation", dest="exif_orientation", action="store_false",
                   help="store pixels as encoded, ignoring the EXIF orientation (default: rotate photos upright)")
    g.add_argument("--compute-hash", default=d.compute_hash, help="md5, sha256, sha512 or none [%(default)s]")
    c = p.add_argument_group("crawling (politeness and throughput)")
    c.add_argument("--timeout", type=int, default=d.timeout, help="seconds per socket operation [%(default)s]")
    c.add_argument("--image-deadline", type=float, default=d.image_deadline,
                   help="wall-clock seconds per image, connect to last byte, retries included; a slow "
                        "server cannot extend it (reason timeout) [%(default)s]")
    c.add_argument("--shard-deadline", type=float, default=d.shard_deadline,
                   help="wall-clock seconds per shard: images not fetched by then fail as shard_deadline "
                        "(0: none; a shard then takes at most about ceil(images / threads) x image deadline) "
                        "[%(default)s]")
    c.add_argument("--max-image-bytes", type=int, default=d.max_image_bytes,
                   help="larger responses fail as body_too_large [%(default)s]")
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
    add_spark_flags(r)
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
