"""One local SparkSession (Delta enabled) for the whole test session, as in delta-io's test base."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PYSPARK_PYTHON", os.environ.get("PYTHON", "python3"))


@pytest.fixture(scope="session")
def spark():
    from curation.spark.session import get_spark

    session = get_spark("tests", "local[2,4]", {
        "spark.sql.shuffle.partitions": "4",
        "spark.default.parallelism": "4",
        "spark.ui.enabled": "false",
        "spark.driver.memory": "2g",
        "spark.sql.adaptive.enabled": "false",
        # Delta rebuilds a table's snapshot from its log in this many tasks (default 50: about
        # 50 near-empty tasks per Delta read or write of the tests' few-commit tables, on 2
        # cores). Only the test session's speed changes: 4 Delta write+read rounds took 108.5 s
        # with 50 and 37.0 s with 1 (load ~17).
        "spark.databricks.delta.snapshotPartitions": "2",
    })
    yield session
    session.stop()
