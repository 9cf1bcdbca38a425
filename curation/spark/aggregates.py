"""Small aggregations collected to the driver (counts for ``_stats.json`` sections)."""

from __future__ import annotations


def grouped_counts(df, *columns: str) -> list[tuple]:
    """Row counts per combination of ``columns`` in one aggregation job: ``[(*values, n), ...]``
    (unordered; a group absent from ``df`` has no tuple)."""
    from pyspark.sql import functions as F

    return [(*(r[c] for c in columns), int(r["n"]))
            for r in df.groupBy(*columns).agg(F.count(F.lit(1)).alias("n")).collect()]
