"""The batch functions that Spark workers call: reasons, uids, matching, counting, keys."""

from __future__ import annotations

import numpy as np

from curation import batch
from curation.ids import image_uid
from curation.sampling import choice_key, keep_uniform


def test_annotate_lid_reasons_uids_and_min_score():
    urls = ["https://a.org/1.jpg", "https://a.org/2.jpg", "bad url", "https://a.org/4.jpg",
            "https://a.org/5.jpg", "https://a.org/6.jpg"]
    texts = ["a black cat on the sofa", None, "a red car", "caf\ufffd latte", "x" * 5000, "ok ok"]
    out = batch.annotate_lid(urls, texts, ["given", None, None, None, None, None], 4096, 0.0)
    assert out["uid"][0] == "given" and out["uid"][1] == image_uid(urls[1])
    assert out["reject_reason"] == [None, "null_text", "bad_url", "invalid_utf8", "too_long", None]
    assert out["lid_label"][0] == "en" and out["lang"][0] == "en" and 0 < out["lang_score"][0] <= 1
    assert out["lang"][1] is None  # rejected rows skip LID
    strict = batch.annotate_lid(urls[:1] + urls[5:], ["a black cat on the sofa", "ok ok"], None, 4096, 0.99)
    assert strict["reject_reason"][1] == "low_lid_score"


def test_match_texts_reasons():
    entries = {"en": ["cat", "sofa"], "zh": ["猫"]}
    ids, reasons = batch.match_texts(["en", "en", "zh", "ru", "en"],
                                     ["a cat on a sofa", "nothing here", "黑猫", "кошка", "x"],
                                     [None, None, None, None, "bad_url"], entries, "fp")
    assert ids == [[0, 1], None, [0], None, None]
    assert reasons == [None, "unmatched", None, "no_metadata_language", "bad_url"]
    assert batch.get_matcher("fp", "en", entries["en"]) is batch.get_matcher("fp", "en", entries["en"])


def test_count_entries_counts_texts_not_occurrences():
    counts = batch.count_entries(["en", "en", "zh"], [[0, 1], [1], [0]], {"en": 3, "zh": 2})
    np.testing.assert_array_equal(counts["en"], [1, 2, 0])
    np.testing.assert_array_equal(counts["zh"], [1, 0])
    assert counts["en"].dtype == np.int64


def test_sampling_keys_match_pure_functions():
    probs = {"en": np.array([1.0, 0.5, 0.25], np.float32)}
    out = batch.sampling_keys(3, 1, ["u1", "u2"], ["t1", "t2"], ["en", "en"], [[1, 2], [0]], probs)
    assert out["choice_key"][0] == choice_key(3, 1, "u1", "t1")
    assert out["keep_uniform"][1] == keep_uniform(3, 1, "u2")
    np.testing.assert_allclose(out["keep_prob"], [1 - 0.5 * 0.75, 1.0])
