"""The output lock: ``<root>/_LOCK`` while a run writes under an output root.

Two runs must never write the same root (their table swaps and ``_stats.json`` updates would
interleave). The lock is one small JSON file naming its owner (host, pid, start time and a
random token), created **if absent, with its content, in one step**: the owner is written to a
private temporary file beside it, which is then *linked* (local disk: ``os.link``, which fails
when the lock exists) or *renamed* (Hadoop file systems: HDFS refuses to rename onto an existing
file) to ``_LOCK``. So a live lock is never empty and never missing: there is no delete-then-
rename window in which a second run could slip in.

- Local paths are locked in pure Python, so ``wwclip-curate`` checks the lock **before the JVM
  starts** (a second run is refused in well under a second); Hadoop-only paths (HDFS, S3, DBFS
  and, under ``spark-submit`` or on Databricks, paths without a scheme) go through Hadoop's
  FileSystem API once the session exists.
- A lock whose owner is a dead process on this host (crash, ``kill -9``) is taken over: under
  an exclusive ``flock`` of the output directory, the lock is checked to be still that dead
  owner's and replaced by ours in one ``os.replace`` (local disks; on Hadoop file systems it is
  moved aside, checked, and ours created: best effort).
- An empty or unreadable lock, or one held by another host, is never taken silently: the error
  says so and names ``--break-lock``, which removes whatever lock is there and takes it.
- Releasing removes the lock only if it is still this run's (same token).

On object stores (S3, GCS) neither create-if-absent nor rename is atomic: there the lock is
advisory (it stops the common mistake, not a true race); see README, "what is guaranteed".
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
import uuid
from datetime import datetime, timezone

from curation.layout import LOCK_FILE, table_path
from curation.spark.tables import TableError

log = logging.getLogger("curation.lock")
BREAK_FLAG = "--break-lock"


class LockError(TableError):
    """The output is locked by another live run (or the lock cannot be taken)."""


# ---------------------------------------------------------------- where a root lives

def _strip_file_scheme(root: str) -> str:
    if root.startswith("file://"):
        return root[len("file://"):] or "/"
    return root[len("file:"):] if root.startswith("file:") else root


def local_path(root: str) -> str | None:
    """The local file system path of ``root`` when Python can lock it without the JVM, else None.

    A plain path is local only while no JVM was started for us (``spark-submit`` and Databricks
    resolve it against the cluster's default file system, e.g. HDFS or DBFS); ``file:`` URIs
    are always local."""
    if root.startswith("file:"):
        return _strip_file_scheme(root)
    if "://" in root or root.startswith("dbfs:"):
        return None
    if "PYSPARK_GATEWAY_PORT" in os.environ or "DATABRICKS_RUNTIME_VERSION" in os.environ:
        return None
    return root


class _LocalFiles:
    """Lock file operations on a local disk (pure Python)."""

    def __init__(self, root: str):
        self.root = root

    def mkdirs(self) -> None:
        os.makedirs(self.root, exist_ok=True)

    def create_exclusive(self, path: str, data: bytes) -> bool:
        """Create ``path`` holding ``data`` if it does not exist; False if it does. The content
        is complete before the name appears (temporary file, then a hard link)."""
        tmp = f"{path}.{uuid.uuid4().hex}.new"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
        except OSError as exc:  # a file system without hard links: O_EXCL (content follows at once)
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)

    def read(self, path: str) -> bytes | None:
        try:
            with open(path, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def replace_if(self, path: str, expected: bytes, data: bytes) -> bool:
        """Replace the lock ``path`` by one holding ``data`` if it still holds ``expected`` (a
        dead run's lock, or one being broken); False if it changed or is gone.

        Take-overs hold an exclusive ``flock`` on the output directory while they check and
        replace, so two runs that judged the same stale lock cannot both take it: the second
        finds the first one's lock. The replacement is one ``os.replace`` (no moment without a
        lock), and the kernel drops the ``flock`` if the process dies."""
        import fcntl

        tmp = f"{path}.{uuid.uuid4().hex}.new"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        fd = os.open(self.root, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if self.read(path) != expected:
                return False
            os.replace(tmp, path)
            return True
        finally:
            os.close(fd)  # releases the flock
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)

    def move(self, src: str, dst: str) -> bool:
        try:
            os.rename(src, dst)
            return True
        except FileNotFoundError:
            return False

    def remove(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


class _HadoopFiles:
    """Lock file operations through Hadoop's FileSystem API (HDFS, object stores, DBFS)."""

    def __init__(self, spark, root: str):
        from curation.spark import fs

        self.spark = spark
        self.fs = fs
        self.root = root

    def mkdirs(self) -> None:
        self.fs.mkdirs(self.spark, self.root)

    def create_exclusive(self, path: str, data: bytes) -> bool:
        hfs, jpath = self.fs.hadoop_fs(self.spark, path)
        tmp = self.fs.hadoop_fs(self.spark, f"{path}.{uuid.uuid4().hex}.new")[1]
        out = hfs.create(tmp, False)
        try:
            out.write(bytearray(data))
        finally:
            out.close()
        try:
            # HDFS refuses to rename onto an existing file (atomically); the exists() check is for
            # file systems whose rename replaces (Hadoop's local file system).
            return not hfs.exists(jpath) and bool(hfs.rename(tmp, jpath))
        finally:
            if hfs.exists(tmp):
                hfs.delete(tmp, False)

    def read(self, path: str) -> bytes | None:
        text = self.fs.read_text(self.spark, path)
        return None if text is None else text.encode("utf-8")

    def replace_if(self, path: str, expected: bytes, data: bytes) -> bool:
        """Best effort on Hadoop file systems (no ``flock``): move the judged lock aside, put it
        back if it was not the one judged, else create ours. Two runs taking over the same
        stale lock at the same instant can both succeed here; see README, "what is guaranteed"."""
        _take_away(self, path, expected)
        return self.create_exclusive(path, data)

    def move(self, src: str, dst: str) -> bool:
        hfs, jsrc = self.fs.hadoop_fs(self.spark, src)
        return hfs.exists(jsrc) and bool(hfs.rename(jsrc, self.fs.hadoop_fs(self.spark, dst)[1]))

    def remove(self, path: str) -> None:
        self.fs.delete(self.spark, path, recursive=False)


def _files(spark, root: str, local: bool | None = None):
    """(operations, lock path) for ``root``; ``local`` None decides with ``local_path``."""
    if local is None:
        local = local_path(root) is not None
    if local:
        path = _strip_file_scheme(root)
        return _LocalFiles(path), os.path.join(path, LOCK_FILE)
    if spark is None:
        raise LockError(f"{root} is not a local path: its lock needs the Spark session (Hadoop file system)")
    return _HadoopFiles(spark, root), table_path(root, LOCK_FILE)


# ---------------------------------------------------------------- owners

def owner(**extra: object) -> dict:
    """This process as a lock owner: host, pid, start time, a random token (+ ``extra``, e.g. ``job``)."""
    return {"host": socket.gethostname(), "pid": os.getpid(),
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "token": uuid.uuid4().hex, **extra}


def parse_holder(raw: bytes) -> dict | None:
    """The owner recorded in a lock file's bytes; None when empty or not an owner record."""
    try:
        holder = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return holder if isinstance(holder, dict) and holder else None


def holder_alive(holder: dict) -> bool:
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


def _describe(holder: dict) -> str:
    return ", ".join(f"{k} {holder[k]}" for k in ("host", "pid", "since", "job") if k in holder)


# ---------------------------------------------------------------- acquire / release

def _take_away(files, path: str, raw: bytes) -> None:
    """Move the lock ``path`` (whose bytes were ``raw``) aside and delete it, unless it changed
    in between: then it is another run's new lock, and it is put back."""
    aside = f"{path}.{uuid.uuid4().hex}.stale"
    if not files.move(path, aside):
        return  # gone already
    try:
        moved = files.read(aside)
        if moved != raw and moved is not None:  # not the lock we judged: restore it
            files.create_exclusive(path, moved)
    finally:
        files.remove(aside)


def acquire_lock(spark, root: str, owner: dict, break_lock: bool = False, *, local: bool | None = None) -> None:
    """Create ``<root>/_LOCK`` holding ``owner``; a LockError if another live run holds it.

    ``spark`` may be None for a local root (checked before the JVM starts). A dead process's
    lock on this host is taken over; an empty, unreadable or other-host lock only with
    ``break_lock``. ``local=False`` forces the Hadoop file system even for a plain path."""
    files, path = _files(spark, root, local)
    files.mkdirs()
    data = json.dumps(owner, sort_keys=True).encode("utf-8")
    for _ in range(4):
        if files.create_exclusive(path, data):
            return
        raw = files.read(path)
        if raw is None:
            continue  # released in between: try again
        holder = parse_holder(raw)
        if break_lock:
            log.warning("breaking the lock %s (%s) as asked (%s)", path,
                        _describe(holder) if holder else f"{len(raw)} unreadable bytes", BREAK_FLAG)
            if files.replace_if(path, raw, data):
                return
            continue
        if holder is None:
            raise LockError(
                f"the lock {path} is {'empty' if not raw.strip() else 'unreadable'}: a run crashed while "
                f"taking it, or something else wrote it. If no run is writing {root}, re-run with {BREAK_FLAG}")
        if holder_alive(holder):
            where = "" if holder.get("host") == socket.gethostname() else " on another host"
            raise LockError(
                f"output {root} is locked by another run{where} ({_describe(holder)}); two runs must not "
                f"write the same output. If that run is gone, re-run with {BREAK_FLAG}")
        log.warning("taking over the lock %s of a process that no longer runs (%s)", path, _describe(holder))
        if files.replace_if(path, raw, data):
            return
    raise LockError(f"could not lock {root}: the lock {path} keeps changing (several runs starting at once?)")


def release_lock(spark, root: str, owner: dict | None = None, *, local: bool | None = None) -> None:
    """Remove ``<root>/_LOCK``; with ``owner``, only while it is still that owner's (a lock broken
    and re-taken by another run is left alone, with a warning)."""
    files, path = _files(spark, root, local)
    if owner is not None:
        raw = files.read(path)
        if raw is None:
            log.warning("the lock %s was already gone when this run ended", path)
            return
        holder = parse_holder(raw) or {}
        if holder.get("token") != owner.get("token"):
            log.warning("the lock %s now belongs to another run (%s): left in place", path, _describe(holder))
            return
    files.remove(path)


class OutputLock:
    """``with lock:`` holds ``<root>/_LOCK`` for the block. Re-entrant: a nested ``with`` on the
    same object (a stage inside ``curate``) keeps the lock, which is released when the outermost
    block ends. The depth is this object's own, so two runs in one process never share it.

    Created with ``spark=None`` for a local root, the lock is taken before any JVM exists;
    ``attach(spark)`` then also takes it through Hadoop when the session resolves the root to
    another file system (a ``core-site.xml`` whose default file system is HDFS)."""

    def __init__(self, spark, root: str, break_lock: bool = False, **extra: object):
        self.spark = spark
        self.root = root
        self.break_lock = break_lock
        self.owner = owner(**extra)
        self.local = local_path(root) is not None  # decided once: the same file system at release
        self.depth = 0
        self._hadoop = False  # also held through Hadoop (see attach)

    def attach(self, spark) -> None:
        """Give the lock the Spark session (when it was taken before the JVM started)."""
        self.spark = spark
        if self.depth:
            self._also_through_hadoop()

    def _also_through_hadoop(self) -> None:
        """A local lock whose root Hadoop resolves to another file system (a ``core-site.xml``
        with an HDFS default) is taken there too, so Hadoop-side runs see it."""
        if self._hadoop or not self.local or self.spark is None:
            return
        from curation.spark import fs

        if fs.hadoop_fs(self.spark, self.root)[0].getScheme() != "file":
            acquire_lock(self.spark, self.root, self.owner, self.break_lock, local=False)
            self._hadoop = True

    def __enter__(self) -> "OutputLock":
        self.depth += 1
        if self.depth == 1:
            try:
                acquire_lock(self.spark, self.root, self.owner, self.break_lock, local=self.local)
            except BaseException:
                self.depth = 0
                raise
            try:
                self._also_through_hadoop()
            except BaseException:
                self.__exit__(None, None, None)
                raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.depth -= 1
        if self.depth == 0:
            if self._hadoop:
                self._hadoop = False
                release_lock(self.spark, self.root, self.owner, local=False)
            release_lock(self.spark, self.root, self.owner, local=self.local)
