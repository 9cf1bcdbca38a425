"""``plan_thresholds``: the paper's rule when t_en or p is given, and an auto mode that never
silently drops a language with matches (issue 16 item 4)."""

from __future__ import annotations

import numpy as np
import pytest

from curation.balancing import (AUTO_TAIL_PROPORTION, ThresholdError, language_thresholds, plan_thresholds,
                                tail_proportion, threshold_for_proportion)


def c(*values):
    return np.array(values, dtype=np.int64)


def test_explicit_t_en_is_the_paper_rule():
    counts = {"en": c(10, 1, 1, 5, 0), "de": c(3, 1, 0, 0), "fr": c(0, 0)}
    plan = plan_thresholds(counts, t_en=5)
    p = tail_proportion(counts["en"], 5)  # (1 + 1) / 17
    assert plan.p == pytest.approx(p) and plan.p_source == "t_en" and plan.t_en == 5
    assert plan.t == language_thresholds(counts, 5, p)
    assert plan.t["fr"] == 0 and not plan.raised


def test_explicit_rule_drops_and_reports_a_language_with_matches_at_t_0():
    # de has one matched entry: portion [0, 0, 1]; p = 2/17 is nearer 0 than 1 -> t = 0
    counts = {"en": c(10, 1, 1, 5), "de": c(0, 0, 4)}
    plan = plan_thresholds(counts, t_en=5)
    assert plan.t["de"] == 0 and plan.dropped == ("de",) and not plan.raised


def test_auto_raises_t_0_to_the_smallest_nonzero_count():
    counts = {"en": c(20, 3, 2, 2, 1, 1, 1), "de": c(0, 0, 4)}  # auto: t_en = 3, p = 7/30
    plan = plan_thresholds(counts)
    assert plan.p_source == "auto" and plan.p > 0
    assert threshold_for_proportion(counts["de"], plan.p) == 0  # what the exact rule gives
    assert plan.t["de"] == 4 and plan.raised == ("de",) and not plan.dropped


def test_auto_with_no_english_tail_falls_back_to_a_given_p():
    # five English texts, each its own entry: auto_t_en = 1 gives p = 0 (the 5-good-rows case)
    counts = {"en": c(1, 1, 1, 1, 1, 0), "de": c(1, 0), "ja": c(2, 1), "th": c(0, 0)}
    plan = plan_thresholds(counts)
    assert plan.p_source == "auto_fallback" and plan.p == AUTO_TAIL_PROPORTION and plan.t_en is None
    assert plan.t["en"] >= 1 and plan.t["de"] >= 1 and plan.t["ja"] >= 1 and plan.t["th"] == 0


def test_no_english_at_all():
    counts = {"en": c(0, 0), "ja": c(5, 2, 1, 0)}
    auto = plan_thresholds(counts)
    assert auto.p_source == "auto_fallback" and auto.t["ja"] > 0
    with pytest.raises(ThresholdError, match="--tail-proportion"):
        plan_thresholds(counts, t_en=100)
    given = plan_thresholds({"ja": c(5, 2, 1, 0)}, p=0.3)
    assert given.p_source == "tail_proportion" and given.t["ja"] == threshold_for_proportion(c(5, 2, 1, 0), 0.3)


def test_tail_proportion_with_and_without_t_en():
    counts = {"en": c(8, 4, 2, 1), "de": c(6, 3, 1)}
    p_only = plan_thresholds(counts, p=0.25)
    assert p_only.t["en"] == threshold_for_proportion(counts["en"], 0.25)
    both = plan_thresholds(counts, t_en=7, p=0.25)
    assert both.t["en"] == 7 and both.t["de"] == threshold_for_proportion(counts["de"], 0.25) and both.p == 0.25


def test_overrides_win_and_are_checked():
    counts = {"en": c(10, 1, 1, 5), "de": c(0, 0, 4)}
    plan = plan_thresholds(counts, t_en=5, overrides={"de": 2, "en": 3})
    assert plan.t == {"en": 3, "de": 2} and plan.overridden == ("de", "en") and not plan.dropped
    with pytest.raises(ThresholdError, match="does not have"):
        plan_thresholds(counts, overrides={"xx": 3})
    with pytest.raises(ThresholdError, match="positive"):
        plan_thresholds(counts, overrides={"de": 0})
    with pytest.raises(ThresholdError, match=r"\(0, 1\]"):
        plan_thresholds(counts, p=0.0)


def test_auto_without_degenerate_counts_is_unchanged():
    rng = np.random.default_rng(1)
    counts = {lang: rng.zipf(1.5, size=200).astype(np.int64) for lang in ("en", "de", "ja")}
    plan = plan_thresholds(counts)
    from curation.balancing import auto_t_en

    t_en = auto_t_en(counts["en"])
    assert plan.t_en == t_en and plan.t == language_thresholds(counts, t_en, tail_proportion(counts["en"], t_en))
