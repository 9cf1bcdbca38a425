"""Small and English-less corpora (issue 16 item 4): auto never silently drops the languages that
matched, p can be given directly, and the summary never contradicts its own table."""

from __future__ import annotations

import json

import pytest

from curation.metadata import metadata_from_lists, write_metadata
from curation.pipeline.config import ConfigError, CurationConfig
from curation.pipeline.curate import run_curate
from curation.pipeline.summary import format_summary
from curation.spark.tables import read_table

pytestmark = pytest.mark.spark

GOOD = [
    ("en", "a red car parked on the street"), ("en", "fresh bread on a wooden table"),
    ("en", "a small dog playing in the garden"), ("en", "mountain lake at sunset"),
    ("en", "portrait of a smiling woman"),
    ("de", "ein rotes Auto auf der Straße"), ("zh", "桌子上的新鲜面包和水果"),
    ("ja", "公園で遊んでいる小さな犬の写真です"), ("th", "ทะเลสาบบนภูเขาตอนพระอาทิตย์ตก"),
]


def _write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for i, (_, text) in enumerate(rows):
            f.write(json.dumps({"url": f"https://img.example.com/{i}.jpg", "text": text}, ensure_ascii=False) + "\n")
    return str(path)


def _langs(spark, cfg, table):
    return sorted(r["lang"] for r in read_table(spark, cfg.output, table, cfg.format).select("lang").collect())


def test_five_good_english_rows_keep_the_other_languages(spark, tmp_path):
    cfg = CurationConfig(input=_write_jsonl(tmp_path / "in.jsonl", GOOD), output=str(tmp_path / "out"),
                         quiet=True).validate()
    stats = run_curate(spark, cfg)
    thr = stats["stages"]["thresholds"]
    matched = set(_langs(spark, cfg, "matched"))
    assert {"de", "zh", "ja", "th"} <= matched, matched
    for lang in matched:  # every language that matched has a threshold and keeps its images
        assert thr["per_language"][lang]["t"] >= 1, (lang, thr)
    assert set(_langs(spark, cfg, "curated")) == matched
    summary = format_summary(stats)
    no_match_line = next(line for line in summary.splitlines() if "had no matches" in line)
    listed = set(no_match_line.split("): ", 1)[1].split(", "))
    assert not listed & matched, summary


def test_english_less_corpus_with_a_given_tail_proportion(spark, tmp_path):
    ja = [("ja", t) for t in ("公園で遊んでいる小さな犬", "桜の花と青い空", "東京の夜景と高いビル",
                             "木のテーブルの上のパン", "海辺で遊ぶ子供たち", "赤い車と白い犬")]
    meta = tmp_path / "ja_meta.parquet"
    write_metadata(metadata_from_lists({"ja": ["犬", "公園", "桜", "空", "東京", "パン", "海", "車", "夜景"]}), str(meta))
    base = dict(input=_write_jsonl(tmp_path / "ja.jsonl", ja), metadata=str(meta), quiet=True)
    with pytest.raises(ConfigError, match="--tail-proportion"):
        run_curate(spark, CurationConfig(output=str(tmp_path / "refused"), t_en="50", **base).validate())
    cfg = CurationConfig(output=str(tmp_path / "out"), tail_proportion=0.5, **base).validate()
    stats = run_curate(spark, cfg)
    thr = stats["stages"]["thresholds"]
    assert thr["p_source"] == "tail_proportion" and thr["p"] == 0.5 and thr["per_language"]["ja"]["t"] >= 1
    assert _langs(spark, cfg, "curated") and set(_langs(spark, cfg, "curated")) == {"ja"}
    assert "p = 0.5000 (given)" in format_summary(stats)


def test_t_override_and_explicit_t_en_drop_is_reported(spark, tmp_path):
    inp = _write_jsonl(tmp_path / "in.jsonl", GOOD)
    cfg = CurationConfig(input=inp, output=str(tmp_path / "out"), t_en="2", quiet=True,
                         t_overrides={"de": 3}).validate()
    stats = run_curate(spark, cfg)
    thr = stats["stages"]["thresholds"]
    assert thr["per_language"]["de"]["t"] == 3 and thr["overridden"] == ["de"]
    for lang in thr.get("dropped", []):
        assert thr["per_language"][lang]["t"] == 0 and f"{lang} (" in format_summary(stats)
    with pytest.raises(ConfigError, match="does not have"):
        run_curate(spark, CurationConfig(input=inp, output=str(tmp_path / "bad"), t_overrides={"xx": 2}).validate())
