"""Opt-in extended matching (morpheme boundaries for ja/ko): pure pieces with a fake
segmenter, then hand-written Japanese (fugashi) and Korean (kiwipiepy) cases."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from curation import matching_extended as mx
from curation.matching import Matcher

M = mx.FUNCTION_MARK

# ---------------------------------------------------------------- pure pieces


def test_spans_to_segments_merges_overlaps_and_marks_word_ends():
    text = "ab cd-e"
    spans = [(0, 1, True), (1, 2, False), (3, 5, True), (4, 5, False), (5, 6, False), (6, 7, True)]
    assert mx.spans_to_segments(text, spans) == [
        ("a", True, False), ("b", False, True),  # b ends the word "ab"
        ("cd", True, False),  # (3,5) and (4,5) overlap: one piece, content
        ("-", False, False), ("e", True, True),  # the text's end ends a word
    ]


def test_spans_to_segments_drops_uncovered_and_bad_spans_and_splits_whitespace():
    assert mx.spans_to_segments("a b", [(0, 3, True)]) == [("a", True, True), ("b", True, True)]
    assert mx.spans_to_segments("abc", [(1, 2, True), (5, 9, True), (2, 2, False)]) == [("b", True, False)]
    assert mx.spans_to_segments("", []) == []


def test_token_string_marks_function_tokens_and_word_ends():
    tokens, ends = mx.token_string([("고양이", True, False), ("가", False, True), ("잔다", True, True)])
    assert tokens == f" 고양이 {M}가 잔다 "
    assert ends == {tokens.index(" 잔다"), len(tokens) - 1}
    # the mark inside a surface is removed, so a content token can never look like a function one
    assert mx.token_string([(f"{M}x", True, True)])[0] == " x "
    assert mx.token_string([])[0] == " "


def _fake_segmenter(text: str) -> list[mx.Segment]:
    """Words split on spaces; a word "w+p" is content "w" + function "p"; "%" alone is function."""
    out: list[mx.Segment] = []
    for word in text.split():
        stem, _, suffix = word.partition("+")
        if stem:
            out.append((stem, stem != "%", not suffix))
        if suffix:
            out.append((suffix, False, True))
    return out


def test_entry_tokens_skips_entries_without_content():
    assert mx.entry_tokens("cat", _fake_segmenter) == " cat "
    assert mx.entry_tokens("big cat+s", _fake_segmenter) == f" big cat {M}s "
    assert mx.entry_tokens("%", _fake_segmenter) is None
    assert mx.entry_tokens("", _fake_segmenter) is None


def test_extended_matcher_with_a_fake_segmenter():
    entries = ["cat", "big cat", "%", "x", "ca", "cat+s"]
    m = mx.ExtendedMatcher(entries, "xx", segmenter=_fake_segmenter)
    assert m.extended and m.n_segmented_entries == 5  # "%" (no content morpheme) left out
    assert m.match("big cat+s") == [0, 1, 5]  # morpheme runs; "ca" never matches inside "cat"
    assert m.match("a x+s") == [3]  # short entry before a function token
    assert m.match("a x") == [3]  # short entry at a word end
    assert m.match("%") == [2]  # a function-only entry matches only by the reference rule
    assert m.match("") == []


def test_short_entries_do_not_match_inside_a_word():
    def glued(text: str) -> list[mx.Segment]:  # "x|y" = one word cut into two content pieces
        return [(p, True, i == len(text.split("|")) - 1) for i, p in enumerate(text.split("|"))]

    m = mx.ExtendedMatcher(["x", "xy"], "xx", segmenter=glued)
    assert m.match("x|yz") == []  # "x" is followed by a content piece of the same word
    assert m.match("z|x") == [0]  # ... but may end a word (compound: 고양이|밥)


def test_extended_is_reference_for_languages_without_segmenter():
    entries = ["cat", "黑猫", "New York"]
    m = mx.ExtendedMatcher(entries, "en")
    assert not m.extended
    for text in ["a cat", "一只黑猫", "New York, NY", ""]:
        assert m.match(text) == Matcher(entries).match(text)


def test_make_matcher_modes():
    assert type(mx.make_matcher(["猫"], "ja", "reference")) is Matcher
    assert type(mx.make_matcher(["cat"], "en", "extended")) is Matcher
    with pytest.raises(ValueError, match="unknown matching mode"):
        mx.make_matcher(["cat"], "en", "fuzzy")
    with pytest.raises(ValueError, match="no morpheme segmenter"):
        mx.get_segmenter("en")


def test_extended_matcher_refuses_pickling():
    with pytest.raises(TypeError, match="must not be pickled"):
        pickle.dumps(mx.ExtendedMatcher(["cat"], "xx", segmenter=_fake_segmenter))


def _assert_batch_equals_scalar(m, texts):
    offsets, ids = m.match_many_arrays(texts)
    assert offsets.dtype == np.int64 and ids.dtype == np.int32 and len(offsets) == len(texts) + 1
    for i, text in enumerate(texts):
        assert ids[offsets[i]:offsets[i + 1]].tolist() == m.match(text), text


def test_batch_form_equals_scalar_with_fake_segmenter():
    m = mx.ExtendedMatcher(["cat", "big cat", "x", "cat+s"], "xx", segmenter=_fake_segmenter)
    _assert_batch_equals_scalar(m, ["big cat+s", "", "a x+s", "cat", "dog", "x x x"])
    _assert_batch_equals_scalar(m, [])


# ---------------------------------------------------------------- Japanese (fugashi + unidic-lite)


@pytest.fixture(scope="module")
def ja_matcher_factory():
    pytest.importorskip("fugashi")
    pytest.importorskip("unidic_lite")
    return lambda entries: mx.ExtendedMatcher(entries, "ja")


JA_ENTRIES = ["ラーメン", "東京タワー", "の", "メン", "ラー", "猫", "かわいい", "京都", "食べ", "写真"]


@pytest.mark.parametrize("text, reference, extended", [
    # kana-ended entries never match unspaced Japanese in the reference; at morphemes they do
    ("東京タワーの近くでラーメンを食べた", [], ["ラーメン", "東京タワー", "食べ"]),
    # partial katakana ("メン", "ラー") never matches inside a word; "の" (particle only) never
    ("ラーメンの写真", ["写真"], ["ラーメン", "写真"]),
    ("かわいい猫の写真", ["猫", "写真"], ["かわいい", "猫", "写真"]),
    # Han-only entries keep the reference's anywhere-substring rule (extended ⊇ reference)
    ("東京都の地図", ["京都"], ["京都"]),
    ("", [], []),
])
def test_japanese(ja_matcher_factory, text, reference, extended):
    m = ja_matcher_factory(JA_ENTRIES)
    names = lambda ids: sorted(JA_ENTRIES[i] for i in ids)  # noqa: E731
    assert names(Matcher(JA_ENTRIES).match(text)) == sorted(reference)
    assert names(m.match(text)) == sorted(extended)


def test_japanese_batch_equals_scalar(ja_matcher_factory):
    m = ja_matcher_factory(JA_ENTRIES)
    _assert_batch_equals_scalar(m, ["東京タワーの近くでラーメンを食べた", "", "かわいい猫", "no japanese here", "東京都"])


# ---------------------------------------------------------------- Korean (kiwipiepy)


@pytest.fixture(scope="module")
def ko_matcher_factory():
    pytest.importorskip("kiwipiepy")
    return lambda entries: mx.ExtendedMatcher(entries, "ko")


KO_ENTRIES = ["고양이", "이", "가", "소파", "밥", "투", "한", "쓴", "것", "했", "검은 고양이", "사과", "을"]


@pytest.mark.slow  # loading kiwipiepy's model takes seconds
@pytest.mark.parametrize("text, reference, extended", [
    # a noun followed by its particle: the reference never matches it
    ("고양이가 소파에서 잔다", [], ["고양이", "소파"]),
    # single syllables never match inside a word (이 in 고양이, the particle 가, 을)
    ("검은 고양이가 사과를 먹었다", [], ["검은 고양이", "고양이", "사과"]),
    # a one-syllable noun at the end of a compound, before its particle
    ("고양이밥을 샀다", [], ["고양이", "밥"]),
    # ... but not a syllable of a name cut into pieces, nor of a contraction
    ("파티 투르벨은 말했다", [], []),
    ("예방하기 위한 검사", [], []),
    ("습관적으로 쓴다.", [], []),
    ("그런 것이 있다", [], ["것"]),
    ("그렇게 했다", [], ["했"]),
    ("이 사과", ["이", "사과"], ["이", "사과"]),  # standalone words: the reference's matches stay
])
def test_korean(ko_matcher_factory, text, reference, extended):
    m = ko_matcher_factory(KO_ENTRIES)
    names = lambda ids: sorted(KO_ENTRIES[i] for i in ids)  # noqa: E731
    assert names(Matcher(KO_ENTRIES).match(text)) == sorted(reference)
    assert names(m.match(text)) == sorted(extended)


@pytest.mark.slow
def test_korean_batch_equals_scalar(ko_matcher_factory):
    m = ko_matcher_factory(KO_ENTRIES)
    _assert_batch_equals_scalar(m, ["고양이가 소파에서 잔다", "", "고양이밥을 샀다", "파티 투르벨은", "이 사과", "cat"])
