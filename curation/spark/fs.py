"""The one Hadoop FileSystem helper: paths on any file system Spark can reach, from the driver.

Every call goes through ``org.apache.hadoop.fs.FileSystem`` over py4j, so local paths,
``file:``, HDFS, S3 (``s3a://``), GCS and DBFS URIs behave the same. Small files (JSON stats,
manifests, a metadata Parquet file) are replaced atomically: written to a temp name beside the
target, then renamed onto it, so a reader sees the old file or the new one, never half of one.
Local files without Spark use ``curation.localfs`` instead.
"""

from __future__ import annotations

import json
import uuid

HEAD_BYTES = 1 << 16


def hadoop_fs(spark, path: str):
    """``(FileSystem, Path)`` of ``path`` under the session's Hadoop configuration."""
    jvm = spark.sparkContext._jvm
    jpath = jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jpath


def exists(spark, path: str) -> bool:
    fs, jpath = hadoop_fs(spark, path)
    return bool(fs.exists(jpath))


def size(spark, path: str) -> int:
    """Bytes of a file, or of every file under a directory."""
    fs, jpath = hadoop_fs(spark, path)
    return int(fs.getContentSummary(jpath).getLength())


def delete(spark, path: str, recursive: bool = True) -> None:
    """Remove ``path`` if it exists (a directory with everything under it)."""
    fs, jpath = hadoop_fs(spark, path)
    if fs.exists(jpath):
        fs.delete(jpath, recursive)


def list_names(spark, directory: str) -> list[str]:
    """Names of the entries of ``directory``, sorted; [] if it does not exist."""
    fs, jpath = hadoop_fs(spark, directory)
    if not fs.exists(jpath):
        return []
    return sorted(st.getPath().getName() for st in fs.listStatus(jpath))


def list_files(spark, pattern: str) -> list[str]:
    """Files matching a path or glob (a matched directory gives its files), sorted; [] if none."""
    fs, jpath = hadoop_fs(spark, pattern)
    statuses = fs.globStatus(jpath)
    if statuses is None:
        return []
    out = []
    for status in statuses:
        if status.isDirectory():
            out.extend(str(s.getPath()) for s in fs.listStatus(status.getPath()) if s.isFile())
        else:
            out.append(str(status.getPath()))
    return sorted(out)


def read_text(spark, path: str) -> str | None:
    """The whole file in one JVM call (not one py4j round trip per line); None if absent."""
    fs, jpath = hadoop_fs(spark, path)
    if not fs.exists(jpath):
        return None
    stream = fs.open(jpath)
    try:
        data = spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
        return bytes(data).decode("utf-8")
    finally:
        stream.close()


def read_head(spark, path: str, n_bytes: int = HEAD_BYTES) -> str:
    """First ``n_bytes`` of a file, decompressed when Hadoop knows its codec (``.bz2``, ``.gz``),
    decoded as UTF-8 (a character cut at the end is dropped)."""
    jvm = spark.sparkContext._jvm
    fs, jpath = hadoop_fs(spark, path)
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(conf).getCodec(jpath)
    stream = fs.open(jpath)
    if codec is not None:
        stream = codec.createInputStream(stream)
    try:
        buf = spark.sparkContext._gateway.new_array(jvm.byte, n_bytes)
        filled = 0
        while filled < n_bytes:
            got = stream.read(buf, filled, n_bytes - filled)
            if got < 0:
                break
            filled += got
        data = bytes(jvm.java.util.Arrays.copyOf(buf, filled))
    finally:
        stream.close()
    return data.decode("utf-8", errors="ignore")


def _staging(spark, path: str):
    return spark.sparkContext._jvm.org.apache.hadoop.fs.Path(f"{path}.{uuid.uuid4().hex}.tmp")


def _replace(fs, tmp, jpath) -> None:
    """Move the complete temp file ``tmp`` onto ``jpath`` (replacing what is there)."""
    if fs.exists(jpath):
        fs.delete(jpath, False)
    if not fs.rename(tmp, jpath):
        fs.delete(tmp, False)
        raise OSError(f"could not rename {tmp.toString()} to {jpath.toString()}")


def write_text(spark, path: str, text: str) -> None:
    """Write a small UTF-8 text file atomically (temp file beside it, then rename)."""
    fs, jpath = hadoop_fs(spark, path)
    tmp = _staging(spark, path)
    out = fs.create(tmp, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()
    _replace(fs, tmp, jpath)


def put_file(spark, local_path: str, path: str) -> None:
    """Copy the local file ``local_path`` to ``path`` atomically (copied beside it, then renamed)."""
    fs, jpath = hadoop_fs(spark, path)
    tmp = _staging(spark, path)
    fs.copyFromLocalFile(False, True, spark.sparkContext._jvm.org.apache.hadoop.fs.Path(local_path), tmp)
    _replace(fs, tmp, jpath)


def read_json(spark, path: str) -> dict:
    """A JSON object file; {} when it is absent or empty."""
    text = read_text(spark, path)
    return json.loads(text) if text else {}


def write_json(spark, path: str, obj: dict) -> None:
    """``obj`` as indented, key-sorted JSON (stable bytes for the same content), atomically."""
    write_text(spark, path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
