"""CLIC text rules: usable sentences (split, openings, word limits) and the swap hard negative."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest

from training.clic.texts import (
    EXCLUDED_POS,
    OPENINGS,
    choose_swap,
    count_words,
    guess_language,
    join_sentences,
    split_sentences,
    swap_negative,
    usable_sentences,
)


def words(n: int, stem: str = "w") -> str:
    return " ".join(f"{stem}{i}" for i in range(n))


# ---------------------------------------------------------------- sentences


def test_word_limits_are_exclusive():
    # > 3 and < 35 words: 3 and 35 are out, 4 and 34 are in
    cap = ". ".join([words(3, "a"), words(4, "b"), words(34, "c"), words(35, "d")]) + "."
    assert usable_sentences(cap) == [words(4, "b"), words(34, "c")]


def test_fewer_than_two_usable_sentences_make_the_caption_unusable():
    assert usable_sentences("A black cat sits on a red ball. Tiny.") == []
    assert usable_sentences("") == []
    assert usable_sentences("one two three four five") == []


def test_lowercased_and_opening_stripped_from_first_sentence_only():
    cap = "The image shows A Black Cat on a red ball. The image shows the ball near a big window."
    assert usable_sentences(cap) == ["a black cat on a red ball", "the image shows the ball near a big window"]


def test_opening_needs_a_word_boundary_and_longest_wins():
    # "this image is" must not eat "this image isn't"; "this image appears to be" beats "this image"
    assert usable_sentences("This image isn't very sharp at all. A dog runs on the beach today.") == [
        "this image isn't very sharp at all", "a dog runs on the beach today"]
    assert usable_sentences("This image appears to be a dog on a sunny beach. The sky is blue and clear.") == [
        "a dog on a sunny beach", "the sky is blue and clear"]


@pytest.mark.parametrize("lang,caption,first", [
    ("de", "Das Bild zeigt eine schwarze Katze auf einem Ball. Der Ball liegt auf dem Boden.",
     "eine schwarze katze auf einem ball"),
    ("fr", "L'image montre un chat noir sur un ballon rouge. Le ballon est sur le sol.",
     "un chat noir sur un ballon rouge"),
    ("es", "La imagen muestra un gato negro sobre una pelota roja. La pelota está en el suelo.",
     "un gato negro sobre una pelota roja"),
    ("ru", "На изображении чёрная кошка сидит на красном мяче. Мяч лежит на деревянном полу.",
     "чёрная кошка сидит на красном мяче"),
    ("zh", "这张图片显示了一只黑猫坐在红色的球上。球放在靠近窗户的木地板上。", "一只黑猫坐在红色的球上"),
    ("ja", "この画像には、赤いボールの上に座っている黒い猫が写っています。ボールは窓の近くの床にあります。",
     "赤いボールの上に座っている黒い猫が写っています"),
])
def test_openings_per_language(lang, caption, first):
    assert lang in OPENINGS
    got = usable_sentences(caption, lang)
    assert got and got[0] == first
    assert usable_sentences(caption)[0] == first  # without lang: every list is tried


def test_sentence_ends():
    text = "Dr. Smith has 3.5 cats, see www.cats.org! Is it true? Yes… it is. 红色的圆形。蓝色的正方形！ok\nnext line"
    assert split_sentences(text) == ["Dr. Smith has 3.5 cats, see www.cats.org!", "Is it true?", "Yes…", "it is.",
                                     "红色的圆形。", "蓝色的正方形！", "ok", "next line"]


def test_word_counts_use_segmenters_for_unspaced_scripts():
    assert guess_language("赤い丸") == "ja" and guess_language("红色圆形") == "zh"
    assert guess_language("แมวสีดำ") == "th" and guess_language("a red ball") is None
    # jieba: 一只 / 黑猫 / 坐在 / 红色 / 的 / 球 / 上 -> 7 words, not 10 characters
    assert count_words("一只黑猫坐在红色的球上") == 7
    # punctuation splits words, as the reference's \w+ count does
    assert count_words("a country-style kitchen") == 4
    # a zh caption whose sentences are long enough by segmenter words
    assert len(usable_sentences("一只黑猫坐在红色的球上。球放在靠近窗户的木地板上。")) == 2
    assert usable_sentences("红色的球。蓝色的球。") == []  # 3 words each


def test_bad_caption_type():
    with pytest.raises(TypeError):
        usable_sentences(None)  # type: ignore[arg-type]


def test_join_sentences():
    assert join_sentences(["a red circle", "a blue square."]) == "a red circle. a blue square."
    assert join_sentences(["红色的圆形", "蓝色的正方形"]) == "红色的圆形。蓝色的正方形。"


# ---------------------------------------------------------------- hard negative


class Scripted:
    """A stand-in rng whose ``randrange`` answers are given in advance (and checked)."""

    def __init__(self, *answers: tuple[int, int]):
        self.answers = list(answers)

    def randrange(self, n: int) -> int:
        want_n, value = self.answers.pop(0)
        assert n == want_n, f"drew from {n} choices, expected {want_n}"
        return value


A = "a red circle on the left".split()
TA = ["DET", "ADJ", "NOUN", "ADP", "DET", "NOUN"]
B = "a blue square at the top".split()
TB = ["DET", "ADJ", "NOUN", "ADP", "DET", "NOUN"]


def test_swap_hand_computed():
    # shared classes (sorted): ADJ, ADP, NOUN; 'a' and 'the' are DET (excluded) and shared anyway
    # draw class 2 of 3 -> NOUN; A's nouns [circle, left] -> 1 = left; B's nouns [square, top] -> 0 = square
    a2, b2 = swap_negative(A, TA, B, TB, Scripted((3, 2), (2, 1), (2, 0)))
    assert a2 == "a red circle on the square".split()
    assert b2 == "a blue left at the top".split()
    # draw class 0 -> ADJ: red <-> blue (the attribute-binding negative)
    a2, b2 = swap_negative(A, TA, B, TB, Scripted((3, 0), (1, 0), (1, 0)))
    assert (a2, b2) == ("a blue circle on the left".split(), "a red square at the top".split())


def test_swap_every_occurrence_whole_tokens_only():
    a = "red ball and red box near redness".split()
    ta = ["ADJ", "NOUN", "CCONJ", "ADJ", "NOUN", "ADP", "NOUN"]
    b = "blue cat".split()
    tb = ["ADJ", "NOUN"]
    a2, b2 = swap_negative(a, ta, b, tb, Scripted((2, 0), (1, 0), (1, 0)))  # ADJ: red <-> blue
    assert a2 == "blue ball and blue box near redness".split()
    assert b2 == "red cat".split()


def test_shared_words_are_ignored_even_under_another_tag():
    a = "the red circle left of it".split()
    ta = ["DET", "ADJ", "NOUN", "ADJ", "ADP", "PRON"]
    b = "a circle left the red square".split()
    tb = ["DET", "NOUN", "VERB", "DET", "ADJ", "NOUN"]
    # shared: the, red, circle, left -> A has no ADJ/NOUN left to swap; no shared class -> fallback
    swap = choose_swap(a, ta, b, tb, random.Random(0))
    assert swap is not None and swap.fallback
    assert swap.word_a in {"of", "it"} and swap.word_b in {"square"}


def test_excluded_classes_are_never_a_swap_class():
    a = "the and oh to".split()
    b = "a but ah up".split()
    tags = ["DET", "CCONJ", "INTJ", "PART"]
    for seed in range(20):
        swap = choose_swap(a, tags, b, tags, random.Random(seed))
        assert swap is not None and swap.fallback  # every shared class is excluded


def test_fallback_prefers_words_over_punctuation_and_can_fail():
    a, ta = ["hello", ",", "world"], ["X", "PUNCT", "X"]
    b, tb = ["foo", "!"], ["X", "PUNCT"]
    for seed in range(20):
        swap = choose_swap(a, ta, b, tb, random.Random(seed))
        assert swap.word_a in {"hello", "world"} and swap.word_b == "foo" and swap.fallback
    same = "a red circle".split()
    assert choose_swap(same, ["DET", "ADJ", "NOUN"], same, ["DET", "ADJ", "NOUN"], random.Random(0)) is None
    assert swap_negative(same, ["DET", "ADJ", "NOUN"], same, ["DET", "ADJ", "NOUN"], random.Random(0)) == (same, same)


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="tokens_a and tags_a"):
        swap_negative(["a", "b"], ["DET"], ["c"], ["NOUN"], random.Random(0))


POS_POOL = ["NOUN", "VERB", "ADJ", "ADV", "PRON", "NUM", "ADP", "PROPN"] + sorted(EXCLUDED_POS)


def _random_pair(rng: np.random.Generator):
    """Two sentences over a small shared vocabulary; words unique within a sentence; fixed tag per word."""
    vocab = [f"w{i}" for i in range(30)]
    tag_of = {w: POS_POOL[i % len(POS_POOL)] for i, w in enumerate(vocab)}
    a = list(rng.choice(vocab, size=int(rng.integers(1, 10)), replace=False))
    b = list(rng.choice(vocab, size=int(rng.integers(1, 10)), replace=False))
    return a, [tag_of[w] for w in a], b, [tag_of[w] for w in b]


def test_swap_properties_on_random_sentences():
    rng = np.random.default_rng(0)
    n_class = n_fallback = 0
    for trial in range(2000):
        a, ta, b, tb = _random_pair(rng)
        swap = choose_swap(a, ta, b, tb, np.random.default_rng(trial))
        a2, b2 = swap_negative(a, ta, b, tb, np.random.default_rng(trial))  # same draws -> same swap
        # the multiset of words is the positive's (each word occurs once per sentence here)
        assert Counter(a2) + Counter(b2) == Counter(a) + Counter(b)
        shared = set(a) & set(b)
        if swap is None:
            assert (a2, b2) == (a, b)
            assert set(a) <= shared or set(b) <= shared
            continue
        changed_a = [i for i in range(len(a)) if a[i] != a2[i]]
        changed_b = [i for i in range(len(b)) if b[i] != b2[i]]
        # exactly the chosen word's positions changed, into the other word
        assert changed_a == [i for i, w in enumerate(a) if w == swap.word_a] and changed_a
        assert changed_b == [i for i, w in enumerate(b) if w == swap.word_b] and changed_b
        assert all(a2[i] == swap.word_b for i in changed_a) and all(b2[i] == swap.word_a for i in changed_b)
        # shared words never swapped
        assert swap.word_a not in shared and swap.word_b not in shared
        common = {t for w, t in zip(a, ta) if w not in shared} & {t for w, t in zip(b, tb) if w not in shared}
        if common - EXCLUDED_POS:
            n_class += 1
            assert not swap.fallback
            assert swap.pos not in EXCLUDED_POS
            assert ta[a.index(swap.word_a)] == tb[b.index(swap.word_b)] == swap.pos  # one class, both sides
        else:
            n_fallback += 1
            assert swap.fallback
    assert n_class > 500 and n_fallback > 100  # both branches exercised


def test_deterministic_from_the_seed_and_both_rng_kinds():
    a, ta, b, tb = A, TA, B, TB
    outs = {tuple(map(tuple, swap_negative(a, ta, b, tb, random.Random(s)))) for s in range(50)}
    assert len(outs) > 1  # the draw does vary with the seed
    for s in range(10):
        assert swap_negative(a, ta, b, tb, random.Random(s)) == swap_negative(a, ta, b, tb, random.Random(s))
        assert swap_negative(a, ta, b, tb, np.random.default_rng(s)) == \
            swap_negative(a, ta, b, tb, np.random.default_rng(s))
