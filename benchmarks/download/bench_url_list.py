"""Benchmark (issue 16 item 1): preparing the download's url list without sending URLs through Python.

Times ``unique_urls`` + shard assignment + writing the url list for a ``curated``-shaped table
built from the benchmark corpus (``python -m benchmarks.corpus``; uid = sha224(url)[:24] as
curation computes it, one row per alt-text, so images with two alt-texts are de-duplicated), and
records the driver's peak memory (Python driver ``ru_maxrss``, JVM ``VmHWM``) and the CPU time of
Spark's Python workers (sampled every 0.25 s), for two implementations:

* ``sql`` - ``curation.download.urls.assign_shards`` + ``write_url_list`` (bucket sizes +
  ``row_number`` in Spark SQL, one directory per shard);
* ``rdd`` - the previous implementation (``zipWithIndex`` over an RDD of rows, a Python
  partitioner, ``createDataFrame`` back): every URL pickled through Python workers.

Each (implementation, size) runs in a fresh process (fresh JVM) so that peak memory is its own::

    python -m benchmarks.corpus --rows 1000000 --output /tmp/bench/corpus_1m
    python -m benchmarks.download.bench_url_list prepare --corpus /tmp/bench/corpus_1m --output /tmp/bench/curated_1m
    python -m benchmarks.download.bench_url_list run --impl sql --table /tmp/bench/curated_1m \
        --result benchmarks/download/results.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import threading
import time

SHARD = 10_000
LEGACY_SHARDS_PER_FILE = 100


def legacy_assign_shards(urls, number_sample_per_shard: int, total: int):
    """The previous ``assign_shards`` (for comparison only): rows through Python workers."""
    from pyspark.sql import types as T

    per_file = number_sample_per_shard * LEGACY_SHARDS_PER_FILE
    ordered = urls.select("uid", "url").orderBy("uid").rdd.zipWithIndex()
    n_files = max(1, math.ceil(total / per_file))
    n = number_sample_per_shard
    keyed = ordered.map(lambda t: (t[1] // per_file, (t[0][0], t[0][1], t[1] // n)))
    rows = keyed.partitionBy(n_files, lambda k: k).values()
    schema = T.StructType([T.StructField("uid", T.StringType(), False), T.StructField("url", T.StringType(), False),
                           T.StructField("shard", T.LongType(), False)])
    return urls.sparkSession.createDataFrame(rows, schema).sortWithinPartitions("uid")


class WorkerSampler:
    """CPU seconds of Spark's Python workers (descendants running pyspark.daemon / worker)."""

    def __init__(self, interval: float = 0.25):
        import psutil

        self.psutil, self.interval = psutil, interval
        self.cpu: dict[int, float] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        me = self.psutil.Process()
        while not self.stop.wait(self.interval):
            for p in me.children(recursive=True):
                try:
                    # Python workers only: the JVM's command line names pyspark too (its jars)
                    if p.name() != "java" and "pyspark" in " ".join(p.cmdline()):
                        t = p.cpu_times()
                        self.cpu[p.pid] = max(self.cpu.get(p.pid, 0.0), t.user + t.system)
                except self.psutil.Error:
                    pass

    def __enter__(self) -> "WorkerSampler":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def jvm_peak_mb() -> float | None:
    import psutil

    for p in psutil.Process().children(recursive=True):
        try:
            if p.name() == "java":
                for line in open(f"/proc/{p.pid}/status"):
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except (psutil.Error, OSError):
            pass
    return None


def prepare(corpus: str, output: str) -> None:
    """The corpus as a ``curated``-shaped Parquet table: uid, url, text (bad urls dropped)."""
    from pyspark.sql import functions as F

    from curation.spark.session import get_spark

    spark = get_spark("bench-url-list-prepare", None, {"spark.ui.enabled": "false"})
    df = spark.read.parquet(corpus).where(F.col("url").startswith("http"))
    df = df.select(F.substring(F.sha2("url", 224), 1, 24).alias("uid"), "url", "text")
    df.write.mode("overwrite").parquet(output)
    print(f"wrote {spark.read.parquet(output).count()} rows to {output}")


def run(impl: str, table: str, result: str | None) -> dict:
    from curation.download.urls import assign_shards, unique_urls, write_url_list
    from curation.spark.session import get_spark

    spark = get_spark("bench-url-list", None, {"spark.ui.enabled": "false"})
    out = f"{table.rstrip('/')}_url_list_{impl}"
    shutil.rmtree(out, ignore_errors=True)
    source = spark.read.parquet(table)
    rows = source.count()  # warm-up: the JVM and the file listing are not what is measured
    t0 = time.perf_counter()
    with WorkerSampler() as sampler:
        urls = unique_urls(source).where("url IS NOT NULL")
        if impl == "sql":
            listed, total = assign_shards(urls, SHARD)
            write_url_list(listed, out, total)
        else:
            total = urls.count()
            legacy_assign_shards(urls, SHARD, total).write.parquet(out)
    seconds = time.perf_counter() - t0
    check = spark.read.parquet(out)
    shards = check.select("shard").distinct().count()
    record = {
        "impl": impl, "rows": rows, "urls": total, "shards": shards, "seconds": round(seconds, 1),
        "python_driver_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "jvm_peak_mb": round(jvm_peak_mb() or float("nan"), 1),
        "python_worker_cpu_s": round(sum(sampler.cpu.values()), 1),
        "machine": f"{platform.node()} {os.cpu_count()} cores, spark.driver.memory 4g, local[*]",
        "at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    assert shards == math.ceil(total / SHARD), (shards, total)
    print(json.dumps(record))
    if result:
        with open(result, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    spark.stop()
    return record


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("prepare")
    a.add_argument("--corpus", required=True)
    a.add_argument("--output", required=True)
    b = sub.add_parser("run")
    b.add_argument("--impl", choices=("sql", "rdd"), required=True)
    b.add_argument("--table", required=True)
    b.add_argument("--result", default=None)
    args = p.parse_args(argv)
    if args.cmd == "prepare":
        prepare(args.corpus, args.output)
    else:
        run(args.impl, args.table, args.result)


if __name__ == "__main__":
    main()
