"""curation.readers: Parquet directories and Delta snapshots as row groups and Datasets, without Spark."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

from curation.readers import ReaderError, RowGroupReader, detect_format, open_table, read_stats
from training.reader import DataConfig, EpochReader


def test_parquet_and_delta_snapshots_agree(demo_roots):
    pq_snap = open_table(f"{demo_roots['parquet']}/matched")
    dl_snap = open_table(f"{demo_roots['delta']}/matched")
    assert (pq_snap.format, dl_snap.format) == ("parquet", "delta")
    assert pq_snap.num_rows == dl_snap.num_rows > 0
    assert all(sum(f.row_group_rows) <= 16 * len(f.row_group_rows) for f in pq_snap.files)
    assert dl_snap.version == len(dl_snap.files) - 1  # one commit per part file
    assert all(f.key_ranges == () for f in dl_snap.files)  # no key column requested
    keyed = open_table(f"{demo_roots['delta']}/matched", key_column="uid")
    assert all(r is not None and r[0] <= r[1] for f in keyed.files for r in f.key_ranges)


def test_delta_time_travel(demo_roots):
    uri = f"{demo_roots['delta']}/matched"
    latest, first = open_table(uri), open_table(uri, version=0)
    assert first.version == 0 and len(first.files) == 1 < len(latest.files)
    assert first.num_rows < latest.num_rows
    assert first.fingerprint() != latest.fingerprint()
    with pytest.raises(ReaderError, match="time travel"):
        open_table(f"{demo_roots['parquet']}/matched", version=0)


def test_missing_table_and_format_detection(tmp_path, demo_roots):
    with pytest.raises(ReaderError, match="not found"):
        open_table(str(tmp_path / "nope"))
    assert detect_format(f"{demo_roots['delta']}/curated") == "delta"
    assert detect_format(f"{demo_roots['parquet']}/curated") == "parquet"


def test_hive_partitioned_parquet_gets_partition_column(tmp_path):
    table = pa.table({"uid": ["a", "b", "c"], "text": ["x", "y", "z"], "lang": ["en", "de", "en"]})
    pq.write_to_dataset(table, str(tmp_path / "t"), partition_cols=["lang"])
    snap = open_table(str(tmp_path / "t"))
    reader = RowGroupReader(snap)
    rows = []
    for fi, f in enumerate(snap.files):
        for rg in range(len(f.row_group_rows)):
            rows += reader.read(fi, rg, ["uid", "lang"]).to_pylist()
    assert sorted((r["uid"], r["lang"]) for r in rows) == [("a", "en"), ("b", "de"), ("c", "en")]


def test_deletion_vector_keep_masks_are_applied(demo_roots):
    # delta-rs rewrites files on DELETE, so inject the keep-mask a Spark-written deletion vector would give.
    snap = open_table(f"{demo_roots['parquet']}/curated")
    f0 = snap.files[0]
    mask = np.ones(sum(f0.row_group_rows), dtype=bool)
    mask[::2] = False
    snap.keep_masks[f0.path] = mask
    reader = RowGroupReader(snap)
    live = sum(reader.read(0, rg, ["uid"]).num_rows for rg in range(len(f0.row_group_rows)))
    assert live == int(mask.sum()) == sum(snap.row_group_rows(0, rg) for rg in range(len(f0.row_group_rows)))
    deleted = set(pq.read_table(f0.path, columns=["uid"]).column("uid").to_numpy(zero_copy_only=False)[~mask])
    ds = EpochReader(DataConfig(table=snap.uri), snapshot=snap, load_images=False)
    seen = {r.uid for w in range(1) for _, r in ds.iter_records(w, 1, 0)}
    assert seen and not seen & deleted


def test_column_mapping_is_refused(tmp_path):
    from deltalake import write_deltalake

    uri = str(tmp_path / "cm")
    write_deltalake(uri, pa.table({"uid": ["a"]}), configuration={"delta.columnMapping.mode": "name"})
    with pytest.raises(ReaderError, match="column mapping"):
        open_table(uri)


def test_dataset_scans_live_files_with_string_partition_columns(tmp_path):
    from deltalake import write_deltalake

    uri = str(tmp_path / "d")
    table = pa.table({"uid": ["a", "b", "c"], "lang": ["en", "de", "en"], "batch_id": ["b0", "b1", "b1"]})
    write_deltalake(uri, table.slice(0, 1), partition_by=["batch_id"])
    write_deltalake(uri, table, mode="overwrite", partition_by=["batch_id"])  # the first file stays on disk
    snap = open_table(uri)
    data = snap.dataset()
    assert data.schema.field("batch_id").type == pa.string()
    rows = data.to_table(columns=["uid", "batch_id"], filter=pads.field("lang") == "en").to_pylist()
    assert sorted((r["uid"], r["batch_id"]) for r in rows) == [("a", "b0"), ("c", "b1")]
    assert data.count_rows() == snap.num_rows == 3
    snap.keep_masks[snap.files[0].path] = np.array([False])
    with pytest.raises(ReaderError, match="deletion vectors"):
        snap.dataset()


def test_read_stats_and_uri_errors(tmp_path):
    with pytest.raises(ReaderError, match="_stats.json"):
        read_stats(str(tmp_path))
    (tmp_path / "_stats.json").write_text('{"run": {"format": "delta"}}')
    assert read_stats(f"file://{tmp_path}") == {"run": {"format": "delta"}}
    with pytest.raises(ReaderError, match="dbfs"):
        open_table("dbfs:/x/curated")
    with pytest.raises(ReaderError, match="cannot read Delta table"):
        open_table(str(tmp_path), format="delta")
