"""Command-line entry points: ``python -m curation <stage>``, the ``wwclip-<stage>`` console
scripts and the thin ``jobs/<stage>.py`` scripts for ``spark-submit`` all end up in ``main``."""

from __future__ import annotations

import contextlib
import logging
import sys

from curation.layout import STAGES
from curation.pipeline.config import INPUT_STAGES, ConfigError, build_parser, config_from_args
from curation.spark.fs import FileSystemError
from curation.spark.tables import TableError

DESCRIPTIONS = {
    "curate": "Run the whole MetaCLIP 2 curation: lid -> match -> count -> thresholds -> sample.",
    "lid": "Language ID of every input text (fastText lid.176) -> texts_lid.",
    "match": "Per-language metadata substring matching of texts_lid -> matched + rejects.",
    "count": "Texts per metadata entry per language, from matched -> entry_counts.",
    "thresholds": "Per-language thresholds from the English tail proportion -> thresholds + entry_probs.",
    "sample": "Balanced, deterministic sampling of one text per image of matched -> curated.",
}


def main(argv: list[str] | None = None, stage: str | None = None) -> int:
    """Parse flags, check the config (and the metadata) before Spark starts, run, print the summary.
    Exit status 2 on a bad config, input or output (the message says which)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if stage is None:
        if not argv or argv[0] not in DESCRIPTIONS:
            print(f"usage: python -m curation {{{','.join(DESCRIPTIONS)}}} [flags]  (-h for help)",
                  file=sys.stderr)
            return 2
        stage, argv = argv[0], argv[1:]
    parser = build_parser(f"wwclip-{stage}", DESCRIPTIONS[stage], reads_input=stage in INPUT_STAGES)
    args = parser.parse_args(argv)
    from curation.pipeline.context import load_metadata
    from curation.pipeline.curate import METADATA_STAGES, run_curate, run_stage
    from curation.pipeline.summary import format_summary
    from curation.spark.lock import OutputLock, local_path
    from curation.spark.session import configure_logging, get_spark

    try:
        cfg = config_from_args(args)
        configure_logging(cfg.log_level)
        metadata = load_metadata(cfg) if stage == "curate" or stage in METADATA_STAGES else None
        # A local output is locked before the JVM starts (a second run is refused at once);
        # other outputs are locked through Hadoop once the session exists.
        lock = OutputLock(None, cfg.output, cfg.break_lock) if local_path(cfg.output) is not None else None
        with lock if lock is not None else contextlib.nullcontext():
            spark = get_spark(f"wwclip-{stage}", cfg.master, cfg.spark_conf, log_level=cfg.log_level)
            if lock is not None:
                lock.attach(spark)
            if stage == "curate":
                stats = run_curate(spark, cfg, metadata, lock=lock)
            else:
                stats = run_stage(spark, cfg, stage, metadata, lock=lock)
    except (ConfigError, TableError, FileSystemError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cfg.quiet:
        print(format_summary(stats))
    return 0


def _entry(stage: str):
    def run() -> None:
        sys.exit(main(stage=stage))
    run.__doc__ = f"Console script ``wwclip-{stage}``."
    return run


main_curate = _entry("curate")
main_lid = _entry("lid")
main_match = _entry("match")
main_count = _entry("count")
main_thresholds = _entry("thresholds")
main_sample = _entry("sample")
assert set(STAGES) <= set(DESCRIPTIONS)
