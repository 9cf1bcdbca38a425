"""The RealSyn section of the HTML report (issue 19 item 9), on a hand-written output root:
stage rows from ``_stats.json``, sentences per image from ``realsyn_pairs``, cluster sizes
before/after balancing, a RealSyn-only root, and a root with nothing finished."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

pytest.importorskip("matplotlib")

from curation.report import ReportError, build_report, collect  # noqa: E402
from curation.report.realsyn import stage_rows, texts_per_pair  # noqa: E402

SECTION = {
    "config": {"format": "parquet"},
    "extract": {"documents_in": 10, "documents_used": 9, "documents_rejected": {"unaligned_lists": 1},
                "element_rejects": {"bad_url": 2}, "image_refs": {"kept": 12, "too_small": 3},
                "sentence_refs": {"kept": 40, "too_few_words": 5}, "seconds": 1.5},
    "sentences": {"references_in": 40, "distinct": 30, "exact_duplicates": 10, "kept": 25,
                  "reasons": {"kept": 25, "low_entropy": 3, "near_duplicate": 2},
                  "perplexity": {"skipped": True, "reason": "no --perplexity-model given"}, "seconds": 2.0},
    "embed": {"sentences": 25, "seconds": 3.0},
    "images": {"references_in": 12, "distinct": 11, "repeated_urls": 1, "kept": 8,
               "reasons": {"kept": 8, "near_duplicate": 2, "undecodable": 1}, "seconds": 4.0},
    "pairs": {"images_in": 8, "k": 3, "pairs": 4, "rejected": {"balanced_out": 4},
              "synthetic": {"skipped": True, "reason": "no --synthetic-captions given"},
              "balance": {"t": 2, "how": "given", "sizes_before": {"1": 1, "4-7": 1},
                          "sizes_after": {"1": 1, "2-3": 1}},
              "seconds": 5.0},
}
PAIRS = {"uid": ["a", "b", "c", "d"], "url": ["https://x/a", "https://x/b", "https://x/c", "https://x/d"],
         "text1": ["one", "one", "one", "one"], "text2": ["two", None, "two", "  "],
         "text3": ["three", None, None, None], "syn_text": ["syn", None, "", None]}


@pytest.fixture()
def realsyn_root(tmp_path) -> str:
    root = tmp_path / "rs"
    (root / "realsyn_pairs").mkdir(parents=True)
    pq.write_table(pa.table(PAIRS), root / "realsyn_pairs" / "part-00000.parquet")
    (root / "realsyn_pairs" / "_SUCCESS").write_text("")
    (root / "_stats.json").write_text(json.dumps({"realsyn": SECTION}))
    return str(root)


def test_texts_per_pair_hand_computed(realsyn_root):
    per, with_syn, total = texts_per_pair(ds.dataset(os.path.join(realsyn_root, "realsyn_pairs")))
    # a: 3 texts; b: 1; c: 2; d: 1 (a blank text2 is not a sentence); syn_text: only "syn" counts
    assert per == {1: 2, 2: 1, 3: 1} and with_syn == 1 and total == 4


def test_stage_rows_account_for_every_reason():
    rows = {r.stage: r for r in stage_rows(SECTION)}
    docs = rows["extract: documents"]
    assert (docs.rows_in, docs.rows_out, docs.reasons) == (10, 9, {"unaligned_lists": 1})
    assert rows["extract: sentence references"].rows_in == 45  # kept + rejected references
    sent = rows["sentences"]
    assert sent.reasons == {"exact_duplicate": 10, "low_entropy": 3, "near_duplicate": 2}
    assert sent.rows_in - sent.rows_out == sum(sent.reasons.values())  # 40 - 25 = 15
    img = rows["images"]
    assert img.rows_in - img.rows_out == sum(img.reasons.values())  # 12 - 8 = 1 + 2 + 1
    assert rows["pairs"].rows_in - rows["pairs"].rows_out == rows["pairs"].reasons["balanced_out"]
    assert stage_rows({}) == []


def test_realsyn_only_root_renders_its_section(realsyn_root):
    data = collect(realsyn_root)
    assert not data.curation and data.missing == [] and data.format == "parquet"
    rs = data.realsyn
    assert rs.pairs == 4 and rs.texts_per_pair == {1: 2, 2: 1, 3: 1} and rs.with_synthetic == 1
    assert rs.sizes_before == {"1": 1, "4-7": 1} and rs.sizes_after == {"1": 1, "2-3": 1} and rs.t == 2
    html = open(build_report(realsyn_root), encoding="utf-8").read()
    assert "RealSyn: interleaved documents" in html and "Languages: input" not in html
    assert html.count("data:image/png;base64,") == 2  # sentences per image, cluster sizes
    assert "1.75" in html  # (3 + 1 + 2 + 1) / 4 real sentences per pair
    assert "skipped (no --perplexity-model given)" in html
    assert "exact_duplicate 10, low_entropy 3, near_duplicate 2" in html


def test_stats_only_root_lists_the_missing_pairs_table(realsyn_root):
    import shutil

    shutil.rmtree(os.path.join(realsyn_root, "realsyn_pairs"))
    data = collect(realsyn_root)
    assert data.missing == ["realsyn_pairs"] and data.realsyn.pairs == 4 and data.realsyn.with_synthetic is None
    html = open(build_report(realsyn_root), encoding="utf-8").read()
    assert "Tables not found" in html and "sentences per image: nothing to plot" in html


def test_root_with_no_finished_stage_is_an_error(tmp_path):
    (tmp_path / "_stats.json").write_text(json.dumps({"run": {}}))
    with pytest.raises(ReportError, match="no stage sections"):
        collect(str(tmp_path))
