"""spark-submit entry point of the metadata builder (see `python -m curation.build_metadata -h`).

    spark-submit jobs/build_metadata.py \
      --dump en='s3://bucket/wiki/enwiki-20250101-pages-articles*.xml*.bz2' \
      --dump zh=s3://bucket/wiki/zhwiki-20250101-pages-articles-multistream.xml.bz2 \
      --page-views 's3://bucket/wiki/pageviews/pageviews-2024*.gz' \
      --wordnet /opt/data/omw-2.0.xml.gz --output s3://bucket/metadata/worldwide.parquet
"""

import sys

from curation.metadata.build import main

if __name__ == "__main__":
    sys.exit(main())
