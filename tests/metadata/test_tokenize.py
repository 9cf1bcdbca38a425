"""Word segments: punctuation breaks, unspaced scripts, a real segmenter for every no-space script."""

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


def test_japanese_uses_mecab_with_ipadic_and_unidic_is_an_option():
    assert T.tokenize("東京は日本の首都です。「猫」", "ja") == [["東京", "は", "日本", "の", "首都", "です"], ["猫"]]
    # IPAdic (MetaCLIP 2) keeps compounds that UniDic splits into short units
    assert T.tokenize("日本語の美術館と小学校", "ja") == [["日本語", "の", "美術館", "と", "小学校"]]
    assert T.tokenize("日本語の美術館", "ja", segmenter="mecab-unidic-lite") == [["日本", "語", "の", "美術", "館"]]
    # katakana loanwords stay whole (no single-character fragments such as ァ, ィ, ー)
    assert T.tokenize("コンピュータとアンパサンド", "ja") == [["コンピュータ", "と", "アンパサンド"]]


def test_thai_uses_pythainlp_and_whitespace_breaks():
    assert T.tokenize("ฉันรักภาษาไทย เพราะว่าแมวน่ารัก", "th") == [["ฉัน", "รัก", "ภาษาไทย"],
                                                                   ["เพราะว่า", "แมว", "น่ารัก"]]


# Real sentences that ship with installed packages (tests/metadata/fixtures/SOURCES.md): the
# PyPI descriptions of khmer-nltk (a news headline; `want` is the segmentation that description
# shows, spaces and "!" being breaks here), burmesenlp and botok; zh/th written for the tests.
@pytest.mark.parametrize("lang, text, segmenter, want", [
    ("km", "ខួបឆ្នាំទី២៨! ២៣ តុលា ស្មារតីផ្សះផ្សាជាតិរវាងខ្មែរនិងខ្មែរ ឈានទៅបញ្ចប់សង្រ្គាម នាំពន្លឺសន្តិភាព និងការរួបរួមជាថ្មី",
     "khmer-nltk",
     [["ខួប", "ឆ្នាំ", "ទី", "២៨"], ["២៣"], ["តុលា"], ["ស្មារតី", "ផ្សះផ្សា", "ជាតិ", "រវាង", "ខ្មែរ", "និង", "ខ្មែរ"],
      ["ឈាន", "ទៅ", "បញ្ចប់", "សង្រ្គាម"], ["នាំ", "ពន្លឺ", "សន្តិភាព"], ["និង", "ការរួបរួម", "ជាថ្មី"]]),
    ("my", "ကျွန်တော်ကျောင်းသို့သွားသည်", "burmesenlp", [["ကျွန်တော်", "ကျောင်း", "သို့", "သွား", "သည်"]]),
    ("my", "ဒေါ်အောင်ဆန်းစုကြည် ရန်ကုန်ကို သွားသည်။", "burmesenlp",
     [["ဒေါ်အောင်ဆန်းစုကြည်"], ["ရန်ကုန်", "ကို"], ["သွား", "သည်"]]),
    ("bo", "བཀྲ་ཤིས་བདེ་ལེགས་ཞུས་རྒྱུ་ཡིན་ སེམས་པ་སྐྱིད་པོ་འདུག།", "tibetan-syllables",
     [["བཀྲ་", "ཤིས་", "བདེ་", "ལེགས་", "ཞུས་", "རྒྱུ་", "ཡིན་"], ["སེམས་", "པ་", "སྐྱིད་", "པོ་", "འདུག"]]),
    ("dz", "བཀྲ་ཤིས་བདེ་ལེགས།", "tibetan-syllables", [["བཀྲ་", "ཤིས་", "བདེ་", "ལེགས"]]),
    ("zh", "中华人民共和国的首都是北京。", "jieba", [["中华人民共和国", "的", "首都", "是", "北京"]]),
    ("th", "ภาษาไทยเป็นภาษาราชการของประเทศไทย", "pythainlp-newmm",
     [["ภาษาไทย", "เป็น", "ภาษาราชการ", "ของ", "ประเทศ", "ไทย"]]),
])
def test_every_no_space_script_has_a_real_segmenter(lang, text, segmenter, want):
    assert T.segmenter_name(lang, True) == segmenter == T.DEFAULT_SEGMENTER[lang]
    assert T.tokenize(text, lang) == want


def _cldr_names(lang: str) -> dict[str, list[str]]:
    """Display names of babel's CLDR locale data for ``lang``: neighbouring territories,
    languages, weekdays and months, each a real word or name written in the language."""
    babel = pytest.importorskip("babel")  # in the test extra
    locale = babel.Locale.parse(lang)
    territories = {"km": "KH TH LA VN CN JP FR", "lo": "LA TH VN KH CN JP FR", "my": "MM TH CN IN JP FR LA",
                   "bo": "CN IN NP BT JP FR", "dz": "BT IN NP CN JP FR"}[lang].split()
    return {"territories": [locale.territories[t] for t in territories],
            "languages": [locale.languages[c] for c in ("en", "fr", "ja", "zh", "th", lang)],
            "weekdays": list(locale.days["format"]["wide"].values()),
            "months": list(locale.months["format"]["wide"].values())}


@pytest.mark.parametrize("lang, kinds", [
    # khmer-nltk's CRF joins some short calendar names (Friday+Saturday -> សុក្រសៅរ៍): names only
    ("km", ("territories", "languages")),
    ("lo", ("territories", "languages", "weekdays", "months")),
    ("my", ("territories", "languages", "weekdays", "months")),
])
def test_cldr_names_written_without_spaces_are_split_back_into_the_names(lang, kinds):
    names = _cldr_names(lang)
    for kind in kinds:
        phrase = "".join(names[kind])  # these scripts write words without spaces between them
        assert T.tokenize(phrase, lang) == [names[kind]], (lang, kind)
        assert T.tokenize(phrase, "xx", no_space=True) == [[phrase]]  # what the whitespace fallback gave


@pytest.mark.parametrize("lang", ["bo", "dz"])
def test_cldr_tibetan_and_dzongkha_names_become_syllables_that_rejoin_into_the_name(lang):
    names = _cldr_names(lang)
    for name in names["territories"] + names["languages"] + names["weekdays"]:
        [syllables] = T.tokenize(name, lang)
        assert "".join(syllables) == name.rstrip("\u0f0d")  # the shad (།) ends a phrase: a break
        assert all(s.endswith("\u0f0b") for s in syllables[:-1]) and len(syllables) == name.count("\u0f0b") + (
            not name.rstrip("\u0f0d").endswith("\u0f0b")), name
    # weekday names end with their tsheg, so written one after another they stay apart
    phrase = "".join(names["weekdays"])
    assert T.tokenize(phrase, lang) == [[s for name in names["weekdays"] for s in T.tibetan_syllables(name)]]


def test_tibetan_syllables_keep_their_tsheg_so_bigrams_restore_the_written_word():
    assert T.tibetan_syllables("བོད་ཡིག") == ["བོད་", "ཡིག"]
    assert T.join_bigram(*T.tibetan_syllables("བོད་ཡིག"), True) == "བོད་ཡིག"
    assert T.tokenize("བོད་ཡིག", "xx", no_space=True) == [["བོད"], ["ཡིག"]]  # elsewhere the tsheg is punctuation


def test_one_table_names_every_segmenter_and_its_packages():
    assert set(T.DEFAULT_SEGMENTER.values()) <= set(T.SEGMENTERS)
    assert {lang for lang in T.METACLIP_NO_SPACE_LANGUAGES if lang not in T.DEFAULT_SEGMENTER} == set()
    assert ("ipadic", "ipadic") in T.SEGMENTERS["mecab-ipadic"].packages
    assert T.segmenter_modules(["khmer-nltk", "tibetan-syllables"]) == [
        ("khmernltk", "khmer-nltk", T.SEGMENTERS["khmer-nltk"].about)]
    with pytest.raises(ValueError, match="unknown segmenter 'nope'"):
        T.segmenter_for("ja", "nope")


def test_botok_needs_a_local_dialect_pack(monkeypatch):
    monkeypatch.delenv(T.BOTOK_DIALECT_PACK_ENV, raising=False)
    with pytest.raises(RuntimeError, match="WWCLIP_BOTOK_DIALECT_PACK"):
        T.SEGMENTERS["botok"].factory()


def test_languages_without_a_segmenter_fall_back_to_chunks():
    assert T.get_segmenter("xx") == ("whitespace", None)
    assert T.tokenize("ab cd", "xx", no_space=True) == [["ab"], ["cd"]]


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
