"""The extraction run: input list -> per-file parts (resumable) -> ``alt_texts`` + rejects + stats.

Layout under ``--output``::

    _extract/parts/p-<settings fp>-<utc time>-<n>/   committed parts (Parquet, written with the
                                                    project's atomic table write): rows, rejects
                                                    and one completion row per file
    alt_texts/          one row per distinct (crawl, url, text): the input of wwclip-curate
    extract_rejects/    every image link or record that gave no row, with its reason
    extract_files/      one row per input file: status (ok, truncated, corrupt, unreadable) + counters
    _stats.json         section stages.extract, written last (the run's completion marker)

Resume: a file whose completion row sits in a committed part made with the same settings
fingerprint is not read again (files that were ``unreadable`` are retried). Files are
extracted in groups of ``--files-per-job``, one Spark task per file, each group committed as
one part: a crash loses at most the groups in flight, and a part is either complete or
invisible. The public tables are then rebuilt from the parts of the current input list and
replaced atomically (Delta: one transaction; Parquet: written aside, then renamed).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict
from datetime import datetime, timezone

from pyspark.sql import functions as F

from curation import __version__
from curation.commoncrawl import transforms
from curation.commoncrawl.config import ExtractConfig
from curation.commoncrawl.inputs import expand_inputs
from curation.commoncrawl.schema import COUNTERS, FILE, FILE_STATUSES, OK, RETRIED_STATUSES
from curation.layout import STATS_FILE, table_path
from curation.spark import fs
from curation.spark.fs import read_json, write_json
from curation.spark.lock import acquire_lock, owner, release_lock
from curation.spark.tables import MIN_FILES, arrange, read_table, write_table

log = logging.getLogger("curation.commoncrawl")

STAGE = "extract"
PARTS_DIR = "_extract/parts"
TABLES = ("alt_texts", "extract_rejects", "extract_files")
ROWS_PER_FILE = 1_000_000
BAD_FILES_LISTED = 1000  # _stats.json lists at most this many bad files (extract_files has them all)


def _part_names(spark, root: str, fingerprint: str) -> list[str]:
    """Committed parts made with ``fingerprint`` (a part being written lives under ``_tmp``)."""
    parts_root = table_path(root, PARTS_DIR)
    return [name for name in fs.list_dirs(spark, parts_root)
            if name.startswith(f"p-{fingerprint}-") and fs.exists(spark, f"{parts_root}/{name}/_SUCCESS")]


def _read_parts(spark, root: str, names: list[str]):
    parts_root = table_path(root, PARTS_DIR)
    schema = transforms.part_spark_schema().add(transforms.PART_COLUMN, "string")
    return spark.read.schema(schema).parquet(*(f"{parts_root}/{name}" for name in names))


def completed_files(spark, root: str, fingerprint: str) -> dict[str, str]:
    """``{source_file: status}`` of the newest completion row of every file already extracted
    with these settings (one small column read; no data rows)."""
    names = _part_names(spark, root, fingerprint)
    if not names:
        return {}
    rows = (_read_parts(spark, root, names).filter(F.col("kind") == FILE)
            .select("source_file", "status", transforms.PART_COLUMN).collect())
    latest: dict[str, tuple[str, str]] = {}
    for r in rows:
        if r["source_file"] not in latest or r[transforms.PART_COLUMN] > latest[r["source_file"]][0]:
            latest[r["source_file"]] = (r[transforms.PART_COLUMN], r["status"])
    return {path: status for path, (_, status) in latest.items()}


def files_per_job(spark, cfg: ExtractConfig) -> int:
    return cfg.files_per_job or max(16, 4 * spark.sparkContext.defaultParallelism)


def extract_missing(spark, cfg: ExtractConfig, files: list[str]) -> tuple[int, int]:
    """Extract every file of ``files`` without a valid completion record; returns (extracted now,
    reused from earlier runs)."""
    fp = cfg.settings.fingerprint()
    done = completed_files(spark, cfg.output, fp)
    todo = [f for f in files if done.get(f) is None or done[f] in RETRIED_STATUSES]
    step = files_per_job(spark, cfg)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    parts_root = table_path(cfg.output, PARTS_DIR)
    for i in range(0, len(todo), step):
        group = todo[i:i + step]
        name = f"p-{fp}-{stamp}-{i // step:06d}"
        log.info("extract: files %d-%d of %d to extract -> part %s", i + 1, i + len(group), len(todo), name)
        df = transforms.extract_files_df(spark, group, cfg.settings).withColumn(transforms.PART_COLUMN, F.lit(name))
        write_table(df, parts_root, name, "parquet")
    return len(todo), len(files) - len(todo)


def _sum(rows: list[dict], key: str) -> int:
    return int(sum(r[key] or 0 for r in rows))


def _section(cfg: ExtractConfig, files: list[str], file_rows: list[dict], rows_out: int, reject_reasons: dict,
             n_rejects: int, extracted: int, reused: int, seconds: float) -> dict:
    totals = {key: _sum(file_rows, key) for key in COUNTERS}
    by_status = {s: sum(1 for r in file_rows if r["status"] == s) for s in FILE_STATUSES}
    bad = [{"path": r["source_file"], "status": r["status"], "records_read": int(r["records"] or 0),
            "error": r["error"]} for r in file_rows if r["status"] != OK]
    link_rejects = totals["rejects"] - totals["bad_records"]
    accounting = {
        "links = link_rows + link_rejects + no_text_dropped":
            totals["links"] == totals["link_rows"] + link_rejects + totals["no_text_dropped"],
        "extract_rejects rows = rejects counted": n_rejects == totals["rejects"],
    }
    return {
        "input": cfg.inputs, "format": cfg.format, "settings": asdict(cfg.settings),
        "fingerprint": cfg.settings.fingerprint(),
        "files": {"total": len(files), "extracted_this_run": extracted, "reused": reused, "by_status": by_status},
        "bad_files": bad[:BAD_FILES_LISTED], "bad_files_total": len(bad),
        **totals, "rows_extracted": totals["rows"], "rows_out": rows_out,
        "duplicates_collapsed": totals["rows"] - rows_out, "rejects_by_reason": reject_reasons,
        "accounting": accounting, "accounting_ok": all(accounting.values()),
        "compressed_bytes": _sum(file_rows, "bytes"),
        "task_seconds": round(sum(r["seconds"] or 0 for r in file_rows), 2),
        "seconds": round(seconds, 2),
    }


def _write_stats(spark, cfg: ExtractConfig, section: dict) -> dict:
    import pyspark

    path = table_path(cfg.output, STATS_FILE)
    stats = read_json(spark, path)
    section["completed_at"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    stats.setdefault("stages", {})[STAGE] = section
    stats.setdefault("run", {}).update({"updated_at": section["completed_at"], "output": cfg.output,
                                        "versions": {"worldwide_clip": __version__, "pyspark": pyspark.__version__}})
    write_json(spark, path, stats)
    return stats


def run_extract(spark, cfg: ExtractConfig) -> dict:
    """The whole run (see module docstring); returns the ``stages.extract`` section."""
    t0 = time.time()
    files = expand_inputs(cfg.inputs, cfg.path_prefix)  # ConfigError before any work
    acquire_lock(spark, cfg.output, owner(job="extract"))
    try:
        if cfg.reprocess:
            fs.delete(spark, table_path(cfg.output, PARTS_DIR))
        extracted, reused = extract_missing(spark, cfg, files)
        names = _part_names(spark, cfg.output, cfg.settings.fingerprint())
        parts = _read_parts(spark, cfg.output, names)
        current = spark.createDataFrame([(f,) for f in files], "source_file string")
        winners = transforms.latest_parts(parts, current)
        data = transforms.current_rows(parts, winners)
        file_rows = [r.asDict() for r in transforms.files_table(data).orderBy("source_file").collect()]
        missing = sorted(set(files) - {r["source_file"] for r in file_rows})
        if missing:  # cannot happen unless a part vanished while this run held the lock
            raise RuntimeError(f"{len(missing)} input files have no completion record, e.g. {missing[:3]}")
        n_out = cfg.output_partitions or max(MIN_FILES, math.ceil(_sum(file_rows, "rows") / ROWS_PER_FILE))
        alt = arrange(transforms.dedup_rows(data), n_out, "url", ["url", "text", "crawl"])
        write_table(alt, cfg.output, "alt_texts", cfg.format)
        rejects = arrange(transforms.rejects_table(data), max(MIN_FILES, n_out // 4), "source_file",
                          ["source_file", "source_offset", "link_index", "reason"])
        write_table(rejects, cfg.output, "extract_rejects", cfg.format)
        write_table(spark.createDataFrame(file_rows, transforms.files_table(data).schema).coalesce(1),
                    cfg.output, "extract_files", cfg.format)
        rows_out = read_table(spark, cfg.output, "alt_texts", cfg.format).count()
        reasons = {r["reason"]: int(r["n"]) for r in read_table(spark, cfg.output, "extract_rejects", cfg.format)
                   .groupBy("reason").agg(F.count(F.lit(1)).alias("n")).collect()}
        section = _section(cfg, files, file_rows, rows_out, dict(sorted(reasons.items())), sum(reasons.values()),
                           extracted, reused, time.time() - t0)
        if not section["accounting_ok"]:
            raise RuntimeError(f"extraction accounting broken: {section['accounting']}")
        _write_stats(spark, cfg, section)
    finally:
        release_lock(spark, cfg.output)
    return section
