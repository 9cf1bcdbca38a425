"""The builder end to end on tiny real-format dumps: hand-computed rules, both engines, CLI,
imports, reports, and the curation pipeline running on the built metadata."""

from __future__ import annotations

import json
import os

import pytest

from curation.metadata import build as B
from curation.metadata import NUMBERS, read_metadata, validate_metadata_file
from curation.metadata.sources.selection import SelectionRules

from .corpus import (
    EN_BIGRAMS_PMI_3_3,
    EN_N,
    EN_TITLES_BY_VIEWS,
    EN_UNIGRAM_RANKING,
    EN_V,
    ZH_BIGRAMS_PMI_1_5,
    ZH_N,
    ZH_UNIGRAM_RANKING,
    ZH_V,
    write_dumps,
)
from .test_wordnet import write_wn_lmf


@pytest.fixture(scope="module")
def dumps(tmp_path_factory):
    return write_dumps(tmp_path_factory.mktemp("dumps"))


def _config(dumps, langs=("en", "zh"), **kw) -> B.BuildConfig:
    rules = kw.pop("rules", SelectionRules())
    return B.BuildConfig(dumps={lang: [dumps[lang]] for lang in langs}, rules=rules, engine=kw.pop("engine", "local"),
                         **kw).validate()


def _wiki(metadata, lang, numbers=True):
    return list(metadata.entries[lang][len(NUMBERS) if numbers else 0:])


def test_paper_defaults_on_tiny_dumps(dumps):
    result = B.build_metadata(_config(dumps))
    md, stats = result.metadata, result.stats
    # en: V=18 -> floor(1.8)=1 unigram; PMI > 30 impossible with N=42; 3 titles with in-links -> floor(2.28)=2
    assert md.entries["en"][:100] == NUMBERS
    assert _wiki(md, "en") == ["red", "Apple", "Banana"]
    assert md.sources["en"][100:] == ("wiki_unigram", "wiki_title", "wiki_title")
    # zh: V=9 -> floor(0.9)=0 unigrams; titles 熊猫 (2 in-links), 猫 (1) -> floor(1.52)=1
    assert _wiki(md, "zh") == ["熊猫"]
    en = stats["languages"]["en"]
    assert en["quota"] == {"wiki_unigram": 1, "wiki_bigram": 100_646, "wiki_title": 2}
    assert en["candidates"] == {"wiki_unigram": EN_V, "wiki_bigram": 0, "wiki_title": 3}
    assert en["wikipedia"]["tokens"] == EN_N and en["wikipedia"]["title_ranking"] == "in_links"
    assert en["wikipedia"]["pages"] == {"articles": 4, "other_namespaces": 1, "pages": 6, "redirects": 1,
                                        "records_without_page": 1}
    zh = stats["languages"]["zh"]["wikipedia"]
    assert (zh["tokens"], zh["unigram_types"], zh["segmenter"], zh["no_space"]) == (ZH_N, ZH_V, "jieba", True)
    assert stats["totals"] == {"languages": 2, "entries": 204,
                               "by_source": {"numbers": 200, "wiki_title": 3, "wiki_unigram": 1}}


RULES = SelectionRules(unigram_top_share=0.25, bigram_min_pmi=3.3, bigram_cap=3, title_top_share=1.0)


def test_ranking_pmi_and_caps_hand_computed(dumps):
    md = B.build_metadata(_config(dumps, rules=RULES, numbers=False)).metadata
    assert _wiki(md, "en", False) == (EN_UNIGRAM_RANKING[:4] + EN_BIGRAMS_PMI_3_3[:3] + ["Apple", "Banana", "Cherry"])
    # zh: floor(2.25)=2 unigrams; bigrams joined without a space (log2 10.5 > 3.3); titles already unigrams
    assert _wiki(md, "zh", False) == ZH_UNIGRAM_RANKING[:2] + ["吃竹子", "我喜欢", "是动物"]
    rules = SelectionRules(unigram_top_share=0.0, bigram_min_pmi=1.5, title_top_share=0.0)
    md = B.build_metadata(_config(dumps, langs=("zh",), rules=rules, numbers=False)).metadata
    assert _wiki(md, "zh", False) == ZH_BIGRAMS_PMI_1_5
    rules = SelectionRules(unigram_top_share=0.0, bigram_min_pmi=3.3, bigram_min_count=2, title_top_share=0.0)
    md = B.build_metadata(_config(dumps, langs=("en",), rules=rules, numbers=False)).metadata
    assert _wiki(md, "en", False) == ["is a"]
    rules = SelectionRules(unigram_top_share=0.5, unigram_cap=3, bigram_cap=0, title_cap=1)
    md = B.build_metadata(_config(dumps, langs=("en",), rules=rules, numbers=False)).metadata
    assert _wiki(md, "en", False) == ["red", "a", "apple", "Apple"]


def test_quotas_count_only_new_entries_after_imports(dumps, tmp_path):
    metaclip = tmp_path / "metadata.json"
    metaclip.write_text(json.dumps(["red", "Apple", "2"]), encoding="utf-8")
    config = _config(dumps, langs=("en",), rules=SelectionRules(unigram_top_share=0.25),
                     metaclip_json={"en": str(metaclip)}, wordnet=[write_wn_lmf(tmp_path / "wn.xml")])
    result = B.build_metadata(config)
    md = result.metadata
    assert md.entries["en"][:3] == ("red", "Apple", "2")  # imported ids are kept
    assert md.entries["en"][3:5] == ("0", "1")
    rest = md.entries["en"][3 + 99:]
    assert rest == ("C++", "dog", "hot dog", "a", "apple", "is", "See", "Banana", "Cherry")
    merge = result.stats["languages"]["en"]["merge"]
    assert merge["duplicates"] == {"numbers": 1, "wiki_title": 1, "wiki_unigram": 1}
    assert set(md.entries) == {"en", "ja", "sq", "zh"}  # WordNet-only languages come along
    assert _wiki(md, "ja") == ["子犬", "犬"]
    assert set(md.sources["ja"][100:]) == {"wordnet"}


def test_page_views_rank_titles_when_given(dumps):
    config = _config(dumps, langs=("en",), rules=SelectionRules(unigram_top_share=0.0), numbers=False,
                     page_views=[dumps["views"]])
    result = B.build_metadata(config)
    # Date palm 100, Cherry 75, Banana 30, Apple 15 (Pomme redirect); 4 candidates -> floor(3.04) = 3
    assert _wiki(result.metadata, "en", False) == EN_TITLES_BY_VIEWS[:3]
    assert result.stats["languages"]["en"]["wikipedia"]["title_ranking"] == "page_views"


def test_languages_filter_and_file_uri_output(dumps, tmp_path):
    out = tmp_path / "o" / "m.parquet"
    config = _config(dumps, langs=("en", "zh"), languages=["zh"], output=f"file://{out}")
    result = B.build_metadata(config)
    assert list(result.metadata.entries) == ["zh"]
    B.write_outputs(result, config)
    assert read_metadata(str(out)) == result.metadata and (tmp_path / "o" / "_stats.json").exists()


def test_plain_text_input(tmp_path):
    text = tmp_path / "zh.txt"
    text.write_text('<doc id="1" url="x" title="熊猫">\n熊猫吃竹子。\n熊猫是动物。\n</doc>\n', encoding="utf-8")
    config = B.BuildConfig(plain_text={"zh": [str(text)]}, numbers=False, engine="local",
                           rules=SelectionRules(unigram_top_share=0.5, bigram_min_pmi=2.0)).validate()
    result = B.build_metadata(config)
    # counts: 熊猫 2, 吃/竹子/是/动物 1 (N=6, V=5) -> 2 unigrams; PMI: 吃竹子, 是动物 log2 6 > 2;
    # 熊猫吃, 熊猫是 log2 3 < 2
    assert _wiki(result.metadata, "zh", False) == ["熊猫", "动物", "吃竹子", "是动物"]
    assert result.stats["languages"]["zh"]["wikipedia"]["pages"] == {"text_lines": 2}


def test_invalid_imports_are_reported_or_refused_with_strict(dumps, tmp_path):
    bad = tmp_path / "en.json"
    bad.write_text(json.dumps({"cat": "w", "...": "w", " dog": "u", "x" * 300: "t"}), encoding="utf-8")
    result = B.build_metadata(B.BuildConfig(metaclip_json={"en": str(bad)}, engine="local").validate())
    rejected = result.stats["languages"]["en"]["merge"]["rejected"]["metaclip"]
    assert rejected == {"punctuation only": 1, "leading or trailing whitespace": 1, "longer than 256 characters": 1}
    assert "en: dropped 3 invalid metaclip" in B.report(result)
    with pytest.raises(B.BuildError, match="--strict"):
        B.build_metadata(B.BuildConfig(metaclip_json={"en": str(bad)}, engine="local", strict=True).validate())


def test_malformed_records_are_counted_not_fatal(tmp_path):
    path = tmp_path / "broken.xml"
    path.write_text('<mediawiki><siteinfo></siteinfo>\n<page><title>Ok</title><ns>0</ns><id>1</id><revision>'
                    '<text>fine words here</text></revision></page>\n<page><title>Bad</title><ns>zero</ns>'
                    '</page>\n<page><title>Broken<revision></page>\n</mediawiki>\n', encoding="utf-8")
    result = B.build_metadata(B.BuildConfig(dumps={"en": [str(path)]}, engine="local",
                                            rules=SelectionRules(unigram_top_share=1.0)).validate())
    assert _wiki(result.metadata, "en") == ["fine", "here", "words"]
    assert result.stats["languages"]["en"]["wikipedia"]["pages"]["bad_records"] == 2
    assert "2 malformed dump record(s)" in B.report(result)


@pytest.mark.parametrize("argv, needle", [
    ([], "no source given"),
    (["--dump", "en"], "expects LANG=PATH"),
    (["--dump", "en=/nonexistent.xml", "--engine", "local"], "input not found"),
    (["--wordnet", "/nonexistent.xml"], "input not found"),
    (["--metaclip-json", "en=/x.json", "--metaclip-json", "en=/y.json"], "given twice"),
    (["--dump", "en=x", "--unigram-top-share", "1.5"], "must be in [0, 1]"),
    (["--page-views", "v.txt", "--wordnet", "x"], "--page-views ranks article titles"),
])
def test_bad_flags_fail_before_any_work(argv, needle, capsys):
    assert B.main(argv) == 2
    assert needle in capsys.readouterr().err


def test_cli_local_writes_table_stats_and_metaclip_export(dumps, tmp_path, capsys):
    out = tmp_path / "out" / "metadata.parquet"
    argv = ["--engine", "local", "--dump", f"en={dumps['en']}", "--dump", f"zh_yue={dumps['zh']}",
            "--output", str(out), "--export-metaclip", str(tmp_path / "json")]
    assert B.main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split() == ["lang", "numbers", "wiki_unigram", "wiki_title", "total"]
    assert "zh-yue" in printed and f"wrote {out}" in printed
    assert validate_metadata_file(str(out)) == []
    stats = json.loads((tmp_path / "out" / "_stats.json").read_text())
    built = read_metadata(str(out))
    assert stats["totals"]["entries"] == built.n_entries("en") + built.n_entries("zh-yue")
    assert stats["config"]["rules"]["bigram_min_pmi"] == 30.0
    assert json.loads((tmp_path / "json" / "en.json").read_text())["red"] == "u"


# ---------------------------------------------------------------- Spark

@pytest.fixture(scope="module")
def spark_build(spark, dumps, tmp_path_factory):
    thai = tmp_path_factory.mktemp("text") / "th.txt"
    thai.write_text("ฉันรักภาษาไทย เพราะว่าแมวน่ารัก\nแมวน่ารัก\n", encoding="utf-8")
    config = _config(dumps, langs=("en", "zh", "ja"), rules=RULES, engine="spark", page_views=[dumps["views"]],
                     plain_text={"th": [str(thai)]})
    result = B.build_metadata(config, spark)
    out = tmp_path_factory.mktemp("spark_out") / "metadata.parquet"
    config.output = str(out)
    B.write_outputs(result, config, spark)
    return config, result


@pytest.mark.spark
def test_spark_engine_equals_local_engine(spark_build):
    config, spark_result = spark_build
    local = B.build_metadata(B.BuildConfig(**{**config.__dict__, "engine": "local"}).validate())
    assert spark_result.metadata == local.metadata
    # th (plain text, pythainlp): แมว 2, น่ารัก 2, 4 words once: V=6 -> floor(1.5)=1; no pair has PMI > 3.3
    assert _wiki(spark_result.metadata, "th") == ["น่ารัก"]
    for lang in ("en", "zh", "ja", "th"):
        got, want = spark_result.stats["languages"][lang], local.stats["languages"][lang]
        for key in ("candidates", "quota", "merge", "wikipedia"):
            assert got[key] == want[key], (lang, key)
    assert _wiki(spark_result.metadata, "en")[:7] == EN_UNIGRAM_RANKING[:4] + EN_BIGRAMS_PMI_3_3[:3]
    assert validate_metadata_file(config.output) == []


@pytest.mark.spark
def test_outputs_through_hadoop_file_system(spark, spark_build, tmp_path, monkeypatch):
    config, result = spark_build
    monkeypatch.setattr(B, "is_local", lambda path: False)  # take the remote (Hadoop FS) branch
    target = tmp_path / "remote" / "metadata.parquet"
    remote = B.BuildConfig(**{**config.__dict__, "output": f"file://{target}"})
    B.write_outputs(result, remote, spark)
    B.write_outputs(result, remote, spark)  # replacing an existing file works too
    assert read_metadata(str(target)) == result.metadata
    assert json.loads((tmp_path / "remote" / "_stats.json").read_text())["fingerprint"] == result.stats["fingerprint"]
    assert sorted(p.name for p in (tmp_path / "remote").iterdir() if not p.name.startswith(".")) == \
        ["_stats.json", "metadata.parquet"]


@pytest.mark.spark
def test_curation_pipeline_runs_on_built_metadata(spark, spark_build, tmp_path):
    from curation.pipeline.config import CurationConfig
    from curation.pipeline.curate import run_curate
    from curation.spark.tables import read_table

    config, result = spark_build
    texts = ["a red apple and a green banana on the table", "the Date palm is a tree in the desert",
             "is a yellow banana sweeter than a red apple", "熊猫吃竹子，我喜欢熊猫", "我喜欢猫，猫是动物",
             "猫が好きです、犬も好きです"]
    rows = [{"url": f"https://img.example.org/{i}.jpg", "text": t} for i, t in enumerate(texts * 3)]
    rows += [{"url": "https://img.example.org/x.jpg", "text": ""},
             {"url": "https://img.example.org/y.jpg", "text": "nothing known in here"}]
    path = tmp_path / "alt.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    cfg = CurationConfig(input=str(path), metadata=config.output, output=str(tmp_path / "cur"), quiet=True).validate()
    run_curate(spark, cfg)
    matched = read_table(spark, cfg.output, "matched", "parquet").collect()
    by_lang = {}
    for r in matched:
        entries = result.metadata.entries[r["lang"]]
        by_lang.setdefault(r["lang"], set()).update(entries[i] for i in r["entry_ids"])
    assert {"red", "apple", "is a", "Date palm"} <= by_lang["en"]
    assert {"熊猫", "吃竹子", "我喜欢"} <= by_lang["zh"]
    assert "ja" in by_lang


@pytest.mark.spark
def test_bz2_dump_split_across_tasks_counts_every_page_once(spark, tmp_path):
    import random

    from curation.metadata.sources.export_xml import DumpPage, write_dump
    from curation.metadata.sources.local import LocalCounts
    from curation.metadata.sources.spark_wiki import SparkCounts

    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]
    pages = [DumpPage(f"Page {i}", " ".join(rng.choice(words) for _ in range(rng.randint(5, 300)))
                      + f" [[Page {i // 2}]]") for i in range(1000)]
    path = str(tmp_path / "split.xml.bz2")
    write_dump(path, pages, "en", pages_per_stream=50)
    previous = spark.conf.get("spark.sql.files.maxPartitionBytes")
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(os.path.getsize(path) // 5))  # 5-6 splits
    try:
        from curation.metadata.sources.spark_wiki import read_inputs

        assert read_inputs(spark, {"en": [path]}, {}).rdd.getNumPartitions() >= 5
        counts = SparkCounts.from_inputs(spark, {"en": [path]}, {}, max_keys=1000)  # flushes often
        summary = counts.summaries()["en"]
        got = counts.unigram_candidates({"en": 10})["en"]
        titles, n_titles = counts.title_candidates({"en": 5})
        counts.close()
    finally:
        spark.conf.set("spark.sql.files.maxPartitionBytes", previous)
    local = LocalCounts.from_files({"en": [path]}, {})
    want = local.summaries()["en"]
    assert summary.stats["articles"] == 1000 and summary.stats == want.stats
    assert (summary.tokens, summary.unigram_types, summary.bigram_types) == (want.tokens, want.unigram_types,
                                                                             want.bigram_types)
    assert got == local.unigram_candidates({"en": 10})["en"]
    assert (titles, n_titles) == local.title_candidates({"en": 5})
