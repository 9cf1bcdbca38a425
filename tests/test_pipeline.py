"""End-to-end curation on local Spark, checked against the pure-Python reference, in Parquet
and Delta, with stage re-runs, partitioning independence and bad-input handling."""

from __future__ import annotations

import glob
import json
import os

import numpy as np
import pytest

from curation.pipeline.config import ConfigError, CurationConfig
from curation.pipeline.curate import run_curate, run_stage
from curation.spark.tables import TableError, read_table

from .pipeline_fixtures import METADATA, file_digests, reference, write_inputs

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inputs")
    input_path, metadata_path, rows = write_inputs(tmp)
    return {"input": input_path, "metadata": metadata_path, "rows": rows, "ref": reference(rows)}


def _config(inputs, output, fmt, **kw) -> CurationConfig:
    return CurationConfig(input=kw.pop("input", inputs["input"]), metadata=inputs["metadata"],
                          output=str(output), format=fmt, **kw).validate()


@pytest.fixture(scope="module", params=["parquet", "delta"])
def curated_run(request, spark, inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp(f"out_{request.param}")
    cfg = _config(inputs, out, request.param)
    stats = run_curate(spark, cfg)
    return {"cfg": cfg, "stats": stats, "fmt": request.param, "out": out}


def _table(spark, run, name):
    return read_table(spark, run["cfg"].output, name, run["fmt"])


def test_every_input_row_is_in_exactly_one_of_matched_or_rejects(spark, inputs, curated_run):
    matched = _table(spark, curated_run, "matched").select("row_no").toPandas()["row_no"].tolist()
    rejects = _table(spark, curated_run, "rejects").select("row_no").toPandas()["row_no"].tolist()
    assert len(matched) + len(rejects) == len(inputs["rows"])
    assert sorted(matched + rejects) == list(range(len(inputs["rows"])))


def test_rejects_have_the_reference_reasons(spark, inputs, curated_run):
    got = {r["row_no"]: r["reason"] for r in _table(spark, curated_run, "rejects").collect()}
    assert got == inputs["ref"]["rejects"]
    assert {"null_text", "empty_text", "too_long", "bad_url", "unmatched",
            "no_metadata_language", "duplicate"} <= set(got.values())


def test_matched_entry_ids_equal_reference(spark, inputs, curated_run):
    got = {r["row_no"]: (r["uid"], r["lang"], list(r["entry_ids"]))
           for r in _table(spark, curated_run, "matched").collect()}
    want = {m["row_no"]: (m["uid"], m["lang"], m["entry_ids"]) for m in inputs["ref"]["matched"]}
    assert got == want
    assert {lang for _, lang, _ in got.values()} == {"en", "zh", "ja", "th", "de"}


def test_entry_counts_thresholds_and_probs_equal_reference(spark, inputs, curated_run):
    ref = inputs["ref"]
    counts = _table(spark, curated_run, "entry_counts").toPandas()
    assert len(counts) == sum(len(v) for v in METADATA.values())  # zeros included
    for lang, want in ref["counts"].items():
        got = counts[counts.lang == lang].sort_values("entry_id")
        np.testing.assert_array_equal(got["count"].to_numpy(), want)
        assert got["entry"].tolist() == METADATA[lang]
    thr = _table(spark, curated_run, "thresholds").toPandas().set_index("lang")
    assert thr.loc["en", "t"] == ref["t_en"]
    assert thr["p"].iloc[0] == pytest.approx(ref["p"])
    for lang, t in ref["thresholds"].items():
        assert thr.loc[lang, "t"] == t
    assert thr.loc["fr", "t"] == 0 and thr.loc["fr", "n_texts"] == 0  # recorded, not crashed
    probs = _table(spark, curated_run, "entry_probs").toPandas()
    for lang, want in ref["probs"].items():
        got = probs[probs.lang == lang].sort_values("entry_id")["prob"].to_numpy()
        np.testing.assert_array_equal(got, want)


def test_curated_equals_reference_sampling(spark, inputs, curated_run):
    rows = _table(spark, curated_run, "curated").collect()
    assert {r["uid"]: r["text"] for r in rows} == inputs["ref"]["curated"]
    assert 0 < len(rows) < len({m["uid"] for m in inputs["ref"]["matched"]})  # balancing drops some
    assert all(0 < r["keep_prob"] <= 1 for r in rows)
    assert {"url", "lang", "entry_ids", "row_no"} <= set(rows[0].asDict())  # carried columns kept


def test_stats_json_records_every_stage(curated_run, inputs):
    with open(os.path.join(curated_run["cfg"].output, "_stats.json"), encoding="utf-8") as f:
        stats = json.load(f)
    st = stats["stages"]
    assert set(st) == {"lid", "match", "count", "thresholds", "sample"}
    assert st["match"]["rows_in"] == len(inputs["rows"]) and st["match"]["accounting_ok"]
    assert st["thresholds"]["t_en"] == inputs["ref"]["t_en"]
    assert st["sample"]["kept"] == len(inputs["ref"]["curated"])
    assert stats["run"]["versions"]["lid_to_metadata"]
    assert stats["run"]["metadata"]["languages"] == len(METADATA)


def test_rerunning_a_stage_replaces_its_table(spark, curated_run):
    before = sorted(map(tuple, _table(spark, curated_run, "matched").select("uid", "text").collect()))
    run_stage(spark, curated_run["cfg"], "match")
    run_stage(spark, curated_run["cfg"], "sample")
    after = sorted(map(tuple, _table(spark, curated_run, "matched").select("uid", "text").collect()))
    assert before == after  # replaced, not appended
    out = curated_run["cfg"].output
    assert not glob.glob(os.path.join(out, "_tmp", "*"))  # no leftovers of the atomic swap
    if curated_run["fmt"] == "delta":
        from delta.tables import DeltaTable

        history = DeltaTable.forPath(spark, os.path.join(out, "matched")).history().collect()
        assert len(history) == 2 and all(h["operation"] == "WRITE" for h in history)
    assert not os.path.exists(os.path.join(out, "_LOCK"))  # released after each run


def test_same_tables_for_1_4_16_input_partitions(spark, inputs, tmp_path):
    df = spark.read.json(inputs["input"])
    digests = []
    for n in (1, 4, 16):
        src = str(tmp_path / f"input_{n}")
        df.repartition(n).write.parquet(src)
        cfg = _config(inputs, tmp_path / f"out_{n}", "parquet", input=src, output_partitions=2)
        run_curate(spark, cfg)
        digests.append({name: file_digests(os.path.join(cfg.output, name))
                        for name in ("matched", "rejects", "entry_counts", "curated")})
    assert digests[0] == digests[1] == digests[2]  # identical files, row for row, whatever the split


def test_config_errors_come_before_any_work(spark, inputs, tmp_path):
    bad_json = tmp_path / "wrong.jsonl"
    bad_json.write_text('{"link": "https://a.org/x.jpg", "caption": "a cat"}\n')
    typed = tmp_path / "typed.jsonl"
    typed.write_text('{"url": "https://a.org/x.jpg", "text": 5}\n')
    dup_meta = tmp_path / "dup.parquet"
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"lang": ["en", "en"], "entry_id": pa.array([0, 1], pa.int32()),
                             "entry": ["cat", "cat"], "source": ["x", "x"]}), dup_meta)
    out = tmp_path / "never"
    cases = [
        (dict(input=str(bad_json)), "no column 'url'"),
        (dict(input=str(typed)), "must be a string"),
        (dict(input=str(tmp_path / "missing.jsonl")), "input not found"),
    ]
    for kw, message in cases:
        with pytest.raises(ConfigError, match=message):
            run_curate(spark, _config(inputs, out, "parquet", **kw))
    with pytest.raises(ConfigError, match="duplicate entry 'cat'"):
        run_curate(spark, CurationConfig(input=inputs["input"], metadata=str(dup_meta),
                                                  output=str(out)))
    with pytest.raises(ConfigError, match="--format"):
        CurationConfig(format="csv").validate()
    with pytest.raises(ConfigError, match="--t-en"):
        CurationConfig(t_en="-3").validate()
    assert not out.exists()


def test_stage_without_its_input_table_fails_clearly(spark, inputs, tmp_path):
    with pytest.raises(TableError, match="table 'matched' not found"):
        run_stage(spark, _config(inputs, tmp_path / "empty", "delta"), "sample")


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
def test_input_where_nothing_is_rejected(spark, inputs, tmp_path, fmt):
    clean = tmp_path / "clean.jsonl"
    clean.write_text('{"url": "https://a.example.org/1.jpg", "text": "a photo of a black cat on the sofa"}\n'
                     '{"url": "https://a.example.org/2.jpg", "text": "red car parked in the city at sunset"}\n')
    cfg = _config(inputs, tmp_path / "out", fmt, input=str(clean))
    stats = run_curate(spark, cfg)
    assert stats["stages"]["match"]["matched"] == 2 and stats["stages"]["match"]["rejects"] == 0
    rejects = read_table(spark, cfg.output, "rejects", fmt)
    assert rejects.count() == 0 and "reason" in rejects.columns


def test_training_loader_epoch0_equals_spark_offline_sample(curated_run):
    """The online balancing of the training loader (epoch 0) and the offline Spark sample pick
    the same text for the same images: one rule, two engines."""
    pytest.importorskip("torch")
    from training.crosscheck import online_sample

    out = curated_run["cfg"].output
    picked = online_sample(os.path.join(out, "matched"), os.path.join(out, "entry_probs"), 0, 0)
    import pyarrow.dataset as ds

    if curated_run["fmt"] == "delta":
        from deltalake import DeltaTable

        curated = DeltaTable(os.path.join(out, "curated")).to_pyarrow_table(columns=["uid", "text"])
    else:
        curated = ds.dataset(os.path.join(out, "curated"), format="parquet").to_table(columns=["uid", "text"])
    assert sorted((u, t) for u, _, t in picked) == sorted(zip(curated.column("uid").to_pylist(),
                                                            curated.column("text").to_pylist()))


def test_input_listed_and_metadata_hashed_once_per_run(spark, inputs, tmp_path, monkeypatch):
    """RunContext computes the run-wide facts once: one listing of the input files over py4j
    and one hash over every metadata entry per curate run, full or incremental."""
    from curation.metadata import Metadata
    from curation.spark import fs

    calls: dict[str, int] = {}
    list_files, fingerprint = fs.list_files, Metadata.fingerprint

    def counting_list(*args, **kwargs):
        calls["list_files"] += 1
        return list_files(*args, **kwargs)

    def counting_fingerprint(self):
        calls["fingerprint"] += 1
        return fingerprint(self)

    monkeypatch.setattr(fs, "list_files", counting_list)
    monkeypatch.setattr(Metadata, "fingerprint", counting_fingerprint)
    for incremental in (False, True):
        calls.update(list_files=0, fingerprint=0)
        run_curate(spark, _config(inputs, tmp_path / f"out_{incremental}", "parquet", incremental=incremental,
                                  output_partitions=2))
        assert calls == {"list_files": 1, "fingerprint": 1}, incremental
