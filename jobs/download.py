"""spark-submit entry point for the `download` job: curated (or matched) URLs -> img2dataset shards
-> download_status + a training-ready <source>_images table (see `wwclip-download -h`).

img2dataset must be installed on the driver and on every executor (a packed environment, see
docs/deploy.md), and the images folder must be on storage that both fsspec and Hadoop can reach
(s3a://, gs://, hdfs://, a shared mount):

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      --conf spark.executorEnv.NO_ALBUMENTATIONS_UPDATE=1 --conf spark.speculation=false \
      jobs/download.py --output s3a://bucket/curation/ --format delta --source curated
"""

import sys

from curation.download import main

if __name__ == "__main__":  # img2dataset's logger process re-imports this module: keep the guard
    sys.exit(main())
