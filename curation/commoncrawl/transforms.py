"""Spark glue of the extraction: ``DataFrame + plain params -> DataFrame``; no session, no I/O.

- :func:`extract_files_df`: a list of input paths -> their part rows, **one task per file**
  (an RDD with one slice per path), each task streaming its file through
  :func:`.extract.extract_file` inside ``mapInArrow``; records never reach the driver.
- :func:`latest_parts`: which committed part holds each file's completion record.
- :func:`dedup_rows`: rows -> one row per (crawl, url, text) with ``page_count`` (distinct
  pages) and ``link_count`` (occurrences); the representative occurrence is the smallest by
  :data:`.schema.REPRESENTATIVE_ORDER`, so the result does not depend on task order.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from curation.commoncrawl.extract import extract_file
from curation.commoncrawl.schema import (ALT_TEXT_COLUMNS, FILE, FILE_COLUMNS, PART, REJECT, REJECT_COLUMNS,
                                         REPRESENTATIVE_ORDER, ROW)
from curation.commoncrawl.settings import ExtractSettings

PART_COLUMN = "part"  # name of the committed part a row was written in (added at write time)
ARROW_BATCH_ROWS = 4096


def part_spark_schema():
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(PART)


def to_batch(rows: list[dict]) -> pa.RecordBatch:
    """Part rows as one Arrow batch (via a struct array: the conversion runs in C++, about 3x
    faster than ``RecordBatch.from_pylist``)."""
    return pa.RecordBatch.from_struct_array(pa.array(rows, type=pa.struct(list(PART))))


def _extract_partition(settings: ExtractSettings, batch_rows: int):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            for path in batch.column("path").to_pylist():
                buffer: list[dict] = []
                for row in extract_file(path, settings):
                    buffer.append(row)
                    if len(buffer) >= batch_rows:
                        yield to_batch(buffer)
                        buffer = []
                if buffer:
                    yield to_batch(buffer)
    return run


def extract_files_df(spark: SparkSession, paths: list[str], settings: ExtractSettings,
                     batch_rows: int = ARROW_BATCH_ROWS) -> DataFrame:
    """Part rows of ``paths`` (schema :data:`.schema.PART`), one Spark task per file."""
    rdd = spark.sparkContext.parallelize([(p,) for p in paths], numSlices=max(1, len(paths)))
    files = spark.createDataFrame(rdd, "path string")
    return files.mapInArrow(_extract_partition(settings, batch_rows), part_spark_schema())


def latest_parts(parts: DataFrame, files: DataFrame) -> DataFrame:
    """``(source_file, part)``: for every file of ``files`` (column ``source_file``) that has a
    completion record, the newest part holding one (a file retried after ``unreadable`` has two)."""
    done = parts.filter(F.col("kind") == FILE).groupBy("source_file").agg(F.max(PART_COLUMN).alias(PART_COLUMN))
    return done.join(F.broadcast(files), "source_file")


def current_rows(parts: DataFrame, winners: DataFrame) -> DataFrame:
    """The part rows that belong to the winning part of each current file."""
    return parts.join(F.broadcast(winners), ["source_file", PART_COLUMN])


def dedup_rows(rows: DataFrame) -> DataFrame:
    """One row per (crawl, url, text): ``page_count`` = distinct ``page_url`` holding the pair,
    ``link_count`` = occurrences; other columns from the smallest occurrence."""
    rep = F.min(F.struct(*REPRESENTATIVE_ORDER)).alias("rep")
    grouped = (rows.filter(F.col("kind") == ROW)
               .groupBy("crawl", "url", "text")
               .agg(rep, F.countDistinct("page_url").cast("long").alias("page_count"),
                    F.count(F.lit(1)).cast("long").alias("link_count")))
    cols = {name: F.col(f"rep.{name}") for name in REPRESENTATIVE_ORDER}
    cols.update({name: F.col(name) for name in ("crawl", "url", "text", "page_count", "link_count")})
    return grouped.select(*(cols[name].alias(name) for name in ALT_TEXT_COLUMNS))


def rejects_table(data: DataFrame) -> DataFrame:
    return data.filter(F.col("kind") == REJECT).select(*REJECT_COLUMNS)


def files_table(data: DataFrame) -> DataFrame:
    return data.filter(F.col("kind") == FILE).select(*FILE_COLUMNS)
