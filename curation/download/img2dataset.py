"""The img2dataset adapter: its per-shard downloader and resizer, run as our own Spark tasks, and
reading what they leave in the images folder (shard names, completion markers, stats, keys).

We do not call ``img2dataset.download``: it reads the url list on the driver, starts a logger
process (which, with Python's resource tracker, outlives a killed driver), replaces the SIGINT
handler with one that calls ``sys.exit`` and fetches with a per-socket-operation timeout only.
Instead one Spark task per shard (``ShardTask``):

* reads its urls from ``url_list/shard=<n>/`` (written by Spark, never seen by the driver);
* runs img2dataset's ``Downloader.download_shard`` (threads, resize, writer, ``_stats.json``)
  with two parts swapped: the fetch (``curation.download.fetch``: a wall-clock deadline per
  image and per shard, a body cap, redirect loops and empty bodies named) and the resizer input
  (``curation.download.images.normalise``: 8-bit, upright pixels).

img2dataset writes shard ``{shard:05d}.parquet`` / ``.tar`` / ``{shard:05d}/`` plus
``{shard:05d}_stats.json`` last, which is the completion marker resuming trusts.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence

from curation.pipeline.config import ConfigError
from curation.download.config import DownloadConfig
from curation.spark.fs import list_names

log = logging.getLogger("curation.download")

SHARD_DIGITS = 5  # img2dataset oom_shard_count: shard files 00000.parquet ... 99999.parquet
USER_AGENT = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:72.0) Gecko/20100101 Firefox/72.0"  # img2dataset's
MAX_DECODE_PIXELS = 100_000_000  # larger images fail as too_large before their pixels are decoded
URL_COLUMNS = ["uid", "url"]  # what a shard task reads and img2dataset keeps in its shard rows


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


def user_agent(token: str | None) -> str:
    """img2dataset's User-Agent, with ``(compatible; <token>; +...)`` when a token is set."""
    if not token:
        return USER_AGENT
    return f"{USER_AGENT} (compatible; {token}; +https://github.com/rom1504/img2dataset)"


def fetch_image(url: str, *, timeout: float, deadline: float, max_bytes: int, retries: int,
                user_agent_token: str | None, disallowed: set[str] | None,
                shard_deadline: float | None) -> tuple[io.BytesIO | None, str | None]:
    """``(bytes, None)`` or ``(None, error message)`` for one url: what img2dataset's fetch returns.

    ``deadline`` (monotonic) covers every attempt; ``shard_deadline`` (monotonic or None) caps
    it, and an image not started before it is not requested at all."""
    from img2dataset.downloader import is_disallowed

    from curation.download.fetch import FetchError, fetch

    if shard_deadline is not None and time.monotonic() >= shard_deadline:
        return None, "timed out: shard deadline passed before this image was requested"
    if shard_deadline is not None and shard_deadline < deadline:
        deadline = shard_deadline
    error = None
    headers = {"User-Agent": user_agent(user_agent_token)}
    for _ in range(retries + 1):
        try:
            got = fetch(url, headers=headers, timeout=timeout, deadline=deadline, max_bytes=max_bytes)
        except FetchError as err:
            error = str(err)
        except Exception as err:  # noqa: BLE001 - HTTPError and anything else: img2dataset keeps str(err)
            error = str(err) or type(err).__name__
        else:
            if disallowed and is_disallowed(got.headers, user_agent_token, disallowed):
                return None, "Use of image disallowed by X-Robots-Tag directive"
            return io.BytesIO(got.body), None
        if time.monotonic() >= deadline:
            break
    if shard_deadline is not None and error and error.startswith("timed out") and time.monotonic() >= shard_deadline:
        error = f"timed out: shard deadline reached ({error})"
    return None, error


_PATCH_LOCK = threading.Lock()


@contextlib.contextmanager
def _fetcher_installed(fetcher) -> Iterator[None]:
    """img2dataset's ``download_shard`` calls its module-level ``download_image_with_retry``; for
    the duration of one shard (one at a time per process) that name is ``fetcher``."""
    import img2dataset.downloader as i2d

    with _PATCH_LOCK:
        original = i2d.download_image_with_retry
        i2d.download_image_with_retry = fetcher
        try:
            yield
        finally:
            i2d.download_image_with_retry = original


def _resizer_class():
    from img2dataset.resizer import Resizer

    from curation.download.images import inspect_header, normalise

    class NormalisingResizer(Resizer):
        """img2dataset's resizer fed 8-bit, upright pixels (``images.normalise``); images whose
        header declares more than ``MAX_DECODE_PIXELS`` (or ``max_image_area``) pixels fail
        before they are decoded (a small file can declare a huge canvas)."""

        def __init__(self, *, exif_orientation: bool, **kwargs):
            super().__init__(**kwargs)
            self.exif_orientation = exif_orientation

        def __call__(self, img_stream, blurring_bbox_list=None):
            img_stream.seek(0)
            data = img_stream.read()
            header = inspect_header(data)
            if header.pixels > min(MAX_DECODE_PIXELS, self.max_image_area):
                return None, None, None, None, None, "image area too large"
            try:
                data = normalise(data, self.exif_orientation, header)
            except Exception as err:  # noqa: BLE001 - reported like img2dataset's own resize errors
                return None, None, None, None, None, f"Image decoding error ({err})"
            return super().__call__(io.BytesIO(data), blurring_bbox_list)

    return NormalisingResizer


def _downloader_class():
    from img2dataset.downloader import Downloader

    class DeadlineDownloader(Downloader):
        """img2dataset's ``Downloader`` whose fetch is ``fetch_image`` (deadlines per image and shard)."""

        def __init__(self, *, image_deadline: float, shard_deadline: float, max_image_bytes: int, **kwargs):
            super().__init__(**kwargs)
            self.image_deadline = image_deadline
            self.shard_deadline = shard_deadline
            self.max_image_bytes = max_image_bytes

        def download_shard(self, row):
            started = time.monotonic()
            shard_deadline = started + self.shard_deadline if self.shard_deadline else None

            def fetcher(row, timeout, retries, user_agent_token, disallowed_header_directives):
                key, url = row
                stream, error = fetch_image(
                    url, timeout=timeout, deadline=time.monotonic() + self.image_deadline,
                    max_bytes=self.max_image_bytes, retries=retries,
                    user_agent_token=user_agent_token, disallowed=disallowed_header_directives,
                    shard_deadline=shard_deadline)
                return key, stream, error

            with _fetcher_installed(fetcher):
                return super().download_shard(row)

    return DeadlineDownloader


def _writer_class(output_format: str):
    from img2dataset import writer

    return {"parquet": writer.ParquetSampleWriter, "webdataset": writer.WebDatasetSampleWriter,
            "files": writer.FilesSampleWriter}[output_format]


class ShardTask:
    """One Spark task = one shard: ``task(shard) -> (shard, ok, message)``. Picklable (plain
    settings); img2dataset's classes are built in the executor on first use."""

    def __init__(self, cfg: DownloadConfig, urls_dir: str):
        self.urls_dir = urls_dir
        self.settings = cfg.to_dict()
        self.output_folder = cfg.images
        self._downloader = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_downloader": None}

    def downloader(self):
        if self._downloader is None:
            os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # no PyPI look-up on import
            s = self.settings
            resizer = _resizer_class()(
                exif_orientation=s["exif_orientation"], image_size=s["image_size"], resize_mode=s["resize_mode"],
                resize_only_if_bigger=s["resize_only_if_bigger"], encode_quality=s["encode_quality"],
                encode_format=s["encode_format"], min_image_size=s["min_image_size"],
                max_image_area=float(s["max_image_area"]), max_aspect_ratio=float(s["max_aspect_ratio"]))
            directives = s["disallowed_header_directives"]
            self._downloader = _downloader_class()(
                image_deadline=s["image_deadline"], shard_deadline=s["shard_deadline"],
                max_image_bytes=s["max_image_bytes"], sample_writer_class=_writer_class(s["output_format"]),
                resizer=resizer, thread_count=s["thread_count"], save_caption=False,
                extract_exif=s["extract_exif"], output_folder=self.output_folder, column_list=URL_COLUMNS,
                timeout=s["timeout"], number_sample_per_shard=s["number_sample_per_shard"],
                oom_shard_count=SHARD_DIGITS, compute_hash=s["compute_hash"], verify_hash_type=None,
                encode_format=s["encode_format"], retries=s["retries"], user_agent_token=s["user_agent_token"],
                disallowed_header_directives=list(directives) if directives else None)
        return self._downloader

    def __call__(self, shard: int) -> tuple[int, bool, str]:
        import fsspec
        import pyarrow as pa
        import pyarrow.parquet as pq

        from curation.download.urls import shard_dir

        tmp = tempfile.mkdtemp(prefix=f"wwclip-shard-{shard}-")
        try:
            fs, path = fsspec.core.url_to_fs(shard_dir(self.urls_dir, shard))
            table = pq.read_table(path, filesystem=fs, columns=URL_COLUMNS, partitioning=None).sort_by("uid")
            # Spark's schema metadata (uid, url) would end in the shard files and hide their other columns
            table = table.replace_schema_metadata(None)
            feather = os.path.join(tmp, f"{shard}.feather")
            with pa.OSFile(feather, "wb") as f, pa.ipc.new_file(f, table.schema) as writer:
                writer.write_table(table)
            ok, _ = self.downloader()((shard, feather))
            return shard, bool(ok), "" if ok else "img2dataset failed on this shard (see the executor log)"
        except Exception as err:  # noqa: BLE001 - a failed shard is retried, then reported missing
            return shard, False, f"{type(err).__name__}: {err}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _batches(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def download_shards(spark, cfg: DownloadConfig, urls_dir: str, shards: Sequence[int],
                    cancel: threading.Event | None = None) -> list[int]:
    """Download ``shards`` (one Spark task each, ``--subjob-size`` per job); re-run failed ones up to
    ``--max-shard-retry`` times. Returns the shards that still failed. ``cancel`` is checked
    before each job (``lifecycle.Interrupted``)."""
    from curation.download.lifecycle import check_cancelled

    try:
        import img2dataset  # noqa: F401
    except ImportError as exc:  # pragma: no cover - the 'download' extra installs it
        raise ConfigError("the download job needs img2dataset: pip install 'worldwide-clip[download]' "
                          f"(and the same on the Spark executors) ({exc})") from exc
    # albumentations (imported by img2dataset) checks PyPI for updates on import unless told not to;
    # executors get the variable through the SparkContext environment of the Python workers.
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    sc = spark.sparkContext
    sc.environment.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    task = ShardTask(cfg, urls_dir)
    pending, total = list(shards), len(shards)
    for attempt in range(cfg.max_shard_retry + 1):
        failed: list[int] = []
        done = 0
        for batch in _batches(pending, cfg.subjob_size):
            check_cancelled(cancel)
            sc.setJobDescription(f"download shards {batch[0]}..{batch[-1]} ({len(batch)})")
            try:
                for shard, ok, message in sc.parallelize(batch, len(batch)).map(task).collect():
                    if not ok:
                        failed.append(shard)
                        log.warning("download: shard %d failed: %s", shard, message)
            finally:
                sc.setJobDescription(None)
            done += len(batch)
            log.info("download: %d of %d shards%s", done, len(pending),
                     f" (retry {attempt} of {cfg.max_shard_retry})" if attempt else "")
        pending = failed
        if not pending:
            break
    if pending:
        log.warning("download: %d of %d shards failed; re-run the same command to retry them", len(pending), total)
    return pending


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
