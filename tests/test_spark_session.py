"""What ``curation.spark.session.get_spark`` sets on a JVM it starts itself (local mode)."""

from __future__ import annotations

import os

import pytest

pytestmark = pytest.mark.spark


def test_a_local_session_replays_delta_logs_in_twice_the_cores_tasks(spark):
    # Delta's default (50 tasks per snapshot) is sized for clusters; the test session is started
    # by get_spark like a user's local run, so it must carry the local default.
    cores = os.cpu_count() or 1
    assert int(spark.conf.get("spark.databricks.delta.snapshotPartitions")) == max(2, min(50, 2 * cores))
