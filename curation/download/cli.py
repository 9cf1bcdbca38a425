"""``wwclip-download`` / ``python -m curation.download`` / ``spark-submit jobs/download.py``."""

from __future__ import annotations

import logging
import sys

from curation.pipeline.config import ConfigError
from curation.download.config import build_parser, config_from_args
from curation.download.stage import format_summary, run_download
from curation.spark.fs import FileSystemError
from curation.spark.tables import TableError

INCOMPLETE_EXIT_CODE = 3


def main(argv: list[str] | None = None) -> int:
    """``wwclip-download``. Exit status: 0 complete, 3 shards missing (re-run to resume), 2 bad config."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from curation.spark.session import get_spark

    try:
        cfg = config_from_args(args)
        spark = get_spark("wwclip-download", cfg.master, cfg.spark_conf)
        section = run_download(spark, cfg)
    except (ConfigError, TableError, FileSystemError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cfg.quiet:
        print(format_summary(section))
    return 0 if section["complete"] else INCOMPLETE_EXIT_CODE


def main_download() -> None:
    """Console script ``wwclip-download``."""
    sys.exit(main())
