"""Driver memory of the ``count`` stage as incremental batches accumulate (issue 16 item 1).

An incremental run adds one batch's partial counts to ``batch_counts`` and recomputes
``entry_counts`` from all batches. The driver used to collect every batch's partial rows
(``read_table(batch_counts).toArrow()``: batches x non-zero entries rows) and sum them in NumPy;
now Spark sums them and the driver receives at most one row per metadata entry. This builds an
output root whose ``batch_counts`` already holds B batches (synthetic partial counts over the
embedded metadata: ``--nonzero`` non-zero entries per batch), adds one more batch through the
real ``run_count`` runner, and reports the driver process's peak RSS growth and time for

- ``run_count``: the stage as it is now (Spark reduces, metadata-sized result to the driver);
- ``collect_all``: what the stage did before (every partial row collected, then summed).

    python -m benchmarks.driver.incremental_counts --batches 1,10,100 --nonzero 50000

Rows of ``batch_counts`` = batches x nonzero; run on local Spark (``--master``, default local[2]).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time

import numpy as np
import psutil

from curation.balancing import counts_by_lang
from curation.layout import BATCH_COLUMN, STATS_FILE
from curation.pipeline.config import CurationConfig
from curation.pipeline.context import RunContext
from curation.pipeline.runners import run_count
from curation.spark.tables import read_table, write_batch


class PeakRSS(threading.Thread):
    """Peak resident memory of this (driver) process while a block runs, sampled every 20 ms."""

    def __init__(self):
        super().__init__(daemon=True)
        self.proc = psutil.Process()
        self.base = self.proc.memory_info().rss
        self.peak = self.base
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)

    @property
    def growth_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def build_root(spark, root: str, ctx: RunContext, batches: int, nonzero: int, seed: int = 0) -> None:
    """``batch_counts`` with ``batches`` batches of ``nonzero`` partial counts each (generated on
    the executors), ``matched`` holding the new batch, and ``_stats.json`` naming it."""
    from pyspark.sql import functions as F

    sizes = ctx.n_entries
    langs = sorted(sizes)
    offsets = np.concatenate([[0], np.cumsum([sizes[lang] for lang in langs])]).tolist()
    total = offsets[-1]
    # global entry index g -> (lang, entry_id), spread over all languages
    lang_of = F.element_at(F.array(*[F.lit(lang) for lang in langs]),
                           (F.expr(f"int(({_bucket_expr(offsets)}))") + 1))
    start_of = F.element_at(F.array(*[F.lit(o) for o in offsets[:-1]]), F.expr(f"int(({_bucket_expr(offsets)}))") + 1)
    rows = (spark.range(0, batches * nonzero, 1, max(2, batches // 10))
            .withColumn("b", (F.col("id") / nonzero).cast("int"))
            .withColumn("g", ((F.col("id") % nonzero) * (total // nonzero) + F.col("b") % (total // nonzero)) % total))
    partial = rows.select(lang_of.alias("lang"), (F.col("g") - start_of).cast("int").alias("entry_id"),
                          (F.abs(F.hash("id", F.lit(seed))) % 50 + 1).cast("long").alias("count"),
                          F.format_string("b%04d", F.col("b")).alias(BATCH_COLUMN))
    path = os.path.join(root, "batch_counts")
    partial.write.partitionBy(BATCH_COLUMN).parquet(path)  # Spark's empty _SUCCESS: a committed table
    new = f"b{batches:04d}"
    matched = (spark.range(0, 20_000, 1, 2)
               .select(F.lit(langs[0]).alias("lang"),
                       F.array((F.col("id") % sizes[langs[0]]).cast("int")).alias("entry_ids"),
                       F.lit(new).alias(BATCH_COLUMN)))
    write_batch(matched, root, "matched", "parquet", new, replace_all=True)
    with open(os.path.join(root, STATS_FILE), "w") as f:
        json.dump({"stages": {"lid": {"batch_id": new}}}, f)


def _bucket_expr(offsets: list[int]) -> str:
    """SQL: the language index of global entry ``g`` (number of offsets <= g, minus one)."""
    return " + ".join(f"CASE WHEN g >= {o} THEN 1 ELSE 0 END" for o in offsets[1:-1]) or "0"


def collect_all(ctx: RunContext) -> dict[str, np.ndarray]:
    """The driver side of the stage before issue 16: every batch's partial rows collected."""
    table = read_table(ctx.spark, ctx.cfg.output, "batch_counts", "parquet").toArrow()
    return counts_by_lang(table.select(["lang", "entry_id", "count"]), ctx.n_entries)


def measure(spark, batches: int, nonzero: int, master_tmp: str) -> dict:
    root = tempfile.mkdtemp(prefix=f"counts_{batches}_", dir=master_tmp)
    cfg = CurationConfig(output=root, incremental=True, output_partitions=2).validate()
    ctx = RunContext(spark, cfg)
    build_root(spark, root, ctx, batches, nonzero)
    out = {"batches_before": batches, "batch_counts_rows": batches * nonzero}
    # run_count first: memory the allocator keeps after collect_all would hide its growth
    for name, fn in (("run_count", lambda: run_count(ctx)), ("collect_all", lambda: collect_all(ctx))):
        import gc

        gc.collect()
        t0 = time.perf_counter()
        with PeakRSS() as peak:
            fn()
        out[name] = {"seconds": round(time.perf_counter() - t0, 2), "driver_rss_growth_mb": round(peak.growth_mb, 1)}
    totals = read_table(spark, root, "entry_counts", "parquet").selectExpr("sum(count)").first()[0]
    out["entry_counts_total"] = int(totals)
    shutil.rmtree(root, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--batches", default="1,10,100", help="batches already in batch_counts (comma list)")
    p.add_argument("--nonzero", type=int, default=50_000, help="non-zero entries per batch")
    p.add_argument("--master", default="local[2]")
    p.add_argument("--tmp", default=None)
    args = p.parse_args(argv)
    from curation.spark.session import get_spark

    spark = get_spark("bench-incremental-counts", args.master, {"spark.ui.enabled": "false",
                                                                "spark.sql.shuffle.partitions": "8"})
    tmp = args.tmp or tempfile.mkdtemp(prefix="wwclip-bench-")
    results = [measure(spark, int(b), args.nonzero, tmp) for b in args.batches.split(",")]
    print(json.dumps({"nonzero_per_batch": args.nonzero, "metadata_entries": sum(RunContext(
        spark, CurationConfig().validate()).n_entries.values()), "results": results}, indent=2))


if __name__ == "__main__":
    main()
