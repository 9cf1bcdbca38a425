"""Image download stage: curated URLs -> image shards keyed by uid (img2dataset on Spark) -> a
training-ready table.

Reads ``curated`` (offline) or ``matched`` (online balancing) under a curation output root,
de-duplicates by uid and downloads every image once with img2dataset's per-shard downloader, one
Spark task per shard on the active SparkSession, with a wall-clock deadline per image no server
can extend and pixels made 8-bit and upright. Layout (``<images>`` defaults to
``<root>/images/<source>``)::

    <images>/url_list/shard=<n>/        uid, url of shard n, sorted by uid (shard = position of the
                                        uid in uid order // samples per shard); _manifest.json
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

Modules: ``config`` (DownloadConfig, the parser), ``urls`` (url list, shard assignment in Spark
SQL, manifest), ``fetch`` (one GET with a wall-clock deadline), ``images`` (8-bit, upright
pixels), ``img2dataset`` (the adapter: its per-shard code as our Spark tasks, its shard files and
stats), ``reasons`` (failure reasons), ``lifecycle`` (Ctrl-C, SIGTERM), ``stage``
(``run_download`` and its Spark steps), ``cli``.
"""

from curation.download.cli import INCOMPLETE_EXIT_CODE, INTERRUPTED_EXIT_CODE, main, main_download
from curation.download.config import DownloadConfig, build_parser, config_from_args
from curation.download.reasons import failure_reason, failure_reason_columns
from curation.download.stage import format_summary, run_download
from curation.download.lifecycle import Interrupted, run_interruptibly
from curation.download.urls import assign_shards, shard_of, unique_urls, write_url_list

__all__ = ["INCOMPLETE_EXIT_CODE", "INTERRUPTED_EXIT_CODE", "DownloadConfig", "Interrupted", "assign_shards",
           "build_parser", "config_from_args", "failure_reason", "failure_reason_columns", "format_summary", "main",
           "main_download", "run_download", "run_interruptibly", "shard_of", "unique_urls", "write_url_list"]
