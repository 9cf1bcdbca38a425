"""spark-submit entry point of RealSyn: interleaved documents -> image-text pairs (see `wwclip-realsyn -h`
and docs/realsyn.md). Ship the packed environment (faiss, torch, open_clip, the segmenters) with
--archives; the CLIP checkpoint and the downloaded images must be readable from every executor.

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      --archives env.tar.gz#environment --conf spark.pyspark.python=./environment/bin/python \
      jobs/realsyn.py --documents s3://bucket/obelics/ --images s3://bucket/obelics-images/ \
        --clip-model /mnt/models/eva02-export --output s3://bucket/realsyn/ --format delta \
        --sentence-clusters 2000000 --image-clusters 1000000 --cap 20
"""

import sys

from curation.realsyn.cli import main

if __name__ == "__main__":
    sys.exit(main())
