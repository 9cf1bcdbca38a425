"""How a download run stops: Ctrl-C (or SIGTERM) cancels its Spark jobs, lets the run release
``<output>/_LOCK`` through its normal ``finally``, and ends with a one-line message.

Interrupting the driver inside a py4j call (``collect`` of a download job) leaves that py4j
connection mid-answer; the lock release that follows then fails with an unrelated
``Py4JError``, and ``_LOCK`` stays behind. So the CLI runs the stage in a worker thread and the
main thread only waits on an Event: the signal lands there, never in py4j. (Not in
``Thread.join``: on Python 3.11 a KeyboardInterrupt inside ``join`` marks the still-running
thread as stopped.) It then sets the
run's ``cancel`` event (checked between steps and between download jobs) and cancels the
running Spark jobs until the worker has unwound, so the worker's own py4j connection stays
sound and its ``finally`` releases the lock as on any other failure.

Processes: the job starts none of its own. Spark's JVM exits when the driver's pipe to it
closes and takes its Python workers with it; img2dataset's logger process (which, with
Python's resource tracker, outlived a killed driver) is not started, because the download runs
img2dataset's per-shard code only (``curation.download.img2dataset``).
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
GRACE_SECONDS = 60.0  # how long an interrupted run may take to cancel its jobs and release the lock


class Interrupted(KeyboardInterrupt):
    """The run was interrupted (Ctrl-C, SIGTERM); ``str(exc)`` says what state it left."""


def check_cancelled(cancel: threading.Event | None) -> None:
    """Raise ``Interrupted`` if ``cancel`` is set: called between steps of a cancellable run."""
    if cancel is not None and cancel.is_set():
        raise Interrupted("cancelled")


def _cancel_spark_jobs(spark) -> None:
    try:
        spark.sparkContext.cancelAllJobs()
    except Exception:  # noqa: BLE001 - the session may already be gone; nothing left to cancel then
        pass


def run_interruptibly(spark, fn: Callable[[threading.Event], T], *, grace_seconds: float = GRACE_SECONDS,
                      poll_seconds: float = 0.2) -> T:
    """``fn(cancel)`` in a worker thread; its result, or its exception re-raised here.

    On Ctrl-C or SIGTERM: ``cancel`` is set, Spark jobs are cancelled (again every
    ``poll_seconds``, so a job started meanwhile is cancelled too) until ``fn`` has returned or
    ``grace_seconds`` pass (a second Ctrl-C stops waiting), then ``Interrupted`` is raised with
    ``released`` telling whether ``fn`` finished its cleanup."""
    cancel, done = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = fn(cancel)
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=target, name="wwclip-download-run", daemon=True)
    in_main = threading.current_thread() is threading.main_thread()
    previous_term = signal.getsignal(signal.SIGTERM) if in_main else None
    if in_main:
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        worker.start()
        try:
            while not done.wait(poll_seconds):
                pass
        except KeyboardInterrupt:
            cancel.set()
            finished = _wait_cancelling(spark, done, grace_seconds, poll_seconds)
            exc = Interrupted("interrupted" if finished else "interrupted; the run did not stop in time")
            exc.released = finished  # type: ignore[attr-defined]
            raise exc from None
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous_term)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


def _raise_keyboard_interrupt(signum, frame) -> None:  # noqa: ARG001 - signal handler signature
    raise KeyboardInterrupt


def _wait_cancelling(spark, done: threading.Event, grace_seconds: float, poll_seconds: float) -> bool:
    """Cancel Spark jobs until ``done`` is set; False if it is not after the grace time."""
    stop = time.monotonic() + grace_seconds
    try:
        while not done.is_set() and time.monotonic() < stop:
            _cancel_spark_jobs(spark)
            done.wait(max(poll_seconds, 0.5))
    except KeyboardInterrupt:  # a second Ctrl-C: stop waiting
        pass
    return done.is_set()
