"""The HTML curation report: numbers against the pure reference, Parquet and Delta alike, one
self-contained file, escaping, and the command line."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from curation.report import ReportError, build_report, collect
from curation.report.cli import main as report_main
from curation.report.data import NO_LANG
from curation.report.html import render

from ..pipeline_fixtures import METADATA


def test_collect_matches_the_reference(reference_output):
    exp = reference_output["expected"]
    ref = exp["ref"]
    data = collect(reference_output["root"])
    assert data.format == "parquet" and not data.missing
    for lang, counts in ref["counts"].items():
        np.testing.assert_array_equal(data.counts_before[lang][:counts.size], counts)
    for lang, after in exp["counts_after"].items():
        got = data.counts_after.get(lang, np.zeros(0, np.int64))
        np.testing.assert_array_equal(np.pad(got, (0, after.size - got.size)), after)
    assert data.thresholds == {k: int(v) for k, v in ref["thresholds"].items()}
    assert data.p == pytest.approx(ref["p"]) and data.t_en == ref["t_en"]
    # rejects by reason and LID language, from the rejects table
    assert {k: sum(v.values()) for k, v in data.rejects.items()} == exp["stats"]["stages"]["match"]["rejects_by_reason"]
    unmatched = {lang: n for lang, n in data.rejects["unmatched"].items()}
    assert NO_LANG not in unmatched and sum(unmatched.values()) == list(ref["rejects"].values()).count("unmatched")
    assert set(data.rejects["bad_url"]) == {NO_LANG}
    # per-language rows: kept and matched from the stats, head entries from the counts
    rows = {r.lang: r for r in data.languages}
    assert rows["en"].kept == sum(1 for m in exp["curated"] if m["lang"] == "en")
    assert rows["en"].head_entries == int((ref["counts"]["en"] > ref["t_en"]).sum())
    assert rows["ru"].matched == 0 and rows["ru"].t is None  # no Russian metadata: rejected, no threshold
    assert "fr" not in rows  # French metadata but no French text: nothing to show


def test_top_entries_are_the_most_frequent_with_the_rule_probability(reference_output):
    ref = reference_output["expected"]["ref"]
    data = collect(reference_output["root"], top_k=3)
    en = data.top_entries["en"]
    counts, t = ref["counts"]["en"], ref["thresholds"]["en"]
    assert [e.count for e in en] == sorted(counts.tolist(), reverse=True)[:3]
    for e in en:
        assert e.entry == METADATA["en"][e.entry_id]
        assert e.prob == pytest.approx(t / max(e.count, t), rel=1e-6)
        assert e.after == reference_output["expected"]["counts_after"]["en"][e.entry_id]


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)]


def test_report_is_one_self_contained_html_file(reference_output, tmp_path):
    path = build_report(reference_output["root"], str(tmp_path / "report.html"))
    html = Path(path).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(?!data:)', html), "the report must not load anything external"
    pngs = _images(html)
    assert len(pngs) == 6  # languages, rank-frequency, tail share, before/after, head share, rejects
    from PIL import Image

    for png in pngs:
        assert Image.open(io.BytesIO(png)).size[0] >= 600
    for needle in ("English tail proportion", "t_lang", "Rejects by reason", "Top entries per language",
                   "before", "after", "no_metadata_language", "unmatched"):
        assert needle in html
    data = reference_output["expected"]["stats"]["stages"]
    assert f"{data['thresholds']['p']:.4f}" in html


def test_delta_tables_give_the_same_report_data(reference_output, tmp_path):
    deltalake = pytest.importorskip("deltalake")
    import pyarrow.dataset as ds

    root = tmp_path / "delta_out"
    for name in ("entry_counts", "thresholds", "curated", "rejects"):
        table = ds.dataset(os.path.join(reference_output["root"], name), format="parquet").to_table()
        deltalake.write_deltalake(str(root / name), table)
        deltalake.write_deltalake(str(root / name), table, mode="overwrite")  # stale files stay on disk
    stats = json.loads((Path(reference_output["root"]) / "_stats.json").read_text())
    stats["run"]["format"] = "delta"
    (root / "_stats.json").write_text(json.dumps(stats))
    parquet, delta = collect(reference_output["root"]), collect(str(root))
    assert delta.format == "delta"
    for lang in parquet.counts_before:
        np.testing.assert_array_equal(parquet.counts_before[lang], delta.counts_before[lang])
    for lang in parquet.counts_after:
        np.testing.assert_array_equal(parquet.counts_after[lang], delta.counts_after[lang])
    assert parquet.rejects == delta.rejects


def test_missing_tables_leave_sections_empty_not_a_crash(reference_output, tmp_path):
    root = tmp_path / "partial"
    shutil.copytree(reference_output["root"], root)
    shutil.rmtree(root / "curated")
    shutil.rmtree(root / "rejects")
    data = collect(str(root))
    assert data.missing == ["curated", "rejects"]
    assert sum(data.rejects["unmatched"].values()) > 0  # from _stats.json
    html = render(data)
    assert "Tables not found" in html and "nothing to plot" in html


def test_entries_and_paths_are_escaped(reference_output, tmp_path):
    data = collect(reference_output["root"])
    data.top_entries["en"][0].entry = "<script>alert(1)</script>"
    data.root = '/tmp/"><b>x'
    html = render(data)
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert '"><b>x' not in html


def test_cli_writes_the_report_and_reports_errors(reference_output, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert report_main(["--output", reference_output["root"], "--report", str(out), "--top-k", "5"]) == 0
    assert out.stat().st_size > 50_000 and "wrote" in capsys.readouterr().out
    assert report_main(["--output", str(tmp_path / "nothing-here")]) == 2
    assert "_stats.json" in capsys.readouterr().err
    assert report_main(["--output", reference_output["root"], "--top-k", "0"]) == 2
    with pytest.raises(ReportError, match="dbfs"):
        collect("dbfs:/mnt/out")


def test_the_scan_holds_one_row_group_not_the_whole_file(tmp_path):
    """The report's scan reads a Parquet file row group by row group: Arrow's live memory during
    the scan stays a few row groups, however large the file. pyarrow's default pre-buffering
    fetches the wanted columns of every row group first (the whole file: the report's peak RSS
    grew from 246 MB at 100k curated rows to 570 MB at 10M, benchmarks/driver/RESULTS.md)."""
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq

    from curation.report.data import scan, texts_per_entry

    n = 2_000_000  # 16 MB of entry ids, 200 row groups of 10k rows
    ids = (np.arange(2 * n, dtype=np.int64) % 1000).astype(np.int32)
    table = pa.table({"lang": pa.array(["en"] * n),
                      "entry_ids": pa.ListArray.from_arrays(np.arange(0, 2 * n + 1, 2, dtype=np.int32), ids)})
    pq.write_table(table, tmp_path / "part-0.parquet", row_group_size=10_000, compression="none",
                   use_dictionary=False)
    column_mb = table.column("entry_ids").nbytes / 2**20
    del table, ids
    dataset = ds.dataset(tmp_path, format="parquet")
    base = pa.total_allocated_bytes()
    peak, rows = 0, 0
    for batch in scan(dataset, ["lang", "entry_ids"]):
        peak = max(peak, pa.total_allocated_bytes() - base)
        rows += batch.num_rows
    assert rows == n
    assert peak / 2**20 < column_mb / 4, (peak / 2**20, column_mb)
    # and the reduction over the same scan is exact: every id 0..999 appears 4000 times
    np.testing.assert_array_equal(texts_per_entry(dataset)["en"], np.full(1000, 2 * n // 1000))
