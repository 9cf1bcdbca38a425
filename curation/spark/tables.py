"""Reading and atomically replacing the pipeline's tables (SPEC §3).

All tables live under one output root, one directory per table, in Parquet or Delta.
Re-running a stage replaces its table atomically: Delta overwrites in one transaction;
Parquet is written to ``<root>/_tmp/`` and then renamed into place, so readers never see a
half-written table. Paths go through Hadoop's FileSystem API, so local paths, HDFS, S3 and
DBFS URIs all work the same way.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Sequence

FORMATS = ("parquet", "delta")
# Output files per table: one per 64 MB of the *source*, at least 2. Each file is one task of
# the stages after the uid shuffle, so the floor keeps two cores busy on small inputs; both
# are constants, so a table's layout never depends on the machine that wrote it.
TARGET_FILE_BYTES = 64 * 1024 * 1024
MIN_FILES = 2
# Training readers (deltalake/pyarrow) cannot apply deletion vectors safely: keep them off.
DELTA_WRITE_OPTIONS = {"delta.enableDeletionVectors": "false"}


class TableError(RuntimeError):
    """A table is missing, unreadable or of the wrong format."""


def _fs(spark, path: str):
    jvm = spark.sparkContext._jvm
    jpath = jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jpath


def path_exists(spark, path: str) -> bool:
    fs, jpath = _fs(spark, path)
    return bool(fs.exists(jpath))


def path_bytes(spark, path: str) -> int:
    fs, jpath = _fs(spark, path)
    return int(fs.getContentSummary(jpath).getLength())


def delete_path(spark, path: str) -> None:
    fs, jpath = _fs(spark, path)
    if fs.exists(jpath):
        fs.delete(jpath, True)


def rename_path(spark, src: str, dst: str) -> None:
    fs, jsrc = _fs(spark, src)
    _, jdst = _fs(spark, dst)
    fs.mkdirs(jdst.getParent())
    if not fs.rename(jsrc, jdst):
        raise TableError(f"could not rename {src} -> {dst}")


def write_text(spark, path: str, text: str) -> None:
    """Write a small text file atomically (temp file + rename)."""
    fs, jpath = _fs(spark, path)
    tmp = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(f"{path}.{uuid.uuid4().hex}.tmp")
    out = fs.create(tmp, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()
    if fs.exists(jpath):
        fs.delete(jpath, False)
    fs.rename(tmp, jpath)


def read_text(spark, path: str) -> str | None:
    """The whole file in one JVM call (not one py4j round trip per line)."""
    fs, jpath = _fs(spark, path)
    if not fs.exists(jpath):
        return None
    stream = fs.open(jpath)
    try:
        data = spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
        return bytes(data).decode("utf-8")
    finally:
        stream.close()


def read_json(spark, path: str) -> dict:
    text = read_text(spark, path)
    return json.loads(text) if text else {}


def write_json(spark, path: str, obj: dict) -> None:
    write_text(spark, path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def table_path(root: str, name: str) -> str:
    return f"{root.rstrip('/')}/{name}"


def is_delta_table(spark, path: str) -> bool:
    return path_exists(spark, f"{path}/_delta_log")


def table_exists(spark, root: str, name: str, fmt: str) -> bool:
    path = table_path(root, name)
    if fmt == "delta":
        return is_delta_table(spark, path)
    return path_exists(spark, f"{path}/_SUCCESS")


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
    return max(MIN_FILES, math.ceil(path_bytes(spark, source_path) / target_bytes))


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


BATCH_COLUMN = "batch_id"


class ConcurrentWriteError(TableError):
    """Another run changed the table while this one was writing it."""


def _cleanup_tmp(spark, root: str, name: str) -> None:
    """Remove leftovers of an interrupted swap of table ``name`` (the output lock guarantees
    that no other run is writing under this root)."""
    fs, jtmp = _fs(spark, table_path(root, "_tmp"))
    if not fs.exists(jtmp):
        return
    for status in fs.listStatus(jtmp):
        child = status.getPath().getName()
        if child.startswith(f"{name}-"):
            fs.delete(status.getPath(), True)


def _swap_in(spark, tmp: str, path: str, token: str, root: str, name: str) -> None:
    from curation import faults

    old = table_path(root, f"_tmp/{name}-old-{token}")
    faults.crash_point(f"{name}:before_swap")
    if path_exists(spark, path):
        rename_path(spark, path, old)
    rename_path(spark, tmp, path)
    delete_path(spark, old)


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
    if fmt == "delta" and path_exists(spark, path) and not is_delta_table(spark, path):
        raise TableError(f"{path} exists and is not a Delta table; remove it or use --format parquet")
    if fmt == "parquet" and is_delta_table(spark, path):
        raise TableError(f"{path} is a Delta table; remove it or use --format delta")


def write_table(df, root: str, name: str, fmt: str) -> str:
    """Replace table ``name`` under ``root`` with ``df`` in one atomic step; returns its path.
    Delta: one overwrite transaction. Parquet: write under ``_tmp/`` then rename into place."""
    from curation import faults

    spark = df.sparkSession
    path = table_path(root, name)
    _check_format(spark, path, fmt)
    faults.crash_point(f"{name}:before_write")
    if fmt == "delta":
        _delta_write(_delta_writer(df, False).option("overwriteSchema", "true"), path, name)
        return path
    _cleanup_tmp(spark, root, name)
    token = uuid.uuid4().hex[:12]
    tmp = table_path(root, f"_tmp/{name}-{token}")
    df.write.mode("errorifexists").parquet(tmp)
    _swap_in(spark, tmp, path, token, root, name)
    return path


def write_batch(df, root: str, name: str, fmt: str, batch: str, replace_all: bool) -> str:
    """Write a per-row table partitioned by ``batch_id`` (``df`` holds one batch).

    ``replace_all``: the table becomes exactly this batch (a full run). Otherwise only this
    batch's partition is replaced (an incremental run): Delta ``replaceWhere`` in one
    transaction, Parquet one ``batch_id=<batch>`` directory renamed into place. Writing the same
    batch twice replaces it, so a re-processed batch is never duplicated."""
    from curation import faults

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
    tmp = table_path(root, f"_tmp/{name}-{token}")
    part = f"{BATCH_COLUMN}={batch}"
    # Written without partitionBy: an empty batch still gets a file carrying the schema.
    df.drop(BATCH_COLUMN).write.mode("errorifexists").parquet(f"{tmp}/{part}")
    delete_path(spark, f"{tmp}/{part}/_SUCCESS")
    if replace_all:
        write_text(spark, f"{tmp}/_SUCCESS", "")
        _swap_in(spark, tmp, path, token, root, name)
        return path
    _swap_in(spark, f"{tmp}/{part}", f"{path}/{part}", token, root, name)
    delete_path(spark, tmp)
    write_text(spark, f"{path}/_SUCCESS", "")
    return path


# ---------------------------------------------------------------- output lock

LOCK_FILE = "_LOCK"


def acquire_lock(spark, root: str, owner: dict) -> None:
    """Create ``<root>/_LOCK`` atomically; fail clearly if another live run holds it.

    A lock left by a dead process on this host (crash, kill -9) is taken over."""
    import json as _json
    import os
    import socket

    fs, jroot = _fs(spark, root)
    fs.mkdirs(jroot)
    _, jlock = _fs(spark, table_path(root, LOCK_FILE))
    for _ in range(2):
        if fs.createNewFile(jlock):
            write_text(spark, table_path(root, LOCK_FILE), _json.dumps(owner))
            return
        try:
            holder = _json.loads(read_text(spark, table_path(root, LOCK_FILE)) or "{}")
        except ValueError:
            holder = {}
        same_host = holder.get("host") == socket.gethostname()
        pid = holder.get("pid")
        alive = True
        if same_host and isinstance(pid, int):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                alive = False
            except PermissionError:
                alive = True
        if alive:
            raise TableError(f"output {root} is locked by another run ({holder or 'unknown owner'}); "
                             f"two runs must not write the same output. If no run is active, delete "
                             f"{table_path(root, LOCK_FILE)}")
        delete_path(spark, table_path(root, LOCK_FILE))  # stale: its process is gone
    raise TableError(f"could not lock {root}")


def release_lock(spark, root: str) -> None:
    delete_path(spark, table_path(root, LOCK_FILE))
