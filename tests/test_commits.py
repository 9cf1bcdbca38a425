"""Parquet table commits where a directory rename is not atomic (issue 16, item 2).

The swap is made to run on a simulated object store (``WWCLIP_RENAME=copy``: every directory
rename copies file by file, ``_SUCCESS``-like names first, then deletes) and to crash half way
through the copy. No reader may then accept the table: the Spark jobs (``read_table``,
``table_exists``, the stage resume check, a Parquet input), the Spark-free reader (training
loader) and the report. Re-running the write commits it. A committed table whose files differ
from its manifest is refused too; Parquet on an object store is refused without the opt-in.
"""

from __future__ import annotations

import os
import shutil

import pytest

from curation import readers
from curation.commits import parse_manifest
from curation.layout import STATS_FILE, SUCCESS_FILE
from curation.pipeline.config import ConfigError, CurationConfig
from curation.pipeline.curate import run_curate
from curation.pipeline.inputs import check_committed
from curation.report.tables import open_table as report_open_table
from curation.spark import faults
from curation.spark.tables import (
    ALLOW_NON_ATOMIC_CONF,
    TableError,
    check_replace_supported,
    read_table,
    table_exists,
    write_batch,
    write_table,
)

pytestmark = pytest.mark.spark


@pytest.fixture
def object_store(spark, monkeypatch):
    """Renames as on S3/GCS, crashes raised (not os._exit), Parquet allowed there for the test."""
    monkeypatch.setenv(faults.RENAME_ENV, "copy")
    monkeypatch.setenv(faults.CRASH_MODE_ENV, "raise")
    spark.conf.set(ALLOW_NON_ATOMIC_CONF, "true")
    yield monkeypatch
    spark.conf.unset(ALLOW_NON_ATOMIC_CONF)


def _frame(spark, n: int, tag: str, parts: int = 6):
    return spark.range(0, n, 1, parts).selectExpr("id", f"'{tag}' AS tag")


def _no_reader_accepts(spark, root: str, name: str) -> None:
    path = os.path.join(root, name)
    assert os.path.isdir(path) and os.listdir(path)  # files are there, half copied
    assert not os.path.exists(os.path.join(path, SUCCESS_FILE))
    assert not table_exists(spark, root, name, "parquet")
    with pytest.raises(TableError, match="not committed"):
        read_table(spark, root, name, "parquet")
    with pytest.raises(readers.ReaderError, match="not committed"):  # training loader, tools
        readers.open_table(path)
    assert report_open_table(root, name, "parquet") is None  # the report: absent, never partial
    with pytest.raises(ConfigError, match="not committed"):  # as the input of another curation
        check_committed(spark, path)


def test_a_crash_during_a_copy_then_delete_swap_leaves_a_table_no_reader_accepts(spark, tmp_path, object_store):
    root = str(tmp_path / "out")
    os.makedirs(root)
    open(os.path.join(root, STATS_FILE), "w").write("{}")  # an output root, as the pipeline writes
    write_table(_frame(spark, 600, "v1"), root, "t", "parquet")
    assert read_table(spark, root, "t", "parquet").count() == 600
    manifest = parse_manifest(open(os.path.join(root, "t", SUCCESS_FILE)).read())
    assert manifest and len(manifest) == 6 and all(size > 0 for size in manifest.values())

    object_store.setenv(faults.CRASH_ENV, "t:during_swap")
    with pytest.raises(faults.InjectedCrash):
        write_table(_frame(spark, 900, "v2"), root, "t", "parquet")
    _no_reader_accepts(spark, root, "t")

    object_store.delenv(faults.CRASH_ENV)
    write_table(_frame(spark, 900, "v2"), root, "t", "parquet")  # re-running the stage commits it
    table = read_table(spark, root, "t", "parquet")
    assert table.count() == 900 and {r[0] for r in table.select("tag").distinct().collect()} == {"v2"}
    assert readers.open_table(os.path.join(root, "t")).num_rows == 900
    assert not os.listdir(os.path.join(root, "_tmp"))


def test_a_crash_while_a_batch_partition_moves_uncommits_the_whole_table(spark, tmp_path, object_store):
    root = str(tmp_path / "batches")
    os.makedirs(root)
    open(os.path.join(root, STATS_FILE), "w").write("{}")
    write_batch(_frame(spark, 300, "a").selectExpr("*", "'a' AS batch_id"), root, "rows", "parquet", "a", True)
    object_store.setenv(faults.CRASH_ENV, "rows:during_swap")
    with pytest.raises(faults.InjectedCrash):
        write_batch(_frame(spark, 400, "b").selectExpr("*", "'b' AS batch_id"), root, "rows", "parquet", "b", False)
    _no_reader_accepts(spark, root, "rows")
    object_store.delenv(faults.CRASH_ENV)
    write_batch(_frame(spark, 400, "b").selectExpr("*", "'b' AS batch_id"), root, "rows", "parquet", "b", False)
    counts = dict(read_table(spark, root, "rows", "parquet").groupBy("batch_id").count().collect())
    assert counts == {"a": 300, "b": 400}


def test_a_committed_table_whose_files_changed_is_refused(spark, tmp_path):
    root = str(tmp_path / "tamper")
    write_table(_frame(spark, 500, "x"), root, "t", "parquet")
    path = os.path.join(root, "t")
    files = sorted(f for f in os.listdir(path) if f.endswith(".parquet"))
    extra = os.path.join(path, "part-99999-stray.parquet")
    shutil.copy(os.path.join(path, files[0]), extra)  # a file the commit does not list
    with pytest.raises(TableError, match=r"1 file\(s\) not committed \(part-99999-stray.parquet\)"):
        read_table(spark, root, "t", "parquet")
    with pytest.raises(readers.ReaderError, match="not committed"):
        readers.open_table(path)
    os.remove(extra)
    os.remove(os.path.join(path, files[1]))  # a committed file gone
    with pytest.raises(TableError, match=r"1 file\(s\) missing"):
        read_table(spark, root, "t", "parquet")
    assert not table_exists(spark, root, "t", "parquet")


def test_parquet_on_an_object_store_is_refused_before_any_work_unless_allowed(spark, tmp_path, monkeypatch):
    monkeypatch.setenv(faults.RENAME_ENV, "copy")  # the output behaves as s3a:// / gs:// would
    out = tmp_path / "s3-like"
    with pytest.raises(TableError, match="--format delta .* --allow-non-atomic-parquet"):
        check_replace_supported(spark, str(out), "parquet")
    check_replace_supported(spark, str(out), "delta")
    check_replace_supported(spark, str(out), "parquet", allow_non_atomic=True)
    with pytest.raises(TableError, match="not atomic"):
        run_curate(spark, CurationConfig(output=str(out)).validate())
    assert not out.exists()
    with pytest.raises(TableError, match="not atomic"):  # any job's table write, not only curate's
        write_table(_frame(spark, 10, "x"), str(out), "t", "parquet")
