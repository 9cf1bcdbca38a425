"""Command-line entry points: ``python -m curation <stage>``, ``wwclip-<stage>`` and the
thin ``jobs/<stage>.py`` scripts for ``spark-submit`` all end up in ``main``."""

from __future__ import annotations

import logging
import sys

from curation.config import STAGES, ConfigError, build_parser, config_from_args
from curation.spark.tables import TableError

DESCRIPTIONS = {
    "curate": "Run the whole MetaCLIP 2 curation: lid -> match -> count -> thresholds -> sample.",
    "lid": "Language ID of every input text (fastText lid.176) -> texts_lid.",
    "match": "Per-language metadata substring matching -> matched + rejects.",
    "count": "Texts per metadata entry per language -> entry_counts.",
    "thresholds": "Per-language thresholds from the English tail proportion -> thresholds + entry_probs.",
    "sample": "Balanced, deterministic sampling of one text per image -> curated.",
}


def main(argv: list[str] | None = None, stage: str | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if stage is None:
        if not argv or argv[0] not in DESCRIPTIONS:
            print(f"usage: python -m curation {{{','.join(DESCRIPTIONS)}}} [flags]  (-h for help)",
                  file=sys.stderr)
            return 2
        stage, argv = argv[0], argv[1:]
    parser = build_parser(f"wwclip-{stage}", DESCRIPTIONS[stage])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    from curation import pipeline
    from curation.spark.session import get_spark
    from curation.summary import format_summary

    try:
        cfg = config_from_args(args)
        metadata = pipeline.load_metadata(cfg) if stage in ("curate", "match", "count") else None
        spark = get_spark(f"wwclip-{stage}", cfg.master, cfg.spark_conf)
        if stage == "curate":
            stats = pipeline.run_curate(spark, cfg, metadata)
        else:
            stats = pipeline.run_stage(spark, cfg, stage, metadata)
    except (ConfigError, TableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not cfg.quiet:
        print(format_summary(stats))
    return 0


def _entry(stage: str):
    def run() -> None:
        sys.exit(main(stage=stage))
    return run


main_curate = _entry("curate")
main_lid = _entry("lid")
main_match = _entry("match")
main_count = _entry("count")
main_thresholds = _entry("thresholds")
main_sample = _entry("sample")
assert set(STAGES) <= set(DESCRIPTIONS)
