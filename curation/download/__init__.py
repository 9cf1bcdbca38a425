"""Image download stage: curated URLs -> image shards keyed by uid (img2dataset on Spark) -> a
training-ready table.

Reads ``curated`` (offline) or ``matched`` (online balancing) under a curation output root,
de-duplicates by uid and downloads every image once with img2dataset's ``pyspark`` distributor on
the active SparkSession. Layout (``<images>`` defaults to ``<root>/images/<source>``)::

    <images>/url_list/                  uid, url, shard: the url list img2dataset reads, sorted by
                                        uid, cut into files of whole shards; _manifest.json
    <images>/00000.parquet              img2dataset shard (uid, key, status, error_message, width,
    <images>/00000_stats.json           height, ..., jpg) and its per-shard stats (the completion
                                        marker img2dataset's incremental mode trusts)
    <root>/<source>_download_status     one row per uid of the source: downloaded, or failed with a
                                        reason (http_404, timeout, decode_error, too_small, ...)
    <root>/<source>_images              the source rows of downloaded images joined with their bytes
                                        (column ``jpg``): what ``training.launch --table`` reads
    <root>/_stats.json                  section ``download_<source>``

``<source>`` is ``curated`` or ``matched``. Failed images are only in the status table; the
training table holds successes only.
Re-running resumes: the url list is reused when the source is unchanged and img2dataset skips
every shard that has its ``_stats.json``. The same source always gives the same shard assignment
(shard = position of the uid in uid order // samples per shard).

CLI: ``wwclip-download`` / ``python -m curation.download`` / ``spark-submit jobs/download.py``.

Modules: ``config`` (DownloadConfig, the parser), ``urls`` (url list, shard assignment, manifest),
``img2dataset`` (the adapter: running it, its shard files and stats), ``reasons`` (failure
reasons), ``stage`` (``run_download`` and its Spark steps), ``cli``.
"""

from curation.download.cli import INCOMPLETE_EXIT_CODE, main, main_download
from curation.download.config import DownloadConfig, build_parser, config_from_args
from curation.download.reasons import failure_reason, failure_reason_columns
from curation.download.stage import format_summary, run_download
from curation.download.urls import assign_shards, shard_of, unique_urls

__all__ = ["INCOMPLETE_EXIT_CODE", "DownloadConfig", "assign_shards", "build_parser", "config_from_args",
           "failure_reason", "failure_reason_columns", "format_summary", "main", "main_download", "run_download",
           "shard_of", "unique_urls"]
