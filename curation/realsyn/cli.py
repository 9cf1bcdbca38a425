"""``wwclip-realsyn`` / ``python -m curation.realsyn`` / ``jobs/realsyn.py``: argv -> config -> Spark -> run."""

from __future__ import annotations

import json
import sys

from curation.pipeline.config import ConfigError
from curation.realsyn.config import build_parser, config_from_args


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        cfg = config_from_args(args)
    except ConfigError as exc:
        parser.error(str(exc))
    from pyspark.sql import SparkSession

    from curation.realsyn.pipeline import run_realsyn
    from curation.spark.session import configure_logging, get_spark

    configure_logging(cfg.log_level)

    created = SparkSession.getActiveSession() is None
    spark = get_spark("wwclip-realsyn", cfg.master, cfg.spark_conf, log_level=cfg.log_level)
    try:
        section = run_realsyn(spark, cfg)
    except ConfigError as exc:
        print(f"wwclip-realsyn: error: {exc}", file=sys.stderr)
        return 2
    finally:
        if created:
            spark.stop()
    pairs = section.get("pairs", {})
    print(json.dumps({"output": cfg.output, "pairs": pairs.get("pairs"), "balance": pairs.get("balance", {}).get("t"),
                      "perplexity": section.get("sentences", {}).get("perplexity"),
                      "synthetic": pairs.get("synthetic")}, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
