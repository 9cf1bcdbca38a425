"""Hand-computed cases of the Arrow forms that Spark workers call: reasons, uids, matching,
counting, sampling keys (the row-by-row parity with the scalar rules is in test_batch_arrow)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from curation import columnar
from curation.ids import image_uid
from curation.matching import Matcher
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


# Texts the script alone decides (fastText does not run, score 1.0): the lid_method column
# names the script, lang is the metadata language of the label.
SCRIPT_TEXTS = [
    ("ソファで寝ている黒い猫の写真", "ja", "script:Jpan"),
    ("고양이가 소파에서 자고 있다", "ko", "script:Kore"),
    ("这是一只可爱的黑色小猫", "zh", "script:Hani"),
    ("東京駅", "ja", "script:Hani+ja"),
    ("แมวดำนอนบนโซฟา", "th", "script:Thai"),
    ("ឆ្មាខ្មៅដេកលើសាឡុង", "km", "script:Khmr"),
    ("ແມວດຳນອນຢູ່", "lo", "script:Laoo"),
    ("ကြောင်နက်တစ်ကောင်", "my", "script:Mymr"),
    ("սև կատու բազմոցին", "hy", "script:Armn"),
    ("μαύρη γάτα στον καναπέ", "el", "script:Grek"),
]


def test_lid_method_column_names_the_deciding_script_per_row():
    from curation import lid

    texts = [t for t, _, _ in SCRIPT_TEXTS]
    # every text twice, shuffled, plus rows that are rejected before LID: each distinct text is
    # detected once and its label, lang, score and method scattered back to all its rows
    order = [*range(len(texts)), *reversed(range(len(texts)))]
    rows = [texts[i] for i in order] + [None, "   "]
    urls = pa.array([f"https://a.org/{i}.jpg" for i in range(len(rows))])
    out = columnar.annotate_lid_arrow(urls, pa.array(rows, pa.string()), None, 4096, 0.0, "improved")
    methods, langs = out["lid_method"].to_pylist(), out["lang"].to_pylist()
    for row, i in enumerate(order):
        _, lang, method = SCRIPT_TEXTS[i]
        assert (methods[row], langs[row]) == (method, lang), SCRIPT_TEXTS[i]
        assert out["lid_label"][row].as_py() == lid.detect_improved([texts[i]])[0][0]
    assert out["lang_score"].to_numpy(zero_copy_only=False)[:len(order)].tolist() == [1.0] * len(order)
    assert methods[-2:] == [None, None] and out["reject_reason"].to_pylist()[-2:] == ["null_text", "empty_text"]


def test_lid_method_column_for_texts_fasttext_decides():
    out = columnar.annotate_lid_arrow(pa.array([f"https://a.org/{i}.jpg" for i in range(3)]),
                                      pa.array(["a black cat sleeping on the red sofa",
                                                "черная кошка спит на диване",
                                                "შავი კატა დივანზე"]), None, 4096, 0.0, "improved")
    assert out["lang"].to_pylist() == ["en", "ru", "ka"]
    # Latin, Cyrillic and Georgian (ka and xmf in lid.176) are each written by several
    # languages: the script does not decide, fastText's top-1 (in the script) does
    assert out["lid_method"].to_pylist() == ["fasttext", "fasttext", "fasttext"]
    assert all(0.5 < s < 1.0 for s in out["lang_score"].to_pylist())  # lid.176's probability, not 1.0


def test_matcher_cache_is_per_process_and_takes_the_latest_bound(monkeypatch):
    first = columnar.matcher_cache(10)
    assert columnar.matcher_cache(3) is first and first.max_entries == 3
    m = columnar.get_matcher("fp-pid", "en", ["cat"], max_entries=0)
    assert first.max_entries == 0 and columnar.get_matcher("fp-pid", "en", ["cat"]) is m
    monkeypatch.setattr(columnar.os, "getpid", lambda: -1)  # as in a forked worker
    fresh = columnar.matcher_cache()
    assert fresh is not first and fresh.builds == 0 and columnar.get_matcher("fp-pid", "en", ["cat"]) is not m


def test_matcher_cache_bound_counts_entries_not_languages():
    cache = columnar.MatcherCache(max_entries=4)
    for lang in "abcd":  # four one-entry languages fit
        cache.get("fp", lang, [lang * 3])
    assert (cache.builds, cache.evictions, cache.entries_held) == (4, 0, 4)
    cache.get("fp", "e", ["e1", "e2", "e3"])  # three more entries: the three least recent go
    assert cache.evictions == 3 and cache.entries_held == 4
    assert cache.get("fp", "d", lambda: pytest.fail("d was evicted")).n_entries == 1
    assert cache.build_seconds > 0


def test_matcher_cache_builds_from_arrow_arrays_and_matches_like_a_list():
    cache = columnar.MatcherCache()
    from_arrow = cache.get("fp", "de", pa.array(["Katze", "rote Katze"]))
    assert from_arrow.match("eine rote Katze") == Matcher(["Katze", "rote Katze"]).match("eine rote Katze")


class _FakeBroadcast:
    """A broadcast variable's worker-side face: ``.value``, counted."""

    def __init__(self, value, reads: list, lang: str):
        self._value, self._reads, self._lang = value, reads, lang

    @property
    def value(self):
        self._reads.append(self._lang)
        return self._value


def test_per_language_broadcasts_are_read_only_for_languages_met_and_only_once():
    from curation.spark.transforms import _BroadcastEntries

    reads: list[str] = []
    entries = _BroadcastEntries({lang: _FakeBroadcast(pa.array(values), reads, lang) for lang, values in
                                 {"en": ["cat", "sofa"], "de": ["Katze"], "fr": ["chat"]}.items()})
    assert len(entries) == 3 and set(entries) == {"en", "de", "fr"} and "ru" not in entries and not reads
    langs = pa.array(["en", "ru", "en", "de"])
    texts = pa.array(["a cat on the sofa", "кошка", "a dog", "eine Katze"])
    prior = pa.array([None, None, None, None], pa.string())
    for _ in range(2):  # a second batch in the same worker: matchers cached, broadcasts unread
        ids, reasons = columnar.match_arrow(langs, texts, prior, entries, "bc-fp")
        assert ids.to_pylist() == [[0, 1], None, None, [0]]
        assert reasons.to_pylist() == [None, "no_metadata_language", "unmatched", None]
    assert sorted(reads) == ["de", "en"]


def test_broadcast_entries_puts_one_arrow_array_per_language(spark):
    from curation.spark.transforms import broadcast_entries

    bcs = broadcast_entries(spark, {"en": ["cat", "black cat"], "zh": ["猫"]})
    assert set(bcs) == {"en", "zh"}
    assert bcs["en"].value.type == pa.string() and bcs["en"].value.to_pylist() == ["cat", "black cat"]
    assert bcs["zh"].value.to_pylist() == ["猫"]
    for bc in bcs.values():
        bc.unpersist()
