"""Driver-log progress: tasks, rows through Python, rate, ETA."""

from __future__ import annotations

import time

import pytest

from curation.spark.progress import StageProgress

pytestmark = pytest.mark.spark


def test_progress_reports_rows_and_tasks_while_a_job_runs(spark):
    tracker = StageProgress(spark, "demo", interval_s=0.2)
    acc = tracker.row_counter

    def slow(it):
        for batch in it:
            time.sleep(0.3)
            acc.add(batch.num_rows)
            yield batch

    tracker.start()
    df = spark.range(0, 4000, numPartitions=4).mapInArrow(slow, "id long")
    assert df.count() == 4000
    snap = tracker.snapshot()
    tracker.stop()
    assert snap["rows"] == 4000 and snap["rows_per_s"] > 0
    line = tracker.format({**snap, "tasks": 4, "tasks_done": 1, "eta_s": 3.0})
    assert "1/4 tasks" in line and "4,000 rows" in line and "ETA" in line
