"""Metadata-sized data between the driver and Spark: small aggregations collected to the driver
(counts for ``_stats.json`` sections), and small driver-side Arrow tables handed to Spark."""

from __future__ import annotations

import pyarrow as pa


def grouped_counts(df, *columns: str) -> list[tuple]:
    """Row counts per combination of ``columns`` in one aggregation job: ``[(*values, n), ...]``
    (unordered; a group absent from ``df`` has no tuple)."""
    from pyspark.sql import functions as F

    return [(*(r[c] for c in columns), int(r["n"]))
            for r in df.groupBy(*columns).agg(F.count(F.lit(1)).alias("n")).collect()]


def small_frame(spark, table: pa.Table):
    """A metadata-sized Arrow table built on the driver (entry counts, thresholds,
    probabilities) as a one-partition DataFrame with its rows in table order.

    The table travels to the executor as one broadcast of its Arrow IPC bytes and is rebuilt
    there by a one-row ``mapInArrow``. ``createDataFrame`` would put the rows inside the task
    itself: a task of several MB for 100k entries, which Spark warns about ("task of very large
    size") and ships again with every retry."""
    from pyspark.sql.pandas.types import from_arrow_schema

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    payload = spark.sparkContext.broadcast(sink.getvalue().to_pybytes())

    def emit(batches):
        for _ in batches:  # the one row of spark.range(1): only a trigger
            pass
        yield from pa.ipc.open_stream(payload.value)

    return spark.range(0, 1, 1, 1).mapInArrow(emit, from_arrow_schema(table.schema))
