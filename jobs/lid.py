"""spark-submit entry point for the `lid` stage: the alt-text input -> texts_lid
(see `python -m curation lid -h`).

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      jobs/lid.py --input s3://bucket/alt-texts/ --output s3://bucket/curation/ --format delta
"""

import sys

from curation.pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main(stage="lid"))
