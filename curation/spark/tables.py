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
TARGET_FILE_BYTES = 256 * 1024 * 1024
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
    fs, jpath = _fs(spark, path)
    if not fs.exists(jpath):
        return None
    stream = fs.open(jpath)
    try:
        reader = spark.sparkContext._jvm.java.io.BufferedReader(
            spark.sparkContext._jvm.java.io.InputStreamReader(stream, "UTF-8"))
        lines = []
        line = reader.readLine()
        while line is not None:
            lines.append(line)
            line = reader.readLine()
        return "\n".join(lines)
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
    return spark.read.parquet(path)


def auto_partitions(spark, source_path: str, target_bytes: int = TARGET_FILE_BYTES) -> int:
    """Output file count derived from the *source's* size, so it does not depend on how Spark
    happened to split the work (keeps outputs byte-identical across partitionings)."""
    return max(1, math.ceil(path_bytes(spark, source_path) / target_bytes))


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


def write_table(df, root: str, name: str, fmt: str) -> str:
    """Replace table ``name`` under ``root`` with ``df`` in one atomic step; returns its path."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown table format {fmt!r}; expected one of {FORMATS}")
    spark = df.sparkSession
    path = table_path(root, name)
    if fmt == "delta":
        if path_exists(spark, path) and not is_delta_table(spark, path):
            raise TableError(f"{path} exists and is not a Delta table; remove it or use --format parquet")
        writer = df.write.format("delta").mode("overwrite").option("overwriteSchema", "true")
        for key, value in DELTA_WRITE_OPTIONS.items():
            writer = writer.option(key, value)
        writer.save(path)
        return path
    if is_delta_table(spark, path):
        raise TableError(f"{path} is a Delta table; remove it or use --format delta")
    token = uuid.uuid4().hex[:12]
    tmp = table_path(root, f"_tmp/{name}-{token}")
    old = table_path(root, f"_tmp/{name}-old-{token}")
    df.write.mode("errorifexists").parquet(tmp)
    if path_exists(spark, path):
        rename_path(spark, path, old)
    rename_path(spark, tmp, path)
    delete_path(spark, old)
    return path
