"""spark-submit entry point for the `extract` job: Common Crawl WAT (or WARC) files -> alt_texts,
extract_rejects, extract_files (see `wwclip-extract -h` and docs/commoncrawl.md).

fastwarc, selectolax and resiliparse must be installed on the driver and on every executor (a packed
environment, see docs/deploy.md); object stores are read with fsspec (s3fs for s3a://):

    spark-submit --packages io.delta:delta-spark_2.13:4.0.1 \
      --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
      --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
      jobs/extract.py --input s3a://commoncrawl/crawl-data/CC-MAIN-2024-22/wat.paths.gz \
      --path-prefix s3a://commoncrawl/ --output s3a://bucket/cc-2024-22/ --format delta
"""

import sys

from curation.commoncrawl.cli import main

if __name__ == "__main__":
    sys.exit(main())
