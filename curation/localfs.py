"""Atomic writes of local files, without Spark: the one temp-file-then-``os.replace`` helper.

A reader of ``path`` sees the old file or the whole new one, never a half-written file: the
bytes go to a hidden temp file in the same directory (same file system, so ``os.replace`` is an
atomic rename, POSIX and Windows) which then replaces ``path``; a failed write leaves ``path``
untouched and removes the temp file. Paths on Hadoop file systems (HDFS, S3, DBFS) go through
``curation.spark.fs.write_text`` / ``put_file`` instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable


def atomic_write(path: str, write: Callable[[str], None]) -> str:
    """Call ``write(tmp)`` to produce the file at a temp path, then move it onto ``path``.

    Parent directories are created; returns ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_bytes(path: str, data: bytes) -> str:
    """``data`` to ``path``, atomically."""

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)

    return atomic_write(path, write)


def write_text(path: str, text: str) -> str:
    """``text`` (UTF-8) to ``path``, atomically."""
    return write_bytes(path, text.encode("utf-8"))
