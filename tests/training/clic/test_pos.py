"""POS taggers mapped to Universal POS: each available tagger on real sentences, the registry order."""

from __future__ import annotations

import importlib.util
import random

import pytest

from training.clic.pos import (
    UPOS,
    TaggedSentence,
    TaggerRegistry,
    align_spaces,
    fallback_tagger,
    fugashi_tagger,
    jieba_tagger,
    jieba_to_upos,
    lexicon_tagger,
    spacy_tagger,
    thai_tagger,
    unidic_to_upos,
)
from training.clic.texts import choose_swap


def has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def tags_of(tagged: TaggedSentence) -> dict[str, str]:
    return dict(zip(tagged.tokens, tagged.tags))


@pytest.mark.skipif(not has("jieba"), reason="jieba not installed")
def test_jieba_on_real_sentences():
    tag = jieba_tagger()
    t = tag("一只黑猫坐在红色的球上，旁边有一本书。")
    assert set(t.tags) <= UPOS
    got = tags_of(t)
    assert got["红色"] == "NOUN" and got["的"] == "PART" and got["，"] == "PUNCT" and got["。"] == "PUNCT"
    assert got["一只"] == "NUM" and got["有"] == "VERB"
    assert t.text() == "一只黑猫坐在红色的球上，旁边有一本书。" and t.tagger == "jieba.posseg"


@pytest.mark.skipif(not has("fugashi"), reason="fugashi not installed")
def test_fugashi_unidic_on_real_sentences():
    tag = fugashi_tagger()
    t = tag("黒い猫が赤いボールの上に座っている。")
    got = tags_of(t)
    assert got["黒い"] == got["赤い"] == "ADJ"
    assert got["猫"] == got["ボール"] == "NOUN"
    assert got["が"] == got["の"] == "ADP" and got["。"] == "PUNCT" and got["て"] == "SCONJ"
    assert t.text() == "黒い猫が赤いボールの上に座っている。"
    assert tag("この 画像").text() == "この 画像"  # spacing survives


@pytest.mark.skipif(not has("pythainlp"), reason="pythainlp not installed")
def test_thai_on_a_real_sentence():
    t = thai_tagger()("แมวสีดำนั่งอยู่บนลูกบอลสีแดง")
    got = tags_of(t)
    assert got["แมว"] == "NOUN" and got["ดำ"] == "ADJ" and got["บน"] == "ADP"
    assert set(t.tags) <= UPOS and t.text() == "แมวสีดำนั่งอยู่บนลูกบอลสีแดง"


@pytest.mark.skipif(not has("spacy"), reason="spaCy not installed")
def test_spacy_pipeline_adapter():
    """A real spaCy ``Language`` (blank English + a rule component) through the adapter."""
    import spacy
    from spacy.language import Language

    lexicon = {"a": "DET", "red": "ADJ", "blue": "ADJ", "circle": "NOUN", "square": "NOUN", "on": "ADP",
               "the": "DET", "left": "NOUN", ",": "PUNCT"}

    @Language.component("clic_test_pos")
    def set_pos(doc):
        for tok in doc:
            tok.pos_ = lexicon.get(tok.lower_, "X")
        return doc

    nlp = spacy.blank("en")
    nlp.add_pipe("clic_test_pos")
    tag = spacy_tagger(nlp)
    t = tag("A red circle,  on the left")
    assert t.tokens == ["A", "red", "circle", ",", "on", "the", "left"]
    assert t.tags == ["DET", "ADJ", "NOUN", "PUNCT", "ADP", "DET", "NOUN"]
    assert t.text() == "A red circle,  on the left"  # the double space is kept
    assert t.tagger.startswith("spacy:en")
    reg = TaggerRegistry(auto_spacy=False)
    reg.spacy = {"zh": nlp}  # a configured spaCy pipeline beats the built-in tagger of its language
    assert reg.tag("a red circle", "zh").tags == ["DET", "ADJ", "NOUN"]


def test_unidic_and_jieba_tables():
    assert unidic_to_upos("名詞", "普通名詞") == "NOUN" and unidic_to_upos("名詞", "固有名詞") == "PROPN"
    assert unidic_to_upos("名詞", "数詞") == "NUM" and unidic_to_upos("助動詞") == "AUX"
    assert unidic_to_upos("助詞", "終助詞") == "PART" and unidic_to_upos("補助記号", "句点") == "PUNCT"
    assert unidic_to_upos("接尾辞", "形容詞的") == "ADJ" and unidic_to_upos("未知") == "X"
    assert jieba_to_upos("nr") == "PROPN" and jieba_to_upos("vn") == "NOUN" and jieba_to_upos("ad") == "ADV"
    assert jieba_to_upos("nrzz") == "NOUN"  # unknown flag: by its first letter
    assert jieba_to_upos("x", "，") == "PUNCT" and jieba_to_upos("x", "+") == "SYM"


def test_lexicon_and_fallback_taggers():
    lex = lexicon_tagger({"Red": "ADJ", "circle": "NOUN"}, "en")
    t = lex("A red circle, left.")
    assert t.tokens == ["A", "red", "circle", ",", "left", "."]
    assert t.tags == ["X", "ADJ", "NOUN", "PUNCT", "X", "PUNCT"]
    assert t.text(["A", "blue", "square", ",", "left", "."]) == "A blue square, left."
    fb = fallback_tagger("de")("Ein Kreis in Rot, links.")
    assert set(fb.tags) == {"X", "PUNCT"} and fb.tagger == "fallback"
    with pytest.raises(ValueError, match="Universal POS"):
        lexicon_tagger({"red": "JJ"})


def test_fallback_sentences_always_swap_random_words():
    fb = fallback_tagger("en")
    a, b = fb("a red circle, on the left"), fb("a blue square at the top")
    for seed in range(10):
        swap = choose_swap(a.tokens, a.tags, b.tokens, b.tags, random.Random(seed))
        assert swap.fallback and swap.word_a not in {",", "a", "the"}


def test_registry_order_and_unavailable_taggers(caplog):
    reg = TaggerRegistry(spacy={"en": "no_such_pipeline_xyz"}, auto_spacy=False)
    assert reg.get("en")("a b").tagger == "fallback"  # spaCy pipeline missing -> logged, fallback
    assert "unavailable" in caplog.text
    reg.register("en", lexicon_tagger({"b": "NOUN"}, name="mine"), "mine")
    assert reg.get("en")("a b").tagger == "mine"
    assert reg.get("EN_us")("a b").tagger == "mine"  # language codes normalised
    assert reg.get(None)("a b").tagger == "fallback"
    assert reg.resolved() == {"": "fallback", "en": "mine"}
    if has("jieba"):
        reg.get("zh")
        assert reg.resolved()["zh"] == "jieba.posseg"


def test_tagged_sentence_validation_and_alignment():
    with pytest.raises(ValueError, match="same length"):
        TaggedSentence(["a"], [], [""])
    with pytest.raises(ValueError, match="Universal POS"):
        TaggedSentence(["a"], ["NN"], [""])
    assert align_spaces("a  b\tc", ["a", "b", "c"]) == ["  ", "\t", ""]
    assert align_spaces("ab", ["A", "b"]) == ["", ""]  # a token not found verbatim in unspaced text
