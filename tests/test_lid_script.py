"""Opt-in improved LID: script decisions per script, restriction, Hindi/Marathi words, CLD2
second opinion, and ``curation.lid.detect_improved`` end to end (hand-written texts)."""

from __future__ import annotations

import numpy as np
import pytest

from curation import lid
from curation import lid_script as ls
from curation.lid_codes import CLD2_TO_LID176, LID176_LABELS, LID176_SCRIPTS

# ---------------------------------------------------------------- tables


def test_every_lid176_label_has_a_script():
    assert set(LID176_SCRIPTS) == set(LID176_LABELS)
    assert all(LID176_SCRIPTS[label] for label in LID176_LABELS)
    assert LID176_SCRIPTS["sr"] == {"Cyrl", "Latn"}
    assert LID176_SCRIPTS["ja"] == {"Jpan"} and LID176_SCRIPTS["zh"] == {"Hani"}


def test_scripts_that_decide_are_those_of_one_language():
    expected = {"Armn": "hy", "Grek": "el", "Thai": "th", "Laoo": "lo", "Khmr": "km", "Mymr": "my",
                "Tibt": "bo", "Ethi": "am", "Sinh": "si", "Thaa": "dv", "Gujr": "gu", "Guru": "pa",
                "Orya": "or", "Taml": "ta", "Telu": "te", "Knda": "kn", "Mlym": "ml", "Jpan": "ja",
                "Kore": "ko"}
    assert ls.SCRIPT_DECIDES == expected
    # Georgian (ka, xmf), Hebrew (he, yi), Devanagari, Bengali, Latin, Cyrillic, Arabic: fastText decides
    for script in ("Geor", "Hebr", "Deva", "Beng", "Latn", "Cyrl", "Arab"):
        assert script not in ls.SCRIPT_DECIDES


def test_cld2_codes_map_to_lid176_labels():
    assert set(CLD2_TO_LID176.values()) <= set(LID176_LABELS)


# ---------------------------------------------------------------- script counts


def test_script_of_letters_and_non_letters():
    assert ls.script_of("a") == "Latn" and ls.script_of("é") == "Latn"
    assert ls.script_of("猫") == "Hani" and ls.script_of("ね") == "Kana" and ls.script_of("ネ") == "Kana"
    assert ls.script_of("ｶ") == "Kana"  # half-width katakana
    assert ls.script_of("고") == "Hang" and ls.script_of("ก") == "Thai" and ls.script_of("ि") == "Deva"
    assert ls.script_of("𠀀") == "Hani"  # CJK extension B (supplementary plane)
    for char in "1 .,!。、？٣":  # digits and punctuation count nowhere, even inside a script's block
        assert ls.script_of(char) is None


def test_script_counts():
    assert ls.script_counts("") == {}
    assert ls.script_counts("IMG_2024.JPG") == {"Latn": 6}
    assert ls.script_counts("MVPは打率.450") == {"Latn": 3, "Kana": 1, "Hani": 2}
    assert ls.script_counts("𠀀𠀁漢字かな") == {"Hani": 4, "Kana": 2}
    assert ls.script_counts("\ue000\ue001abc") == {"Latn": 3}  # private-use characters are no script
    # the prolonged-sound mark alone is not Japanese (Chinese writes it too)
    assert ls.script_counts("ー") == {} and ls.script_counts("コーヒー") == {"Kana": 2}


def test_script_counts_fast_path_matches_per_character_rule():
    texts = ["Ελληνικά και English", "Привет, мир!", "漢字とカナと한글", "ｶﾀｶﾅ", "हिंदी और मराठी",
             "ภาษาไทย", "𛀁𠀀x", "نص عربي", "עברית"]
    for text in texts:
        expected: dict[str, int] = {}
        for char in text:
            script = ls.script_of(char)
            if script is not None:
                expected[script] = expected.get(script, 0) + 1
        assert ls.script_counts(text) == expected, text


# ---------------------------------------------------------------- dominant script


@pytest.mark.parametrize("text, dominant", [
    ("a photo of a cat", "Latn"),
    ("ソファで寝ている黒い猫", "Jpan"),
    ("沙发上的黑猫", "Hani"),
    ("고양이가 소파에서 잔다", "Kore"),
    ("大韓民國 국회", "Kore"),  # Hanja + Hangul
    ("MVPは打率.450", "Jpan"),  # CJK letters weigh 2: 3 x 2 > 3 Latin letters
    ("Photo of 北京 skyline", "Latn"),  # 2 x 2 < 14
    ("Elijah之後由Elena取回匕首", "Hani"),  # 7 x 2 > 11
    ("Η συνεδρίαση (EN)", "Grek"),
    ("The Scorpion -- третий", "Latn"),
    ("2012-03-01", None),
    ("ー", None),
])
def test_dominant_script(text, dominant):
    assert ls.dominant_script(ls.script_counts(text)) == dominant


def test_dominant_script_ties():
    assert ls.dominant_script({"Latn": 2, "Hani": 1}) == "Hani"  # East-Asian group wins a tie
    assert ls.dominant_script({"Cyrl": 3, "Latn": 3}) == "Latn"  # else the script listed first


# ---------------------------------------------------------------- script decisions, one per script


@pytest.mark.parametrize("text, label, method", [
    ("고양이가 소파에서 자고 있다", "ko", "script:Kore"),
    ("ソファで寝ている黒い猫の写真", "ja", "script:Jpan"),
    ("カメラ", "ja", "script:Jpan"),
    ("这是一只可爱的黑色小猫", "zh", "script:Hani"),
    ("沙發上的黑貓", "zh", "script:Hani"),
    ("一九四九年十月", "zh", "script:Hani"),  # lid.176: ja
    ("東京駅の写真", "ja", "script:Jpan"),
    ("東京駅", "ja", "script:Hani+ja"),  # 駅: a kanji only Japanese writes
    ("静岡県出身", "ja", "script:Hani+ja"),  # 県
    ("佢喺度瞓覺", "yue", "script:Hani+yue"),  # Cantonese-only characters
    ("แมวดำนอนบนโซฟา", "th", "script:Thai"),
    ("ແມວດຳນອນຢູ່", "lo", "script:Laoo"),
    ("ឆ្មាខ្មៅដេកលើសាឡុង", "km", "script:Khmr"),
    ("ကြောင်နက်တစ်ကောင်", "my", "script:Mymr"),
    ("ཞི་མི་ནག་པོ", "bo", "script:Tibt"),
    ("սև կատու բազմոցին", "hy", "script:Armn"),
    ("μαύρη γάτα στον καναπέ", "el", "script:Grek"),
    ("Η συνεδρίαση (EN)", "el", "script:Grek"),
    ("ጥቁር ድመት", "am", "script:Ethi"),
    ("කළු පූසා", "si", "script:Sinh"),
    ("ކަޅު ބުޅާ", "dv", "script:Thaa"),
    ("કાળી બિલાડી", "gu", "script:Gujr"),
    ("ਕਾਲੀ ਬਿੱਲੀ", "pa", "script:Guru"),
    ("କଳା ବିଲେଇ", "or", "script:Orya"),
    ("கருப்பு பூனை", "ta", "script:Taml"),
    ("నల్ల పిల్లి", "te", "script:Telu"),
    ("ಕಪ್ಪು ಬೆಕ್ಕು", "kn", "script:Knda"),
    ("കറുത്ത പൂച്ച", "ml", "script:Mlym"),
])
def test_script_decides(text, label, method):
    assert ls.script_decision(text) == (label, method)


@pytest.mark.parametrize("text", ["a black cat", "черная кошка", "قطة سوداء", "काली बिल्ली", "חתול שחור",
                                  "შავი კატა", "কালো বিড়াল", "12345", "ー"])
def test_script_leaves_other_texts_to_fasttext(text):
    assert ls.script_decision(text) is None


def test_japanese_only_kanji_excludes_chinese_forms():
    for char in "県駅働畑込広々":
        assert char in ls.JAPANESE_ONLY_KANJI
    for char in "县縣站驛广廣的是国學学裏爲":  # simplified, traditional, shared, HK/TW variants
        assert char not in ls.JAPANESE_ONLY_KANJI


# ---------------------------------------------------------------- restricted fastText


def test_restrict_keeps_a_top1_written_in_the_script():
    assert ls.restrict_to_script(["en", "fr"], {"Latn": 10}, "Latn") == ("en", "fasttext")
    assert ls.restrict_to_script(["ru"], {}, None) == ("ru", "fasttext")


def test_restrict_takes_the_best_label_of_the_script():
    assert ls.restrict_to_script(["ja", "zh", "de", "en"], {"Latn": 20}, "Latn") == ("de", "fasttext+script:Latn")
    assert ls.restrict_to_script(["en", "sr", "ru"], {"Cyrl": 12}, "Cyrl") == ("sr", "fasttext+script:Cyrl")


def test_restrict_keeps_a_top1_whose_script_holds_a_third():
    assert ls.restrict_to_script(["ru", "en"], {"Latn": 11, "Cyrl": 6}, "Latn") == ("ru", "fasttext")
    assert ls.restrict_to_script(["ru", "en"], {"Latn": 20, "Cyrl": 3}, "Latn") == ("en", "fasttext+script:Latn")


def test_restrict_falls_back_to_top1_when_no_label_uses_the_script():
    assert ls.restrict_to_script(["mn", "ru"], {"Mong": 8}, "Mong") == ("mn", "fasttext")
    with pytest.raises(ValueError):
        ls.restrict_to_script([], {"Latn": 1}, "Latn")


# ---------------------------------------------------------------- Hindi vs Marathi


@pytest.mark.parametrize("text, vote", [
    ("वह घर में है", "hi"),
    ("इससे पिछले दो दिन", "hi"),
    ("लेकिन वहां कोई नहीं था", "hi"),
    ("तो घरी आहे", "mr"),
    ("मी आणि तुम्ही", "mr"),
    ("भारताच्या इतिहासात", "mr"),  # genitive -च्या attached
    ("शाळा", "mr"),  # ळ
    ("एक राजा", None),  # shared words only
    ("का ते हे", None),  # words both languages use are not evidence
    ("वह आहे", None),  # one each: a tie
    ("", None),
])
def test_hindi_marathi_vote(text, vote):
    assert ls.hindi_marathi_vote(text) == vote


def test_decide_overrules_fasttext_only_with_a_word_majority():
    assert ls.decide("इससे पिछले दो दिन", lambda: ["mr", "hi", "ne"]) == ("hi", "script:Deva+words")
    assert ls.decide("एक राजा", lambda: ["mr", "hi"]) == ("mr", "fasttext")
    assert ls.decide("मी आणि तुम्ही", lambda: ["mr", "hi"]) == ("mr", "fasttext")  # agrees: fastText's


def test_decide_does_not_call_fasttext_when_the_script_decides():
    def boom():
        raise AssertionError("fastText ranking asked for a script-decided text")

    assert ls.decide("고양이", boom) == ("ko", "script:Kore")


# ---------------------------------------------------------------- second opinion


def test_second_opinion_takes_cld2_among_fasttext_top5_when_unsure():
    ranked, probs = ["pt", "en", "it", "ro", "es", "fr"], [0.52, 0.2, 0.1, 0.05, 0.04, 0.01]
    assert ls.second_opinion("pt", "fasttext", ranked, probs, "en", "Latn") == ("en", "cld2")


def test_second_opinion_keeps_fasttext_otherwise():
    ranked, probs = ["pt", "en", "it", "ro", "es", "fr"], [0.52, 0.2, 0.1, 0.05, 0.04, 0.01]
    assert ls.second_opinion("pt", "fasttext", ranked, probs, "fr", "Latn") == ("pt", "fasttext")  # 6th
    assert ls.second_opinion("pt", "fasttext", ranked, probs, None, "Latn") == ("pt", "fasttext")  # CLD2 unsure
    assert ls.second_opinion("pt", "fasttext", ranked, probs, "pt", "Latn") == ("pt", "fasttext")
    sure = [0.9, 0.05, 0.02, 0.01, 0.01, 0.01]
    assert ls.second_opinion("pt", "fasttext", ranked, sure, "en", "Latn") == ("pt", "fasttext")
    # the other label must be written in the dominant script
    assert ls.second_opinion("ru", "fasttext", ["ru", "ja"], [0.4, 0.3], "ja", "Cyrl") == ("ru", "fasttext")
    # a word decision is never overruled
    assert ls.second_opinion("hi", "script:Deva+words", ["mr", "hi"], [0.6, 0.3], "mr", "Deva") == \
        ("hi", "script:Deva+words")


# ---------------------------------------------------------------- fastText input


@pytest.mark.parametrize("text, expected", [
    ("LOCATION HAS CLOSED.", "location has closed."),
    ("SERVERS", "servers"),
    ("NASA photo of Mars", "NASA photo of Mars"),  # mostly lower case: untouched
    ("ABC", "ABC"),  # fewer than 4 cased letters
    ("Email: Adelia Smith <adelia@example.com>", "Email: Adelia Smith"),
    ("see http://example.com/cat.jpg now", "see now"),
    ("photo_123.jpg of a cat", "of a cat"),
    ("www.example.com", "www.example.com"),  # nothing with letters would be left
    ("黑猫", "黑猫"),
])
def test_fasttext_input(text, expected):
    assert ls.fasttext_input(text) == expected


# ---------------------------------------------------------------- detect_improved


def test_detect_improved_labels_scores_methods():
    pytest.importorskip("pycld2")
    texts = ["a photo of a black cat on the sofa", "一九四九年十月", "ソファで寝ている黒い猫",
             "고양이가 소파에서 잔다", "แมวดำนอนบนโซฟา", "Eine schwarze Katze auf dem Sofa", "इससे पिछले दो दिन",
             "LOCATION HAS CLOSED.", "line one\nline two", None, "   "]
    labels, scores, methods = lid.detect_improved(texts)
    assert labels == ["en", "zh", "ja", "ko", "th", "de", "hi", "en", "en", "", ""]
    assert methods[1:5] == ["script:Hani", "script:Jpan", "script:Kore", "script:Thai"]
    assert methods[0] == methods[5] == "fasttext" and methods[6] == "script:Deva+words"
    assert methods[9:] == ["", ""]
    assert scores.dtype == np.float32 and len(scores) == len(texts)
    assert np.all(scores[1:5] == 1.0) and np.all(scores[9:] == 0.0)
    assert np.all((scores >= 0) & (scores <= 1))


def test_detect_improved_fixes_what_the_reference_gets_wrong_and_keeps_the_reference():
    pytest.importorskip("pycld2")
    texts = ["一九四九年十月", "इससे पिछले दो दिन", "LOCATION HAS CLOSED."]
    reference, _ = lid.detect(texts)
    assert reference == ["ja", "mr", "es"]  # lid.176's known errors (reference mode: unchanged)
    assert lid.detect_improved(texts)[0] == ["zh", "hi", "en"]


def test_detect_improved_matches_the_pure_rules():
    """The fast path of detect_improved decides as lid_script.decide + second_opinion would."""
    pytest.importorskip("pycld2")
    predict = lid.get_model().f.predict
    texts = ["Great place for embroidery", "Regards,", "Привет, как дела?", "The Scorpion -- третий",
             "WE AT HOME LOVE IT AT $80+++", "שלום עולם", "شاي بالنعناع", "მზიანი დღე"]
    labels, _, methods = lid.detect_improved(texts)
    for text, label, method in zip(texts, labels, methods):
        ft_text = ls.fasttext_input(text)
        pairs = predict(ft_text + "\n", -1, 0.0, "strict")
        ranked = [name[len("__label__"):] for _, name in pairs]
        probs = [p for p, _ in pairs]
        counts = ls.script_counts(text)
        expected = ls.decide(text, lambda: ranked)
        if expected[1] != "script:Deva+words" and probs[ranked.index(expected[0])] < ls.SECOND_OPINION_BELOW:
            expected = ls.second_opinion(*expected, ranked, probs, lid.cld2_label(ft_text),
                                         ls.dominant_script(counts))
        assert (label, method) == expected, text


def test_cld2_label():
    pytest.importorskip("pycld2")
    assert lid.cld2_label("This is clearly an English sentence about cats and dogs.") == "en"
    assert lid.cld2_label("זהו משפט בעברית על חתולים וכלבים") == "he"  # CLD2 says "iw"
    assert lid.cld2_label("\ud800 lone surrogate") is None
    assert lid.cld2_label("") is None
