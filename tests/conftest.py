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
    })
    yield session
    session.stop()
