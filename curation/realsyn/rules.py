"""RealSyn filter rules (SPEC §6.1; paper: Gu et al. 2025, §3.1 "data extraction and filtering").

One home for each rule; the Spark stages, the benchmark and the tests call these functions.
Every rule that drops something has a ``*_reject_reason`` form returning the reason (``None``
= kept) and, where SPEC names a boolean function, that function is ``reason is None``.

Thresholds are the paper's (English, GPT-2 / EVA02-CLIP calibrated): image shorter side
>= 100 px and aspect ratio in [1/3, 3]; 3..81 words; word entropy >= 0.3; perplexity in
[30, 200]; image <-> synthetic caption cosine in [0.51, 0.61]. Each is a parameter of the
function so a multilingual run can recalibrate it (``docs/realsyn.md``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import regex

from curation.realsyn.text import words

MIN_SIDE = 100
MAX_ASPECT = 3
MIN_WORDS = 3
MAX_WORDS = 81
MIN_ENTROPY = 0.3
PPL_MIN = 30.0
PPL_MAX = 200.0
SYN_BAND = (0.51, 0.61)

# Image reasons
UNKNOWN_SIZE = "unknown_size"
TOO_SMALL = "too_small"
BAD_ASPECT = "bad_aspect"
# Sentence reasons
EMPTY = "empty_sentence"
TOO_FEW_WORDS = "too_few_words"
TOO_MANY_WORDS = "too_many_words"

# URLs: a scheme and everything up to whitespace, or a bare "www." host.
_URL = regex.compile(r"(?:https?|ftp)://\S+|\bwww\.\S+", regex.IGNORECASE)
# Emoji (UTS #51): a pictographic, regional-indicator or skin-tone character with what may
# follow it inside one emoji sequence (VS16, keycap, skin tone, tags, ZWJ + pictograph), and
# keycap sequences "1️⃣". ZWJ alone is kept: Indic scripts need it.
_EMOJI = regex.compile(
    r"(?:[0-9#*]\uFE0F?\u20E3)"
    r"|(?:[\p{Extended_Pictographic}\p{Regional_Indicator}\p{Emoji_Modifier}]"
    r"(?:[\uFE0F\u20E3\p{Emoji_Modifier}\U000E0020-\U000E007F]|\u200D[\p{Extended_Pictographic}\uFE0F])*)"
)
_WHITESPACE = regex.compile(r"\s+")


# ---------------------------------------------------------------- images

def image_reject_reason(width: float | None, height: float | None, min_side: float = MIN_SIDE,
                        max_aspect: float = MAX_ASPECT) -> str | None:
    """``None`` when the shorter side is >= ``min_side`` and ``1/max_aspect <= width/height <= max_aspect``.

    The aspect test is ``width <= max_aspect * height and height <= max_aspect * width``: no
    division, so exactly 3:1 and 1:3 are kept (``1/3`` is not representable in binary).
    Missing, non-finite or non-positive sizes give ``unknown_size``.
    """
    if width is None or height is None:
        return UNKNOWN_SIZE
    w, h = float(width), float(height)
    if not (math.isfinite(w) and math.isfinite(h)) or w <= 0 or h <= 0:
        return UNKNOWN_SIZE
    if min(w, h) < min_side:
        return TOO_SMALL
    if w > max_aspect * h or h > max_aspect * w:
        return BAD_ASPECT
    return None


def keep_image(width: float | None, height: float | None) -> bool:
    """SPEC §6.1: shorter side >= 100 px and 1/3 <= width/height <= 3 (both edges kept)."""
    return image_reject_reason(width, height) is None


# ---------------------------------------------------------------- sentences

def clean_sentence(text: str) -> str:
    """SPEC §6.1: URLs and emoji removed, whitespace (any Unicode space, tabs, newlines)
    collapsed to one space, ends stripped. Idempotent."""
    text = _URL.sub(" ", text)
    text = _EMOJI.sub(" ", text)
    return _WHITESPACE.sub(" ", text).strip()


def word_count_reason(n_words: int, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS) -> str | None:
    """The length rule on a word count: ``None`` when ``3 <= n_words <= 81``."""
    if n_words < min_words:
        return TOO_FEW_WORDS
    if n_words > max_words:
        return TOO_MANY_WORDS
    return None


def sentence_reject_reason(text: str, lang: str, min_words: int = MIN_WORDS,
                           max_words: int = MAX_WORDS) -> str | None:
    """SPEC §6.1: ``None`` when the (cleaned) sentence has ``3 <= words <= 81``.

    Words are ``curation.realsyn.text.words``: whitespace words for spaced languages,
    segmenter words for no-space scripts, punctuation never counted. ``lang`` is the lid.176
    label of the sentence. A blank text is ``empty_sentence``.
    """
    if not text or not text.strip():
        return EMPTY
    return word_count_reason(len(words(text, lang)), min_words, max_words)


def word_entropy(tokens: Sequence[str], counts: Mapping[str, int], total: int) -> float:
    """SPEC §6.1: θ = −Σ over the sentence's tokens (repeats included) of p(w)·ln p(w), with
    p(w) = counts[w] / total (corpus frequency). A token absent from ``counts`` has p = 0 and
    contributes 0 (the limit of p·ln p). Kept when θ >= 0.3 (``MIN_ENTROPY``).

    Example: tokens ``[a, a, b]``, counts ``{a: 2, b: 2}``, total 4 -> p = 1/2 each ->
    θ = 3 · (1/2 · ln 2) = 1.0397.
    """
    if total <= 0:
        raise ValueError(f"corpus token total must be positive, got {total}")
    theta = 0.0
    for token in tokens:
        c = counts.get(token, 0)
        if c < 0 or c > total:
            raise ValueError(f"count of {token!r} is {c}, outside [0, total={total}]")
        if c:
            p = c / total
            theta -= p * math.log(p)
    return theta


def entropy_ok(theta: float, min_entropy: float = MIN_ENTROPY) -> bool:
    """Word-entropy rule: keep θ >= 0.3."""
    return theta >= min_entropy


def perplexity_ok(ppl: float, low: float = PPL_MIN, high: float = PPL_MAX) -> bool:
    """SPEC §6.1: keep 30 <= PPL <= 200 (both edges kept; NaN is not kept)."""
    return low <= ppl <= high


def in_synthetic_band(cos: float, low: float = SYN_BAND[0], high: float = SYN_BAND[1]) -> bool:
    """SPEC §6.1: keep an image <-> synthetic caption pair when 0.51 <= cos <= 0.61.

    Compared in float32, the precision of the embeddings, so a cosine that *is* float32(0.51)
    is in the band (as a float64 it reads 0.50999999).
    """
    return bool(in_synthetic_band_many(np.asarray([cos]), low, high)[0])


def in_synthetic_band_many(cos: np.ndarray, low: float = SYN_BAND[0], high: float = SYN_BAND[1]) -> np.ndarray:
    """``in_synthetic_band`` over an array (float32 comparison, NaN -> False)."""
    c = np.asarray(cos, dtype=np.float32)
    return (np.float32(low) <= c) & (c <= np.float32(high))
