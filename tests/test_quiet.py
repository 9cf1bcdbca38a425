"""Quiet by default (issue 16, item 7): README command (a) prints the summary and our progress
lines, no stack trace, no WARN line, no Ivy resolution table once the Delta jars are known."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pyarrow as pa
import pytest

from curation.spark import session


def test_the_jvm_notice_is_dropped_and_every_other_line_passes(tmp_path):
    r, w = os.pipe()
    lines = [b"WARNING: Using incubator modules: jdk.incubator.vector\n", b"26/01/01 00:00:00 ERROR X: real\n",
             b"plain output\n"]
    with os.fdopen(w, "wb") as f:
        f.writelines(lines)
    out = tmp_path / "stderr"
    with open(out, "wb") as sink, os.fdopen(r, "rb") as src:
        session._pump_stderr(src, sink.fileno())
    assert out.read_bytes() == lines[1] + lines[2]


def test_the_resolved_delta_jars_are_remembered_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv(session.JAR_CACHE_ENV, str(tmp_path))
    assert session.cached_delta_jars() is None
    jars = [tmp_path / "io.delta_delta-spark_2.13-4.0.1.jar", tmp_path / "io.delta_delta-storage-4.0.1.jar"]
    for jar in jars:
        jar.write_bytes(b"PK")

    class Conf:
        def get(self, key, default=None):
            return ",".join(f"file://{j}" for j in jars) if key == "spark.jars" else default

    class Spark:
        class sparkContext:  # noqa: N801 - mimics the attribute
            @staticmethod
            def getConf():
                return Conf()

    session._remember_delta_jars(Spark)
    assert session.cached_delta_jars() == [str(j) for j in jars]
    jars[1].unlink()  # a jar gone (cache cleaned): resolve again
    assert session.cached_delta_jars() is None


def test_py4j_follows_the_log_level():
    session.configure_logging("WARN")
    assert logging.getLogger("py4j").level == logging.WARNING
    session.configure_logging("INFO")
    assert logging.getLogger("py4j").level == logging.INFO
    session.configure_logging("WARN")


@pytest.mark.spark
def test_small_driver_tables_reach_spark_whole_and_in_order(spark):
    from curation.spark.aggregates import small_frame

    n = 200_000  # ~ 4 MB: createDataFrame would make it one oversized task
    table = pa.table({"lang": pa.array(["en"] * n), "entry_id": pa.array(range(n), pa.int32()),
                      "prob": pa.array([0.5] * n, pa.float32())})
    frame = small_frame(spark, table)
    assert frame.rdd.getNumPartitions() == 1
    assert frame.toArrow().equals(table)
    assert small_frame(spark, table.slice(0, 0)).count() == 0


@pytest.mark.spark
@pytest.mark.slow
def test_readme_command_a_prints_no_warning_and_no_stack_trace(spark, tmp_path):
    """The console script on the embedded sample, as a user runs it (default log level). The
    ``spark`` fixture has resolved the Delta jars once (that first start may show Ivy's table)."""
    env = {k: v for k, v in os.environ.items() if k not in (session.LOG_LEVEL_ENV, "PYSPARK_GATEWAY_PORT")}
    env["PYTHONPATH"] = os.getcwd()
    proc = subprocess.run([sys.executable, "-c", "from curation.pipeline.cli import main_curate; main_curate()",
                           "--output", str(tmp_path / "demo"), "--master", "local[2]"],
                          env=env, capture_output=True, text=True, timeout=1200)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    assert "Traceback" not in output and "Exception" not in output
    assert [line for line in output.splitlines() if "WARN" in line] == []
    assert "resolution report" not in output and "ivy" not in output.lower()
    assert "input rows" in proc.stdout and "wall time" in proc.stdout
    assert "curation INFO stage sample: done" in proc.stderr  # our own progress lines stay
