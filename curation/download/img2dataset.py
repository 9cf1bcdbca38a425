"""The img2dataset adapter: running ``img2dataset.download`` on our SparkSession, and reading what
it leaves in the images folder (shard names, completion markers, per-shard stats, sample keys).

img2dataset writes shard ``{shard:05d}.parquet`` / ``.tar`` / ``{shard:05d}/`` plus
``{shard:05d}_stats.json`` last, which is the completion marker its incremental mode trusts.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import threading
from collections.abc import Sequence

from curation.pipeline.config import ConfigError
from curation.download.config import DownloadConfig
from curation.spark.fs import list_names

SHARD_DIGITS = 5  # img2dataset oom_shard_count: shard files 00000.parquet ... 99999.parquet


def completed_shards(spark, images: str) -> list[int]:
    """Shards with img2dataset's ``{shard}_stats.json``: written last, so the shard is complete."""
    done = []
    for name in list_names(spark, images):
        m = re.fullmatch(r"(\d+)_stats\.json", name)
        if m:
            done.append(int(m.group(1)))
    return sorted(done)


def shard_name(shard: int) -> str:
    return f"{shard:0{SHARD_DIGITS}d}"


def _activate(spark) -> None:
    """img2dataset's pyspark distributor uses ``SparkSession.getActiveSession()`` and *stops* a
    session it had to create: make ours the active one of this thread so it is reused, not stopped."""
    from pyspark.sql import SparkSession

    if SparkSession.getActiveSession() is None:
        spark._jvm.org.apache.spark.sql.SparkSession.setActiveSession(spark._jsparkSession)
    if SparkSession.getActiveSession() is None:  # pragma: no cover - defensive
        raise RuntimeError("could not make the SparkSession active for img2dataset")


def run_img2dataset(spark, cfg: DownloadConfig, urls_dir: str) -> None:
    """img2dataset.download on the active session, incremental: complete shards are skipped."""
    # albumentations (imported by img2dataset) checks PyPI for updates on import unless told not to;
    # executors get the variable through the SparkContext environment of the Python workers.
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    spark.sparkContext.environment.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    try:
        import img2dataset
    except ImportError as exc:  # pragma: no cover - the 'download' extra installs it
        raise ConfigError("the download job needs img2dataset: pip install 'worldwide-clip[download]' "
                          f"(and the same on the Spark executors) ({exc})") from exc
    _activate(spark)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGINT) if main_thread else None
    try:
        img2dataset.download(
            url_list=urls_dir, input_format="parquet", url_col="url", save_additional_columns=["uid"],
            output_folder=cfg.images, output_format=cfg.output_format, distributor="pyspark",
            incremental_mode="incremental", processes_count=1, thread_count=cfg.thread_count,
            subjob_size=cfg.subjob_size, max_shard_retry=cfg.max_shard_retry,
            number_sample_per_shard=cfg.number_sample_per_shard, oom_shard_count=SHARD_DIGITS,
            image_size=cfg.image_size, resize_mode=cfg.resize_mode, resize_only_if_bigger=cfg.resize_only_if_bigger,
            encode_format=cfg.encode_format, encode_quality=cfg.encode_quality, min_image_size=cfg.min_image_size,
            max_image_area=cfg.max_image_area, max_aspect_ratio=cfg.max_aspect_ratio,
            timeout=cfg.timeout, retries=cfg.retries, user_agent_token=cfg.user_agent_token,
            disallowed_header_directives=list(cfg.disallowed_header_directives),
            extract_exif=cfg.extract_exif, compute_hash=cfg.compute_hash, enable_wandb=False)
    except SystemExit as exc:  # img2dataset's SIGINT handler calls sys.exit(0): an interrupted run is no success
        _stop_logger_processes()
        raise KeyboardInterrupt("download interrupted: re-run the same command to resume") from exc
    except BaseException:
        _stop_logger_processes()
        raise
    finally:
        if main_thread:  # restore what img2dataset's signal.signal replaced
            signal.signal(signal.SIGINT, previous)


def _stop_logger_processes() -> None:
    """img2dataset starts a non-daemon logger process and joins it only on success; after a
    failure it would keep the interpreter from exiting. Stop the ones it started in this process."""
    import multiprocessing

    for child in multiprocessing.active_children():
        if type(child).__module__.startswith("img2dataset"):
            child.terminate()
            child.join(timeout=10)


def shard_stats(spark, images: str, shards: Sequence[int], top: int = 20) -> dict:
    """img2dataset's per-shard ``_stats.json`` summed (read by Spark: one task per file batch)."""
    if not shards:
        return {"count": 0, "successes": 0, "failed_to_download": 0, "failed_to_resize": 0,
                "download_seconds": 0.0, "top_errors": {}}
    wanted = {shard_name(s) for s in shards}
    files = spark.sparkContext.wholeTextFiles(f"{images}/*_stats.json")
    files = files.filter(lambda kv: kv[0].rsplit("/", 1)[-1].split("_", 1)[0] in wanted)

    def parse(text: str) -> tuple:
        st = json.loads(text)
        errors = {k: v for k, v in st.get("status_dict", {}).items() if k != "success"}
        return (st["count"], st["successes"], st["failed_to_download"], st["failed_to_resize"],
                st.get("duration", 0.0), errors)

    def add(a: tuple, b: tuple) -> tuple:
        errors = dict(a[5])
        for k, v in b[5].items():
            errors[k] = errors.get(k, 0) + v
        if len(errors) > 10 * top:  # bounded, like img2dataset's CappedCounter
            errors = dict(sorted(errors.items(), key=lambda kv: -kv[1])[:5 * top])
        return tuple(x + y for x, y in zip(a[:5], b[:5])) + (errors,)

    total = files.values().map(parse).reduce(add)
    return {"count": total[0], "successes": total[1], "failed_to_download": total[2],
            "failed_to_resize": total[3], "download_seconds": round(total[4], 2),
            "top_errors": dict(sorted(total[5].items(), key=lambda kv: (-kv[1], kv[0]))[:top])}


def key_divisor(cfg: DownloadConfig) -> int:
    """img2dataset key = shard * 10**ceil(log10(samples per shard)) + index in shard."""
    return 10 ** math.ceil(math.log10(cfg.number_sample_per_shard))


def img2dataset_version() -> str:
    """The installed img2dataset version (recorded in the stage's stats)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("img2dataset")
    except PackageNotFoundError:
        return "not installed"
