"""spark-submit entry point for the `sample` stage: matched + entry_probs -> curated. It reads only
the tables under --output, so it takes no --input (see `python -m curation sample -h`).

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      jobs/sample.py --output s3://bucket/curation/ --format delta --seed 0
"""

import sys

from curation.pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main(stage="sample"))
