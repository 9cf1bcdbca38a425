"""SPEC §6.1 RealSyn filter rules, hand-computed cases and edges."""

from __future__ import annotations

import math

import numpy as np
import pytest

from curation.realsyn import rules
from curation.realsyn.rules import (clean_sentence, image_reject_reason, in_synthetic_band, keep_image,
                                    perplexity_ok, sentence_reject_reason, word_entropy)


@pytest.mark.parametrize("w,h,kept", [
    (100, 100, True), (99, 100, False), (100, 99, False),          # shorter side exactly 100
    (300, 100, True), (301, 100, False), (100, 300, True), (100, 301, False),  # aspect exactly 3 and 1/3
    (300.0, 100.0, True), (1000, 334, True), (1000, 333, False),
    (4000, 3000, True),
])
def test_keep_image_edges(w, h, kept):
    assert keep_image(w, h) is kept


def test_image_reasons():
    assert image_reject_reason(99, 500) == rules.TOO_SMALL
    assert image_reject_reason(1000, 200) == rules.BAD_ASPECT
    for w, h in [(None, 100), (100, None), (0, 100), (-5, 200), (math.nan, 200), (math.inf, 200)]:
        assert image_reject_reason(w, h) == rules.UNKNOWN_SIZE
        assert keep_image(w, h) is False


def test_clean_sentence_removes_urls_and_emoji():
    text = "Look 👍🏽 at https://x.com/a?b=1 this\tphoto 😀 of the 🇫🇷 flag 1️⃣ www.site.org/x ok 👨‍👩‍👧 !"
    assert clean_sentence(text) == "Look at this photo of the flag ok !"
    assert clean_sentence("  a\n\nb \u00a0 c\u3000d ") == "a b c d"
    assert clean_sentence("HTTP://EXAMPLE.COM/x and ftp://a.b/c end") == "and end"


def test_clean_sentence_keeps_scripts_and_is_idempotent():
    hindi = "क्\u200dया यह ठीक है"  # ZWJ inside a Devanagari conjunct must survive
    assert clean_sentence(hindi) == hindi
    for text in ["东京是一个大城市。", "Ünïcödé façade — “quotes”", "١٢٣ مرحبا بالعالم", "a 😀😀 b https://t.co/x"]:
        once = clean_sentence(text)
        assert clean_sentence(once) == once
    assert clean_sentence("东京是一个大城市。") == "东京是一个大城市。"
    assert clean_sentence("😀 https://a.b") == ""


def test_sentence_length_en_counts_words_not_punctuation():
    assert sentence_reject_reason("Hi , there !", "en") == rules.TOO_FEW_WORDS  # 2 words
    assert sentence_reject_reason("a red circle", "en") is None               # exactly 3
    assert sentence_reject_reason(" ".join(["w"] * 81), "en") is None          # exactly 81
    assert sentence_reject_reason(" ".join(["w"] * 82), "en") == rules.TOO_MANY_WORDS
    assert sentence_reject_reason("", "en") == rules.EMPTY
    assert sentence_reject_reason("   ", "en") == rules.EMPTY


def test_sentence_length_uses_segmenters_for_no_space_scripts():
    # jieba: 我们 / 去 / 公园 -> 3 words although there is no space
    assert sentence_reject_reason("我们去公园", "zh") is None
    assert sentence_reject_reason("公园", "zh") == rules.TOO_FEW_WORDS
    # fugashi: 東京 / は / 大きい / 都市 / です
    assert sentence_reject_reason("東京は大きい都市です", "ja") is None
    # PyThaiNLP newmm: ฉัน / ชอบ / แมว
    assert sentence_reject_reason("ฉันชอบแมว", "th") is None
    assert sentence_reject_reason("แมว", "th") == rules.TOO_FEW_WORDS


def test_word_entropy_hand_computed():
    # p(a) = p(b) = 1/2; tokens a, a, b -> 3 * (1/2 ln 2)
    assert word_entropy(["a", "a", "b"], {"a": 2, "b": 2}, 4) == pytest.approx(1.5 * math.log(2))
    counts = {"the": 50, "cat": 10, "sat": 40}
    expected = -(0.5 * math.log(0.5) + 0.1 * math.log(0.1) + 0.4 * math.log(0.4))
    assert word_entropy(["the", "cat", "sat"], counts, 100) == pytest.approx(expected)
    assert expected == pytest.approx(0.94335, abs=1e-5)
    # unknown token: p = 0 contributes 0; a token with p = 1 contributes 0
    assert word_entropy(["zzz"], counts, 100) == 0.0
    assert word_entropy(["x", "x"], {"x": 7}, 7) == 0.0
    assert word_entropy([], counts, 100) == 0.0


def test_word_entropy_threshold_and_errors():
    assert rules.entropy_ok(0.3) and not rules.entropy_ok(0.2999999)
    with pytest.raises(ValueError):
        word_entropy(["a"], {"a": 1}, 0)
    with pytest.raises(ValueError):
        word_entropy(["a"], {"a": 5}, 4)


@pytest.mark.parametrize("ppl,ok", [(30, True), (30.0, True), (200, True), (29.999, False), (200.0001, False),
                                    (100, True), (math.nan, False), (math.inf, False), (0, False)])
def test_perplexity_band(ppl, ok):
    assert perplexity_ok(ppl) is ok


@pytest.mark.parametrize("cos,ok", [(0.51, True), (0.61, True), (np.float32(0.51), True), (np.float32(0.61), True),
                                    (0.5099, False), (0.6101, False), (0.55, True), (math.nan, False), (-1.0, False)])
def test_synthetic_band_edges(cos, ok):
    assert in_synthetic_band(cos) is ok


def test_synthetic_band_many_matches_scalar():
    cos = np.array([0.5, 0.51, 0.55, 0.61, 0.62, np.nan], dtype=np.float32)
    assert rules.in_synthetic_band_many(cos).tolist() == [in_synthetic_band(c) for c in cos]
