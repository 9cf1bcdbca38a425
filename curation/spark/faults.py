"""Opt-in fault injection, to prove that retries and crashes never change the output.

* ``maybe_fail_task(rate, where)``: inside a Spark Python worker, fail the *first attempt*
  of a task with probability ``rate`` (decided by a hash of stage, partition and ``where``, so
  it is reproducible), after the task has already produced output. Spark then retries it.
* ``crash_point(name)``: when ``WWCLIP_CRASH_AT`` names this point, kill the driver process
  on the spot (``os._exit``: no cleanup, like ``kill -9``), to test crash-and-re-run; with
  ``WWCLIP_CRASH_MODE=raise`` an ``InjectedCrash`` is raised instead (in-process tests).
* ``WWCLIP_RENAME=copy``: directory renames of table swaps behave as on an object store
  (S3, GCS, DBFS): each file is copied, then the sources are deleted (``copy_then_delete``),
  and the file system counts as one without atomic rename (``simulated_object_store``). With
  ``WWCLIP_CRASH_AT=<table>:during_swap`` the copy stops half way, as a crashed driver would.
"""

from __future__ import annotations

import hashlib
import os

CRASH_ENV = "WWCLIP_CRASH_AT"
CRASH_MODE_ENV = "WWCLIP_CRASH_MODE"
RENAME_ENV = "WWCLIP_RENAME"


class InjectedFault(RuntimeError):
    """Raised on purpose by fault injection; Spark retries the task."""


class InjectedCrash(BaseException):
    """A simulated driver crash (``WWCLIP_CRASH_MODE=raise``): nothing may catch and continue."""


def maybe_fail_task(rate: float, where: str) -> None:
    if rate <= 0:
        return
    from pyspark import TaskContext

    ctx = TaskContext.get()
    if ctx is None or ctx.attemptNumber() > 0:
        return
    key = f"{where}:{ctx.stageId()}:{ctx.partitionId()}".encode()
    u = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64
    if u < rate:
        raise InjectedFault(f"injected fault in {where} (stage {ctx.stageId()}, partition "
                            f"{ctx.partitionId()}, attempt 0); Spark will retry this task")


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        if os.environ.get(CRASH_MODE_ENV) == "raise":
            raise InjectedCrash(name)
        os._exit(137)


def simulated_object_store() -> bool:
    """True when renames are simulated as copy-then-delete (``WWCLIP_RENAME=copy``)."""
    return os.environ.get(RENAME_ENV) == "copy"


def copy_then_delete(spark, src: str, dst: str, crash_at: str | None = None) -> None:
    """Rename ``src`` to ``dst`` the way S3A/GCS connectors do: copy every file (in name order,
    so ``_``-files such as ``_SUCCESS`` go first, the worst case), then delete the sources.
    ``crash_point(crash_at)`` fires after half of the files are copied."""
    from curation.spark import fs

    hfs, jsrc = fs.hadoop_fs(spark, src)
    _, jdst = fs.hadoop_fs(spark, dst)
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    if hfs.isFile(jsrc):
        files = [("", jsrc)]
    else:
        root = hfs.makeQualified(jsrc).toString().rstrip("/") + "/"
        files = []
        it = hfs.listFiles(jsrc, True)
        while it.hasNext():
            p = it.next().getPath()
            files.append((p.toString()[len(root):], p))
        files.sort(key=lambda item: item[0])
    for i, (rel, path) in enumerate(files):
        if crash_at and i == len(files) // 2:
            crash_point(crash_at)
        target = jdst if not rel else jvm.org.apache.hadoop.fs.Path(jdst, rel)
        hfs.mkdirs(target.getParent())
        if not jvm.org.apache.hadoop.fs.FileUtil.copy(hfs, path, hfs, target, False, conf):
            raise OSError(f"copy failed: {path.toString()} -> {target.toString()}")
    hfs.delete(jsrc, True)
