"""Every row of every input format accounted for exactly once (issue 16, item 5): quoted
multi-line CSV/TSV fields are one record, invalid bytes and lone surrogates are ``invalid_utf8``
with their raw bytes in a binary column every tool can read, unparseable records are
``malformed_row``, and an input without rows is refused before any work."""

from __future__ import annotations

import os

import pandas as pd
import pyarrow.parquet as pq
import pytest

from curation.pipeline.config import ConfigError, CurationConfig
from curation.pipeline.curate import run_curate, run_stage
from curation.spark.tables import read_table

from .fixtures.hostile_corpus import INVALID_BYTES, write_format_corpora

pytestmark = pytest.mark.spark
FORMATS = ("jsonl", "csv", "tsv", "parquet", "delta")


@pytest.fixture(scope="module")
def corpora(spark, tmp_path_factory):
    return write_format_corpora(str(tmp_path_factory.mktemp("formats")), spark)


@pytest.fixture(scope="module")
def accounted(spark, corpora, tmp_path_factory):
    """lid + match of every format's corpus: {fmt: (config, rows per outcome)}."""
    out = {}
    for fmt in FORMATS:
        cfg = CurationConfig(input=corpora[fmt]["path"], input_format=fmt,
                             output=str(tmp_path_factory.mktemp(f"acc_{fmt}")), output_partitions=2).validate()
        run_stage(spark, cfg, "lid")
        stats = run_stage(spark, cfg, "match")
        match = stats["stages"]["match"]
        counts = dict(match["rejects_by_reason"], matched=match["matched"])
        out[fmt] = (cfg, dict(sorted(counts.items())), match)
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_row_of_every_format_is_counted_once_with_the_exact_reason(corpora, accounted, fmt):
    _, counts, match = accounted[fmt]
    assert match["rows_in"] == corpora[fmt]["rows"] == match["matched"] + match["rejects"]
    assert counts == corpora[fmt]["expected"]


@pytest.mark.parametrize("fmt", ("csv", "tsv", "jsonl", "parquet"))
def test_a_multi_line_text_is_one_row_and_kept_whole(spark, accounted, fmt):
    cfg = accounted[fmt][0]
    row = read_table(spark, cfg.output, "matched", "parquet").filter("url LIKE '%f-multiline%'").collect()
    assert len(row) == 1
    assert row[0]["text"] == 'a photo of a "black cat",\nsleeping on\r\nthe red sofa'


@pytest.mark.parametrize("fmt", FORMATS)
def test_rejects_with_raw_bytes_are_readable_by_pandas_pyarrow_spark_and_keep_the_bytes(spark, accounted, fmt):
    cfg = accounted[fmt][0]
    path = os.path.join(cfg.output, "rejects")
    frame = pd.read_parquet(path)  # failed on raw invalid UTF-8 in a string column
    table = pq.read_table(path)
    assert table.schema.field("_corrupt_record").type == "binary"
    bad = frame[frame["reason"] == "invalid_utf8"]
    assert len(bad) == 3 and bad["_corrupt_record"].notna().all()
    raw = {bytes(b) for b in bad["_corrupt_record"]}
    if fmt == "jsonl":  # the whole line
        assert any(INVALID_BYTES in b for b in raw) and any(b"\\ud83d" in b for b in raw)
    else:  # the field's original bytes
        assert INVALID_BYTES in raw
        assert b"black cat \xed\xa0\xbd on the red sofa" in raw
    texts = dict(zip(bad["url"], bad["text"]))  # invalid sequences replaced by U+FFFD in the string column
    assert texts["https://img.example.org/f-bytes.jpg"].startswith("black cat \ufffd")
    assert texts["https://img.example.org/f-surrogate.jpg"].startswith("black cat \ufffd")
    assert [u for u in texts if "f-bad-url-bytes" in u] == ["https://img.example.org/f-bad-url-bytes.jpg\ufffd"]
    if fmt in ("jsonl", "csv", "tsv"):
        malformed = frame[frame["reason"] == "malformed_row"]
        assert len(malformed) == 2 and malformed["_corrupt_record"].notna().all()
    rows = read_table(spark, cfg.output, "rejects", "parquet").filter("reason = 'invalid_utf8'").collect()
    assert {bytes(r["_corrupt_record"]) for r in rows} == raw
    matched = pq.read_table(os.path.join(cfg.output, "matched"))
    assert "_corrupt_record" not in matched.schema.names  # null on every matched row: not carried there


def test_delta_rejects_are_readable_by_deltalake(spark, corpora, tmp_path):
    from deltalake import DeltaTable

    cfg = CurationConfig(input=corpora["jsonl"]["path"], output=str(tmp_path / "d"), format="delta",
                         output_partitions=2).validate()
    run_stage(spark, cfg, "lid")
    run_stage(spark, cfg, "match")
    rejects = DeltaTable(os.path.join(cfg.output, "rejects")).to_pandas()
    assert (rejects["reason"] == "invalid_utf8").sum() == 3
    assert rejects.loc[rejects["reason"] == "invalid_utf8", "_corrupt_record"].map(bytes).str.len().min() > 0


@pytest.mark.parametrize("case", ["jsonl_blank_lines", "csv_header_only", "parquet_no_rows", "delta_no_rows"])
def test_an_input_without_rows_is_refused_before_any_work(spark, corpora, tmp_path, case):
    out = tmp_path / "out"
    fmt = {"jsonl_blank_lines": "jsonl", "csv_header_only": "csv"}.get(case, "auto")
    cfg = CurationConfig(input=corpora["empty"][case], input_format=fmt, output=str(out)).validate()
    with pytest.raises(ConfigError, match="has no rows"):
        run_curate(spark, cfg)
    assert not out.exists()
