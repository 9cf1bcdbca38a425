"""One runner per stage: read the previous table, transform, replace the output tables.

Every runner has the signature ``run_<stage>(ctx, progress=None) -> section``: ``ctx`` is the
run's ``RunContext``, ``progress`` the accumulator the stage's transforms count rows into (for
the driver log), and the returned section is what ``curate.run_stage`` records in
``_stats.json``. Every stage can run alone (it reads only tables under the output root) and
re-running one replaces its tables atomically. Per-row tables (``texts_lid``, ``matched``,
``rejects``, ``batch_counts``) are partitioned by ``batch_id``: a full run writes batch
``base``; an incremental run adds or replaces one batch, so processing a batch twice never
duplicates it.

Within one ``curate`` run, ``FusedLidMatch`` does lid and match in one pass and keeps the
result for count and sample (``ctx.fused``); count and thresholds hand their metadata-sized
tables on in ``ctx.carried``. The tables are the same as those of the stages run one by one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pyarrow as pa
from pyspark.sql import functions as F

from curation.balancing import (ThresholdError, counts_by_lang, entry_probabilities, plan_thresholds,
                                probabilities_by_lang)
from curation.layout import BATCH_COLUMN, table_path
from curation.pipeline.config import ConfigError
from curation.pipeline.context import RunContext
from curation.pipeline.stats import lid_section, match_section, sum_by, table_groups
from curation.spark import transforms
from curation.spark.aggregates import grouped_counts, small_frame
from curation.spark.tables import auto_partitions, read_table, table_exists, write_batch, write_table

# ---------------------------------------------------------------- layout of the per-row tables


def _files_per_batch(ctx: RunContext, source: str) -> int:
    """Files per batch of a per-row table: ``--output-partitions``, else one per 64 MB of ``source``."""
    return ctx.cfg.output_partitions or auto_partitions(ctx.spark, source)


def _recorded_files_per_batch(ctx: RunContext, stats: dict, stage: str, fallback: str) -> int:
    """Files per batch of the per-row tables: fixed by the lid stage from the *input* size and
    recorded, so every later table of the batch, run fused or alone, has the same layout."""
    recorded = stats.get("stages", {}).get(stage, {}).get("partitions")
    return ctx.cfg.output_partitions or recorded or auto_partitions(ctx.spark, fallback)


def _write_texts_lid(ctx: RunContext, frame, batch_id: str) -> None:
    cfg = ctx.cfg
    cols = transforms.texts_lid_columns(frame)
    write_batch(frame.select(*cols, F.lit(batch_id).alias(BATCH_COLUMN)), cfg.output, "texts_lid", cfg.format,
                batch_id, replace_all=not cfg.incremental)


def _write_match_tables(ctx: RunContext, result, batch_id: str) -> None:
    cfg = ctx.cfg
    matched, rejects = transforms.split_matched(result, batch_id)
    for name, df in (("matched", matched), ("rejects", rejects)):
        write_batch(df, cfg.output, name, cfg.format, batch_id, replace_all=not cfg.incremental)


# ---------------------------------------------------------------- lid, match

def run_lid(ctx: RunContext, progress=None) -> dict:
    """Validation, uid and LID of the input -> ``texts_lid`` (this batch)."""
    t0 = time.time()
    cfg = ctx.cfg
    n_files = _files_per_batch(ctx, ctx.input_path)
    annotated = transforms.annotate(ctx.input_df, cfg.max_text_chars, cfg.lid_min_score, None, None,
                                    cfg.inject_faults, progress, lid_mode=cfg.lid_mode)
    _write_texts_lid(ctx, transforms.by_uid(annotated, n_files), ctx.batch_id)
    texts_lid = read_table(ctx.spark, cfg.output, "texts_lid", cfg.format)
    groups = grouped_counts(texts_lid, BATCH_COLUMN, "lang", "reject_reason")
    return lid_section(ctx, ctx.batch_id, n_files, groups, time.time() - t0,
                       _lid_methods(ctx, texts_lid.filter(F.col(BATCH_COLUMN) == ctx.batch_id)))


def _lid_methods(ctx: RunContext, frame) -> list[tuple] | None:
    """(lid_method, n) of a batch's rows in the improved LID mode (None in the reference mode,
    whose tables have no lid_method column)."""
    if ctx.cfg.lid_mode != "improved":
        return None
    return grouped_counts(frame, transforms.LID_METHOD_FIELD.name)


def run_match(ctx: RunContext, progress=None) -> dict:
    """Matching of the current batch of ``texts_lid`` -> ``matched`` + ``rejects``."""
    t0 = time.time()
    spark, cfg = ctx.spark, ctx.cfg
    stats = ctx.read_stats()
    batch_id = ctx.current_batch(stats)
    texts_lid = (read_table(spark, cfg.output, "texts_lid", cfg.format).filter(F.col(BATCH_COLUMN) == batch_id)
                 .drop(BATCH_COLUMN))
    n_files = _recorded_files_per_batch(ctx, stats, "lid", table_path(cfg.output, "texts_lid"))
    # One shuffle by uid and one sort serve the duplicate check and both output layouts.
    result = transforms.match(transforms.by_uid(texts_lid, n_files), ctx.entries_by_lang, ctx.metadata_fingerprint,
                              cfg.inject_faults, progress, cfg.matching_mode, cfg.matcher_cache_entries)
    result = transforms.keep_for_reuse(result)
    try:
        _write_match_tables(ctx, result, batch_id)
    finally:
        transforms.release(result)
    texts_groups, matched_groups, reject_groups = table_groups(ctx)
    return match_section(batch_id, n_files, sum(g[-1] for g in texts_groups), matched_groups, reject_groups,
                         time.time() - t0, cfg.matching_mode)


class FusedLidMatch:
    """lid and match fused (what ``curate`` runs): one Python pass does validation, LID and
    matching; one shuffle by uid and one sort lay out all three per-row tables, written from one
    persisted result (``self.result``, uid-partitioned and sorted), which count and sample then
    reuse. The tables are identical to those of the two stages run one by one.

    ``write_lid()`` then ``write_match()`` write the tables and return each stage's section, so
    that the caller records lid before match's tables are written (as two separate stages would)."""

    def __init__(self, ctx: RunContext, progress=None):
        cfg = ctx.cfg
        self.ctx = ctx
        self.started = time.time()
        self.batch_id = ctx.batch_id
        self.n_files = _files_per_batch(ctx, ctx.input_path)
        annotated = transforms.annotate(ctx.input_df, cfg.max_text_chars, cfg.lid_min_score, ctx.entries_by_lang,
                                        ctx.metadata_fingerprint, cfg.inject_faults, progress,
                                        cfg.lid_mode, cfg.matching_mode, cfg.matcher_cache_entries)
        self.result = transforms.keep_for_reuse(
            transforms.with_duplicates_rejected(transforms.by_uid(annotated, self.n_files)))
        self._groups: list[tuple] = []  # (lang, reject_reason, reason, n) of this batch (full runs)
        self._texts_groups: list[tuple] = []
        self._lid_done = self.started

    def write_lid(self) -> dict:
        """``texts_lid``; its section counted from the result (full run) or the table (incremental:
        the table holds other batches too)."""
        ctx = self.ctx
        _write_texts_lid(ctx, self.result, self.batch_id)
        if ctx.cfg.incremental:
            self._texts_groups = grouped_counts(read_table(ctx.spark, ctx.cfg.output, "texts_lid", ctx.cfg.format),
                                                BATCH_COLUMN, "lang", "reject_reason")
        else:
            self._groups = grouped_counts(self.result, "lang", "reject_reason", "reason")
            self._texts_groups = [(self.batch_id, g[0], g[1], g[-1]) for g in self._groups]
        self._lid_done = time.time()
        return lid_section(ctx, self.batch_id, self.n_files, self._texts_groups, self._lid_done - self.started,
                           _lid_methods(ctx, self.result))

    def write_match(self) -> dict:
        """``matched`` and ``rejects`` (after ``write_lid``)."""
        ctx = self.ctx
        _write_match_tables(ctx, self.result, self.batch_id)
        if ctx.cfg.incremental:
            texts_groups, matched_groups, reject_groups = table_groups(ctx)
        else:
            texts_groups = self._texts_groups
            matched_groups = [(g[0], g[-1]) for g in self._groups if g[2] is None]
            reject_groups = [(g[2], g[-1]) for g in self._groups if g[2] is not None]
        return match_section(self.batch_id, self.n_files, sum(g[-1] for g in texts_groups), matched_groups,
                             reject_groups, time.time() - self._lid_done, ctx.cfg.matching_mode)

    def release(self) -> None:
        transforms.release(self.result)


# ---------------------------------------------------------------- count, thresholds, sample

def per_entry_table(values: dict[str, np.ndarray], name: str, arrow_type: pa.DataType,
                    entries: dict[str, list[str]] | None = None) -> pa.Table:
    """One row per (lang, entry_id), in that order, with ``values[lang][entry_id]`` as column
    ``name`` (and the entry text when ``entries`` is given): entry_counts and entry_probs."""
    langs = sorted(values)
    cols = {"lang": pa.array([lang for lang in langs for _ in range(len(values[lang]))], pa.string()),
            "entry_id": pa.array(np.concatenate([np.arange(len(values[lang]), dtype=np.int32) for lang in langs])
                                 if langs else np.empty(0, np.int32), pa.int32())}
    if entries is not None:
        cols["entry"] = pa.array([e for lang in langs for e in entries[lang]], pa.string())
    cols[name] = pa.array(np.concatenate([values[lang] for lang in langs]) if langs else [], arrow_type)
    return pa.table(cols)


def _small_table(ctx: RunContext, name: str, columns: tuple[str, ...]) -> pa.Table:
    """Metadata-sized table ``name`` as Arrow: the copy an earlier stage of this run handed on
    in ``ctx.carried``, else read back from the output."""
    table = ctx.carried.get(name)
    if table is None:
        table = read_table(ctx.spark, ctx.cfg.output, name, ctx.cfg.format).select(*columns).toArrow()
    return table.select(list(columns))


def _driver_table(spark, table: pa.Table):
    """A metadata-sized Arrow table built on the driver, as one ordered partition (shipped to
    the executor as a broadcast, not inside the task: ``aggregates.small_frame``)."""
    return small_frame(spark, table)


def run_count(ctx: RunContext, progress=None) -> dict:
    """Per-batch partial counts -> ``batch_counts`` (replaced per batch: idempotent), then
    ``entry_counts`` as their sum over all batches: a MERGE for Delta, a rewrite for Parquet.
    Reads the fused lid+match result of this run when there is one (``ctx.fused``), else the
    matched table; hands ``entry_counts`` on to thresholds in ``ctx.carried``.

    Driver memory is bounded by the metadata, whatever the number of rows or batches: the
    batch's partial counts are reduced and written by Spark, and the sum over every batch of
    ``batch_counts`` is a Spark aggregation whose result (at most one row per metadata entry)
    is all that reaches the driver. Counting runs in short SQL aggregations, so ``progress``
    counts nothing."""
    t0 = time.time()
    spark, cfg = ctx.spark, ctx.cfg
    batch_id = ctx.current_batch(ctx.read_stats())
    if ctx.fused is not None:
        matched = ctx.fused.filter(F.col("reason").isNull())
    else:
        matched = read_table(spark, cfg.output, "matched", cfg.format).filter(F.col(BATCH_COLUMN) == batch_id)
    # One small row per non-zero entry of this batch, reduced in Spark and written from there
    # as one file sorted by (lang, entry_id).
    partial = (transforms.partial_counts(matched, ctx.n_entries, cfg.inject_faults)
               .withColumn(BATCH_COLUMN, F.lit(batch_id)).repartition(1).sortWithinPartitions("lang", "entry_id"))
    write_batch(partial, cfg.output, "batch_counts", cfg.format, batch_id, replace_all=not cfg.incremental)
    all_partial = read_table(spark, cfg.output, "batch_counts", cfg.format)
    nonzero = (all_partial.groupBy("lang", "entry_id").agg(F.sum("count").cast("long").alias("count"))
               .toArrow())
    batches = sorted(r[0] for r in all_partial.select(BATCH_COLUMN).distinct().collect())
    totals = counts_by_lang(nonzero, ctx.n_entries)
    counts_tbl = per_entry_table(totals, "count", pa.int64(), dict(ctx.metadata.entries))
    counts = _driver_table(spark, counts_tbl)
    merged = False
    if cfg.incremental and cfg.format == "delta" and table_exists(spark, cfg.output, "entry_counts", "delta"):
        from delta.tables import DeltaTable

        target = DeltaTable.forPath(spark, table_path(cfg.output, "entry_counts"))
        (target.alias("t").merge(counts.alias("s"), "t.lang = s.lang AND t.entry_id = s.entry_id")
         .whenMatchedUpdate(condition="t.count <> s.count", set={"count": "s.count"})
         .whenNotMatchedInsertAll().whenNotMatchedBySourceDelete().execute())
        merged = True
    else:
        write_table(counts, cfg.output, "entry_counts", cfg.format)
    ctx.carried["entry_counts"] = counts_tbl
    per_lang = {lang: {"matches": int(c.sum()), "entries_matched": int(np.count_nonzero(c))}
                for lang, c in sorted(totals.items())}
    return {"batch_id": batch_id, "batches": batches,
            "entries": sum(ctx.n_entries.values()), "delta_merge": merged, "per_language": per_lang,
            "seconds": round(time.time() - t0, 2)}


def run_thresholds(ctx: RunContext, progress=None) -> dict:
    """Thresholds and probabilities are metadata-sized: computed on the driver with the same
    functions the baseline and the training loader use, then written as two small tables
    (``thresholds``, ``entry_probs``; the latter handed on to sample in ``ctx.carried``)."""
    t0 = time.time()
    spark, cfg = ctx.spark, ctx.cfg
    counts_tbl = _small_table(ctx, "entry_counts", ("lang", "entry_id", "count"))
    sizes: dict[str, int] = {}
    for lang, entry_id in zip(counts_tbl.column("lang").to_pylist(), counts_tbl.column("entry_id").to_pylist()):
        sizes[lang] = max(sizes.get(lang, 0), entry_id + 1)
    counts = counts_by_lang(counts_tbl, sizes)
    try:
        plan = plan_thresholds(counts, t_en=cfg.t_en_value(), p=cfg.tail_proportion, overrides=cfg.t_overrides,
                               en_lang=cfg.en_lang)
    except ThresholdError as exc:
        raise ConfigError(str(exc)) from exc
    ts, p = plan.t, plan.p
    # Matched texts per language: counted by the match stage over the whole matched table.
    n_texts = ctx.read_stats().get("stages", {}).get("match", {}).get("per_language")
    if n_texts is None:
        n_texts = dict(grouped_counts(read_table(spark, cfg.output, "matched", cfg.format), "lang"))
    langs = sorted(counts)
    thresholds = pa.table({
        "lang": pa.array(langs, pa.string()), "t": pa.array([ts[lang] for lang in langs], pa.int64()),
        "p": pa.array([p] * len(langs), pa.float64()),
        "total_count": pa.array([int(counts[lang].sum()) for lang in langs], pa.int64()),
        "n_entries": pa.array([len(counts[lang]) for lang in langs], pa.int64()),
        "n_texts": pa.array([int(n_texts.get(lang, 0)) for lang in langs], pa.int64())})
    probs = per_entry_table({lang: entry_probabilities(counts[lang], ts[lang]) for lang in langs}, "prob",
                            pa.float32())
    write_table(_driver_table(spark, thresholds), cfg.output, "thresholds", cfg.format)
    write_table(_driver_table(spark, probs), cfg.output, "entry_probs", cfg.format)
    ctx.carried["entry_probs"] = probs
    per_lang = {lang: {"t": ts[lang], "total_count": int(counts[lang].sum()), "n_entries": len(counts[lang]),
                       "n_texts": int(n_texts.get(lang, 0))} for lang in langs}
    section = {"t_en": plan.t_en, "t_en_mode": cfg.t_en, "p": p, "per_language": per_lang,
               "no_threshold": sorted(k for k, v in per_lang.items() if v["t"] == 0),
               "seconds": round(time.time() - t0, 2)}
    if plan.p_source != "auto" or cfg.t_en != "auto":
        section["p_source"] = plan.p_source
    for key in ("raised", "dropped", "overridden"):
        if getattr(plan, key):
            section[key] = list(getattr(plan, key))
    return section


def run_sample(ctx: RunContext, progress=None) -> dict:
    """One text per image, kept with its image's probability -> ``curated``. A full curate run
    samples the fused lid+match result still in memory (``ctx.fused``: already partitioned by
    uid and sorted, so the choice needs no shuffle and no sort); an incremental run or the stage
    alone reads the whole matched table (every batch)."""
    from pyspark.sql import Observation

    t0 = time.time()
    spark, cfg = ctx.spark, ctx.cfg
    stats = ctx.read_stats()
    fused = ctx.fused if not cfg.incremental else None
    table = read_table(spark, cfg.output, "matched", cfg.format) if fused is None else None
    probs = probabilities_by_lang(_small_table(ctx, "entry_probs", ("lang", "entry_id", "prob")))
    if fused is not None:
        matched, _ = transforms.split_matched(fused, ctx.current_batch(stats))
    else:
        n_files = (cfg.output_partitions or auto_partitions(spark, table_path(cfg.output, "matched"))
                   if cfg.incremental
                   else _recorded_files_per_batch(ctx, stats, "match", table_path(cfg.output, "matched")))
        order = [c for c in transforms.row_order(table) if c != "reject_reason"] + [BATCH_COLUMN]
        # Columns as the fused run has them: a full run's one batch id is a constant.
        batch_col = (F.col(BATCH_COLUMN) if cfg.incremental
                     else F.lit(ctx.current_batch(stats)).alias(BATCH_COLUMN))
        table = table.select(*(c for c in table.columns if c not in (BATCH_COLUMN, "entry_ids")), batch_col,
                             "entry_ids")
        matched = table.repartition(n_files, "uid").sortWithinPartitions(*order)
    images = Observation("images")
    chosen = transforms.choose_and_keep(matched, probs, cfg.seed, cfg.epoch, cfg.inject_faults, progress)
    chosen = chosen.observe(images, F.count(F.lit(1)).alias("n"))
    write_table(transforms.kept_images(chosen), cfg.output, "curated", cfg.format)
    groups = grouped_counts(read_table(spark, cfg.output, "curated", cfg.format), "lang")
    return {"seed": cfg.seed, "epoch": cfg.epoch, "images_in": int(images.get["n"]),
            "kept": sum(g[-1] for g in groups), "per_language": sum_by(groups, 0),
            "seconds": round(time.time() - t0, 2)}


Runner = Callable[[RunContext, object], dict]
RUNNERS: dict[str, Runner] = {"lid": run_lid, "match": run_match, "count": run_count,
                              "thresholds": run_thresholds, "sample": run_sample}
