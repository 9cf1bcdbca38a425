"""DataFrame transforms of the curation pipeline: ``DataFrame + plain params -> DataFrame``.

Each transform only moves data to the Arrow forms of the rules in ``curation.columnar``
(``mapInArrow``: the text crosses to Python once per pass, carried columns pass through as
Arrow arrays) and aggregates in SQL. The stage runners (``curation.pipeline.runners``) decide
what to read and write; nothing here touches a file. Nothing per-row is collected on the driver;
what reaches the driver (metadata, per-entry counts and probabilities) is bounded by the
metadata size, never by the input size.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from curation import columnar
from curation.layout import BATCH_COLUMN
from curation.spark import faults
from curation.validation import DUPLICATE

CORRUPT_RECORD = "_corrupt_record"  # binary: raw bytes of a record the reader rejected (carried)
READER_REJECT = "_reader_reject"  # the reader's verdict (malformed_row / invalid_utf8); never written

LID_FIELDS = [
    T.StructField("uid", T.StringType()),
    T.StructField("url", T.StringType()),
    T.StructField("text", T.StringType()),
    T.StructField("lid_label", T.StringType()),
    T.StructField("lang", T.StringType()),
    T.StructField("lang_score", T.FloatType()),
    T.StructField("reject_reason", T.StringType()),
]
# Only in ``--lid improved`` runs: which rule decided the label (``curation.lid.detect_improved``).
# A reference run's tables have no such column, so they stay as MetaCLIP 2's.
LID_METHOD_FIELD = T.StructField("lid_method", T.StringType())
MATCH_FIELDS = [
    T.StructField("entry_ids", T.ArrayType(T.IntegerType())),
    T.StructField("reason", T.StringType()),
]
SAMPLE_FIELDS = [
    T.StructField("keep_prob", T.DoubleType()),
    T.StructField("keep_uniform", T.DoubleType()),
]
PARTIAL_COUNTS = T.StructType([
    T.StructField("lang", T.StringType()),
    T.StructField("entry_id", T.IntegerType()),
    T.StructField("count", T.LongType()),
])
# Columns the pipeline adds; input columns with these names are carried as ``input_<name>``.
RESERVED = ("uid", "lid_label", "lang", "lang_score", "reject_reason", LID_METHOD_FIELD.name, "entry_ids", "reason",
            "keep_prob", "keep_uniform", "_dup", "_prior", BATCH_COLUMN)
# Leading sort keys of every per-row table: uid first (files are uid-complete, groups of an
# image are contiguous), then the duplicate-check key, then the LID columns.
ORDER_HEAD = ("uid", "text", "reject_reason", "url", "lid_label", "lang", "lang_score")
_DERIVED = (LID_METHOD_FIELD.name, "entry_ids", "reason", "_dup", "_prior", BATCH_COLUMN, READER_REJECT)


def prepare_input(df: DataFrame, url_col: str, text_col: str, uid_col: str | None) -> DataFrame:
    """Rename the user's url/text(/uid) columns to ``url``/``text``(/``uid``) as strings; other
    columns are carried through unchanged (renamed ``input_<name>`` where they collide with ours)."""
    renames = {url_col: "url", text_col: "text"}
    if uid_col:
        renames[uid_col] = "uid"
    cols = []
    for name in df.columns:
        if name in renames:
            cols.append(F.col(f"`{name}`").cast("string").alias(renames[name]))
        elif name in RESERVED or name in ("url", "text"):
            cols.append(F.col(f"`{name}`").alias(f"input_{name}"))
        else:
            cols.append(F.col(f"`{name}`"))
    out = df.select(*cols)
    if "uid" not in out.columns:
        out = out.withColumn("uid", F.lit(None).cast("string"))
    return out


def carried_fields(df: DataFrame) -> list[T.StructField]:
    """The user's extra input columns, in input order (everything the pipeline did not add)."""
    ours = {f.name for f in LID_FIELDS} | set(_DERIVED)
    return [f for f in df.schema.fields if f.name not in ours]


def row_order(df: DataFrame) -> list[str]:
    """The total order of rows inside every per-row table file: ``ORDER_HEAD`` then the carried
    columns (map columns cannot be ordered and are left out). Output bytes then depend only on
    the rows, never on how Spark split the input."""
    return [*ORDER_HEAD, *(f.name for f in carried_fields(df) if not isinstance(f.dataType, T.MapType))]


def lid_fields(lid_mode: str) -> list[T.StructField]:
    """The LID columns a run adds: ``LID_FIELDS``, then ``lid_method`` in the improved mode."""
    return [*LID_FIELDS, *([LID_METHOD_FIELD] if lid_mode == "improved" else [])]


class _BroadcastEntries(Mapping[str, pa.Array]):
    """Inside a worker: the metadata as one broadcast per language (``broadcast_entries``),
    each read only when its language's matcher is built, so a worker holds the entry lists of
    the languages its rows have, not all of them."""

    def __init__(self, broadcasts: Mapping[str, object]):
        self._broadcasts = broadcasts

    def __getitem__(self, lang: str) -> pa.Array:
        return self._broadcasts[lang].value

    def __contains__(self, lang: object) -> bool:
        return lang in self._broadcasts

    def __iter__(self):
        return iter(self._broadcasts)

    def __len__(self) -> int:
        return len(self._broadcasts)


def broadcast_entries(spark, entries_by_lang: Mapping[str, Sequence[str]]) -> dict[str, object]:
    """One broadcast per metadata language, its entries as an Arrow string array (one buffer of
    text and one of offsets: ~4 B per entry beyond its UTF-8 bytes, instead of a Python string
    object each). Workers then read only the languages they meet (``_BroadcastEntries``)."""
    sc = spark.sparkContext
    return {lang: sc.broadcast(pa.array(list(entries), pa.string())) for lang, entries in entries_by_lang.items()}


def _arrays(rb: pa.RecordBatch, names: list[str], computed: dict[str, pa.Array]) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays([computed[n] if n in computed else rb.column(n) for n in names], names=names)


def annotate(df: DataFrame, max_text_chars: int, lid_min_score: float,
             entries_by_lang: Mapping[str, Sequence[str]] | None = None, fingerprint: str | None = None,
             fault_rate: float = 0.0, progress=None, lid_mode: str = "reference",
             matching_mode: str = "reference", matcher_cache_entries: int = 0) -> DataFrame:
    """Validation, uid and LID, and with ``entries_by_lang`` (the metadata, whose ``fingerprint``
    keys the workers' matcher cache) the substring match too, in ONE Python pass over Arrow
    batches (``mapInArrow``): LID is most of the per-row cost, so the text crosses to Python once
    and no stage is done twice. Output: ``lid_fields(lid_mode)`` (+ ``MATCH_FIELDS``) then the
    carried columns, passed through as Arrow arrays without conversion. ``progress``: an
    accumulator that counts the rows through Python (for the driver log only). ``lid_mode``,
    ``matching_mode``: ``columnar.annotate_lid_arrow`` / ``match_arrow``;
    ``matcher_cache_entries`` bounds each worker's matcher cache (0: no bound)."""
    spark = df.sparkSession
    carried = carried_fields(df)
    matching = entries_by_lang is not None
    if matching and not fingerprint:
        raise ValueError("matching needs the metadata fingerprint: it keys the workers' matcher cache")
    fields = [*lid_fields(lid_mode), *(MATCH_FIELDS if matching else []), *carried]
    names = [f.name for f in fields]
    entries_bc = broadcast_entries(spark, entries_by_lang) if matching else None
    reader_verdict = READER_REJECT in df.columns
    stage = "match" if matching else "lid"

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        entries = _BroadcastEntries(entries_bc) if entries_bc is not None else None
        for rb in batches:
            texts = rb.column("text")
            out = columnar.annotate_lid_arrow(rb.column("url"), texts, rb.column("uid"), max_text_chars,
                                              lid_min_score, lid_mode)
            if reader_verdict:  # malformed_row / invalid_utf8 decided by the reader (raw bytes kept)
                verdict = rb.column(READER_REJECT)
                out["reject_reason"] = pc.if_else(pc.is_valid(verdict), verdict, out["reject_reason"])
            if entries is not None:
                out["entry_ids"], out["reason"] = columnar.match_arrow(out["lang"], texts, out["reject_reason"],
                                                                       entries, fingerprint, matching_mode,
                                                                       matcher_cache_entries)
            yield _arrays(rb, names, out)
            if progress is not None:
                progress.add(rb.num_rows)
            faults.maybe_fail_task(fault_rate, stage)

    return df.mapInArrow(run, T.StructType(fields))


def by_uid(df: DataFrame, n_partitions: int) -> DataFrame:
    """Hash-partition by uid into ``n_partitions`` files and sort each by ``row_order``, with
    ``_dup`` marking repeated (uid, text) pairs but the first in that order. The window reuses
    the partitioning and the sort: one shuffle, one sort, whatever comes after."""
    from pyspark.sql import Window

    order = row_order(df)
    arranged = df.repartition(n_partitions, "uid").sortWithinPartitions(*order)
    rank = F.row_number().over(Window.partitionBy(*ORDER_HEAD[:3]).orderBy(*order[3:]))
    return arranged.withColumn("_dup", F.col("reject_reason").isNull() & (rank > 1))


def rows_kept_locally(spark) -> bool:
    """True in local mode (``keep_for_reuse`` then keeps rows in a local checkpoint)."""
    return spark.sparkContext.master.startswith("local")


def keep_for_reuse(df: DataFrame) -> DataFrame:
    """``df`` computed once for several writes and passes. In local mode its rows are kept as
    they are (a local checkpoint: no columnar encoding and decoding, about a third cheaper
    per reuse); a lost block cannot happen there, since executor and driver are one process.
    On a cluster the columnar cache is kept instead, because a lost executor's partitions are
    then recomputed from lineage, which a local checkpoint cannot do."""
    from pyspark import StorageLevel

    if rows_kept_locally(df.sparkSession):
        return df.localCheckpoint(eager=False, storageLevel=StorageLevel.MEMORY_AND_DISK)
    return df.persist(StorageLevel.MEMORY_AND_DISK)


def release(df: DataFrame) -> None:
    """Free what ``keep_for_reuse`` kept (cached or checkpointed blocks)."""
    df.unpersist()
    plan = df._jdf.queryExecution().analyzed()
    if plan.getClass().getSimpleName() != "LogicalRDD":
        return
    rdd = plan.rdd()
    # Spark warns that a local checkpoint "cannot be recomputed after unpersisting": expected
    # here (we are done with it), so that one logger is quiet for the call.
    log4j = df.sparkSession.sparkContext._jvm.org.apache.logging.log4j
    name = rdd.getClass().getName()
    level = log4j.LogManager.getLogger(name).getLevel()
    log4j.core.config.Configurator.setLevel(name, log4j.Level.ERROR)
    try:
        rdd.unpersist(False)
    finally:
        log4j.core.config.Configurator.setLevel(name, level)


def with_duplicates_rejected(marked: DataFrame) -> DataFrame:
    """Final ``entry_ids``/``reason`` of an annotated and ``by_uid``-marked frame: a repeated
    (uid, text) pair is a ``duplicate`` reject."""
    cols = [c for c in marked.columns if c not in ("entry_ids", "reason", "_dup")]
    dup = F.col("_dup")
    return marked.select(*cols, F.when(dup, F.lit(None)).otherwise(F.col("entry_ids")).alias("entry_ids"),
                         F.when(dup, F.lit(DUPLICATE)).otherwise(F.col("reason")).alias("reason"))


def match(marked: DataFrame, entries_by_lang: Mapping[str, Sequence[str]], fingerprint: str,
          fault_rate: float = 0.0, progress=None, matching_mode: str = "reference",
          matcher_cache_entries: int = 0) -> DataFrame:
    """Matching of a ``by_uid``-marked texts_lid frame (the match stage run alone): the same
    Arrow function as the fused pass of ``annotate``, so both give the same ``entry_ids``/``reason``."""
    spark = marked.sparkSession
    entries_bc = broadcast_entries(spark, entries_by_lang)
    base = [c for c in marked.columns if c != "_dup"]
    prior = F.when(F.col("_dup"), F.lit(DUPLICATE)).otherwise(F.col("reject_reason")).alias("_prior")
    framed = marked.select(*base, prior)
    fields = [*framed.schema.fields, *MATCH_FIELDS]
    names = [f.name for f in fields]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        entries = _BroadcastEntries(entries_bc)
        for rb in batches:
            ids, reasons = columnar.match_arrow(rb.column("lang"), rb.column("text"), rb.column("_prior"),
                                                entries, fingerprint, matching_mode, matcher_cache_entries)
            yield _arrays(rb, names, {"entry_ids": ids, "reason": reasons})
            if progress is not None:
                progress.add(rb.num_rows)
            faults.maybe_fail_task(fault_rate, "match")

    return framed.mapInArrow(run, T.StructType(fields)).drop("_prior")


def texts_lid_columns(df: DataFrame) -> list[str]:
    """Columns of ``texts_lid`` (and, but for ``reject_reason``, of the match tables): the LID
    columns, ``lid_method`` when the frame has it (improved LID), then the carried columns."""
    method = [LID_METHOD_FIELD.name] if LID_METHOD_FIELD.name in df.columns else []
    return [*(f.name for f in LID_FIELDS), *method, *(f.name for f in carried_fields(df))]


def split_matched(result: DataFrame, batch_id: str) -> tuple[DataFrame, DataFrame]:
    """(matched, rejects) of a match result: exactly one side per row, columns in table order."""
    rest = [c for c in texts_lid_columns(result) if c != "reject_reason"]
    batch_col = F.lit(batch_id).alias(BATCH_COLUMN)
    # _corrupt_record (raw bytes of a record the reader rejected) is null on every matched row
    matched = (result.filter(F.col("reason").isNull())
               .select(*(c for c in rest if c != CORRUPT_RECORD), batch_col, "entry_ids"))
    rejects = result.filter(F.col("reason").isNotNull()).select(*rest, batch_col, "reason")
    return matched, rejects


def partial_counts(matched: DataFrame, n_entries: Mapping[str, int], fault_rate: float = 0.0) -> DataFrame:
    """Non-zero texts per (lang, entry_id) of ``matched`` (``n_entries``: entries per language),
    by per-partition partial sums (one small row per non-zero entry per partition is shuffled,
    never one per match)."""
    spark = matched.sparkSession
    n_entries_bc = spark.sparkContext.broadcast(dict(n_entries))

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        sizes = n_entries_bc.value
        totals: dict[str, np.ndarray] = {}
        for rb in batches:
            part = columnar.count_entries_arrow(rb.column("lang"), rb.column("entry_ids"), sizes)
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

    partial = matched.select("lang", "entry_ids").mapInArrow(run, PARTIAL_COUNTS)
    return partial.groupBy("lang", "entry_id").agg(F.sum("count").cast("long").alias("count"))


def choose_and_keep(matched: DataFrame, probs_by_lang: dict[str, np.ndarray], seed: int,
                    epoch: int = 0, fault_rate: float = 0.0, progress=None) -> DataFrame:
    """One row per image of ``matched`` (which must be ``by_uid``-arranged: hash-partitioned by
    uid and sorted with uid first, so an image's texts are contiguous in one partition): its
    min-hash-chosen text with ``keep_prob`` and the image's ``keep_uniform`` coin. The choice is
    made while streaming, an image cut by an Arrow batch boundary is carried to the next batch:
    no aggregation, no per-image lists, no extra shuffle or sort."""
    spark = matched.sparkSession
    probs_bc = spark.sparkContext.broadcast(probs_by_lang)
    fields = [*matched.schema.fields, *SAMPLE_FIELDS]
    names = [f.name for f in fields]

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        probs = probs_bc.value
        pending: pa.Table | None = None  # rows of the last image of the previous batch
        for rb in batches:
            table = pa.Table.from_batches([rb]) if pending is None else pa.concat_tables(
                [pending, pa.Table.from_batches([rb])])
            uids = table.column("uid")
            last = uids[len(uids) - 1].as_py() if len(uids) else None
            complete = len(uids) - (pc.sum(pc.equal(uids, last)).as_py() or 0) if last is not None else 0
            done, pending = table.slice(0, complete), table.slice(complete)
            if done.num_rows:
                yield from _chosen(done, names, probs, seed, epoch)
            if progress is not None:
                progress.add(rb.num_rows)
            faults.maybe_fail_task(fault_rate, "sample")
        if pending is not None and pending.num_rows:
            yield from _chosen(pending, names, probs, seed, epoch)

    return matched.mapInArrow(run, T.StructType(fields))


def _chosen(table: pa.Table, names: list[str], probs: dict, seed: int, epoch: int) -> Iterator[pa.RecordBatch]:
    """Rows of complete images -> one chosen row per image, in input order."""
    rb = table.combine_chunks().to_batches()[0]
    keys = columnar.sampling_keys_arrow(seed, epoch, rb.column("uid"), rb.column("text"), rb.column("lang"),
                                        rb.column("entry_ids"), probs)
    pick = pa.array(columnar.chosen_per_image(rb.column("uid"), np.asarray(keys["choice_key"])))
    chosen = rb.take(pick)
    yield _arrays(chosen, names, {"keep_prob": keys["keep_prob"].take(pick),
                                  "keep_uniform": keys["keep_uniform"].take(pick)})


def kept_images(chosen: DataFrame) -> DataFrame:
    """curated: the chosen images whose coin falls below their keep probability."""
    return chosen.filter(F.col("keep_uniform") < F.col("keep_prob")).drop("keep_uniform")
