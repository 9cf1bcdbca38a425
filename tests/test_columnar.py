"""Hand-computed cases of the Arrow forms that Spark workers call: reasons, uids, matching,
counting, sampling keys (the row-by-row parity with the scalar rules is in test_batch_arrow)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from curation import columnar
from curation.ids import image_uid
from curation.sampling import choice_key, keep_uniform


def test_annotate_lid_reasons_uids_and_min_score():
    urls = pa.array(["https://a.org/1.jpg", "https://a.org/2.jpg", "bad url", "https://a.org/4.jpg",
                     "https://a.org/5.jpg", "https://a.org/6.jpg"])
    texts = pa.array(["a black cat on the sofa", None, "a red car", "caf\ufffd latte", "x" * 5000, "ok ok"])
    uids = pa.array(["given", None, None, None, None, None], pa.string())
    out = {k: v.to_pylist() for k, v in columnar.annotate_lid_arrow(urls, texts, uids, 4096, 0.0).items()}
    assert out["uid"][0] == "given" and out["uid"][1] == image_uid("https://a.org/2.jpg")
    assert out["reject_reason"] == [None, "null_text", "bad_url", "invalid_utf8", "too_long", None]
    assert out["lid_label"][0] == "en" and out["lang"][0] == "en" and 0 < out["lang_score"][0] <= 1
    assert out["lang"][1] is None and out["lang_score"][1] is None  # rejected rows skip LID
    strict = columnar.annotate_lid_arrow(pa.array(["https://a.org/1.jpg", "https://a.org/6.jpg"]),
                                         pa.array(["a black cat on the sofa", "ok ok"]), None, 4096, 0.99)
    assert strict["reject_reason"].to_pylist()[1] == "low_lid_score"


def test_match_arrow_reasons():
    entries = {"en": ["cat", "sofa"], "zh": ["猫"]}
    ids, reasons = columnar.match_arrow(pa.array(["en", "en", "zh", "ru", "en"]),
                                        pa.array(["a cat on a sofa", "nothing here", "黑猫", "кошка", "x"]),
                                        pa.array([None, None, None, None, "bad_url"], pa.string()), entries, "fp")
    assert ids.to_pylist() == [[0, 1], None, [0], None, None]
    assert reasons.to_pylist() == [None, "unmatched", None, "no_metadata_language", "bad_url"]
    assert columnar.get_matcher("fp", "en", entries["en"]) is columnar.get_matcher("fp", "en", entries["en"])


def test_count_entries_counts_texts_not_occurrences():
    counts = columnar.count_entries_arrow(pa.array(["en", "en", "zh", "en"]),
                                          pa.array([[0, 1], [1], [0], None], pa.list_(pa.int32())),
                                          {"en": 3, "zh": 2})
    assert list(counts) == ["en", "zh"]  # order of first appearance
    np.testing.assert_array_equal(counts["en"], [1, 2, 0])
    np.testing.assert_array_equal(counts["zh"], [1, 0])
    assert counts["en"].dtype == np.int64


def test_sampling_keys_match_pure_functions():
    probs = {"en": np.array([1.0, 0.5, 0.25], np.float32)}
    out = columnar.sampling_keys_arrow(3, 1, pa.array(["u1", "u2"]), pa.array(["t1", "t2"]), pa.array(["en", "en"]),
                                       pa.array([[1, 2], [0]], pa.list_(pa.int32())), probs)
    assert out["choice_key"].to_pylist()[0] == choice_key(3, 1, "u1", "t1")
    assert out["keep_uniform"].to_pylist()[1] == keep_uniform(3, 1, "u2")
    np.testing.assert_allclose(out["keep_prob"].to_numpy(), [1 - 0.5 * 0.75, 1.0])
