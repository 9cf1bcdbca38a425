"""Images from a bytes column or from files (img2dataset layout); bad images are skipped and counted."""

from __future__ import annotations

import io
import os
from collections import Counter

import pyarrow as pa
import pytest
from PIL import Image

from training.dataset import CuratedDataset, make_loader
from training.demo_data import write_table
from training.images import ImageError, load_image, resolve_image_spec
from training.reader import DataConfig


def _jpeg(colour=(200, 10, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (12, 10), colour).save(buf, format="JPEG")
    return buf.getvalue()


def test_load_image_reasons(tmp_path):
    assert load_image(_jpeg()).size == (12, 10)
    for payload, reason in [(None, "null_image"), (b"", "decode_error"), (b"GIF89a broken", "decode_error"),
                            (_jpeg()[:40], "decode_error"), (str(tmp_path / "absent.jpg"), "missing_file")]:
        with pytest.raises(ImageError) as err:
            load_image(payload)
        assert err.value.reason == reason
    png = tmp_path / "a.png"
    Image.new("L", (3, 3)).save(png)
    assert load_image(str(png)).mode == "RGB"


def test_image_column_detection():
    schema = pa.schema([("uid", pa.string()), ("text", pa.string()), ("jpg", pa.binary())])
    assert resolve_image_spec(schema, "/t/curated").bytes_column == "jpg"
    hf = pa.schema([("uid", pa.string()), ("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())]))])
    assert resolve_image_spec(hf, "/t/x").bytes_column == "image"
    with pytest.raises(ValueError, match="no image column"):
        resolve_image_spec(pa.schema([("uid", pa.string())]), "/t/x")
    with pytest.raises(ValueError, match="not in"):
        resolve_image_spec(schema, "/t/x", path_column="path")


def _uids(n):
    return [f"{i:024x}" for i in range(n)]


@pytest.mark.parametrize("layout", ["key", "path"])
def test_images_from_files_img2dataset_layout(tmp_path, layout):
    root = tmp_path / "images"
    keys = [f"00000{i:04d}" for i in range(6)]
    os.makedirs(root / "00000")
    for i, k in enumerate(keys):
        if i != 3:  # one download failed: missing file
            (root / "00000" / f"{k}.jpg").write_bytes(_jpeg((40 * i, 0, 0)))
    table = pa.table({"uid": _uids(6), "text": [f"t{i}" for i in range(6)], "key": keys,
                      "path": [f"00000/{k}.jpg" for k in keys]})
    write_table(table, str(tmp_path / "curated"), num_files=2, row_group_size=2)
    cfg = DataConfig(table=str(tmp_path / "curated"), image_root=str(root),
                     image_key_column="key" if layout == "key" else None,
                     image_path_column="path" if layout == "path" else None)
    ds = CuratedDataset(cfg, batch_size=2, drop_last=False, image_transform=lambda im: im.size)
    seen, stats = [], Counter()
    for batch in make_loader(ds, num_workers=0):
        seen += batch["uids"]
        stats.update(batch["stats"])
        assert [tuple(s) for s in batch["images"]] == [(12, 10)] * len(batch["uids"])
    assert sorted(seen) == sorted(u for i, u in enumerate(_uids(6)) if i != 3)
    assert stats["missing_file"] == 1


def test_corrupt_bytes_never_crash_a_worker(tmp_path):
    payloads = [_jpeg(), b"\x00garbage", None, _jpeg()[:-200], _jpeg()]
    table = pa.table({"uid": _uids(5), "text": list("abcde"), "jpg": pa.array(payloads, pa.binary())})
    write_table(table, str(tmp_path / "curated"), num_files=1, row_group_size=5)
    ds = CuratedDataset(DataConfig(table=str(tmp_path / "curated"), shuffle=False), batch_size=8, drop_last=False,
                        image_transform=lambda im: im.size)
    batches = list(make_loader(ds, num_workers=1))
    stats = Counter()
    for b in batches:
        stats.update(b["stats"])
    assert sum(len(b["uids"]) for b in batches) + stats["decode_error"] + stats["null_image"] == 5
    assert stats["null_image"] == 1 and stats["decode_error"] >= 1


def test_download_job_layout_default_root(tmp_path):
    """curation.download with output_format=files: <root>/curated_images + <root>/images/curated/00000/<key>.jpg."""
    shard = tmp_path / "images" / "curated" / "00000"
    shard.mkdir(parents=True)
    (shard / "000000000.jpg").write_bytes(_jpeg())
    table = pa.table({"uid": _uids(1), "text": ["t"], "key": ["000000000"], "image_path": ["00000/000000000.jpg"]})
    write_table(table, str(tmp_path / "curated_images"), num_files=1)
    ds = CuratedDataset(DataConfig(table=str(tmp_path / "curated_images")), batch_size=1,
                        image_transform=lambda im: im.size)
    assert ds.image_spec.path_column == "image_path"
    assert [b["uids"] for b in make_loader(ds, num_workers=0)] == [_uids(1)]
