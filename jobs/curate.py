"""spark-submit entry point for the `curate` job: all stages in order (see `python -m curation curate -h`).

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      jobs/curate.py --input s3://bucket/alt-texts/ --output s3://bucket/curation/ --format delta
"""

import sys

from curation.pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main(stage="curate"))
