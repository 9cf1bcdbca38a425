"""The embedded default alt-text sample (curation.samples): deterministic, multilingual, messy."""

from __future__ import annotations

import collections
import gzip
import hashlib
import os
import re
import subprocess
import sys
import zlib

import pyarrow as pa
import pytest

from curation.samples import alt_texts, default_alt_texts_path
from curation.samples.alt_texts import (BAD_ROW_KINDS, CATEGORY_WEIGHTS, GOOD, MAIN_LANGUAGES, NO_LANGUAGE,
                                        alt_texts_jsonl_bytes, generate_alt_texts, read_alt_texts_jsonl,
                                        row_kind, vocabulary)


@pytest.fixture(scope="module")
def default_table() -> pa.Table:
    return generate_alt_texts()


@pytest.fixture(scope="module")
def rows(default_table) -> list[dict]:
    out = default_table.to_pylist()
    for r in out:
        r["kind"] = row_kind(r["url"], r["text"], r["source_lang"])
    return out


@pytest.fixture(scope="module")
def good_rows(rows) -> list[dict]:
    return [r for r in rows if r["kind"] == GOOD]


def test_schema(default_table):
    assert default_table.schema == alt_texts.SCHEMA
    assert default_table.column_names == ["url", "text", "source_lang"]
    assert 3000 <= default_table.num_rows <= 4000


def test_same_seed_same_table_other_seed_other_table():
    a = generate_alt_texts(300, seed=7)
    assert a.equals(generate_alt_texts(300, seed=7))
    assert not a.equals(generate_alt_texts(300, seed=8))
    assert generate_alt_texts(0).num_rows == 0


def test_identical_across_processes_and_hash_seeds():
    """No hash()/global RNG: another process with another PYTHONHASHSEED gives the same bytes."""
    expected = hashlib.sha256(alt_texts_jsonl_bytes(generate_alt_texts(200, seed=3))).hexdigest()
    code = ("import hashlib; from curation.samples.alt_texts import alt_texts_jsonl_bytes as b, "
            "generate_alt_texts as g; print(hashlib.sha256(b(g(200, seed=3))).hexdigest())")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                         capture_output=True, text=True).stdout.strip()
    assert out == expected


def test_committed_file_matches_regeneration(default_table):
    with open(default_alt_texts_path(), "rb") as f:
        committed = f.read()
    fresh = alt_texts_jsonl_bytes(default_table)
    # content must match exactly: run `python -m curation.demo_data` after editing the generator
    assert gzip.decompress(committed) == gzip.decompress(fresh)
    assert committed[4:8] == b"\0\0\0\0"  # gzip mtime 0
    if "ng" not in zlib.ZLIB_RUNTIME_VERSION:  # zlib-ng deflates differently (same content)
        assert committed == fresh


def test_documented_cli_rewrites_the_committed_file_byte_for_byte(tmp_path):
    """``python -m curation.demo_data`` (the shim's documented path) writes exactly the committed sample."""
    out = tmp_path / "alt.jsonl.gz"
    subprocess.run([sys.executable, "-m", "curation.demo_data", "--output", str(out)], check=True,
                   capture_output=True)
    with open(default_alt_texts_path(), "rb") as f:
        committed = f.read()
    assert gzip.decompress(out.read_bytes()) == gzip.decompress(committed)
    if "ng" not in zlib.ZLIB_RUNTIME_VERSION:
        assert out.read_bytes() == committed


def test_vocabulary_file_covers_every_language_category_and_placeholder():
    """The vocabulary is data now: every main language has a template per category, and every
    placeholder of a template has a word list to fill it (a gap would raise mid-generation)."""
    slots = {"np_animal": "animals", "np_thing": "things", "animal": "animals", "thing": "things",
             "scene": "scenes", "city": "cities", "people": "people", "food": "foods", "time": "times"}
    languages = vocabulary()["languages"]
    assert set(MAIN_LANGUAGES) <= set(languages)
    for lang in MAIN_LANGUAGES:
        data = languages[lang]
        assert data["np_order"] in ("pre", "post"), lang
        assert set(data["templates"]) == set(CATEGORY_WEIGHTS), lang
        for templates in data["templates"].values():
            assert templates and all(isinstance(t, str) for t in templates), lang
            for name in re.findall(r"\{(\w+)\}", " ".join(templates)):
                assert data[slots[name]], (lang, name)
                if name.startswith("np_"):
                    assert data["adj_" + slots[name]], (lang, name)
    assert all(len(pair) == 2 and "\ufffd" in pair[1] for pair in vocabulary()["mojibake_captions"])
    assert not set(vocabulary()["foreign_captions"]) & set(MAIN_LANGUAGES)


def test_jsonl_round_trip(default_table):
    assert read_alt_texts_jsonl().equals(default_table)


def test_language_mix(rows, good_rows):
    langs = collections.Counter(r["source_lang"] for r in good_rows)
    assert set(langs) <= set(MAIN_LANGUAGES)
    assert len(langs) >= 14
    for lang in ("en", "zh", "ja", "th", "ko", "ru", "ar", "hi", "de", "fr", "es", "pt", "it",
                 "vi", "tr", "pl", "nl", "id"):
        assert langs[lang] >= 10, lang
    en_share = sum(r["source_lang"] == "en" for r in rows) / len(rows)
    assert 0.35 <= en_share <= 0.50
    # a long tail: the big web languages outnumber the small ones
    assert min(langs[x] for x in ("de", "fr", "es")) > max(langs[x] for x in ("hi", "th", "tr"))


def test_unspaced_scripts_and_cjk_words(good_rows):
    by_lang = collections.defaultdict(list)
    for r in good_rows:
        by_lang[r["source_lang"]].append(r["text"])
    for lang in ("zh", "ja", "th"):
        assert by_lang[lang] and all(" " not in t for t in by_lang[lang]), lang
    zh, ja = "\n".join(by_lang["zh"]), "\n".join(by_lang["ja"])
    for word in ("咖啡", "照片", "北京", "沙发"):
        assert word in zh, word
    for word in ("写真", "東京", "公園", "猫"):
        assert word in ja, word
    assert any(0x3040 <= ord(c) <= 0x30FF for c in ja)  # kana
    # spaced languages: captions have at least 4 words so LID is reliable
    spaced = [r["text"] for r in good_rows if r["source_lang"] not in ("zh", "ja", "th")]
    assert sum(len(t.split()) >= 4 for t in spaced) / len(spaced) >= 0.97


def test_every_bad_row_kind_present(rows):
    kinds = collections.Counter(r["kind"] for r in rows)
    for kind in BAD_ROW_KINDS:
        assert kinds[kind] >= 5, kind
    n_bad = len(rows) - kinds[GOOD]
    assert 0.02 <= n_bad / len(rows) <= 0.035
    assert set(kinds) == set(BAD_ROW_KINDS) | {GOOD}


def test_bad_rows_get_the_expected_reject_reasons(rows):
    from curation import validation as v

    expected = {"null_text": v.NULL_TEXT, "empty_text": v.EMPTY_TEXT,
                "whitespace_text": v.EMPTY_TEXT, "too_long": v.TOO_LONG,
                "null_url": v.BAD_URL, "empty_url": v.BAD_URL, "javascript_url": v.BAD_URL,
                "url_with_space": v.BAD_URL, "url_no_scheme": v.BAD_URL,
                "replacement_char": v.INVALID_UTF8}
    for r in rows:
        reason = v.reject_reason(r["url"], r["text"])
        assert reason == expected.get(r["kind"]), (r["kind"], r["url"], r["text"])


def test_no_language_rows_match_no_metadata_entry(rows):
    from curation.matching import Matcher
    from curation.metadata import read_metadata

    metadata = read_metadata()
    matchers = [Matcher(metadata.entries[lang]) for lang in metadata.languages]
    texts = [r["text"] for r in rows if r["kind"] == "no_language"]
    assert texts
    assert all(r["source_lang"] == NO_LANGUAGE for r in rows if r["kind"] == "no_language")
    for text in texts:
        assert all(not m.match(text) for m in matchers), text


def test_multi_text_images_and_urls(good_rows):
    per_url = collections.defaultdict(list)
    for r in good_rows:
        per_url[r["url"]].append(r)
    assert len(per_url) == 3000  # one unique URL per image
    multi = [v for v in per_url.values() if len(v) > 1]
    assert 0.10 <= len(multi) / len(per_url) <= 0.20
    assert max(len(v) for v in multi) == 3
    assert any(len({r["source_lang"] for r in v}) > 1 for v in multi)  # several languages
    assert all(len({r["text"] for r in v}) == len(v) for v in multi)  # different captions
    assert all(r["url"].startswith("https://") for r in good_rows)


def test_lid_agrees_with_intended_language(good_rows):
    from curation.lid import detect

    labels, scores = detect([r["text"] for r in good_rows])
    agree = sum(label == r["source_lang"] for label, r in zip(labels, good_rows, strict=True))
    assert agree / len(good_rows) >= 0.90
    assert len(scores) == len(good_rows)
