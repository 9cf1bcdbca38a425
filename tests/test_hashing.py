"""The one key builder: values pinned from the code before the restructure (issue 14).

The curated tables and the loader's epochs depend on these exact values; a change here means
every existing curated table and training run would be drawn differently."""

from __future__ import annotations

import numpy as np

from curation.hashing import SEP, hash64, hash64_many, hash_key
from curation.sampling import choice_key, choice_keys, keep_uniform, keep_uniforms
from training.sharding import sample_order_key

# Computed with curation.sampling._hash64 / training.sharding.hash64 as they were (identical).
PINNED = {
    (0, 0, "u", "keep"): 906826833091905834,
    (3, 1, "ab", "choice", "ü text"): 7822845911576371345,
    (7, 2, "unit", 3, 0): 12711201881380503793,
    (0, 1, "order", "x"): 5496803103488577408,
    (0, 1, "augment", "u1"): 13112984818842118953,
    ("a", "b"): 17891760522800452624,
    ("",): 16476032584258269876,
}


def test_pinned_hash_values():
    for parts, value in PINNED.items():
        assert hash64(*parts) == value
    assert hash64() == hash64("") == PINNED[("",)]  # no parts and one empty part share the empty key


def test_key_string_and_batch_form():
    assert hash_key(1, "é", 2.5) == "1\x1fé\x1f2.5" and SEP == "\x1f"
    keys = [hash_key(*parts) for parts in PINNED]
    many = hash64_many(keys)
    assert many.dtype == np.uint64
    assert many.tolist() == list(PINNED.values())
    assert hash64_many([]).tolist() == []


def test_sampling_and_sharding_draws_are_pinned():
    assert keep_uniform(0, 0, "u").hex() == "0x1.92b6466767890p-5"
    assert keep_uniform(0, 0, "u") == (PINNED[(0, 0, "u", "keep")] >> 11) / 2 ** 53
    assert choice_key(3, 1, "ab", "ü text") == 3911422955788185672 == PINNED[(3, 1, "ab", "choice", "ü text")] >> 1
    assert sample_order_key(0, 1, "x") == PINNED[(0, 1, "order", "x")]
    assert keep_uniforms(0, 0, ["u"]).tolist() == [keep_uniform(0, 0, "u")]
    assert choice_keys(3, 1, ["ab"], ["ü text"]).tolist() == [3911422955788185672]
