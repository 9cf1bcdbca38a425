"""The paper's selection rules on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from curation.metadata.sources import selection as S


@pytest.mark.parametrize("n, share, cap, want", [
    (18, 0.10, None, 1), (18, 0.25, None, 4), (18, 0.5, 3, 3), (100, 0.29, None, 29), (25, 0.76, None, 19),
    (3, 0.76, 61235, 2), (0, 0.1, 5, 0), (10**7, 0.10, 251_465, 251_465), (9, 1.0, None, 9),
])
def test_top_share_size_is_exact_floor_then_cap(n, share, cap, want):
    assert S.top_share_size(n, share, cap) == want
    assert int(0.29 * 100) == 28  # the float pitfall the exact rule avoids


def test_paper_defaults():
    r = S.SelectionRules()
    assert (r.unigram_top_share, r.unigram_cap, r.bigram_min_pmi, r.bigram_cap, r.title_top_share, r.title_cap) \
        == (0.10, 251_465, 30.0, 100_646, 0.76, 61_235)
    assert r.problems() == []
    assert len(S.SelectionRules(unigram_top_share=1.5, title_cap=-1, bigram_min_count=0).problems()) == 3


def test_rank_unigrams_by_count_then_code_point():
    assert S.rank_unigrams([("b", 2), ("a", 2), ("B", 2), ("z", 5), ("é", 2)]) == ["z", "B", "a", "b", "é"]


def test_pmi_formula_hand_computed():
    got = S.bigram_pmi([1, 2, 4], [1, 5, 4], [1, 4, 4], 42)
    np.testing.assert_allclose(got, [math.log2(42), math.log2(84 / 20), math.log2(10.5)])
    assert S.max_word_count_for_pmi(1024, 3) == 128.0


def test_rank_bigrams_threshold_count_ties_and_joining():
    rows = [("New", "York", 4, 4, 4), ("of", "the", 8, 16, 16), ("Date", "palm", 1, 1, 1), ("a", "b", 1, 2, 2)]
    # PMI with N = 64: New York log2(16)=4, of the log2(2)=1, Date palm log2(64)=6, a b log2(16)=4
    assert S.rank_bigrams(rows, 64, False, min_pmi=3) == ["Date palm", "New York", "a b"]
    assert S.rank_bigrams(rows, 64, False, min_pmi=4) == ["Date palm"]  # strictly greater
    assert S.rank_bigrams(rows, 64, False, min_pmi=0, min_count=4) == ["New York", "of the"]
    assert S.rank_bigrams([("北京", "大学", 2, 2, 2)], 8, True, min_pmi=1) == ["北京大学"]
    # the same joined entry from two splits is kept once, at its best rank
    assert S.rank_bigrams([("ab", "c", 1, 1, 1), ("a", "bc", 1, 1, 2)], 8, True, min_pmi=0) == ["abc"]
    assert S.rank_bigrams([("x" * 200, "y" * 100, 1, 1, 1)], 8, False, min_pmi=0) == []


def test_titles_ranked_by_score_with_redirects_resolved():
    scores = S.resolve_redirects([("Apple", 5), ("Pomme", 10), ("Cherry", 75), ("Banana", 30)], {"Pomme": "Apple"})
    assert scores == {"Apple": 15, "Cherry": 75, "Banana": 30}
    ranked = S.rank_titles(S.title_scores(["Apple", "Banana", "Cherry", "Date palm"], scores))
    assert ranked == ["Cherry", "Banana", "Apple"]  # score 0 is not a candidate
    assert S.rank_titles([("B", 1), ("A", 1)]) == ["A", "B"]
