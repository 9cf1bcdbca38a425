"""One place that builds (or reuses) a SparkSession with Delta Lake enabled.

Under ``spark-submit`` or on Databricks the session already exists or its master and jars
come from the submit command, so we only add what is missing; on a laptop we start
``local[*]`` and let ``configure_spark_with_delta_pip`` fetch the Delta jars from Maven.
"""

from __future__ import annotations

import glob
import os

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
LOCAL_JAVA_OPTIONS = "-XX:+UseParallelGC"


def _launched_by_spark() -> bool:
    """True when a JVM already runs (spark-submit, pyspark shell, Databricks)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ or "DATABRICKS_RUNTIME_VERSION" in os.environ


def _delta_jars_installed() -> bool:
    """True in images that bake the Delta jars into $SPARK_HOME/jars (no Ivy download then)."""
    home = os.environ.get("SPARK_HOME")
    return bool(home and glob.glob(os.path.join(home, "jars", "delta-spark_*.jar")))


def get_spark(app_name: str = "worldwide-clip", master: str | None = None,
              conf: dict[str, str] | None = None):
    """Return the active SparkSession, or create one with Delta configured.

    ``master`` applies only when this process starts the JVM (default ``local[*,4]``: all
    cores, and a failed task is retried up to 4 times as on a cluster).
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    builder = (SparkSession.builder.appName(app_name)
               .config("spark.sql.extensions", DELTA_EXTENSION)
               .config("spark.sql.catalog.spark_catalog", DELTA_CATALOG)
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.session.timeZone", "UTC"))
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    if not _launched_by_spark():
        from delta import configure_spark_with_delta_pip  # noqa: F401 - also checks delta-spark is installed

        builder = builder.master(master or "local[*,4]")
        builder = builder.config("spark.driver.memory", (conf or {}).get("spark.driver.memory", "4g"))
        # Local mode is one batch JVM: the throughput collector leaves both cores to the tasks
        # (G1's concurrent threads compete with them; see benchmarks/STATUS.md).
        builder = builder.config("spark.driver.extraJavaOptions",
                                 (conf or {}).get("spark.driver.extraJavaOptions", LOCAL_JAVA_OPTIONS))
        builder = builder.config("spark.ui.showConsoleProgress", "false")
        if not _delta_jars_installed():
            builder = configure_spark_with_delta_pip(builder)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("WWCLIP_SPARK_LOG_LEVEL", "WARN"))
    return spark
