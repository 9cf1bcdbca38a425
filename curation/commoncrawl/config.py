"""``wwclip-extract`` configuration: one dataclass, one argparse parser, validated before any work."""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field

from curation.commoncrawl.settings import (DEFAULT_MAX_RECORD_BYTES, EMPTY_TEXT_POLICIES, READERS, SOURCES,
                                           ExtractSettings)
from curation.commoncrawl.texts import TEXT_ATTRS, TEXT_MODES
from curation.pipeline.config import ConfigError, add_spark_flags, parse_spark_conf
from curation.spark.tables import FORMATS


@dataclass
class ExtractConfig:
    """One extraction run. ``inputs``: ``--input`` values (see :mod:`.inputs`); ``output``: the
    root that receives ``alt_texts``, ``extract_rejects``, ``extract_files``, ``_extract/``
    (per-file completion parts) and ``_stats.json``."""

    inputs: list[str] = field(default_factory=list)
    output: str = ""
    format: str = "parquet"
    settings: ExtractSettings = field(default_factory=ExtractSettings)
    path_prefix: str | None = None
    files_per_job: int = 0  # 0: 4 x the cluster's default parallelism, at least 16
    output_partitions: int = 0  # 0: one file per ROWS_PER_FILE extracted rows
    reprocess: bool = False  # forget completed files and extract everything again
    master: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    quiet: bool = False
    log_level: str | None = None  # Spark's and py4j's (None: $WWCLIP_SPARK_LOG_LEVEL or WARN)

    def validate(self) -> "ExtractConfig":
        if not self.inputs:
            raise ConfigError("--input is required (a file, glob, folder or list of WAT/WARC paths)")
        if not self.output:
            raise ConfigError("--output is required")
        if self.format not in FORMATS:
            raise ConfigError(f"--format must be one of {FORMATS}, got {self.format!r}")
        if self.files_per_job < 0 or self.output_partitions < 0:
            raise ConfigError("--files-per-job and --output-partitions must be >= 0")
        self.settings.validate()
        return self

    def to_dict(self) -> dict:
        return asdict(self)


def build_parser(prog: str = "wwclip-extract") -> argparse.ArgumentParser:
    d = ExtractSettings()
    p = argparse.ArgumentParser(prog=prog, description=(
        "Extract image links with their alt/title texts from Common Crawl WAT (or WARC) files into the "
        "alt_texts table that wwclip-curate reads (+ extract_rejects, extract_files, _stats.json)."))
    p.add_argument("--input", action="append", required=True, metavar="PATHS",
                   help="WAT/WARC file, glob, folder, or list file (@list.txt, *.paths[.gz]); local, s3a://, "
                        "hdfs://, https://; repeatable, comma-separated values allowed")
    p.add_argument("--output", required=True, help="output root (local path or URI)")
    p.add_argument("--format", default="parquet", choices=FORMATS, help="table format [%(default)s]")
    p.add_argument("--source", default=d.source, choices=SOURCES,
                   help="wat: Common Crawl WAT metadata (MetaCLIP's input); warc: HTML responses [%(default)s]")
    p.add_argument("--path-prefix", default=None,
                   help="prefix of relative paths in list files, e.g. https://data.commoncrawl.org/ or "
                        "s3a://commoncrawl/ [the list file's folder]")
    p.add_argument("--crawl", default=None, help="snapshot id for every row [the CC-MAIN-YYYY-WW in each path]")
    p.add_argument("--text-attrs", default=",".join(d.text_attrs),
                   help=f"attributes that give texts, in priority order, from {','.join(TEXT_ATTRS)} [%(default)s]")
    p.add_argument("--text-mode", default=d.text_mode, choices=TEXT_MODES,
                   help="all: one row per non-empty attribute (MetaCLIP); first: the first non-empty one "
                        "[%(default)s]")
    p.add_argument("--empty-text", default=d.empty_text, choices=EMPTY_TEXT_POLICIES,
                   help="image links without text: reject (extract_rejects, reason no_text), keep (a row with a "
                        "null text) or drop (counted in _stats.json only) [%(default)s]")
    p.add_argument("--max-record-bytes", type=int, default=DEFAULT_MAX_RECORD_BYTES,
                   help="HTML bytes parsed per page (WARC), largest WAT JSON record accepted [%(default)s]")
    p.add_argument("--reader", default=d.reader, choices=READERS, help="WARC record reader [%(default)s]")
    p.add_argument("--files-per-job", type=int, default=0,
                   help="files per committed part (the unit a crash can lose) [0: 4 x default parallelism, >= 16]")
    p.add_argument("--output-partitions", type=int, default=0,
                   help="files of the alt_texts table [0: one per 1M extracted rows, at least 2]")
    p.add_argument("--reprocess", action="store_true",
                   help="ignore the completion records of earlier runs and extract every file again")
    add_spark_flags(p)
    return p


def config_from_args(args: argparse.Namespace) -> ExtractConfig:
    """The validated config of parsed flags (the Namespace stops here)."""
    settings = ExtractSettings(source=args.source, text_attrs=tuple(a.strip() for a in args.text_attrs.split(",")
                                                                     if a.strip()),
                               text_mode=args.text_mode, empty_text=args.empty_text,
                               max_record_bytes=args.max_record_bytes, reader=args.reader, crawl=args.crawl)
    return ExtractConfig(inputs=list(args.input), output=args.output, format=args.format, settings=settings,
                         path_prefix=args.path_prefix, files_per_job=args.files_per_job,
                         output_partitions=args.output_partitions, reprocess=args.reprocess, master=args.master,
                         spark_conf=parse_spark_conf(args.conf), quiet=args.quiet, log_level=args.log_level).validate()
