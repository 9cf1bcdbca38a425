"""Reliability (issue #7): hostile input, injected task failures, crash and re-run,
incremental batches, and concurrent writers. Nothing lost, nothing duplicated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from curation.pipeline.config import ConfigError, CurationConfig
from curation.pipeline.curate import run_curate, run_stage
from curation.spark.lock import LockError, acquire_lock
from curation.spark.tables import ConcurrentWriteError, read_table, write_table

from .fixtures.hostile_corpus import write_hostile_corpus
from .pipeline_fixtures import make_rows, table_digests, write_inputs

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rel_inputs")
    input_path, metadata_path, rows = write_inputs(tmp)
    return {"input": input_path, "metadata": metadata_path, "rows": rows, "tmp": tmp}


@pytest.fixture(scope="module")
def clean_run(spark, inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    cfg = CurationConfig(input=inputs["input"], metadata=inputs["metadata"], output=str(out),
                         output_partitions=2).validate()
    run_curate(spark, cfg)
    return {"cfg": cfg, "digests": table_digests(str(out))}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return write_hostile_corpus(str(tmp_path_factory.mktemp("hostile")))


def _outcomes(spark, out: str, key: str) -> list[tuple]:
    matched = [(r[key], None) for r in read_table(spark, out, "matched", "parquet").select(key).collect()]
    rejects = [(r[key], r["reason"]) for r in read_table(spark, out, "rejects", "parquet").select(key, "reason").collect()]
    return matched + rejects


def test_hostile_jsonl_every_row_in_exactly_one_place_with_expected_reason(spark, hostile, tmp_path):
    cfg = CurationConfig(input=hostile["jsonl"], output=str(tmp_path / "out")).validate()
    run_curate(spark, cfg)
    outcomes = _outcomes(spark, cfg.output, "id")
    expected = hostile["jsonl_expected"]
    with open(hostile["jsonl"], "rb") as f:
        n_lines = sum(1 for _ in f)
    assert len(outcomes) == n_lines == len(expected)  # rows(matched) + rows(rejects) == rows(input)
    ids = [i for i, _ in outcomes if i is not None]
    assert len(ids) == len(set(ids))  # nobody twice
    for row_id, reason in outcomes:
        if row_id is None:  # the reader could not parse the line: kept raw as a reject
            assert reason == "malformed_row"
        else:
            assert reason in expected[row_id], (row_id, reason, expected[row_id])
    raw = read_table(spark, cfg.output, "rejects", "parquet").filter("reason = 'malformed_row'")
    assert all(r["_corrupt_record"] for r in raw.collect())  # the raw line is not lost


def test_hostile_csv(spark, hostile, tmp_path):
    cfg = CurationConfig(input=hostile["csv"], output=str(tmp_path / "out")).validate()
    run_curate(spark, cfg)
    got = dict(_outcomes(spark, cfg.output, "url"))
    urls = ["https://img.example.org/c1.jpg", "https://img.example.org/c2.jpg",
            "https://img.example.org/c3.jpg", "not-a-url"]
    assert len(got) == 4
    for url, allowed in zip(urls, hostile["csv_expected"]):
        assert got[url] in allowed


@pytest.mark.parametrize("case,message", [
    ("empty", "is empty"), ("truncated_parquet", "part-00001.parquet is not a complete Parquet file"),
    ("wrong_type", "column 'text' .* must be a string"),
])
def test_bad_files_fail_fast_naming_file_and_column(spark, hostile, tmp_path, case, message):
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=message):
        run_curate(spark, CurationConfig(input=hostile[case], output=str(out)).validate())
    assert not out.exists()


def _failed_task_attempts(spark, group: str) -> dict[int, int]:
    """Failed task attempts per stage of the jobs run under job group ``group`` (Spark's status
    tracker: what the UI shows as failed tasks)."""
    tracker = spark.sparkContext.statusTracker()
    failed: dict[int, int] = {}
    for job_id in tracker.getJobIdsForGroup(group):
        job = tracker.getJobInfo(job_id)
        for stage_id in job.stageIds if job else ():
            info = tracker.getStageInfo(stage_id)
            if info is not None and info.numFailedTasks:
                failed[stage_id] = info.numFailedTasks
    return failed


def test_injected_worker_failures_happen_and_do_not_change_any_table(spark, inputs, clean_run, tmp_path):
    """--inject-faults 0.6 must make first task attempts fail (counted by Spark, so the test
    fails if the injection stops firing), and every table must equal the clean run's."""
    cfg = CurationConfig(input=inputs["input"], metadata=inputs["metadata"], output=str(tmp_path / "faulty"),
                         output_partitions=2, inject_faults=0.6).validate()
    spark.sparkContext.setJobGroup("injected-faults", "curate with --inject-faults 0.6")
    try:
        run_curate(spark, cfg)
    finally:
        spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    failed = _failed_task_attempts(spark, "injected-faults")
    assert sum(failed.values()) >= 3 and len(failed) >= 2, failed  # several stages had to retry tasks
    assert table_digests(cfg.output) == clean_run["digests"]


def test_the_failure_count_is_zero_without_injection(spark, tmp_path):
    """The counter itself: a clean job counts no failed attempts, a failing one does."""
    from curation.spark import faults

    def first_attempt_fails(rows):
        faults.maybe_fail_task(0.99, "probe")
        return rows

    spark.sparkContext.setJobGroup("probe-clean", "no faults")
    spark.range(0, 100, 1, 4).rdd.mapPartitions(lambda rows: rows).count()
    spark.sparkContext.setJobGroup("probe-faulty", "faults")
    spark.range(0, 100, 1, 4).rdd.mapPartitions(first_attempt_fails).count()
    spark.sparkContext.setLocalProperty("spark.jobGroup.id", None)
    assert _failed_task_attempts(spark, "probe-clean") == {}
    assert sum(_failed_task_attempts(spark, "probe-faulty").values()) >= 3


def test_stages_run_one_by_one_give_the_tables_of_the_fused_curate(spark, inputs, clean_run, tmp_path):
    """curate fuses lid+match and reuses the persisted result for count and sample; each stage
    job run alone (reading the previous table) must write the very same tables."""
    cfg = CurationConfig(input=inputs["input"], metadata=inputs["metadata"], output=str(tmp_path / "alone"),
                         output_partitions=2).validate()
    for stage in ("lid", "match", "count", "thresholds", "sample"):
        run_stage(spark, cfg, stage)
    assert table_digests(cfg.output) == clean_run["digests"]
    fused = json.load(open(os.path.join(clean_run["cfg"].output, "_stats.json")))["stages"]
    alone = json.load(open(os.path.join(cfg.output, "_stats.json")))["stages"]
    for stage in fused:
        for key in set(fused[stage]) - {"seconds", "completed_at", "input"}:
            assert alone[stage][key] == fused[stage][key], (stage, key)


def test_cluster_cache_and_local_checkpoint_give_the_same_tables(spark, inputs, clean_run, tmp_path, monkeypatch):
    """Local mode keeps the fused result as a local checkpoint, a cluster as a columnar cache
    (recomputable from lineage): the same tables either way, and nothing stays kept after."""
    from curation.spark import transforms

    monkeypatch.setattr(transforms, "rows_kept_locally", lambda _spark: False)
    cfg = CurationConfig(input=inputs["input"], metadata=inputs["metadata"], output=str(tmp_path / "cached"),
                         output_partitions=2).validate()
    before = _persisted_rdds(spark)
    run_curate(spark, cfg)
    assert table_digests(cfg.output) == clean_run["digests"]
    assert _persisted_rdds(spark) == before


def _persisted_rdds(spark) -> set[int]:
    """Ids of the RDDs Spark keeps (cached DataFrames and checkpoints included)."""
    return {int(k) for k in spark.sparkContext._jsc.getPersistentRDDs().keySet()}


def test_local_checkpoint_is_released_after_curate(spark, inputs, tmp_path):
    cfg = CurationConfig(input=inputs["input"], metadata=inputs["metadata"], output=str(tmp_path / "released"),
                         output_partitions=2).validate()
    before = _persisted_rdds(spark)
    run_curate(spark, cfg)
    assert _persisted_rdds(spark) == before


def _curate_subprocess(cfg: CurationConfig, crash_at: str | None, *extra: str,
                       env_extra: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, WWCLIP_SPARK_LOG_LEVEL="ERROR", **(env_extra or {}))
    if crash_at:
        env["WWCLIP_CRASH_AT"] = crash_at
    cmd = [sys.executable, "-m", "curation", "curate", "--input", cfg.input, "--metadata", cfg.metadata,
           "--output", cfg.output, "--output-partitions", "2", "--master", "local[2]", "--quiet",
           "--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=4", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_killed_mid_stage_then_resumed_gives_the_uninterrupted_tables(spark, inputs, clean_run, tmp_path):
    cfg = CurationConfig(input=inputs["input"], metadata=inputs["metadata"], output=str(tmp_path / "crash"))
    # The process dies (os._exit, like kill -9) after writing matched to _tmp/, before the swap.
    proc = _curate_subprocess(cfg, "matched:before_swap")
    assert proc.returncode == 137, proc.stderr[-2000:]
    assert os.path.exists(os.path.join(cfg.output, "_LOCK"))  # left behind by the dead process
    assert not os.path.exists(os.path.join(cfg.output, "matched"))
    stats = json.load(open(os.path.join(cfg.output, "_stats.json")))
    assert set(stats["stages"]) == {"lid"}
    lid_files = sorted(os.listdir(os.path.join(cfg.output, "texts_lid", "batch_id=base")))
    resumed = CurationConfig(input=cfg.input, metadata=cfg.metadata, output=cfg.output, output_partitions=2,
                             resume=True).validate()
    run_curate(spark, resumed)  # takes over the stale lock, skips lid, redoes the rest
    assert sorted(os.listdir(os.path.join(cfg.output, "texts_lid", "batch_id=base"))) == lid_files
    assert table_digests(cfg.output) == clean_run["digests"]
    assert not os.listdir(os.path.join(cfg.output, "_tmp"))
    assert not os.path.exists(os.path.join(cfg.output, "_LOCK"))


@pytest.mark.slow
def test_crash_mid_copy_swap_on_an_object_store_no_reader_accepts_then_resume(spark, inputs, clean_run, tmp_path,
                                                                              monkeypatch):
    """A real run on a simulated object store (every rename copies file by file, then deletes)
    is killed half way through moving ``matched`` into place. The half-copied table is refused
    by every reader and by the next stage; re-running with --resume gives the clean tables."""
    from curation import readers
    from curation.layout import SUCCESS_FILE
    from curation.report.data import collect
    from curation.spark.tables import TableError
    from training.reader import DataConfig, EpochReader

    cfg = CurationConfig(input=inputs["input"], metadata=inputs["metadata"], output=str(tmp_path / "s3like"))
    proc = _curate_subprocess(cfg, "matched:during_swap", "--allow-non-atomic-parquet",
                              env_extra={"WWCLIP_RENAME": "copy"})
    assert proc.returncode == 137, proc.stderr[-2000:]
    matched = os.path.join(cfg.output, "matched")
    copied = [f for _, _, fs in os.walk(matched) for f in fs if f.endswith(".parquet")]
    assert copied and not os.path.exists(os.path.join(matched, SUCCESS_FILE))  # half there, uncommitted
    with pytest.raises(TableError, match="not committed"):
        read_table(spark, cfg.output, "matched", "parquet")
    with pytest.raises(readers.ReaderError, match="not committed"):
        EpochReader(DataConfig(table=matched), load_images=False)  # the training loader
    assert "matched" not in json.load(open(os.path.join(cfg.output, "_stats.json")))["stages"]
    assert set(collect(cfg.output).missing) >= {"entry_counts", "curated", "rejects"}  # the report
    stage_cfg = CurationConfig(output=cfg.output, metadata=cfg.metadata, output_partitions=2,
                               allow_non_atomic_parquet=True).validate()
    with pytest.raises(TableError, match="not committed"):
        run_stage(spark, stage_cfg, "count")  # the next stage refuses its input
    monkeypatch.setenv("WWCLIP_RENAME", "copy")
    resumed = CurationConfig(input=cfg.input, metadata=cfg.metadata, output=cfg.output, output_partitions=2,
                             resume=True, allow_non_atomic_parquet=True).validate()
    run_curate(spark, resumed)
    assert table_digests(cfg.output) == clean_run["digests"]
    assert readers.open_table(matched).num_rows == read_table(spark, cfg.output, "matched", "parquet").count()


def test_resume_skips_completed_stages_and_reruns_changed_ones(spark, inputs, clean_run, tmp_path):
    out = str(tmp_path / "res")
    base = dict(input=inputs["input"], metadata=inputs["metadata"], output=out, output_partitions=2)
    run_curate(spark, CurationConfig(**base).validate())
    before = json.load(open(os.path.join(out, "_stats.json")))["stages"]
    stats = run_curate(spark, CurationConfig(**base, resume=True).validate())
    assert {s: stats["stages"][s]["completed_at"] for s in before} == {s: before[s]["completed_at"] for s in before}
    stats = run_curate(spark, CurationConfig(**base, resume=True, seed=7).validate())
    assert stats["stages"]["sample"]["seed"] == 7  # only the sample depends on the seed
    assert stats["stages"]["lid"]["completed_at"] == before["lid"]["completed_at"]
    assert stats["stages"]["sample"]["fingerprint"] != before["sample"]["fingerprint"]


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_incremental_batches_equal_one_full_run_and_repeats_are_not_double_counted(spark, tmp_path, fmt):
    from curation.ids import image_uid

    rows = make_rows()
    halves = ([r for r in rows if r["url"] and int(image_uid(r["url"]), 16) % 2 == 0],
              [r for r in rows if not r["url"] or int(image_uid(r["url"]), 16) % 2 == 1])
    paths = []
    for i, part in enumerate(halves):
        p = tmp_path / f"batch{i}.jsonl"
        p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8")
        paths.append(str(p))
    _, metadata_path, _ = write_inputs(tmp_path)
    full_in = tmp_path / "all.jsonl"
    full_in.write_text(open(paths[0]).read() + open(paths[1]).read(), encoding="utf-8")
    full = CurationConfig(input=str(full_in), metadata=metadata_path, output=str(tmp_path / "full"), format=fmt)
    run_curate(spark, full.validate())
    inc_out = str(tmp_path / "inc")
    for path in paths + [paths[1]]:  # the second batch arrives twice
        stats = run_curate(spark, CurationConfig(input=path, metadata=metadata_path, output=inc_out,
                                                          format=fmt, incremental=True).validate())
    assert stats["run"]["last_batch_skipped"]  # detected, not processed again
    assert len(stats["batches"]) == 2

    def frame(root, name, cols):
        return sorted(map(tuple, read_table(spark, root, name, fmt).select(*cols).collect()))

    assert frame(inc_out, "entry_counts", ["lang", "entry_id", "count"]) == \
        frame(full.output, "entry_counts", ["lang", "entry_id", "count"])
    assert frame(inc_out, "thresholds", ["lang", "t", "p"]) == frame(full.output, "thresholds", ["lang", "t", "p"])
    assert frame(inc_out, "curated", ["uid", "text"]) == frame(full.output, "curated", ["uid", "text"])
    assert read_table(spark, inc_out, "matched", fmt).count() == read_table(spark, full.output, "matched", fmt).count()
    if fmt == "delta":
        from delta.tables import DeltaTable

        ops = [h["operation"] for h in DeltaTable.forPath(spark, os.path.join(inc_out, "entry_counts")).history().collect()]
        assert "MERGE" in ops


def test_second_writer_is_refused_while_the_first_holds_the_output(spark, inputs, tmp_path):
    out = str(tmp_path / "locked")
    acquire_lock(spark, out, {"host": os.uname().nodename, "pid": os.getppid(), "since": "now"})
    cfg = CurationConfig(input=inputs["input"], metadata=inputs["metadata"], output=out).validate()
    with pytest.raises(LockError, match="locked by another run"):
        run_curate(spark, cfg)
    assert not os.path.exists(os.path.join(out, "texts_lid"))


def test_concurrent_delta_writers_one_commits_other_fails_clearly(spark, tmp_path):
    root = str(tmp_path / "race")
    frames = [spark.range(0, 20000).selectExpr("id", f"'{tag}' AS writer") for tag in ("a", "b")]
    write_table(frames[0], root, "t", "delta")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def write(df):
        barrier.wait()
        try:
            write_table(df.repartition(8), root, "t", "delta")
        except BaseException as exc:  # noqa: BLE001 - collected and checked below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(f,)) for f in frames]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(isinstance(e, ConcurrentWriteError) for e in errors), errors
    assert len(errors) <= 1
    table = read_table(spark, root, "t", "delta")
    writers = {r[0] for r in table.select("writer").distinct().collect()}
    assert len(writers) == 1 and table.count() == 20000  # one complete write, never a mix
