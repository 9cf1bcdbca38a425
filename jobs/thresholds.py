"""spark-submit entry point for the `thresholds` stage: entry_counts -> thresholds + entry_probs. It
reads only the tables under --output, so it takes no --input (see `python -m curation thresholds -h`).

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      jobs/thresholds.py --output s3://bucket/curation/ --format delta --t-en 170000
"""

import sys

from curation.pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main(stage="thresholds"))
