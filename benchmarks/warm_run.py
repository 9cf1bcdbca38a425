"""Curate the same input several times in ONE driver and JVM, as a notebook, a Databricks
all-purpose cluster or a long-lived driver does: the first run pays the JVM warm-up (class
loading, JIT compilation of Spark's and Parquet's code), the later ones do not. Prints one
JSON line per run with its pipeline seconds; ``benchmarks.run`` records the last as "warm".

    python -m benchmarks.warm_run --input benchmarks/data/corpus_1m --output /tmp/warm --runs 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil

from benchmarks.run import curate_args
from curation.pipeline.config import build_parser, config_from_args
from curation.pipeline.curate import run_curate
from curation.spark.session import get_spark


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True, help="one sub-directory per run is written here")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--metadata", default=None)
    parser.add_argument("--curate-args", default="", help="extra curate flags, e.g. '--lid improved'")
    args = parser.parse_args(argv)
    spark = None
    for run in range(args.runs):
        out = os.path.join(args.output, f"run{run}")
        shutil.rmtree(out, ignore_errors=True)
        cfg = config_from_args(build_parser("warm_run", "").parse_args(
            curate_args(args.input, out, args.cores, args.metadata, args.curate_args.split())))
        spark = spark or get_spark("wwclip-warm-benchmark", cfg.master, cfg.spark_conf)
        stats = run_curate(spark, cfg)
        print(json.dumps({"run": run, "pipeline_seconds": stats["run"]["total_seconds"],
                          "kept": stats["stages"]["sample"]["kept"]}), flush=True)


if __name__ == "__main__":
    main()
