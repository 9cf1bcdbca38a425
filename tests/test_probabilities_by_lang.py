"""``probabilities_by_lang``: one vectorised pass must equal the per-language definition."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from curation.balancing import probabilities_by_lang


def _naive(langs, ids, probs):
    out = {}
    for lang in sorted(set(langs)):
        sel = [i for i, l in enumerate(langs) if l == lang]
        arr = np.zeros(max(ids[i] for i in sel) + 1, dtype=np.float32)
        for i in sel:
            arr[ids[i]] = probs[i]
        out[lang] = arr
    return out


def _table(langs, ids, probs):
    return pa.table({"lang": pa.array(langs, pa.string()), "entry_id": pa.array(ids, pa.int32()),
                     "prob": pa.array(probs, pa.float32())})


def test_equals_per_language_definition_on_shuffled_rows():
    rng = np.random.default_rng(0)
    langs, ids, probs = [], [], []
    for k, lang in enumerate(["en", "zh", "de", "th", "ja", "other-x"]):
        n = int(rng.integers(1, 300))
        keep = np.sort(rng.choice(n + 5, size=n, replace=False))  # gaps: ids absent are 0.0
        langs += [lang] * n
        ids += keep.tolist()
        probs += rng.random(n).astype(np.float32).tolist()
    perm = rng.permutation(len(langs))
    langs, ids, probs = [langs[i] for i in perm], [ids[i] for i in perm], [probs[i] for i in perm]
    got = probabilities_by_lang(_table(langs, ids, probs))
    want = _naive(langs, ids, probs)
    assert list(got) == sorted(want)
    for lang in want:
        assert got[lang].dtype == np.float32
        np.testing.assert_array_equal(got[lang], want[lang])


def test_chunked_table_and_empty():
    t = _table(["a", "b"], [1, 0], [0.5, 1.0])
    chunked = pa.concat_tables([t.slice(0, 1), t.slice(1)])
    got = probabilities_by_lang(chunked)
    np.testing.assert_array_equal(got["a"], np.array([0.0, 0.5], np.float32))
    np.testing.assert_array_equal(got["b"], np.array([1.0], np.float32))
    assert probabilities_by_lang(t.slice(0, 0)) == {}


@pytest.mark.parametrize("ids", [[0, 0], [-1, 2]])
def test_repeated_or_negative_ids_refused(ids):
    with pytest.raises(ValueError, match="negative or repeated"):
        probabilities_by_lang(_table(["en", "en"], ids, [0.1, 0.2]))


def test_missing_column_refused():
    with pytest.raises(ValueError, match="lacks columns"):
        probabilities_by_lang(pa.table({"lang": ["en"], "entry_id": [0]}))
