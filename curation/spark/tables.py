"""Reading and atomically replacing the pipeline's tables (SPEC §3).

All tables live under one output root, one directory per table, in Parquet or Delta (names in
``curation.layout``). Re-running a stage replaces its table atomically: Delta overwrites in
one transaction; Parquet is written to ``<root>/_tmp/`` and then renamed into place, so
readers never see a half-written table. File calls go through ``curation.spark.fs`` (Hadoop's
FileSystem API), so local paths, HDFS, S3 and DBFS URIs all work the same way.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence

from curation.layout import BATCH_COLUMN, SUCCESS_FILE, TMP_DIR, table_path
from curation.spark import faults, fs

FORMATS = ("parquet", "delta")
# Output files per table: one per 64 MB of the *source*, at least 2. Each file is one task of
# the stages after the uid shuffle, so the floor keeps two cores busy on small inputs; both
# are constants, so a table's layout never depends on the machine that wrote it.
TARGET_FILE_BYTES = 64 * 1024 * 1024
MIN_FILES = 2
# Deletion vectors off: a MERGE or replaceWhere then rewrites files instead of masking rows, so
# every Spark-free reader sees only live rows in live files: ``curation.readers`` applies keep-masks
# when reading row groups (training), but a pyarrow Dataset scan (the report) and plain Parquet
# tools cannot.
DELTA_WRITE_OPTIONS = {"delta.enableDeletionVectors": "false"}


class TableError(RuntimeError):
    """A table is missing, unreadable or of the wrong format."""


def is_delta_table(spark, path: str) -> bool:
    return fs.exists(spark, f"{path}/_delta_log")


def table_exists(spark, root: str, name: str, fmt: str) -> bool:
    path = table_path(root, name)
    if fmt == "delta":
        return is_delta_table(spark, path)
    return fs.exists(spark, f"{path}/{SUCCESS_FILE}")


def read_table(spark, root: str, name: str, fmt: str):
    """Read a pipeline table; a clear TableError if an earlier stage has not written it."""
    path = table_path(root, name)
    if not table_exists(spark, root, name, fmt):
        raise TableError(f"table '{name}' not found as {fmt} at {path}: run the stage that writes it "
                         f"first (or pass the same --format as that run)")
    if fmt == "delta":
        return spark.read.format("delta").load(path)
    return spark.read.option("basePath", path).parquet(path)


def auto_partitions(spark, source_path: str, target_bytes: int = TARGET_FILE_BYTES) -> int:
    """Output file count derived from the *source's* size, so it does not depend on how Spark
    happened to split the work (keeps outputs byte-identical across partitionings)."""
    return max(MIN_FILES, math.ceil(fs.path_bytes(spark, source_path) / target_bytes))


def arrange(df, n_partitions: int, hash_key: str, sort_keys: Sequence[str], shuffle: bool = True):
    """Hash-partition by ``hash_key`` and sort inside files by ``sort_keys`` then every other
    orderable column: a total order, so output bytes do not depend on input partitioning.
    ``shuffle=False`` when ``df`` is already hash-partitioned by ``hash_key`` into ``n_partitions``."""
    from pyspark.sql.types import MapType

    rest = [f.name for f in df.schema.fields
            if f.name not in sort_keys and not isinstance(f.dataType, MapType)]
    if shuffle:
        df = df.repartition(n_partitions, hash_key)
    return df.sortWithinPartitions(*sort_keys, *rest)


class ConcurrentWriteError(TableError):
    """Another run changed the table while this one was writing it."""


def _cleanup_tmp(spark, root: str, name: str) -> None:
    """Remove leftovers of an interrupted swap of table ``name`` (the output lock guarantees
    that no other run is writing under this root)."""
    tmp = table_path(root, TMP_DIR)
    for child in fs.list_names(spark, tmp):
        if child.startswith(f"{name}-"):
            fs.delete(spark, f"{tmp}/{child}")


def _swap_in(spark, tmp: str, path: str, token: str, root: str, name: str) -> None:
    old = table_path(root, f"{TMP_DIR}/{name}-old-{token}")
    faults.crash_point(f"{name}:before_swap")
    if fs.exists(spark, path):
        fs.rename(spark, path, old)
    fs.rename(spark, tmp, path)
    fs.delete(spark, old)


def _delta_write(writer, path: str, name: str) -> None:
    try:
        writer.save(path)
    except Exception as exc:  # delta.exceptions.* are raised through py4j
        if "Concurrent" in type(exc).__name__ or "ConcurrentModification" in str(exc)[:2000] \
                or "Concurrent" in str(exc)[:300]:
            raise ConcurrentWriteError(
                f"another run committed to Delta table '{name}' at {path} while this run was writing it; "
                "this run's write was rolled back and the table is intact. Re-run when the other run "
                f"has finished. ({type(exc).__name__})") from exc
        raise


def _delta_writer(df, partition_by_batch: bool):
    writer = df.write.format("delta").mode("overwrite")
    if partition_by_batch:
        writer = writer.partitionBy(BATCH_COLUMN)
    for key, value in DELTA_WRITE_OPTIONS.items():
        writer = writer.option(key, value)
    return writer


def _check_format(spark, path: str, fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown table format {fmt!r}; expected one of {FORMATS}")
    if fmt == "delta" and fs.exists(spark, path) and not is_delta_table(spark, path):
        raise TableError(f"{path} exists and is not a Delta table; remove it or use --format parquet")
    if fmt == "parquet" and is_delta_table(spark, path):
        raise TableError(f"{path} is a Delta table; remove it or use --format delta")


def write_table(df, root: str, name: str, fmt: str) -> str:
    """Replace table ``name`` under ``root`` with ``df`` in one atomic step; returns its path.
    Delta: one overwrite transaction. Parquet: write under ``_tmp/`` then rename into place."""
    spark = df.sparkSession
    path = table_path(root, name)
    _check_format(spark, path, fmt)
    faults.crash_point(f"{name}:before_write")
    if fmt == "delta":
        _delta_write(_delta_writer(df, False).option("overwriteSchema", "true"), path, name)
        return path
    _cleanup_tmp(spark, root, name)
    token = uuid.uuid4().hex[:12]
    tmp = table_path(root, f"{TMP_DIR}/{name}-{token}")
    df.write.mode("errorifexists").parquet(tmp)
    _swap_in(spark, tmp, path, token, root, name)
    return path


def write_batch(df, root: str, name: str, fmt: str, batch: str, replace_all: bool) -> str:
    """Write a per-row table partitioned by ``batch_id`` (``df`` holds one batch).

    ``replace_all``: the table becomes exactly this batch (a full run). Otherwise only this
    batch's partition is replaced (an incremental run): Delta ``replaceWhere`` in one
    transaction, Parquet one ``batch_id=<batch>`` directory renamed into place. Writing the same
    batch twice replaces it, so a re-processed batch is never duplicated."""
    spark = df.sparkSession
    path = table_path(root, name)
    _check_format(spark, path, fmt)
    faults.crash_point(f"{name}:before_write")
    if fmt == "delta":
        writer = _delta_writer(df, True)
        if replace_all or not is_delta_table(spark, path):
            writer = writer.option("overwriteSchema", "true")
        else:
            writer = writer.option("replaceWhere", f"{BATCH_COLUMN} = '{batch}'")
        _delta_write(writer, path, name)
        return path
    _cleanup_tmp(spark, root, name)
    token = uuid.uuid4().hex[:12]
    tmp = table_path(root, f"{TMP_DIR}/{name}-{token}")
    part = f"{BATCH_COLUMN}={batch}"
    # Written without partitionBy: an empty batch still gets a file carrying the schema.
    df.drop(BATCH_COLUMN).write.mode("errorifexists").parquet(f"{tmp}/{part}")
    fs.delete(spark, f"{tmp}/{part}/{SUCCESS_FILE}")
    if replace_all:
        fs.write_text(spark, f"{tmp}/{SUCCESS_FILE}", "")
        _swap_in(spark, tmp, path, token, root, name)
        return path
    _swap_in(spark, f"{tmp}/{part}", f"{path}/{part}", token, root, name)
    fs.delete(spark, tmp)
    fs.write_text(spark, f"{path}/{SUCCESS_FILE}", "")
    return path
