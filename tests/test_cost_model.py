"""benchmarks.cost_model: extrapolation arithmetic and the docs block rewrite (no Spark)."""

from __future__ import annotations

import json

import pytest

from benchmarks import cost_model

ROWS, CORES, SECONDS = 1_000_000, 2, 50.0


def _result(rows=ROWS, seconds=SECONDS, table_bytes=None, input_bytes=None, size="1m"):
    spark = {"pipeline_seconds": seconds,
             "stage_seconds": {"lid": 20.0, "match": 10.0, "count": 5.0, "thresholds": 5.0, "sample": 10.0},
             "python_worker_cpu_seconds": 30.0, "peak_jvm_rss_mb": 1800.0, "peak_python_worker_rss_mb": 200.0}
    if table_bytes is not None:
        spark["table_bytes"] = table_bytes
    r = {"size": size, "rows": rows, "cores": CORES, "spark": spark, "baseline": {}}
    if input_bytes is not None:
        r["input_bytes"] = input_bytes
    return r


TABLES = {"texts_lid": 60_000_000, "matched": 40_000_000, "rejects": 15_000_000, "curated": 30_000_000,
          "entry_counts": 2_666_000, "entry_probs": 3_999_000, "thresholds": 5_000}


def _files(tmp_path, results):
    res = tmp_path / "results.json"
    res.write_text(json.dumps({"date": "2026-01-01", "machine": "test", "results": results}))
    doc = tmp_path / "scale.md"
    doc.write_text(f"# title\n\nbefore\n\n{cost_model.BEGIN}\nold block\n{cost_model.END}\n\nafter\n")
    return res, doc


def test_extrapolation_arithmetic():
    m = cost_model.compute(_result(table_bytes=TABLES, input_bytes=33_000_000), target_rows=10e9,
                           clusters=(100, 1000), entry_scenarios=(1_000_000,))
    assert m["rows_per_s_per_core"] == pytest.approx(ROWS / (SECONDS * CORES))  # 10,000
    assert m["core_seconds_per_row"] == pytest.approx(1e-4)
    assert m["core_hours_per_billion"] == pytest.approx(1e-4 * 1e9 / 3600)
    assert m["target_core_hours"] == pytest.approx(1e-4 * 10e9 / 3600)  # 277.8
    assert m["wall_hours"][100] == pytest.approx(m["target_core_hours"] / 100)
    assert m["wall_hours"][1000] == pytest.approx(m["target_core_hours"] / 1000)
    assert m["stages"]["lid"]["rows_per_s_per_core"] == pytest.approx(ROWS / (20.0 * CORES))
    assert m["stages"]["lid"]["share"] == pytest.approx(0.4)
    assert sum(s["target_core_hours"] for s in m["stages"].values()) == pytest.approx(m["target_core_hours"])
    assert m["python_cpu_us_per_row"] == pytest.approx(30.0)
    assert m["input_bytes_per_row"] == pytest.approx(33.0)
    assert m["target_input_bytes"] == pytest.approx(330e9)
    assert m["target_partitions"] == -(-330_000_000_000 // (64 * 2**20))
    assert m["tables"]["texts_lid"]["bytes_per_row"] == pytest.approx(60.0)
    assert m["tables"]["texts_lid"]["target_bytes"] == pytest.approx(600e9)
    assert m["target_storage_bytes"] == pytest.approx((60 + 40 + 15 + 30) * 10e9)
    # metadata-sized tables do not grow with rows
    assert m["tables"]["entry_counts"]["target_bytes"] == TABLES["entry_counts"]
    assert m["tables"]["entry_counts"]["bytes_per_entry"] == pytest.approx(2_666_000 / 133_300)
    # shuffle ≈ 1 × texts_lid per row (the one uid shuffle of curate)
    assert m["shuffle_bytes_per_row"] == pytest.approx(60)
    assert m["target_shuffle_bytes"] == pytest.approx(60 * 10e9)
    # metadata memory: linear in entries, from the recorded measurement
    a = cost_model.AUTOMATA_MEASURED
    per_entry = (a["automaton_bytes"] + a["entry_list_bytes"]) / a["entries"]
    first, scenario = m["entry_scenarios"]
    assert first["entries"] == a["entries"]
    assert first["python_worker_bytes"] == pytest.approx(200 * 2**20)
    assert scenario["automata_bytes"] == pytest.approx(1_000_000 * a["automaton_bytes"] / a["entries"])
    assert scenario["python_worker_bytes"] == pytest.approx(200 * 2**20 + (1_000_000 - a["entries"]) * per_entry)
    assert scenario["executor_python_bytes"] == pytest.approx(4 * scenario["python_worker_bytes"])


def test_largest_size_is_used():
    small = _result(rows=100_000, seconds=20.0, size="100k")
    big = _result(size="1m")
    assert cost_model.largest([big, small])["size"] == "1m"
    assert cost_model.largest([small, big])["size"] == "1m"


def test_block_rewritten_and_missing_bytes_handled(tmp_path, capsys):
    res, doc = _files(tmp_path, [_result(rows=100_000, seconds=20.0, size="100k"), _result()])
    assert cost_model.main(["--results", str(res), "--doc", str(doc)]) == 0
    text = doc.read_text()
    assert "old block" not in text
    assert text.startswith("# title\n\nbefore\n\n" + cost_model.BEGIN + "\n")
    assert text.endswith(cost_model.END + "\n\nafter\n")
    block = text[text.index(cost_model.BEGIN):text.index(cost_model.END)]
    assert "**1m** (1,000,000 rows" in block
    assert "10,000 rows/s/core" in block
    assert "**278 core-hours**" in block
    assert "not measured" in block  # no table_bytes, no input_bytes
    assert "| table `matched` | not measured | not measured |" in block
    # idempotent: a second run rewrites the same block
    cost_model.main(["--results", str(res), "--doc", str(doc)])
    assert doc.read_text() == text
    # --print writes nothing
    doc.write_text(f"{cost_model.BEGIN}\nkeep\n{cost_model.END}\n")
    cost_model.main(["--results", str(res), "--doc", str(doc), "--print"])
    assert doc.read_text() == f"{cost_model.BEGIN}\nkeep\n{cost_model.END}\n"
    assert "core-hours" in capsys.readouterr().out


def test_table_bytes_rendered(tmp_path):
    res, doc = _files(tmp_path, [_result(table_bytes=TABLES, input_bytes=33_000_000)])
    cost_model.main(["--results", str(res), "--doc", str(doc)])
    text = doc.read_text()
    assert "| table `texts_lid` | 60.0 B/row | 600 GB |" in text
    assert "| input (corpus Parquet) | 33.0 B/row | 330 GB |" in text
    assert "**1.45 TB**" in text  # per-row tables at 10B
    assert "60.0 B/row | 600 GB |" in text  # shuffle estimate


def test_missing_markers_raise():
    with pytest.raises(ValueError):
        cost_model.rewrite_block("no markers here", "x")
