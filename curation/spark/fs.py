"""The one Hadoop FileSystem helper: every file call the Spark jobs make goes through here.

Paths go through Hadoop's FileSystem API (over py4j), so local paths, HDFS, S3, GCS and DBFS URIs
all behave the same. Each function is one or a few JVM calls; whole small files are read in
one call (not one py4j round trip per line). ``write_text`` is the one atomic small-file write
(temporary file, then rename), used for ``_stats.json``, ``_LOCK`` and ``_SUCCESS`` markers.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Sequence
from typing import NamedTuple


class FileSystemError(RuntimeError):
    """A file system operation that Hadoop reported as failed (e.g. a rename)."""


class FileInfo(NamedTuple):
    """A data file: its full path as Hadoop prints it, size in bytes and modification time (ms)."""

    path: str
    size: int
    mtime: int


def hadoop_fs(spark, path: str):
    """(Hadoop FileSystem, Hadoop Path) for ``path``, with the session's Hadoop configuration."""
    jpath = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), jpath


def exists(spark, path: str) -> bool:
    fs, jpath = hadoop_fs(spark, path)
    return bool(fs.exists(jpath))


def path_bytes(spark, path: str) -> int:
    """Total size of a file or of everything below a directory."""
    fs, jpath = hadoop_fs(spark, path)
    return int(fs.getContentSummary(jpath).getLength())


def mkdirs(spark, path: str) -> None:
    fs, jpath = hadoop_fs(spark, path)
    fs.mkdirs(jpath)


def delete(spark, path: str, recursive: bool = True) -> None:
    """Delete ``path`` (a directory with everything below it); nothing happens if it is missing."""
    fs, jpath = hadoop_fs(spark, path)
    if fs.exists(jpath):
        fs.delete(jpath, recursive)


def rename(spark, src: str, dst: str) -> None:
    """Move ``src`` to ``dst`` (creating ``dst``'s parent); a FileSystemError if Hadoop refuses."""
    fs, jsrc = hadoop_fs(spark, src)
    _, jdst = hadoop_fs(spark, dst)
    fs.mkdirs(jdst.getParent())
    if not fs.rename(jsrc, jdst):
        raise FileSystemError(f"could not rename {src} -> {dst}")


def create_new(spark, path: str) -> bool:
    """Create an empty file atomically; False when it already exists (the basis of ``_LOCK``)."""
    fs, jpath = hadoop_fs(spark, path)
    return bool(fs.createNewFile(jpath))


def list_names(spark, directory: str) -> list[str]:
    """Names of the direct children of ``directory``, sorted; [] if it does not exist."""
    fs, jpath = hadoop_fs(spark, directory)
    if not fs.exists(jpath):
        return []
    return sorted(st.getPath().getName() for st in fs.listStatus(jpath))


def list_dirs(spark, directory: str) -> list[str]:
    """Names of the sub-directories of ``directory``, sorted; [] if it does not exist."""
    fs, jpath = hadoop_fs(spark, directory)
    if not fs.exists(jpath):
        return []
    return sorted(s.getPath().getName() for s in fs.listStatus(jpath) if s.isDirectory())


def list_files(spark, path: str, recursive: bool = True) -> list[FileInfo]:
    """Every data file at or below ``path``, sorted: files and directories whose name starts
    with ``_`` or ``.`` below ``path`` are skipped (``_SUCCESS``, ``_delta_log``, ``.crc``, as
    Spark's readers skip them). ``path`` may be a single file."""
    fs, jpath = hadoop_fs(spark, path)
    root = jpath.toString()
    out = []
    it = fs.listFiles(jpath, recursive)
    while it.hasNext():
        st = it.next()
        full = st.getPath().toString()
        if any(part.startswith(("_", ".")) for part in full.replace(root, "").split("/") if part):
            continue
        out.append(FileInfo(full, int(st.getLen()), int(st.getModificationTime())))
    return sorted(out)


def data_files(spark, directory: str) -> dict[str, int]:
    """``{path relative to directory: size}`` of the data files below ``directory`` (hidden
    paths skipped, as in ``list_files``); {} if it does not exist. What a commit manifest lists."""
    from curation.commits import is_hidden

    fs, jpath = hadoop_fs(spark, directory)
    if not fs.exists(jpath):
        return {}
    root = fs.makeQualified(jpath).toString().rstrip("/") + "/"
    out = {}
    it = fs.listFiles(jpath, True)
    while it.hasNext():
        st = it.next()
        full = st.getPath().toString()
        rel = full[len(root):] if full.startswith(root) else full.rsplit("/", 1)[-1]
        if not is_hidden(rel):
            out[rel] = int(st.getLen())
    return out


def scheme(spark, path: str) -> str:
    """The scheme of the Hadoop file system ``path`` resolves to (``file``, ``hdfs``, ``s3a``, ...)."""
    return str(hadoop_fs(spark, path)[0].getScheme())


def glob_files(spark, pattern: str) -> list[str]:
    """Files matching a path or glob, sorted; a matching directory contributes its direct files;
    [] if nothing matches."""
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


def read_ranges(spark, path: str, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """The bytes at each ``(offset, length)`` of ``path`` (fewer at the end of the file), with
    the file opened once."""
    fs, jpath = hadoop_fs(spark, path)
    stream = fs.open(jpath)
    try:
        out = []
        for offset, length in ranges:
            stream.seek(offset)
            out.append(bytes(stream.readNBytes(length)))  # byte[] comes back as Python bytes
        return out
    finally:
        stream.close()


class HadoopInput(io.RawIOBase):
    """A file's raw bytes through Hadoop's FileSystem as a Python binary stream (``read``,
    ``seek``, ``size``), for readers that take any ``BinaryIO`` (e.g. the metadata dump reader).

    Bytes come back with ``InputStream.readNBytes``: py4j copies ``byte[]`` arguments by value,
    so ``read(byte[], off, len)`` into an array made with ``new_array`` would fill a copy and
    leave the Python side all zeros."""

    def __init__(self, spark, path: str):
        fs, jpath = hadoop_fs(spark, path)
        self.size = int(fs.getFileStatus(jpath).getLen())
        self._stream = fs.open(jpath)
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.size - self._pos if n is None or n < 0 else n
        data = bytes(self._stream.readNBytes(max(0, n)))
        self._pos += len(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        target = {io.SEEK_SET: pos, io.SEEK_CUR: self._pos + pos, io.SEEK_END: self.size + pos}[whence]
        self._stream.seek(target)
        self._pos = target
        return target

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


def open_input(spark, path: str) -> HadoopInput:
    """``path`` opened for reading through Hadoop (any file system), as a Python binary stream."""
    return HadoopInput(spark, path)


def read_head(spark, path: str, n_bytes: int, decompress: bool = False) -> bytes:
    """The first ``n_bytes`` of ``path`` (fewer if it is shorter); with ``decompress``, of its
    content as decompressed by the Hadoop codec its extension names (``.bz2``, ``.gz``, ...)."""
    fs, jpath = hadoop_fs(spark, path)
    stream = fs.open(jpath)
    if decompress:
        jvm = spark.sparkContext._jvm
        codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(
            spark.sparkContext._jsc.hadoopConfiguration()).getCodec(jpath)
        if codec is not None:
            stream = codec.createInputStream(stream)
    try:
        return bytes(stream.readNBytes(n_bytes))
    finally:
        stream.close()


def read_text(spark, path: str) -> str | None:
    """The whole file as UTF-8 text in one JVM call; None if it does not exist."""
    fs, jpath = hadoop_fs(spark, path)
    if not fs.exists(jpath):
        return None
    stream = fs.open(jpath)
    try:
        data = spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toByteArray(stream)
        return bytes(data).decode("utf-8")
    finally:
        stream.close()


def _staging(spark, path: str):
    """A temporary path next to ``path`` (same directory, so the final rename stays local)."""
    return spark.sparkContext._jvm.org.apache.hadoop.fs.Path(f"{path}.{uuid.uuid4().hex}.tmp")


def _replace(fs, tmp, jpath) -> None:
    """Move the complete temporary file ``tmp`` onto ``jpath``, replacing what is there."""
    if fs.exists(jpath):
        fs.delete(jpath, False)
    if not fs.rename(tmp, jpath):
        fs.delete(tmp, False)
        raise FileSystemError(f"could not rename {tmp.toString()} -> {jpath.toString()}")


def write_text(spark, path: str, text: str) -> None:
    """Write a small text file atomically: a temporary file next to it, then a rename, so a
    reader sees the old content or the new one, never a part."""
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
    """A small JSON object file; {} if it is missing or empty."""
    text = read_text(spark, path)
    return json.loads(text) if text else {}


def write_json(spark, path: str, obj: dict) -> None:
    """``obj`` as sorted, indented UTF-8 JSON, written atomically (``write_text``)."""
    write_text(spark, path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
