"""Spark stages of the curation pipeline: ``DataFrame + plain params -> DataFrame``.

Each stage only moves data to the batch functions of ``curation.batch`` (Arrow batches via
pandas UDFs / mapInArrow) and aggregates in SQL. Nothing per-row is collected on the driver;
what reaches the driver (metadata, per-entry counts and probabilities) is bounded by the
metadata size, never by the input size.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from curation import batch, faults
from curation.balancing import entry_probabilities, threshold_for_proportion
from curation.balancing import probabilities_by_lang as balancing_probabilities
from curation.metadata import Metadata
from curation.spark.tables import BATCH_COLUMN
from curation.validation import DUPLICATE, MALFORMED_ROW

CORRUPT_RECORD = "_corrupt_record"  # Spark's PERMISSIVE-mode column for unparseable input lines

LID_RESULT = T.StructType([
    T.StructField("uid", T.StringType()),
    T.StructField("lid_label", T.StringType()),
    T.StructField("lang", T.StringType()),
    T.StructField("lang_score", T.FloatType()),
    T.StructField("reject_reason", T.StringType()),
])
MATCH_RESULT = T.StructType([
    T.StructField("entry_ids", T.ArrayType(T.IntegerType())),
    T.StructField("reason", T.StringType()),
])
SAMPLE_KEYS = T.StructType([
    T.StructField("choice_key", T.LongType()),
    T.StructField("keep_prob", T.DoubleType()),
    T.StructField("keep_uniform", T.DoubleType()),
])
PARTIAL_COUNTS = T.StructType([
    T.StructField("lang", T.StringType()),
    T.StructField("entry_id", T.IntegerType()),
    T.StructField("count", T.LongType()),
])
PROBS_SCHEMA = T.StructType([
    T.StructField("lang", T.StringType()),
    T.StructField("entry_id", T.IntegerType()),
    T.StructField("count", T.LongType()),
    T.StructField("t", T.LongType()),
    T.StructField("prob", T.FloatType()),
])
# Columns the pipeline adds; input columns with these names are carried as ``input_<name>``.
RESERVED = ("uid", "lid_label", "lang", "lang_score", "reject_reason", "entry_ids", "reason",
            "keep_prob", "choice_key", "keep_uniform", BATCH_COLUMN)


def prepare_input(df: DataFrame, url_col: str, text_col: str, uid_col: str | None) -> DataFrame:
    """Rename the user's url/text(/uid) columns to ``url``/``text``(/``uid``); other columns are
    carried through unchanged (renamed ``input_<name>`` where they collide with ours)."""
    renames = {url_col: "url", text_col: "text"}
    if uid_col:
        renames[uid_col] = "uid"
    cols = []
    for name in df.columns:
        if name in renames:
            cols.append(F.col(f"`{name}`").alias(renames[name]))
        elif name in RESERVED or name in ("url", "text"):
            cols.append(F.col(f"`{name}`").alias(f"input_{name}"))
        else:
            cols.append(F.col(f"`{name}`"))
    out = df.select(*cols)
    if "uid" not in out.columns:
        out = out.withColumn("uid", F.lit(None).cast("string"))
    return out


def lid_stage(df: DataFrame, max_text_chars: int, lid_min_score: float, batch_id: str,
              fault_rate: float = 0.0, rows=None) -> DataFrame:
    """texts_lid: every input row, with uid, LID label/score, metadata language and, for rows
    that cannot be curated, the reject reason. Only url/text/uid travel to Python."""

    @F.pandas_udf(LID_RESULT)
    def lid_udf(it: Iterator[tuple[pd.Series, pd.Series, pd.Series]]) -> Iterator[pd.DataFrame]:
        for urls, texts, uids in it:
            cols = batch.annotate_lid(urls.tolist(), texts.tolist(), uids.tolist(),
                                      max_text_chars, lid_min_score)
            yield pd.DataFrame(cols)
            if rows is not None:
                rows.add(len(texts))
            faults.maybe_fail_task(fault_rate, "lid")

    res = df.withColumn("_lid", lid_udf("url", "text", "uid"))
    carried = [c for c in df.columns if c not in ("uid", "url", "text")]
    reason = F.col("_lid.reject_reason")
    if CORRUPT_RECORD in df.columns:  # a line the reader could not parse: kept, raw, as a reject
        reason = F.when(F.col(CORRUPT_RECORD).isNotNull(), F.lit(MALFORMED_ROW)).otherwise(reason)
    return res.select(F.col("_lid.uid").alias("uid"), "url", "text", "_lid.lid_label", "_lid.lang",
                      "_lid.lang_score", reason.alias("reject_reason"), *carried,
                      F.lit(batch_id).alias(BATCH_COLUMN))


def mark_duplicates(texts_lid: DataFrame) -> DataFrame:
    """Reject repeated (uid, text) rows as ``duplicate``, keeping one per pair (the smallest by
    every other column, so the choice is deterministic). Cheap when ``texts_lid`` is already
    hash-partitioned by uid: the window then needs no extra shuffle."""
    from pyspark.sql import Window
    from pyspark.sql.types import MapType

    order = [f.name for f in texts_lid.schema.fields
             if f.name not in ("uid", "text", "reject_reason") and not isinstance(f.dataType, MapType)]
    rank = F.row_number().over(Window.partitionBy("uid", "text", "reject_reason").orderBy(*order))
    reason = F.when(F.col("reject_reason").isNull() & (rank > 1), F.lit(DUPLICATE)).otherwise(F.col("reject_reason"))
    return texts_lid.withColumn("reject_reason", reason)


def match_stage(texts_lid: DataFrame, metadata: Metadata, fault_rate: float = 0.0, rows=None) -> DataFrame:
    """Every texts_lid row with ``entry_ids`` (null unless matched) and the final ``reason``
    (null = matched). Automata are built per worker process from broadcast entry lists."""
    spark = texts_lid.sparkSession
    entries_bc = spark.sparkContext.broadcast({k: list(v) for k, v in metadata.entries.items()})
    fingerprint = metadata.fingerprint()

    @F.pandas_udf(MATCH_RESULT)
    def match_udf(it: Iterator[tuple[pd.Series, pd.Series, pd.Series]]) -> Iterator[pd.DataFrame]:
        entries = entries_bc.value
        for langs, texts, prior in it:
            ids, reasons = batch.match_texts(langs.tolist(), texts.tolist(), prior.tolist(),
                                             entries, fingerprint)
            yield pd.DataFrame({"entry_ids": pd.Series(ids, dtype=object), "reason": reasons})
            if rows is not None:
                rows.add(len(texts))
            faults.maybe_fail_task(fault_rate, "match")

    res = texts_lid.withColumn("_m", match_udf("lang", "text", "reject_reason"))
    rest = [c for c in texts_lid.columns if c != "reject_reason"]
    return res.select(*rest, "_m.entry_ids", "_m.reason")


def split_matched(match_result: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(matched, rejects) from the match result: exactly one side per row."""
    matched = match_result.filter(F.col("reason").isNull()).drop("reason")
    rejects = match_result.filter(F.col("reason").isNotNull()).drop("entry_ids")
    return matched, rejects


METADATA_ROWS = T.StructType([
    T.StructField("lang", T.StringType()),
    T.StructField("entry_id", T.IntegerType()),
    T.StructField("entry", T.StringType()),
])


def metadata_frame(spark: SparkSession, metadata: Metadata) -> DataFrame:
    """(lang, entry_id, entry) built on the executors from a broadcast of the entry lists: tasks
    carry only a language name, never the metadata itself."""
    entries_bc = spark.sparkContext.broadcast({k: list(v) for k, v in metadata.entries.items()})
    langs = spark.createDataFrame([(lang,) for lang in metadata.languages], "lang string")

    def expand(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        entries = entries_bc.value
        for rb in batches:
            for lang in rb.column("lang").to_pylist():
                items = entries[lang]
                yield pa.RecordBatch.from_arrays(
                    [pa.array([lang] * len(items), pa.string()), pa.array(range(len(items)), pa.int32()),
                     pa.array(items, pa.string())], names=["lang", "entry_id", "entry"])

    return langs.repartition(min(len(metadata.languages), 8) or 1, "lang").mapInArrow(expand, METADATA_ROWS)


def partial_count_stage(matched: DataFrame, metadata: Metadata, fault_rate: float = 0.0) -> DataFrame:
    """Non-zero texts per (lang, entry_id) of ``matched``, by per-partition partial sums
    (one small row per non-zero entry per partition is shuffled, never one per match)."""
    spark = matched.sparkSession
    n_entries_bc = spark.sparkContext.broadcast({k: len(v) for k, v in metadata.entries.items()})

    def partial_counts(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        n_entries = n_entries_bc.value
        totals: dict[str, np.ndarray] = {}
        for rb in batches:
            part = batch.count_entries(rb.column("lang").to_pylist(),
                                       rb.column("entry_ids").to_pylist(), n_entries)
            for lang, counts in part.items():
                if lang in totals:
                    totals[lang] += counts
                else:
                    totals[lang] = counts
            faults.maybe_fail_task(fault_rate, "count")
        for lang, counts in totals.items():
            nz = np.flatnonzero(counts)
            yield pa.RecordBatch.from_arrays(
                [pa.array([lang] * len(nz), pa.string()), pa.array(nz.astype(np.int32)),
                 pa.array(counts[nz], pa.int64())], schema=pa.schema(
                     [("lang", pa.string()), ("entry_id", pa.int32()), ("count", pa.int64())]))

    partial = matched.select("lang", "entry_ids").mapInArrow(partial_counts, PARTIAL_COUNTS)
    return partial.groupBy("lang", "entry_id").agg(F.sum("count").cast("long").alias("count"))


def complete_counts(spark: SparkSession, partial: DataFrame, metadata: Metadata) -> DataFrame:
    """entry_counts: every metadata entry with its summed count (zeros included)."""
    summed = partial.groupBy("lang", "entry_id").agg(F.sum("count").alias("count"))
    return (metadata_frame(spark, metadata).join(summed, ["lang", "entry_id"], "left")
            .select("lang", "entry_id", "entry", F.coalesce("count", F.lit(0)).cast("long").alias("count")))


def english_counts(entry_counts: DataFrame, en_lang: str = "en") -> np.ndarray:
    """English per-entry counts in entry order (metadata-sized) for t_en and p."""
    rows = entry_counts.filter(F.col("lang") == en_lang).select("entry_id", "count").toArrow()
    order = np.argsort(rows.column("entry_id").to_numpy())
    return rows.column("count").to_numpy()[order].astype(np.int64)


def thresholds_stage(entry_counts: DataFrame, matched: DataFrame, t_en: int, p: float,
                     en_lang: str = "en") -> tuple[DataFrame, DataFrame]:
    """(thresholds, entry_probs): per language ``t`` keeping the English tail proportion ``p``
    (English itself uses ``t_en``), and ``prob = t / max(count, t)`` per entry.
    Grouping by lang is safe here: groups are metadata entries, not texts."""

    def per_language(pdf: pd.DataFrame) -> pd.DataFrame:
        pdf = pdf.sort_values("entry_id")
        counts = pdf["count"].to_numpy(dtype=np.int64)
        lang = pdf["lang"].iloc[0]
        t = t_en if lang == en_lang else threshold_for_proportion(counts, p)
        if counts.sum() == 0:
            t = 0
        return pd.DataFrame({"lang": lang, "entry_id": pdf["entry_id"].to_numpy(np.int32),
                             "count": counts, "t": np.int64(t),
                             "prob": entry_probabilities(counts, t)})

    probs = (entry_counts.select("lang", "entry_id", "count")
             .groupBy("lang").applyInPandas(per_language, PROBS_SCHEMA))
    n_texts = matched.groupBy("lang").agg(F.count(F.lit(1)).alias("n_texts"))
    thresholds = (probs.groupBy("lang").agg(F.first("t").alias("t"),
                                            F.sum("count").alias("total_count"),
                                            F.count(F.lit(1)).alias("n_entries"))
                  .join(n_texts, "lang", "left")
                  .select("lang", "t", F.lit(p).alias("p"), "total_count", "n_entries",
                          F.coalesce("n_texts", F.lit(0)).alias("n_texts")))
    return thresholds, probs.select("lang", "entry_id", "prob")


def probabilities_by_lang(entry_probs: DataFrame) -> dict[str, np.ndarray]:
    """entry_probs as ``{lang: float32 array indexed by entry_id}`` (metadata-sized)."""
    return balancing_probabilities(entry_probs.select("lang", "entry_id", "prob").toArrow())


def choose_texts(matched: DataFrame, probs_by_lang: dict[str, np.ndarray], seed: int,
                 epoch: int = 0, fault_rate: float = 0.0, rows=None) -> DataFrame:
    """One row per image: the min-hash-chosen matched text with its ``keep_prob`` and the
    image's ``keep_uniform`` coin. A ``min`` over a struct picks the text (no per-image lists);
    if ``matched`` is already hash-partitioned by uid, no further shuffle is added."""
    spark = matched.sparkSession
    probs_bc = spark.sparkContext.broadcast(probs_by_lang)

    @F.pandas_udf(SAMPLE_KEYS)
    def keys_udf(it: Iterator[tuple[pd.Series, pd.Series, pd.Series, pd.Series]]) -> Iterator[pd.DataFrame]:
        probs = probs_bc.value
        for uids, texts, langs, ids in it:
            yield pd.DataFrame(batch.sampling_keys(seed, epoch, uids.tolist(), texts.tolist(),
                                                   langs.tolist(), ids.tolist(), probs))
            if rows is not None:
                rows.add(len(uids))
            faults.maybe_fail_task(fault_rate, "sample")

    keyed = matched.withColumn("_k", keys_udf("uid", "text", "lang", "entry_ids"))
    others = [c for c in matched.columns if c != "uid"]
    candidate = F.struct(F.col("_k.choice_key").alias("choice_key"), *[F.col(c) for c in others],
                         F.col("_k.keep_prob").alias("keep_prob"),
                         F.col("_k.keep_uniform").alias("keep_uniform"))
    chosen = keyed.groupBy("uid").agg(F.min(candidate).alias("_c"))
    return chosen.select("uid", *[F.col(f"_c.{c}").alias(c) for c in others],
                         F.col("_c.keep_prob").alias("keep_prob"), F.col("_c.keep_uniform").alias("keep_uniform"))


def kept_images(chosen: DataFrame) -> DataFrame:
    """curated: the chosen images whose coin falls below their keep probability."""
    return chosen.filter(F.col("keep_uniform") < F.col("keep_prob")).drop("keep_uniform")


