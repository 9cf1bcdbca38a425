"""``wwclip-extract``, ``python -m curation.commoncrawl`` and ``spark-submit jobs/extract.py`` all end
in :func:`main`."""

from __future__ import annotations

import sys

from curation.commoncrawl.config import build_parser, config_from_args
from curation.pipeline.config import ConfigError
from curation.spark.fs import FileSystemError
from curation.spark.tables import TableError


def format_summary(section: dict) -> str:
    """A few lines for the terminal (every number is in ``_stats.json``)."""
    files = section["files"]
    status = ", ".join(f"{k}={v}" for k, v in files["by_status"].items() if v)
    lines = [f"files: {files['total']} ({status}); extracted now {files['extracted_this_run']}, "
             f"reused {files['reused']}",
             f"records {section['records']:,}, HTML pages {section['pages']:,}, image links {section['links']:,}",
             f"rows {section['rows_extracted']:,} -> alt_texts {section['rows_out']:,} "
             f"({section['duplicates_collapsed']:,} duplicates collapsed into page_count)",
             "extract_rejects {:,} ({})".format(sum(section["rejects_by_reason"].values()), ", ".join(
                 f"{k}={v:,}" for k, v in section["rejects_by_reason"].items()) or "none"),
             f"wall time {section['seconds']:.1f}s"]
    if section["no_text_dropped"]:
        lines.insert(3, f"links without text dropped (counted only): {section['no_text_dropped']:,}")
    for bad in section["bad_files"][:10]:
        lines.append(f"warning: {bad['status']} file {bad['path']} ({bad['records_read']} records read): "
                     f"{bad['error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Exit status: 0 done (bad input files are listed, not fatal), 2 bad configuration."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from curation.commoncrawl.inputs import expand_inputs
    from curation.commoncrawl.job import run_extract
    from curation.spark.session import configure_logging, get_spark

    configure_logging(args.log_level)

    try:
        cfg = config_from_args(args)
        expand_inputs(cfg.inputs, cfg.path_prefix)  # fail on a bad --input before starting Spark
        spark = get_spark("wwclip-extract", cfg.master, cfg.spark_conf, log_level=cfg.log_level)
        section = run_extract(spark, cfg)
    except (ConfigError, TableError, FileSystemError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cfg.quiet:
        print(format_summary(section))
    return 0


def main_extract() -> None:
    """Console script ``wwclip-extract``."""
    sys.exit(main())
