"""Resolving Parquet directories and Delta snapshots into row groups, without Spark."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from training.records import DataConfig, EpochReader
from training.tables import RowGroupReader, TableError, detect_format, open_table


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
    with pytest.raises(TableError, match="time travel"):
        open_table(f"{demo_roots['parquet']}/matched", version=0)


def test_missing_table_and_format_detection(tmp_path, demo_roots):
    with pytest.raises(TableError, match="not found"):
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
    with pytest.raises(TableError, match="column mapping"):
        open_table(uri)
