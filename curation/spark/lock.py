"""The output lock: ``<root>/_LOCK`` while a run writes under an output root.

Two runs must never write the same root (their table swaps and ``_stats.json`` updates would
interleave). ``_LOCK`` is created atomically (``createNewFile``) and holds its owner (host, pid,
start time); a lock whose process is gone on this host (crash, ``kill -9``) is taken over.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime, timezone

from curation.layout import LOCK_FILE, table_path
from curation.spark import fs
from curation.spark.tables import TableError


class LockError(TableError):
    """The output is locked by another live run (or the lock cannot be taken)."""


def _holder_alive(holder: dict) -> bool:
    """False only when the holder is a process on this host that no longer exists."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def acquire_lock(spark, root: str, owner: dict) -> None:
    """Create ``<root>/_LOCK`` holding ``owner``; a LockError if another live run holds it."""
    path = table_path(root, LOCK_FILE)
    fs.mkdirs(spark, root)
    for _ in range(2):
        if fs.create_new(spark, path):
            fs.write_text(spark, path, json.dumps(owner))
            return
        try:
            holder = json.loads(fs.read_text(spark, path) or "{}")
        except ValueError:
            holder = {}
        if _holder_alive(holder):
            raise LockError(f"output {root} is locked by another run ({holder or 'unknown owner'}); "
                            f"two runs must not write the same output. If no run is active, delete {path}")
        fs.delete(spark, path)  # stale: its process is gone
    raise LockError(f"could not lock {root}")


def release_lock(spark, root: str) -> None:
    fs.delete(spark, table_path(root, LOCK_FILE))


def owner(**extra: object) -> dict:
    """This process as a lock owner: host, pid, start time (+ ``extra``, e.g. ``job``)."""
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"), **extra}


class OutputLock:
    """``with lock:`` holds ``<root>/_LOCK`` for the block. Re-entrant: a nested ``with`` on the
    same object (a stage inside ``curate``) keeps the lock, which is released when the outermost
    block ends. The depth is this object's own, so two runs in one process never share it."""

    def __init__(self, spark, root: str, **extra: object):
        self.spark = spark
        self.root = root
        self.extra = extra
        self.depth = 0

    def __enter__(self) -> "OutputLock":
        if self.depth == 0:
            acquire_lock(self.spark, self.root, owner(**self.extra))
        self.depth += 1
        return self

    def __exit__(self, *exc_info) -> None:
        self.depth -= 1
        if self.depth == 0:
            release_lock(self.spark, self.root)
