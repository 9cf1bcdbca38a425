"""draw_caption: the per-step caption draw among text1..k and syn_text."""

from __future__ import annotations

import collections

import pytest

from curation.hashing import hash64
from curation.realsyn.captions import draw_caption


def test_draw_is_deterministic_and_hash_defined():
    texts = ["a", "b", "c", "syn"]
    i = draw_caption(0, 3, "uid1", texts)
    assert i == draw_caption(0, 3, "uid1", texts)
    assert i == (hash64(0, 3, "uid1") * 4) >> 64


def test_draw_skips_missing_texts():
    texts = [None, "b", "  ", "d", None]
    picks = {draw_caption(0, e, f"u{j}", texts) for e in range(5) for j in range(50)}
    assert picks == {1, 3}
    assert draw_caption(1, 0, "u", ["only"]) == 0
    with pytest.raises(ValueError):
        draw_caption(0, 0, "u", [None, "", " "])


def test_draw_is_roughly_uniform_and_changes_with_epoch():
    texts = ["t1", "t2", "t3", "syn"]
    counts = collections.Counter(draw_caption(0, 0, f"img{j}", texts) for j in range(4000))
    assert set(counts) == {0, 1, 2, 3}
    assert all(850 < c < 1150 for c in counts.values()), counts
    changed = sum(draw_caption(0, 0, f"img{j}", texts) != draw_caption(0, 1, f"img{j}", texts) for j in range(400))
    assert 220 < changed < 380  # ~3/4 of draws differ between epochs
