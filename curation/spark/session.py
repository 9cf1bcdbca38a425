"""One place that builds (or reuses) a SparkSession with Delta Lake enabled, quietly.

Under ``spark-submit`` or on Databricks the session already exists or its master and jars
come from the submit command, so we only add what is missing; on a laptop we start
``local[*]`` ourselves and:

- resolve the Delta jars with Ivy **once** (``configure_spark_with_delta_pip``, which prints
  Ivy's resolution table), remember the resolved jar files, and pass them as ``spark.jars`` on
  every later start: no Ivy, no table, no network, a faster start;
- give the JVM our log configuration (``log4j2.properties`` beside this module: warnings and
  errors only, without the start-up notices of a laptop run) and set Spark's level to
  ``log_level`` (``--log-level``, default WARN) once the context exists;
- drop the one line the JVM prints on its own, outside any logger, for the vector module
  Spark 4 always loads (``WARNING: Using incubator modules: jdk.incubator.vector``); every other
  line of the JVM's stderr passes through unchanged.
"""

from __future__ import annotations

import glob
import logging
import os
import threading
from importlib import resources

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
LOCAL_JAVA_OPTIONS = "-XX:+UseParallelGC"
LOG_LEVEL_ENV = "WWCLIP_SPARK_LOG_LEVEL"  # default for --log-level (tests set ERROR)
JAR_CACHE_ENV = "WWCLIP_CACHE_DIR"  # where the resolved jar list is remembered [~/.cache/worldwide-clip]
# Lines the JVM writes to stderr itself (not through log4j) that say nothing about the run.
JVM_NOISE = (b"WARNING: Using incubator modules: jdk.incubator.vector",)
# Python log level for each log4j level name (py4j logs through Python's logging).
PYTHON_LEVELS = {"ALL": logging.DEBUG, "TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO,
                 "WARN": logging.WARNING, "ERROR": logging.ERROR, "FATAL": logging.CRITICAL,
                 "OFF": logging.CRITICAL + 10}


def _launched_by_spark() -> bool:
    """True when a JVM already runs (spark-submit, pyspark shell, Databricks)."""
    return "PYSPARK_GATEWAY_PORT" in os.environ or "DATABRICKS_RUNTIME_VERSION" in os.environ


def _delta_jars_installed() -> bool:
    """True in images that bake the Delta jars into $SPARK_HOME/jars (no Ivy download then)."""
    home = os.environ.get("SPARK_HOME")
    return bool(home and glob.glob(os.path.join(home, "jars", "delta-spark_*.jar")))


def default_log_level() -> str:
    return os.environ.get(LOG_LEVEL_ENV, "WARN").upper()


def configure_logging(log_level: str | None = None) -> None:
    """Python logging for a command-line run: our loggers (``curation.*``) at INFO on stderr,
    py4j at ``log_level`` (the Spark level; its INFO lines are connection bookkeeping)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("py4j").setLevel(PYTHON_LEVELS.get((log_level or default_log_level()).upper(),
                                                         logging.WARNING))


def log4j_config_path() -> str:
    return str(resources.files("curation.spark") / "log4j2.properties")


# ---------------------------------------------------------------- Delta jars, resolved once

def _jar_list_file() -> str:
    from importlib.metadata import version

    base = os.environ.get(JAR_CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "worldwide-clip")
    return os.path.join(base, f"delta-spark-{version('delta-spark')}-pyspark-{version('pyspark')}.jars")


def cached_delta_jars() -> list[str] | None:
    """The Delta jar files an earlier start resolved with Ivy, if they are all still there."""
    try:
        with open(_jar_list_file(), encoding="utf-8") as f:
            jars = [line.strip() for line in f if line.strip()]
    except (OSError, ImportError):
        return None
    return jars if jars and all(os.path.isfile(j) for j in jars) else None


def _remember_delta_jars(spark) -> None:
    """After an Ivy resolution, record the jar files it gave (Spark puts them in ``spark.jars``)."""
    from curation.localfs import write_text

    jars = [j[len("file:"):] if j.startswith("file:") else j
            for j in spark.sparkContext.getConf().get("spark.jars", "").split(",") if j]
    jars = ["/" + j.lstrip("/") for j in jars]
    if jars and all(os.path.isfile(j) for j in jars) and any("delta-spark" in os.path.basename(j) for j in jars):
        try:
            write_text(_jar_list_file(), "\n".join(jars) + "\n")
        except OSError:  # a read-only home: resolve again next time
            pass


# ---------------------------------------------------------------- a JVM without its stray notice

def _pump_stderr(stream, out_fd: int = 2) -> None:
    """Copy the JVM's stderr to ours line by line, leaving out ``JVM_NOISE`` lines."""
    try:
        for line in iter(stream.readline, b""):
            if not line.rstrip().startswith(JVM_NOISE):
                os.write(out_fd, line)
    except (OSError, ValueError):  # our stderr closed, or the process is ending
        pass


def _launch_gateway(conf) -> None:
    """Start the JVM for ``conf`` the way PySpark does, with its stderr pumped through
    ``_pump_stderr``. The gateway is installed where ``SparkContext`` looks for it."""
    from subprocess import PIPE

    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway

    with SparkContext._lock:
        if SparkContext._gateway is not None:
            return
        popen_kwargs = {"stderr": PIPE}
        gateway = launch_gateway(conf, popen_kwargs=popen_kwargs)
        proc = getattr(gateway, "proc", None)
        if proc is not None and proc.stderr is not None:
            threading.Thread(target=_pump_stderr, args=(proc.stderr,), daemon=True,
                             name="jvm-stderr").start()
        SparkContext._gateway = gateway
        SparkContext._jvm = gateway.jvm


# ---------------------------------------------------------------- the session

def get_spark(app_name: str = "worldwide-clip", master: str | None = None,
              conf: dict[str, str] | None = None, log_level: str | None = None):
    """Return the active SparkSession, or create one with Delta configured.

    ``master`` applies only when this process starts the JVM (default ``local[*,4]``: all
    cores, and a failed task is retried up to 4 times as on a cluster). ``log_level``: Spark's
    log level [``$WWCLIP_SPARK_LOG_LEVEL`` or WARN]."""
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    conf = dict(conf or {})
    builder = (SparkSession.builder.appName(app_name)
               .config("spark.sql.extensions", DELTA_EXTENSION)
               .config("spark.sql.catalog.spark_catalog", DELTA_CATALOG)
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.session.timeZone", "UTC"))
    for key, value in conf.items():
        builder = builder.config(key, value)
    resolving = False
    if not _launched_by_spark():
        from delta import configure_spark_with_delta_pip  # noqa: F401 - also checks delta-spark is installed

        builder = builder.master(master or "local[*,4]")
        builder = builder.config("spark.driver.memory", conf.get("spark.driver.memory", "4g"))
        # Local mode is one batch JVM: the throughput collector leaves both cores to the tasks
        # (G1's concurrent threads compete with them; see benchmarks/STATUS.md).
        java_options = conf.get("spark.driver.extraJavaOptions", LOCAL_JAVA_OPTIONS)
        if "log4j2.configurationFile" not in java_options:
            java_options = f"{java_options} -Dlog4j2.configurationFile=file:{log4j_config_path()}"
        builder = builder.config("spark.driver.extraJavaOptions", java_options)
        builder = builder.config("spark.ui.showConsoleProgress", "false")
        if "spark.databricks.delta.snapshotPartitions" not in conf:
            # Delta replays a table's log in 50 tasks by default, sized for clusters: on a
            # local JVM that is ~50 near-empty tasks per Delta read or write (4 Delta
            # write+read rounds of 300 rows: 108.5 s with 50, 37.0 s with 1, on 2 loaded
            # cores). Twice the cores keeps every core busy; the test session uses it too.
            builder = builder.config("spark.databricks.delta.snapshotPartitions",
                                     str(max(2, min(50, 2 * (os.cpu_count() or 1)))))
        if not _delta_jars_installed():
            jars = cached_delta_jars() if "spark.jars.packages" not in conf else None
            if jars is not None:
                builder = builder.config("spark.jars", ",".join(filter(None, [conf.get("spark.jars"), *jars])))
            else:
                builder = configure_spark_with_delta_pip(builder)
                resolving = "spark.jars" not in conf
        _launch_gateway(SparkConf(loadDefaults=False).setAll(list(builder._options.items())))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel((log_level or default_log_level()).upper())
    if resolving:
        _remember_delta_jars(spark)
    return spark
