"""Hand-computed cases of the Arrow forms that Spark workers call: reasons, uids, matching,
counting, sampling keys (the row-by-row parity with the scalar rules is in test_batch_arrow)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curation import columnar
from curation.ids import image_uid
from curation.sampling import choice_key, keep_uniform


def test_annotate_lid_reasons_uids_and_min_score():
    urls = pa.array(["https://a.org/1.jpg", "https://a.org/2.jpg", "bad url", "https://a.org/4.jpg",
                     "https://a.org/5.jpg", "https://a.org/6.jpg"])
    texts = pa.array(["a black cat on the sofa", None, "a red car", "caf\ufffd latte", "x" * 5000, "ok ok"])
    uids = pa.array(["given", None, None, None, None, None], pa.string())
    out = {k: v.to_pylist() for k, v in columnar.annotate_lid_arrow(urls, texts, uids, 4096, 0.0).items()}
    assert out["uid"][0] == "given" and out["uid"][1] == image_uid("https://a.org/2.jpg")
    assert out["reject_reason"] == [None, "null_text", "bad_url", "invalid_utf8", "too_long", None]
    assert out["lid_label"][0] == "en" and out["lang"][0] == "en" and 0 < out["lang_score"][0] <= 1
    assert out["lang"][1] is None and out["lang_score"][1] is None  # rejected rows skip LID
    strict = columnar.annotate_lid_arrow(pa.array(["https://a.org/1.jpg", "https://a.org/6.jpg"]),
                                         pa.array(["a black cat on the sofa", "ok ok"]), None, 4096, 0.99)
    assert strict["reject_reason"].to_pylist()[1] == "low_lid_score"


def test_match_arrow_reasons():
    entries = {"en": ["cat", "sofa"], "zh": ["猫"]}
    ids, reasons = columnar.match_arrow(pa.array(["en", "en", "zh", "ru", "en"]),
                                        pa.array(["a cat on a sofa", "nothing here", "黑猫", "кошка", "x"]),
                                        pa.array([None, None, None, None, "bad_url"], pa.string()), entries, "fp")
    assert ids.to_pylist() == [[0, 1], None, [0], None, None]
    assert reasons.to_pylist() == [None, "unmatched", None, "no_metadata_language", "bad_url"]
    assert columnar.get_matcher("fp", "en", entries["en"]) is columnar.get_matcher("fp", "en", entries["en"])


def test_count_entries_counts_texts_not_occurrences():
    counts = columnar.count_entries_arrow(pa.array(["en", "en", "zh", "en"]),
                                          pa.array([[0, 1], [1], [0], None], pa.list_(pa.int32())),
                                          {"en": 3, "zh": 2})
    assert list(counts) == ["en", "zh"]  # order of first appearance
    np.testing.assert_array_equal(counts["en"], [1, 2, 0])
    np.testing.assert_array_equal(counts["zh"], [1, 0])
    assert counts["en"].dtype == np.int64


def test_sampling_keys_match_pure_functions():
    probs = {"en": np.array([1.0, 0.5, 0.25], np.float32)}
    out = columnar.sampling_keys_arrow(3, 1, pa.array(["u1", "u2"]), pa.array(["t1", "t2"]), pa.array(["en", "en"]),
                                       pa.array([[1, 2], [0]], pa.list_(pa.int32())), probs)
    assert out["choice_key"].to_pylist()[0] == choice_key(3, 1, "u1", "t1")
    assert out["keep_uniform"].to_pylist()[1] == keep_uniform(3, 1, "u2")
    np.testing.assert_allclose(out["keep_prob"].to_numpy(), [1 - 0.5 * 0.75, 1.0])


# --- LID / matching modes and the bounded matcher cache (issue 22) -------------------------

def test_reference_lid_has_no_method_column_and_improved_equals_detect_improved():
    from curation import lid

    texts = ["a black cat on the sofa", "東京の夜景がとてもきれい", "고양이가 소파에서 잔다", "แมวดำนอนอยู่บนโซฟา",
             "这是一只可爱的黑色小猫", None]
    urls = pa.array([f"https://a.org/{i}.jpg" for i in range(len(texts))])
    ref = columnar.annotate_lid_arrow(urls, pa.array(texts, pa.string()), None, 4096, 0.0)
    assert "lid_method" not in ref
    got = columnar.annotate_lid_arrow(urls, pa.array(texts, pa.string()), None, 4096, 0.0, "improved")
    labels, scores, methods = lid.detect_improved(texts[:-1])
    assert got["lid_label"].to_pylist() == [*labels, None]
    assert got["lid_method"].to_pylist() == [*methods, None]  # a rejected row has no method
    np.testing.assert_array_equal(got["lang_score"].to_numpy(zero_copy_only=False)[:-1], scores)
    assert got["lid_method"].to_pylist()[1:5] == ["script:Jpan", "script:Kore", "script:Thai", "script:Hani"]
    assert got["lang"].to_pylist()[:5] == ["en", "ja", "ko", "th", "zh"]


def test_unknown_lid_mode_is_refused():
    import pytest

    with pytest.raises(ValueError, match="unknown LID mode"):
        columnar.annotate_lid_arrow(pa.array(["https://a.org/1.jpg"]), pa.array(["a cat"]), None, 4096, 0.0, "best")


def test_matcher_cache_evicts_least_recently_used_beyond_its_entry_bound():
    cache = columnar.MatcherCache(max_entries=5)
    calls = []

    def entries(lang, n):
        def get():
            calls.append(lang)
            return [f"{lang}{i}" for i in range(n)]
        return get

    a = cache.get("fp", "a", entries("a", 2))
    cache.get("fp", "b", entries("b", 2))
    assert cache.get("fp", "a", entries("a", 2)) is a  # cached: its entries are not read again
    assert calls == ["a", "b"] and cache.entries_held == 4
    cache.get("fp", "c", entries("c", 2))  # 6 > 5: the least recently used (b) goes
    assert cache.evictions == 1 and cache.entries_held == 4
    assert cache.get("fp", "a", entries("a", 2)) is a
    cache.get("fp", "b", entries("b", 2))  # built again; c (used before a) goes
    assert calls == ["a", "b", "c", "b"] and cache.builds == 4 and cache.evictions == 2
    big = cache.get("fp", "d", entries("d", 9))  # larger than the bound: kept alone
    assert cache.entries_held == 9 and cache.get("fp", "d", entries("d", 9)) is big


def test_matcher_cache_without_bound_keeps_everything_and_keys_on_mode():
    cache = columnar.MatcherCache()
    ref = cache.get("fp", "ja", ["猫"])
    ext = cache.get("fp", "ja", ["猫"], "extended")
    assert ref is not ext and type(ext).__name__ == "ExtendedMatcher"
    assert cache.get("fp", "ja", ["猫"]) is ref and cache.evictions == 0


def test_match_arrow_reads_entries_of_the_languages_present_only():
    class Lazy(dict):
        read: list = []

        def __getitem__(self, lang):
            Lazy.read.append(lang)
            return dict.__getitem__(self, lang)

    entries = Lazy(en=pa.array(["cat"]), de=pa.array(["Katze"]), fr=pa.array(["chat"]))
    ids, _ = columnar.match_arrow(pa.array(["de", "de"]), pa.array(["eine Katze", "ein Hund"]),
                                  pa.array([None, None], pa.string()), entries, "lazy-fp")
    assert ids.to_pylist() == [[0], None] and Lazy.read == ["de"]


def test_extended_matching_adds_japanese_morpheme_matches():
    entries = {"ja": ["ラーメン", "猫"]}
    texts = pa.array(["美味しいラーメンを食べた", "黒い猫"])
    langs, prior = pa.array(["ja", "ja"]), pa.array([None, None], pa.string())
    ref, _ = columnar.match_arrow(langs, texts, prior, entries, "ja-fp")
    ext, _ = columnar.match_arrow(langs, texts, prior, entries, "ja-fp", "extended")
    assert ref.to_pylist() == [None, [1]]  # the reference pads kana-final entries with spaces
    assert ext.to_pylist() == [[0], [1]]
