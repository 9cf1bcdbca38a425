"""MinHash/LSH (near-duplicate sentences), union-find, faiss range pairs (near-duplicate images)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from curation.realsyn import minhash
from curation.realsyn.arrow import emb_array, emb_matrix, whole_groups
from curation.realsyn.graph import components
from curation.realsyn.images import group_edges, range_pairs


def _jaccard(a: str, b: str, n: int = 5) -> float:
    sa = {minhash.normalise(a)[i:i + n] for i in range(len(minhash.normalise(a)) - n + 1)}
    sb = {minhash.normalise(b)[i:i + n] for i in range(len(minhash.normalise(b)) - n + 1)}
    return len(sa & sb) / len(sa | sb)


def test_minhash_estimates_jaccard_and_is_deterministic():
    a = "Subscribe to our newsletter to get weekly updates on new articles."
    b = "subscribe to our  newsletter to get weekly updates on new articles!"
    c = "The weather was pleasant yesterday afternoon in the old city."
    sigs = minhash.signatures([a, b, c, a], num_perm=256)
    assert (sigs[0] == sigs[3]).all()
    assert minhash.estimated_jaccard(sigs[0], sigs[1]) == pytest.approx(_jaccard(a, b), abs=0.08)
    assert minhash.estimated_jaccard(sigs[0], sigs[2]) < 0.1
    assert (minhash.signatures([a], num_perm=256) == sigs[:1]).all()          # batch-independent
    assert not (minhash.signatures([a], num_perm=256, seed=1) == sigs[:1]).all()  # seed-dependent


def test_batch_shingles_match_per_text_shingles():
    texts = ["ab", "", "Hello   World", "東京は大きい都市です", "x" * 7, "Ünïcödé text here"]
    sigs = minhash.signatures(texts, num_perm=32)
    for i, t in enumerate(texts):
        assert (minhash.signatures([t], num_perm=32)[0] == sigs[i]).all(), t
    assert minhash.shingle_hashes("abc").shape == (1,)  # shorter than 5: one shingle


def test_band_keys_equal_iff_band_equal():
    sigs = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [5, 2, 3, 4]], dtype=np.uint32)
    keys = minhash.band_keys(sigs, bands=2)
    assert keys.dtype == np.int64
    assert keys[0, 0] == keys[1, 0] and keys[0, 1] != keys[1, 1]
    assert keys[0, 1] == keys[2, 1] and keys[0, 0] != keys[2, 0]
    # the same values in a different band give a different key
    assert minhash.band_keys(np.array([[7, 7, 7, 7]], np.uint32), 2)[0, 0] != \
        minhash.band_keys(np.array([[7, 7, 7, 7]], np.uint32), 2)[0, 1]
    with pytest.raises(ValueError):
        minhash.band_keys(sigs, bands=3)


def test_union_find_components_are_min_labelled():
    assert components(6, np.array([4, 1, 5]), np.array([1, 3, 0])).tolist() == [0, 1, 2, 1, 1, 0]
    assert components(3, np.array([], int), np.array([], int)).tolist() == [0, 1, 2]
    with pytest.raises(ValueError):
        components(2, np.array([0]), np.array([2]))


def test_range_pairs_threshold_is_inclusive():
    x = np.array([[1, 0], [0.8, 0.6], [0, 1], [1, 0]], dtype=np.float32)
    left, right = range_pairs(x, 0.8)
    # cos(0, 1) = cos(1, 3) = float32(0.8) exactly: on the threshold, so linked; cos(1, 2) = 0.6
    assert sorted(zip(left.tolist(), right.tolist())) == [(0, 1), (0, 3), (1, 3)]
    left, right = range_pairs(x, 0.81)
    assert sorted(zip(left.tolist(), right.tolist())) == [(0, 3)]
    assert group_edges(["a", "b", "c", "d"], x, 0.81) == [("a", "d")]
    assert group_edges(["a"], x[:1], 0.5) == []


def test_whole_groups_never_split_a_key():
    keys = [1, 1, 2, 2, 2, 3, 4, 4]
    batches = [pa.record_batch({"k": keys[a:b], "v": list(range(a, b))}) for a, b in [(0, 3), (3, 4), (4, 7), (7, 8)]]
    tables = list(whole_groups(iter(batches), "k"))
    seen = [t.column("k").to_pylist() for t in tables]
    assert sum(seen, []) == keys
    for i, t in enumerate(seen):
        for j, u in enumerate(seen):
            if i != j:
                assert not set(t) & set(u)


def test_embedding_columns_round_trip():
    x = np.arange(6, dtype=np.float32).reshape(3, 2)
    assert np.array_equal(emb_matrix(emb_array(x)), x)
    assert emb_matrix(emb_array(np.zeros((0, 4), np.float32)), 4).shape == (0, 4)
