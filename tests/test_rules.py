"""Hand-computed checks of the pure MetaCLIP 2 rules (SPEC §2)."""

from __future__ import annotations

import hashlib
import pickle

import numpy as np
import pytest

from curation.balancing import (
    auto_t_en,
    entry_probabilities,
    keep_probabilities,
    keep_probability,
    matched_probabilities,
    tail_proportion,
    text_keep_probabilities,
    threshold_for_proportion,
)
from curation.ids import image_uid, is_valid_url
from curation.matching import Matcher, is_cjk_or_similar, pad_entry, pad_text


def test_image_uid_is_sha224_prefix():
    url = "https://example.com/猫.jpg"
    assert image_uid(url) == hashlib.sha224(url.encode("utf-8")).hexdigest()[:24]
    assert len(image_uid("x")) == 24


@pytest.mark.parametrize("url,ok", [
    ("https://a.com/x.jpg", True), ("http://a.com", True), ("a.com/x.jpg", False),
    ("javascript:alert(1)", False), ("https://a.com/x y.jpg", False), ("", False), (None, False),
    ("ftp://a.com/x.jpg", False), ("https:///x.jpg", False),
])
def test_is_valid_url(url, ok):
    assert is_valid_url(url) is ok


def test_pad_text_wraps_punctuation_and_spaces_controls():
    assert pad_text("  a cat, on mat. ") == " a cat ,  on mat .  "
    assert pad_text("a\r\nb") == " a  b "  # \r\n becomes two spaces (reference behaviour)
    assert pad_text("x;y:z?w!v`u") == " x ; y : z ? w ! v ` u "
    assert pad_text("tab\there") == " tab here "


@pytest.mark.parametrize("entry,padded", [
    ("cat", " cat "), ("猫", "猫"), ("黑猫", "黑猫"), ("แมว", "แมว"), ("ឆ្មា", "ឆ្មា"),
    ("ཁྱི", "ཁྱི"), ("C++", " C++"), (".NET", ".NET "), ("「本」", "「本」"), ("ねこ", " ねこ "),
    ("고양이", " 고양이 "), ("東京タワー", "東京タワー "), ("New York", " New York "),
])
def test_pad_entry(entry, padded):
    assert pad_entry(entry) == padded


def test_cjk_or_similar_ranges():
    assert all(is_cjk_or_similar(c) for c in "猫㐀𠀀ก ກ က ក ཀ，。「」—!,".replace(" ", ""))
    assert not any(is_cjk_or_similar(c) for c in "aねコ한é1")


def test_matcher_basic_overlap_case_and_sets():
    m = Matcher(["New York", "York City", "cat", "Cat", "New"])
    assert m.match("New York City at night") == [0, 1, 4]  # overlapping matches count
    assert m.match("a cat and a Cat") == [2, 3]  # case-sensitive, set of ids
    assert m.match("cats and concat") == []  # whole words only for spaced scripts
    assert m.match("cat, cat. cat") == [2]


def test_matcher_unspaced_scripts_match_inside_words():
    m = Matcher(["猫", "黑猫", "แมว", "ឆ្មា", "写真"])
    assert m.match("一只黑猫的写真") == [0, 1, 4]
    assert m.match("แมวสีดำนอนอยู่") == [2]
    assert m.match("ឆ្មាខ្មៅ") == [3]


def test_matcher_punctuation_and_fullwidth_entries():
    m = Matcher(["C++", "「猫」", "U.S.", "ねこ", "rock'n'roll"])
    assert m.match("I write C++ code") == [0]
    assert m.match("C++, again") == [0]
    assert m.match("「猫」の写真") == [1]
    assert m.match("the U.S. army") == []  # 'U.S.'-style entries can never match (kept on purpose)
    assert m.match("ねこの写真") == []  # kana entries get spaces, rarely match unspaced Japanese
    assert m.match("かわいい ねこ です") == [3]
    assert m.match("pure rock'n'roll night") == [4]


def test_matcher_duplicate_entry_reports_last_index():
    m = Matcher(["cat", "dog", "cat"])
    assert m.match("cat and dog") == [1, 2]


def test_matcher_empty_and_not_picklable():
    assert Matcher([]).match("anything") == []
    with pytest.raises(TypeError):
        pickle.dumps(Matcher(["cat"]))


def test_tail_proportion():
    assert tail_proportion([1, 5, 10, 100], 10) == pytest.approx(6 / 116)
    assert tail_proportion([1, 5, 10, 100], 1000) == 1.0
    with pytest.raises(ValueError):
        tail_proportion([0, 0], 5)


def test_threshold_for_proportion_hand_cases():
    # sorted [1,1,2,4], portions [.125, .25, .5, 1]; p=.375 ties idx 1 and 2 exactly -> first -> 1
    assert threshold_for_proportion([4, 1, 2, 1], 0.375) == 1
    assert threshold_for_proportion([4, 1, 2, 1], 0.38) == 2
    # zeros are part of the sorted counts
    assert threshold_for_proportion([5, 0, 0, 5], 0.5) == 5
    # all-zero language: no threshold
    assert threshold_for_proportion([0, 0, 0], 0.3) == 0
    # a language with matches can still get t == 0 when p is small
    assert threshold_for_proportion([0, 0, 0, 100], 0.01) == 0
    assert threshold_for_proportion([10, 20, 30, 40], 0.3) == 20  # portions .1 .3 .6 1


def test_entry_probabilities():
    np.testing.assert_array_equal(entry_probabilities([0, 5, 10, 20, 40], 10),
                                  np.array([1, 1, 1, 0.5, 0.25], dtype=np.float32))
    assert entry_probabilities([3], 10).dtype == np.float32
    np.testing.assert_array_equal(entry_probabilities([0, 7], 0), [0, 0])


def test_keep_probability():
    assert keep_probability([0.5, 0.5]) == pytest.approx(0.75)
    assert keep_probability([]) == 0.0
    assert keep_probability([1.0, 0.1]) == 1.0
    assert keep_probability(np.array([0.2], dtype=np.float32)) == pytest.approx(0.2)


def test_keep_probabilities_over_flattened_texts():
    # texts: [0.5, 0.5] -> .75, [] -> 0, [0.2] -> .2, [1.0, 0.1] -> 1, [0.5, 0.5, 0.5] -> .875
    lengths = [2, 0, 1, 2, 3]
    probs = [0.5, 0.5, 0.2, 1.0, 0.1, 0.5, 0.5, 0.5]
    out = keep_probabilities(lengths, probs)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [0.75, 0.0, 0.2, 1.0, 0.875])
    assert keep_probabilities([], []).tolist() == [] and keep_probabilities([0, 0], []).tolist() == [0.0, 0.0]
    # the scalar rule is the batch rule on one text: the same bits
    rng = np.random.default_rng(0)
    for k in (1, 3, 40, 300):
        p = rng.random(k).astype(np.float32)
        assert keep_probability(p) == keep_probabilities([k], p)[0]
    for lengths, probs in (([1, 1], [0.5]), ([-1, 2], [0.5]), ([[1]], [0.5])):
        with pytest.raises(ValueError):
            keep_probabilities(lengths, probs)


def test_matched_probabilities_look_up_each_texts_language():
    probs = {"en": np.array([0.5, 0.25], np.float32), "de": np.array([1.0], np.float32)}
    # texts: en [1, 0], de [0], en [] -> flat 0.25 0.5 1.0
    flat = matched_probabilities(probs, ["en", "de", "en"], [2, 1, 0], [1, 0, 0])
    assert flat.dtype == np.float64 and flat.tolist() == [0.25, 0.5, 1.0]
    np.testing.assert_allclose(keep_probabilities([2, 1, 0], flat), [0.625, 1.0, 0.0])
    with pytest.raises(KeyError, match="'fr'"):
        matched_probabilities(probs, ["fr"], [0], [])  # even a text without ids needs its language
    for ids in ([2], [-1]):
        with pytest.raises(IndexError, match="'de'"):
            matched_probabilities(probs, ["de"], [1], ids)
    with pytest.raises(ValueError):
        matched_probabilities(probs, ["en", "en"], [1], [0])
    # the list form: one keep probability per text, None lists as no ids
    np.testing.assert_allclose(text_keep_probabilities(probs, ["en", "de", "en"], [[1, 0], [0], None]),
                               [0.625, 1.0, 0.0])
    assert text_keep_probabilities(probs, [], []).tolist() == []

def test_auto_t_en_is_positive():
    assert auto_t_en([4, 1, 2, 1]) == 2  # portion .5 at count 2
    assert auto_t_en([0, 0, 0, 9]) >= 1


def test_cjk_or_similar_code_points_is_the_predicate_as_a_table():
    from curation.matching import cjk_or_similar_code_points

    table = cjk_or_similar_code_points()
    assert {cp for cp in range(0x30000) if not 0xD800 <= cp <= 0xDFFF and is_cjk_or_similar(chr(cp))} == \
        {cp for cp in table if cp < 0x30000}
    assert all(is_cjk_or_similar(chr(cp)) for cp in table)
