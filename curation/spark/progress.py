"""Progress of a long stage in the driver log: tasks done, rows processed, rate, ETA.

A daemon thread polls Spark's status tracker; rows come from an accumulator that the stage's
Python transforms add to. Accumulator values reach the driver as tasks finish (and a retried task
adds twice), so the row figure is a progress indicator, never a statistic: the numbers in
``_stats.json`` are counted from the written tables.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Iterator

log = logging.getLogger("curation.progress")
DEFAULT_INTERVAL_S = 15.0


class StageProgress(threading.Thread):
    def __init__(self, spark, stage: str, interval_s: float = DEFAULT_INTERVAL_S):
        super().__init__(daemon=True, name=f"progress-{stage}")
        self.sc = spark.sparkContext
        self.stage = stage
        self.interval_s = interval_s
        self.row_counter = self.sc.accumulator(0)  # transforms add the rows they pass to Python
        self.started = time.time()
        self._stop_event = threading.Event()

    def snapshot(self) -> dict:
        tracker = self.sc.statusTracker()
        total = done = 0
        for stage_id in tracker.getActiveStageIds():
            info = tracker.getStageInfo(stage_id)
            if info is not None:
                total += info.numTasks
                done += info.numCompletedTasks
        elapsed = time.time() - self.started
        rows = int(self.row_counter.value)
        frac = done / total if total else None
        eta = elapsed * (1 - frac) / frac if frac else None
        return {"tasks_done": done, "tasks": total, "rows": rows, "elapsed_s": elapsed,
                "rows_per_s": rows / elapsed if elapsed > 0 else 0.0, "eta_s": eta}

    def format(self, snap: dict) -> str:
        tasks = f"{snap['tasks_done']}/{snap['tasks']} tasks" if snap["tasks"] else "between jobs"
        eta = f", ETA of current job ~{snap['eta_s']:.0f}s" if snap["eta_s"] is not None else ""
        return (f"{self.stage}: {tasks}, ~{snap['rows']:,} rows through Python "
                f"({snap['rows_per_s']:,.0f} rows/s), elapsed {snap['elapsed_s']:.0f}s{eta}")

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            try:
                log.info(self.format(self.snapshot()))
            except Exception:  # the tracker must never break a run  # noqa: BLE001
                return

    def stop(self) -> None:
        self._stop_event.set()


@contextlib.contextmanager
def stage_progress(spark, stage: str, interval_s: float = DEFAULT_INTERVAL_S) -> Iterator[StageProgress]:
    """Log progress every ``interval_s`` while the block runs; yields the tracker, whose
    ``row_counter`` accumulator the stage's transforms take as ``progress``."""
    tracker = StageProgress(spark, stage, interval_s)
    tracker.start()
    try:
        yield tracker
    finally:
        tracker.stop()
