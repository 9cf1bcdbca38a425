"""The builder on real Wikipedia dumps (``real_dumps.py``: shipped by the gensim package, or in
``$WWCLIP_REAL_DUMPS``): clean entries, loud failures, and byte-identical metadata from both
engines, cut, multistream and UTF-16 files included."""

from __future__ import annotations

import importlib.util
import json
import re
import sys

import pytest

from curation.metadata import build as B
from curation.metadata.sources import counting as C
from curation.metadata.sources.deps import MissingDependencyError
from curation.metadata.sources.dumpio import DumpError, TruncatedDumpError
from curation.metadata.sources.selection import SelectionRules

from .real_dumps import (
    BGWIKI,
    ENWIKI_TABLES,
    JAWIKI,
    UKWIKI,
    env_dump,
    gensim_dump,
    multistream_bz2,
    utf8_xml,
    xml_bytes,
)

ALL = SelectionRules(unigram_top_share=1.0, bigram_cap=0, title_top_share=1.0)
# Which dumps each set reads: in CI (the gensim package) and with $WWCLIP_REAL_DUMPS.
DUMP_SETS = {"gensim": lambda: {"bg": gensim_dump(BGWIKI), "en": gensim_dump(ENWIKI_TABLES)},
             "jawiki-ukwiki": lambda: {"ja": env_dump(JAWIKI), "uk": env_dump(UKWIKI)}}

# Words that only ever come from markup: wikitext keywords and image options, HTML/table
# attributes, CSS properties and values, tag names. No entry built from a real dump may equal
# one (case-insensitive), nor look like a pixel size or a hex colour. English words that double
# as markup values (right, left, border, small...) are checked, as written in markup (lower
# case), on the non-English dumps, where prose uses them only in English quotes and references
# ("Small, J. 1978", "Centre for ...": capitalised).
MARKUP_ONLY = {
    "thumb", "thumbnail", "upright", "frameless", "px", "nbsp", "ndash", "mdash", "defaultsort",
    "notoc", "toc", "redirect", "wikitable", "sortable", "plainrowheaders", "collapsible", "mw-collapsible",
    "style", "align", "valign", "bgcolor", "colspan", "rowspan", "cellpadding", "cellspacing", "nowrap",
    "text-align", "font-size", "font-weight", "background-color", "border-collapse", "vertical-align",
    "div", "span", "br", "ref", "reflist", "jpg", "jpeg", "png", "svg", "gif", "ogg", "webm",
    "サムネイル", "mini", "miniatur", "hochkant", "vignette", "мини", "міні", "миниатюра", "мініатюра",
}
ENGLISH_MARKUP_WORDS = {"right", "left", "center", "centre", "border", "frame", "solid", "dashed", "dotted",
                        "white", "color", "background", "width", "height", "margin", "padding", "float", "class",
                        "small", "big", "font", "none", "alt", "link", "file", "image", "category", "template",
                        "scope", "col", "row", "auto", "bold", "italic"}
# pixel sizes; six-digit hex colours (a three-digit one is too often prose: ukwiki's "5d5" orbital)
_LOOKS_LIKE_MARKUP = re.compile(r"^\d+(?:x\d+)?px$|^(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6}$", re.IGNORECASE)


def markup_entries(entries, lang: str) -> list[str]:
    english = ENGLISH_MARKUP_WORDS if lang != "en" else set()
    return [e for e in entries if e.casefold() in MARKUP_ONLY or e in english or _LOOKS_LIKE_MARKUP.match(e)]


@pytest.fixture(scope="module", params=sorted(DUMP_SETS))
def local_build(request):
    dumps = DUMP_SETS[request.param]()
    config = B.BuildConfig(dumps={k: [v] for k, v in dumps.items()}, engine="local", numbers=False,
                           rules=ALL).validate()
    return request.param, dumps, B.build_metadata(config)


def test_no_markup_among_the_entries_of_real_dumps(local_build):
    _, dumps, result = local_build
    md = result.metadata
    assert set(md.entries) == set(dumps)
    for lang in dumps:
        assert len(md.entries[lang]) > 400, lang
        assert markup_entries(md.entries[lang], lang) == [], lang
    # the check itself would catch what leaked before (jawiki's 画像: links, unparsed table cells)
    assert markup_entries(["right", "thumb", "300px", "fff3f3", "colspan", "Tokyo"], "ja") == \
        ["right", "thumb", "300px", "fff3f3", "colspan"]
    assert markup_entries(["decade", "add", "2p10", "5d5"], "ja") == []  # words made of hex letters are prose


def test_real_dumps_give_real_words_titles_and_page_counts(local_build):
    name, _, result = local_build
    stats, md = result.stats["languages"], result.metadata
    assert result.stats["partial"] is False
    if name == "gensim":
        # bgwiki is UTF-16: read, not refused; its two Уикипедия: pages are another namespace
        assert stats["bg"]["wikipedia"]["pages"] == {"articles": 1, "other_namespaces": 2, "pages": 3,
                                                     "records_without_page": 1}
        assert {"календар", "Григорианският", "януари", "високосна"} <= set(md.entries["bg"])
        assert stats["en"]["wikipedia"]["pages"]["articles"] == 5
        assert {"Estonia", "Brahui", "Prison", "List of Prison Break characters"} <= set(md.entries["en"])
        assert md.sources["en"][md.entries["en"].index("List of Prison Break characters")] == "wiki_title"
    else:
        assert stats["ja"]["wikipedia"]["pages"] == {"articles": 30, "other_namespaces": 5, "pages": 38,
                                                     "records_without_page": 1, "redirects": 3}
        assert stats["ja"]["wikipedia"]["segmenter"] == "mecab-ipadic"
        assert {"日本語", "言語", "ヨーロッパ", "エジプト"} <= set(md.entries["ja"])
        assert {"Хімія", "мова"} <= set(md.entries["uk"])


def test_missing_optional_dependency_fails_before_any_work_naming_package_and_extra(monkeypatch, tmp_path, capsys):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mwparserfromhell" else real(name, *a))
    out = tmp_path / "m.parquet"
    assert B.main(["--engine", "local", "--dump", f"bg={gensim_dump(BGWIKI)}", "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "'mwparserfromhell'" in err and "pip install -e '.[metadata]'" in err and not out.exists()


def test_missing_dependency_inside_per_page_work_is_never_a_malformed_record(monkeypatch):
    from curation.metadata.sources import tokenize as T

    monkeypatch.setitem(sys.modules, "khmernltk", None)  # import fails, as on an executor without it
    T.get_segmenter.cache_clear()
    buf = C.CountBuffer()
    record = "<page><title>ក</title><ns>0</ns><id>1</id><revision><text>ខ្មែរ</text></revision>"
    try:
        with pytest.raises(MissingDependencyError, match="'khmer-nltk'.*pip install -e '.\\[metadata\\]'"):
            C.count_record(record, "km", buf)
    finally:
        T.get_segmenter.cache_clear()
    assert C.BAD_RECORDS not in {k[2] for k in buf.counts}


def _cut_multistream(tmp_path, name: str, fraction: float) -> tuple[str, int]:
    """The enwiki table-markup dump as multistream bz2 (one page per stream), cut at ``fraction``
    of its bytes: (path, bytes kept)."""
    data, _ = multistream_bz2(xml_bytes(gensim_dump(ENWIKI_TABLES)), 1)
    n = int(len(data) * fraction)
    path = tmp_path / name
    path.write_bytes(data[:n])
    return str(path), n


def test_truncated_dump_cli_error_or_partial_output(tmp_path, capsys):
    cut, n = _cut_multistream(tmp_path, "enwiki-cut.xml.bz2", 0.5)
    out = tmp_path / "o" / "m.parquet"
    argv = ["--engine", "local", "--dump", f"en={cut}", "--output", str(out)]
    assert B.main(argv) == 1
    err = capsys.readouterr().err
    assert f"{cut}: truncated: the bz2 stream ends without its end-of-stream marker after {n:,}" in err
    assert "--allow-truncated" in err and not out.exists()
    assert B.main(argv + ["--allow-truncated"]) == 0
    printed = capsys.readouterr().out
    stats = json.loads((tmp_path / "o" / "_stats.json").read_text())
    kept = stats["languages"]["en"]["wikipedia"]["truncated_files"][cut]
    assert stats["partial"] is True and kept["pages"] == stats["languages"]["en"]["wikipedia"]["pages"]["pages"]
    assert 0 < kept["pages"] < 5 and kept["compressed_bytes"] == n
    assert f"WARNING {cut} is truncated: kept its {kept['pages']:,} complete pages" in printed


# ---------------------------------------------------------------- Spark == local

def _build(engine: str, dumps: dict, spark=None, **kw):
    config = B.BuildConfig(dumps={k: [v] for k, v in dumps.items()}, engine=engine, rules=kw.pop("rules", ALL),
                           **kw).validate()
    return config, B.build_metadata(config, spark)


def _same(spark_result, local_result, langs):
    assert spark_result.metadata == local_result.metadata
    assert spark_result.stats["fingerprint"] == local_result.stats["fingerprint"]
    assert spark_result.stats["partial"] == local_result.stats["partial"]
    for lang in langs:
        for key in ("candidates", "quota", "merge", "wikipedia"):
            assert spark_result.stats["languages"][lang][key] == local_result.stats["languages"][lang][key], (lang, key)


def _bg_utf8_multistream(tmp_path) -> str:
    """bgwiki re-encoded as UTF-8 multistream bz2: the same Bulgarian pages, read by Hadoop's
    splitting text reader in Spark (the UTF-16 original is read by a Python task)."""
    data, _ = multistream_bz2(utf8_xml(gensim_dump(BGWIKI)), 1)
    path = tmp_path / "bgwiki-utf8-multistream.xml.bz2"
    path.write_bytes(data)
    return str(path)


@pytest.mark.spark
@pytest.mark.parametrize("dump_set", sorted(DUMP_SETS))
def test_spark_and_local_write_byte_identical_metadata_on_real_non_english_dumps(spark, tmp_path, dump_set):
    dumps = {lang: [path] for lang, path in DUMP_SETS[dump_set]().items()}
    if dump_set == "gensim":
        dumps["bg"].append(_bg_utf8_multistream(tmp_path))
    rules = SelectionRules(unigram_top_share=0.3, bigram_min_pmi=10.0, bigram_cap=50, title_top_share=0.76)
    written = {}
    for engine in ("local", "spark"):
        config = B.BuildConfig(dumps=dumps, engine=engine, rules=rules,
                               output=str(tmp_path / engine / "metadata.parquet")).validate()
        result = B.build_metadata(config, spark if engine == "spark" else None)
        B.write_outputs(result, config, spark)
        written[engine] = result
    _same(written["spark"], written["local"], dumps)
    assert (tmp_path / "spark" / "metadata.parquet").read_bytes() == (tmp_path / "local" / "metadata.parquet").read_bytes()
    md = written["spark"].metadata
    for lang in dumps:
        assert markup_entries(md.entries[lang], lang) == [], lang
    if dump_set == "gensim":  # both copies of the article were counted, by either reader
        assert written["spark"].stats["languages"]["bg"]["wikipedia"]["pages"]["articles"] == 2
        assert "календар" in md.entries["bg"]
    else:
        assert "ヨーロッパ" in md.entries["ja"]


@pytest.mark.spark
def test_spark_reads_cut_dumps_like_the_local_engine(spark, tmp_path):
    cut, _ = _cut_multistream(tmp_path, "enwiki-cut.xml.bz2", 2 / 3)
    with pytest.raises(TruncatedDumpError, match=f"{cut}: truncated: the bz2 stream ends"):
        _build("spark", {"en": cut}, spark)
    rules = SelectionRules(unigram_top_share=0.5, bigram_cap=0, title_top_share=1.0)
    _, from_spark = _build("spark", {"en": cut}, spark, rules=rules, allow_truncated=True)
    _, from_local = _build("local", {"en": cut}, rules=rules, allow_truncated=True)
    _same(from_spark, from_local, ["en"])
    files = from_spark.stats["languages"]["en"]["wikipedia"]["truncated_files"]
    assert from_spark.stats["partial"] is True and list(files) == [cut]


@pytest.mark.spark
def test_spark_task_errors_come_back_as_the_builders_errors(spark, tmp_path):
    text = bytearray(xml_bytes(gensim_dump(ENWIKI_TABLES)))
    at = text.index(b"<page>", len(text) // 2) + 200
    text[at] = 0xFF  # invalid UTF-8 in the middle: the head and tail probes pass, a task finds it
    bad = tmp_path / "enwiki-bad.xml"
    bad.write_bytes(bytes(text))
    with pytest.raises(DumpError, match=rf"enwiki-bad.xml: not valid UTF-8 at byte {at:,} of the decompressed XML"):
        _build("spark", {"en": str(bad)}, spark)
