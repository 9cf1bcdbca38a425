"""Reading and replacing the pipeline's tables (SPEC §3), so that no reader accepts a partial one.

All tables live under one output root, one directory per table, in Parquet or Delta (names in
``curation.layout``). Re-running a stage replaces its table: Delta overwrites in one
transaction. Parquet is written to ``<root>/_tmp/`` without a marker; then the old table's
``_SUCCESS`` is deleted, the files are moved into place (``rename_dir``) and a new ``_SUCCESS``
holding a manifest of every data file is written last (``curation.commits``). Readers
(``read_table``, ``table_exists``, ``curation.readers``, the report) accept a Parquet table only
when its marker is there and its files are those of the manifest. Where a directory rename is
atomic (local disks, HDFS) a reader sees the old table, briefly none, or the new one; where it
is copy-then-delete (S3, GCS, DBFS) a crash mid-move leaves an uncommitted table that every
reader refuses, and replacing Parquet there is refused unless the caller opts in
(``check_replace_supported``; Delta is the format for object stores). File calls go through
``curation.spark.fs`` (Hadoop's FileSystem API), so local paths, HDFS, S3 and DBFS URIs all
work the same way.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence

from curation.commits import manifest_problem, manifest_text, parse_manifest, uncommitted_message
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
# Hadoop file systems whose directory rename is a copy and a delete of every file, not atomic
# (S3A, GCS, DBFS and other object stores; ``abfs`` with a hierarchical namespace is atomic).
NON_ATOMIC_RENAME_SCHEMES = frozenset({"s3", "s3a", "s3n", "gs", "dbfs", "wasb", "wasbs", "oss", "cos", "cosn",
                                       "obs", "ks3", "tos"})
ALLOW_NON_ATOMIC_FLAG = "--allow-non-atomic-parquet"
# The same opt-in as a Spark conf, for every job that writes tables (curate sets it for its run).
ALLOW_NON_ATOMIC_CONF = "spark.wwclip.allowNonAtomicParquet"


class TableError(RuntimeError):
    """A table is missing, unreadable or of the wrong format."""


def is_delta_table(spark, path: str) -> bool:
    return fs.exists(spark, f"{path}/_delta_log")


def parquet_problem(spark, path: str) -> str | None:
    """Why the Parquet table directory ``path`` must not be read (None: committed and intact):
    no ``_SUCCESS`` marker, or data files other than its manifest's (``curation.commits``)."""
    text = fs.read_text(spark, f"{path}/{SUCCESS_FILE}")
    if text is None:
        return uncommitted_message(path)
    manifest = parse_manifest(text)
    if manifest is None:
        return None  # an empty marker (Spark's, older versions): accepted as before
    problem = manifest_problem(manifest, fs.data_files(spark, path))
    return f"table at {path} differs from its commit: {problem}. Re-run the stage that writes it" if problem else None


def table_exists(spark, root: str, name: str, fmt: str) -> bool:
    """True when table ``name`` is complete: a Delta log, or a committed, intact Parquet directory."""
    path = table_path(root, name)
    if fmt == "delta":
        return is_delta_table(spark, path)
    return parquet_problem(spark, path) is None


def read_table(spark, root: str, name: str, fmt: str):
    """Read a pipeline table; a clear TableError if an earlier stage has not written it, or if
    its last write did not finish (Parquet without its commit marker, or not as committed)."""
    path = table_path(root, name)
    if fmt == "delta":
        if not is_delta_table(spark, path):
            raise TableError(f"table '{name}' not found as delta at {path}: run the stage that writes it "
                             f"first (or pass the same --format as that run)")
        return spark.read.format("delta").load(path)
    problem = parquet_problem(spark, path)
    if problem is not None:
        if not fs.exists(spark, path):
            raise TableError(f"table '{name}' not found as {fmt} at {path}: run the stage that writes it "
                             f"first (or pass the same --format as that run)")
        raise TableError(problem)
    return spark.read.option("basePath", path).parquet(path)


def non_atomic_rename(spark, path: str) -> bool:
    """True when ``path`` is on a file system whose directory rename is copy-then-delete."""
    return faults.simulated_object_store() or fs.scheme(spark, path) in NON_ATOMIC_RENAME_SCHEMES


def check_replace_supported(spark, root: str, fmt: str, allow_non_atomic: bool = False) -> None:
    """Refuse Parquet outputs on object stores (rename = copy + delete) before any work, unless
    ``allow_non_atomic`` (or the Spark conf ``ALLOW_NON_ATOMIC_CONF`` is ``true``): there a table
    swap copies every file and, if interrupted, leaves the table uncommitted (refused by every
    reader) until the stage is re-run. Delta commits in one log entry on every store."""
    if allow_non_atomic or spark.conf.get(ALLOW_NON_ATOMIC_CONF, "false").lower() == "true":
        return
    if fmt != "delta" and non_atomic_rename(spark, root):
        raise TableError(
            f"--format {fmt} on {root}: this file system ({fs.scheme(spark, root)}) renames a directory by "
            "copying and deleting every file, so replacing a Parquet table is not atomic there. Use "
            f"--format delta (one transaction on every store), or pass {ALLOW_NON_ATOMIC_FLAG} to accept "
            "that a crash during a swap leaves the table absent (never partial: readers refuse it) until the "
            "stage is re-run, and that each swap copies the whole table")


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


def rename_dir(spark, src: str, dst: str, name: str) -> None:
    """The one directory move of a Parquet swap (tests replace it with a crashing copy): Hadoop's
    rename, or, simulating an object store (``faults.simulated_object_store``), copy-then-delete."""
    if faults.simulated_object_store():
        faults.copy_then_delete(spark, src, dst, crash_at=f"{name}:during_swap")
    else:
        fs.rename(spark, src, dst)


def _uncommit(spark, path: str) -> None:
    """Delete the marker of the table at ``path`` (one file: atomic on every store). From here on
    no reader accepts the table until ``_commit`` writes a new marker."""
    fs.delete(spark, f"{path}/{SUCCESS_FILE}", recursive=False)


def _commit(spark, path: str) -> None:
    """Write the marker last, listing the data files now under ``path`` with their sizes."""
    fs.write_text(spark, f"{path}/{SUCCESS_FILE}", manifest_text(fs.data_files(spark, path)))


def _swap_in(spark, tmp: str, path: str, token: str, root: str, name: str) -> None:
    """Move the complete, unmarked directory ``tmp`` to ``path`` (the table or one of its
    partitions), after the table's marker is gone. The old files are renamed away where that is
    atomic and cheap, deleted where a rename would copy them."""
    old = table_path(root, f"{TMP_DIR}/{name}-old-{token}")
    faults.crash_point(f"{name}:before_swap")
    if fs.exists(spark, path):
        if non_atomic_rename(spark, path):
            fs.delete(spark, path)
        else:
            rename_dir(spark, path, old, name)
    rename_dir(spark, tmp, path, name)
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
    """Replace table ``name`` under ``root`` with ``df``; returns its path. Delta: one overwrite
    transaction. Parquet: written under ``_tmp/``, the old marker deleted, moved into place,
    then committed (marker with manifest written last); refused on object stores without the
    opt-in (``check_replace_supported``)."""
    spark = df.sparkSession
    path = table_path(root, name)
    _check_format(spark, path, fmt)
    check_replace_supported(spark, root, fmt)
    faults.crash_point(f"{name}:before_write")
    if fmt == "delta":
        _delta_write(_delta_writer(df, False).option("overwriteSchema", "true"), path, name)
        return path
    _cleanup_tmp(spark, root, name)
    token = uuid.uuid4().hex[:12]
    tmp = table_path(root, f"{TMP_DIR}/{name}-{token}")
    df.write.mode("errorifexists").parquet(tmp)
    fs.delete(spark, f"{tmp}/{SUCCESS_FILE}", recursive=False)  # the marker is written last, by _commit
    _uncommit(spark, path)
    _swap_in(spark, tmp, path, token, root, name)
    _commit(spark, path)
    return path


def write_batch(df, root: str, name: str, fmt: str, batch: str, replace_all: bool) -> str:
    """Write a per-row table partitioned by ``batch_id`` (``df`` holds one batch).

    ``replace_all``: the table becomes exactly this batch (a full run). Otherwise only this
    batch's partition is replaced (an incremental run): Delta ``replaceWhere`` in one
    transaction, Parquet one ``batch_id=<batch>`` directory renamed into place. Writing the same
    batch twice replaces it, so a re-processed batch is never duplicated. Parquet commits as
    ``write_table`` does (the whole table is uncommitted while the partition moves)."""
    spark = df.sparkSession
    path = table_path(root, name)
    _check_format(spark, path, fmt)
    check_replace_supported(spark, root, fmt)
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
    fs.delete(spark, f"{tmp}/{part}/{SUCCESS_FILE}", recursive=False)
    _uncommit(spark, path)
    if replace_all:
        _swap_in(spark, tmp, path, token, root, name)
    else:
        _swap_in(spark, f"{tmp}/{part}", f"{path}/{part}", token, root, name)
        fs.delete(spark, tmp)
    _commit(spark, path)
    return path
