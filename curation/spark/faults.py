"""Opt-in fault injection, to prove that retries and crashes never change the output.

* ``maybe_fail_task(rate, where)``: inside a Spark Python worker, fail the *first attempt*
  of a task with probability ``rate`` (decided by a hash of stage, partition and ``where``, so
  it is reproducible), after the task has already produced output. Spark then retries it.
* ``crash_point(name)``: when ``WWCLIP_CRASH_AT`` names this point, kill the driver process
  on the spot (``os._exit``: no cleanup, like ``kill -9``), to test crash-and-re-run.
"""

from __future__ import annotations

import hashlib
import os

CRASH_ENV = "WWCLIP_CRASH_AT"


class InjectedFault(RuntimeError):
    """Raised on purpose by fault injection; Spark retries the task."""


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
        os._exit(137)
