"""Running stages: one stage (``run_stage``) or the whole curation (``run_curate``).

Both hold the output lock, skip a stage under ``--resume`` when its section in ``_stats.json``
has the current fingerprint and its tables exist, and record each stage's section after its
tables are written. ``run_curate`` checks the metadata and the input before anything is
written, fuses lid and match (``runners.FusedLidMatch``) and keeps an incremental ledger of
input batches in ``_stats.json["batches"]``.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

from curation.layout import STAGES
from curation.metadata import Metadata
from curation.pipeline.config import ConfigError, CurationConfig
from curation.pipeline.context import RunContext, load_metadata
from curation.pipeline.runners import RUNNERS, FusedLidMatch
from curation.pipeline.stats import now, record, stage_done, stage_fingerprint
from curation.spark import faults, transforms
from curation.spark.lock import OutputLock
from curation.spark.progress import stage_progress
from curation.spark.tables import ALLOW_NON_ATOMIC_CONF, check_replace_supported

log = logging.getLogger("curation")
METADATA_STAGES = ("match", "count")  # stages that read the metadata (loaded before the lock)


@contextlib.contextmanager
def output_policy(spark, cfg: CurationConfig) -> Iterator[None]:
    """Refuse a Parquet output on an object store before any work (unless
    ``--allow-non-atomic-parquet``, which then holds for every table write of this run)."""
    check_replace_supported(spark, cfg.output, cfg.format, cfg.allow_non_atomic_parquet)
    previous = spark.conf.get(ALLOW_NON_ATOMIC_CONF, None)
    if cfg.allow_non_atomic_parquet:
        spark.conf.set(ALLOW_NON_ATOMIC_CONF, "true")
    try:
        yield
    finally:
        if cfg.allow_non_atomic_parquet:
            if previous is None:
                spark.conf.unset(ALLOW_NON_ATOMIC_CONF)
            else:
                spark.conf.set(ALLOW_NON_ATOMIC_CONF, previous)


def run_stage(spark, cfg: CurationConfig, stage: str, metadata: Metadata | None = None,
              lock: OutputLock | None = None) -> dict:
    """Run one stage alone (or skip it under ``--resume`` when its output is complete and
    current); returns ``_stats.json`` as recorded. The metadata is loaded and checked first for
    the stages that need it. ``lock``: the output lock when the caller already holds it."""
    if stage not in STAGES:
        raise ConfigError(f"unknown stage {stage!r}")
    if metadata is None and stage in METADATA_STAGES:
        metadata = load_metadata(cfg)
    with output_policy(spark, cfg):
        return stage_in_run(RunContext(spark, cfg, metadata, lock), stage)


def stage_in_run(ctx: RunContext, stage: str) -> dict:
    """Run ``stage`` within the run ``ctx`` (its lock, its carried results)."""
    with ctx.lock:
        stats = ctx.read_stats()
        stage_fp = stage_fingerprint(ctx, stage, stats)
        if ctx.cfg.resume and stage_done(ctx, stage, stats, stage_fp):
            log.info("stage %s: complete for these inputs and settings, skipped (--resume)", stage)
            return stats
        log.info("stage %s: start", stage)
        with stage_progress(ctx.spark, stage) as progress:
            section = RUNNERS[stage](ctx, progress.row_counter)
        stats = record(ctx, stage, section, stage_fp)
        log.info("stage %s: done in %.1fs", stage, section["seconds"])
    faults.crash_point(f"after:{stage}")
    return stats


def _lid_and_match(ctx: RunContext, stats: dict) -> dict:
    """lid and match for ``curate``: fused when lid has to run, each recorded as its own stage
    (so ``--resume`` and the stage jobs see the usual sections), the fused result kept in
    ``ctx.fused``; stage by stage when resuming after lid. Returns the stats."""
    if ctx.cfg.resume and stage_done(ctx, "lid", stats, stage_fingerprint(ctx, "lid", stats)):
        log.info("stage lid: complete for these inputs and settings, skipped (--resume)")
        return stage_in_run(ctx, "match")
    log.info("stages lid+match (fused): start")
    with stage_progress(ctx.spark, "lid+match") as progress:
        fused = FusedLidMatch(ctx, progress.row_counter)
        try:
            for stage, write in (("lid", fused.write_lid), ("match", fused.write_match)):
                section = write()
                stats = record(ctx, stage, section, stage_fingerprint(ctx, stage, stats))
                log.info("stage %s: done in %.1fs", stage, section["seconds"])
                faults.crash_point(f"after:{stage}")
        except BaseException:
            fused.release()
            raise
    ctx.fused = fused.result
    return stats


def _check_ledger(ctx: RunContext, stats: dict) -> bool:
    """Incremental runs: refuse other metadata or a reused batch id; True when this batch was
    already processed completely (nothing to do)."""
    ledger = stats.get("batches", {})
    known = stats.get("run", {}).get("metadata", {}).get("fingerprint")
    if known and known != ctx.metadata_fingerprint:
        raise ConfigError("the metadata differs from the one this output was built with; an "
                          "incremental run must use the same metadata (or run a full curation)")
    entry = ledger.get(ctx.batch_id)
    if entry is None:
        return False
    if entry["input_fingerprint"] != ctx.input_fingerprint:
        raise ConfigError(f"batch id {ctx.batch_id!r} was already used for different input files "
                          f"({entry['input']}); choose another --batch-id")
    return bool(entry.get("completed"))


def run_curate(spark, cfg: CurationConfig, metadata: Metadata | None = None,
               lock: OutputLock | None = None) -> dict:
    """All stages in order; metadata and input are checked once, before any Spark work.

    With ``--incremental``, a batch already in the ledger (``_stats.json["batches"]``) is not
    processed again; a new one is added, and counts, thresholds and the sample are updated.
    ``lock``: the output lock when the caller already holds it (the CLI takes it before the JVM)."""
    with output_policy(spark, cfg):
        return _curate(RunContext(spark, cfg, metadata or load_metadata(cfg), lock))


def _curate(ctx: RunContext) -> dict:
    spark, cfg = ctx.spark, ctx.cfg
    ctx.input_df  # read and checked now, before anything is written (kept for lid)
    t0 = time.time()
    with ctx.lock:
        stats = ctx.read_stats()
        ledger = stats.get("batches", {})
        if cfg.incremental and _check_ledger(ctx, stats):
            log.warning("batch %s (%s) was already processed: nothing to do", ctx.batch_id,
                        ledger[ctx.batch_id]["input"])
            stats.setdefault("run", {})["last_batch_skipped"] = ctx.batch_id
            return stats
        try:
            stats = _lid_and_match(ctx, stats)
            for stage in ("count", "thresholds", "sample"):
                stats = stage_in_run(ctx, stage)
        finally:
            if ctx.fused is not None:
                transforms.release(ctx.fused)
                ctx.fused = None
        stats.setdefault("run", {})["total_seconds"] = round(time.time() - t0, 2)
        entry = {"input": ctx.input_path, "input_fingerprint": ctx.input_fingerprint, "completed": True,
                 "rows": stats["stages"]["lid"]["batch_rows_in"], "completed_at": now()}
        stats["batches"] = {**(ledger if cfg.incremental else {}), ctx.batch_id: entry}
        ctx.write_stats(stats)
    return stats
