"""The download stage (Spark, img2dataset's shard writer) against hostile hosts and pixel formats:
reasons in the status table, shard wall time bounded by the deadlines, stored pixels right."""

from __future__ import annotations

import glob
import io
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from curation.download import DownloadConfig, run_download
from curation.ids import image_uid
from curation.spark.tables import read_table

from .conftest import BIG_BYTES, DRIP_INTERVAL, DRIP_SECONDS, HOSTILE_REASON, PIXEL_KINDS, pixel_case

pytest.importorskip("img2dataset")
pytestmark = pytest.mark.spark

IMAGE_DEADLINE = 3.0
SHARD_SLACK = 8.0  # resize + write + stats of a small shard on a loaded 2-core machine
# kind -> how many urls of it (loop2 comes in pairs that redirect to each other)
URLS = {"drip": 2, "driphead": 1, "loop": 1, "loop2": 2, "hops": 1, "hop": 1, "toftp": 1, "empty": 1, "big": 1,
        "bignolength": 1, "img": 3, **{k: 1 for k in PIXEL_KINDS}}


def write_curated(root: str, urls: list[str]) -> None:
    """A ``curated``-shaped Parquet table (uid, url, text) without running curation."""
    texts = [f"text {i}" for i in range(len(urls))]
    table = pa.table({"uid": [image_uid(u) for u in urls], "url": urls, "text": texts})
    os.makedirs(os.path.join(root, "curated"), exist_ok=True)
    pq.write_table(table, os.path.join(root, "curated", "part-00000.parquet"))
    open(os.path.join(root, "curated", "_SUCCESS"), "w").close()


def hostile_urls(server) -> dict[str, tuple[str, int]]:
    """url -> (kind, n); numbers are even-aligned so each loop2 pair redirects within itself."""
    urls, n = {}, 0
    for kind, count in URLS.items():
        n += n % 2
        for _ in range(count):
            urls[server.url(kind, n)] = (kind, n)
            n += 1
    return urls


def config(root: str, **kw) -> DownloadConfig:
    base = dict(output=root, format="parquet", timeout=2, image_deadline=IMAGE_DEADLINE, retries=0, thread_count=16,
                number_sample_per_shard=8, image_size=64, min_image_size=16, max_image_bytes=BIG_BYTES // 2,
                user_agent_token="wwclip-test")
    base.update(kw)
    return DownloadConfig(**base).validate()


def blocks(pixels: np.ndarray, size: int = 8) -> np.ndarray:
    """Mean of each size x size block per channel."""
    h, w = pixels.shape[0] // size * size, pixels.shape[1] // size * size
    tiles = pixels[:h, :w].astype(float).reshape(h // size, size, w // size, size, -1)
    return tiles.mean(axis=(1, 3))


def shard_durations(images: str) -> list[float]:
    return [json.load(open(p))["duration"] for p in sorted(glob.glob(os.path.join(images, "*_stats.json")))]


@pytest.fixture(scope="module")
def hostile(spark, image_server, tmp_path_factory):
    root = str(tmp_path_factory.mktemp("dl_hostile") / "out")
    urls = hostile_urls(image_server)
    write_curated(root, list(urls))
    section = run_download(spark, config(root))
    status = {r["url"]: r.asDict() for r in read_table(spark, root, "curated_download_status", "parquet").collect()}
    return {"root": root, "urls": urls, "section": section, "status": status}


def test_every_hostile_url_fails_with_its_reason(hostile):
    for url, (kind, _) in hostile["urls"].items():
        row = hostile["status"][url]
        expected = HOSTILE_REASON.get(kind)  # pixel kinds and img: downloaded
        if expected is None:
            assert (row["status"], row["reason"]) == ("downloaded", None), (kind, row)
        else:
            assert (row["status"], row["reason"], row["http_status"]) == ("failed", expected, None), (kind, row)
    assert hostile["section"]["complete"] and hostile["section"]["accounting_ok"]


def test_dripping_hosts_do_not_hold_their_shards(hostile):
    """A dripping url would hold its shard DRIP_SECONDS; each shard ends by the image deadline."""
    assert DRIP_SECONDS * DRIP_INTERVAL > 10 * IMAGE_DEADLINE
    durations = shard_durations(hostile["section"]["images_dir"])
    assert len(durations) == hostile["section"]["shards"]["total"] == 3
    assert max(durations) <= IMAGE_DEADLINE + SHARD_SLACK, durations


def test_stored_pixels_are_8bit_and_upright(hostile):
    view = pq.read_table(os.path.join(hostile["root"], "curated_images"), columns=["url", "jpg"]).to_pylist()
    stored = {r["url"]: r["jpg"] for r in view}
    checked = 0
    for url, (kind, n) in hostile["urls"].items():
        if kind not in PIXEL_KINDS:
            continue
        _, expected = pixel_case(kind, n)
        got = np.asarray(Image.open(io.BytesIO(stored[url])).convert("RGB")).astype(int)
        assert got.shape == expected.shape, kind  # exif6/exif8: width and height swapped
        assert abs(got.mean() - expected.mean()) <= 3, (kind, got.mean(), expected.mean())  # 16-bit: not ~254
        # the layout too: 8x8-block means (JPEG smears the noise and, at quadrant edges, the chroma;
        # a wrong orientation puts quadrants that differ by > 150 on top of each other)
        diff = np.abs(blocks(got) - blocks(expected))
        assert diff.max() <= 25 and diff.mean() <= 4, (kind, diff.max(), diff.mean())
        checked += 1
    assert checked == len(PIXEL_KINDS)


def test_the_shard_deadline_stops_a_shard(spark, image_server, tmp_path):
    """One thread, a 4 s shard deadline, three dripping hosts first in uid order: the shard ends
    at the shard deadline, and the images not fetched by then fail as shard_deadline."""
    root = str(tmp_path / "out")
    drips = sorted((image_server.url("drip", 100 + i) for i in range(8)), key=image_uid)[:3]
    goods = [image_server.url("img", 200 + i) for i in range(40)]
    goods = [u for u in goods if image_uid(u) > max(image_uid(d) for d in drips)][:3]
    write_curated(root, drips + goods)
    section = run_download(spark, config(root, thread_count=1, image_deadline=30, shard_deadline=4))
    durations = shard_durations(section["images_dir"])
    assert len(durations) == 1 and durations[0] <= 4 + SHARD_SLACK, durations
    status = {r["url"]: r["reason"] for r in read_table(spark, root, "curated_download_status", "parquet").collect()}
    assert {status[u] for u in drips + goods} == {"shard_deadline"}
    assert section["failed_by_reason"] == {"shard_deadline": 6}
