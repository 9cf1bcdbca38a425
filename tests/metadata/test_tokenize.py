"""Word segments: punctuation breaks, unspaced scripts, real segmenters for zh/ja/th."""

from __future__ import annotations

import unicodedata

import pytest

from curation.metadata import validate_entry
from curation.metadata.sources import tokenize as T


def test_spaced_language_rules():
    text = "The cat (Felis catus), don't 1990 東京 «Hola»\nnext line  well-known"
    assert T.tokenize(text, "en") == [["The", "cat"], ["Felis", "catus"], ["don"], ["t", "1990", "東", "京"],
                                      ["Hola"], ["next", "line", "well"], ["known"]]


def test_combining_marks_and_joiners_stay_inside_words():
    assert T.tokenize("हिन्दी भाषा का विकास", "hi") == [["हिन्दी", "भाषा", "का", "विकास"]]
    assert T.tokenize("زبان فارسی\u200cها", "fa") == [["زبان", "فارسی\u200cها"]]
    nfd = unicodedata.normalize("NFD", "café crème")
    assert T.tokenize(nfd, "fr") == [["café", "crème"]]


def test_overlong_words_are_dropped_and_break_the_segment():
    assert T.tokenize("a " + "x" * 257 + " b c", "en") == [["a"], ["b", "c"]]


def test_chinese_uses_jieba_and_punctuation_breaks():
    assert T.tokenize("熊猫吃竹子。我喜欢熊猫，iPhone手机", "zh") == [["熊猫", "吃", "竹子"], ["我", "喜欢", "熊猫"],
                                                             ["iPhone", "手机"]]


def test_japanese_uses_fugashi():
    assert T.tokenize("東京は日本の首都です。「猫」", "ja") == [["東京", "は", "日本", "の", "首都", "です"], ["猫"]]


def test_thai_uses_pythainlp_and_whitespace_breaks():
    assert T.tokenize("ฉันรักภาษาไทย เพราะว่าแมวน่ารัก", "th") == [["ฉัน", "รัก", "ภาษาไทย"],
                                                                   ["เพราะว่า", "แมว", "น่ารัก"]]


def test_languages_without_a_segmenter_fall_back_to_chunks():
    assert T.get_segmenter("lo") == ("whitespace", None)
    assert T.tokenize("ພາສາລາວ ແມ່ນ", "lo") == [["ພາສາລາວ"], ["ແມ່ນ"]]
    assert T.tokenize("བོད་ཡིག", "bo") == [["བོད"], ["ཡིག"]]  # the tsheg is punctuation


def test_registered_segmenter_is_used():
    T.register_segmenter("km", "test-split", lambda chunk: list(chunk))
    try:
        assert T.tokenize("ខ្មែ", "km")[0][0] == "ខ"
        assert T.segmenter_name("km", True) == "test-split"
    finally:
        T._custom_segmenters.clear()
        T.get_segmenter.cache_clear()


def test_no_space_language_list_contains_metaclips():
    metaclip = {"bo", "dz", "ja", "km", "lo", "my", "ryu", "th", "zh"}
    assert metaclip <= T.METACLIP_NO_SPACE_LANGUAGES <= T.NO_SPACE_LANGUAGES
    assert T.is_no_space("zh-yue") and not T.is_no_space("en") and T.is_no_space("xx", frozenset({"xx"}))
    assert T.normalize_lang("zh_yue") == "zh-yue" and T.normalize_lang(" EN ") == "en"
    assert T.join_bigram("北京", "大学", True) == "北京大学" and T.join_bigram("New", "York", False) == "New York"


@pytest.mark.parametrize("lang, text", [
    ("en", "It’s 3.5 km — “quoted” text; C++ & AT&T… ©2024 e-mail x@y.z ☃ ok"),
    ("zh", "北京（Beijing）是中华人民共和国的首都——也是“直辖市”！"),
    ("ja", "ラーメン・寿司【おすすめ】を食べた…"),
    ("th", "กรุงเทพฯ เป็นเมืองหลวง (ประเทศไทย)"),
    ("ar", "اللغة العربية، لغة جميلة؟"),
])
def test_every_word_is_a_valid_metadata_entry(lang, text):
    words = [w for segment in T.tokenize(text, lang) for w in segment]
    assert words and all(validate_entry(w) is None for w in words), words
