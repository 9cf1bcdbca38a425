"""Plain text -> word segments per language, for Wikipedia unigram/bigram counts.

Rules (MetaCLIP 2's n-gram tokenisation, made explicit):

- text is NFC-normalised; every punctuation or symbol character (Unicode categories P* and
  S*, which include ASCII punctuation and the full-width punctuation of
  ``curation.matching``) is a *hard break*, and so is a line break;
- spaced languages: words are the whitespace-separated runs between breaks; a character of an
  unspaced script (``curation.matching.is_cjk_or_similar``: CJK ideographs, Thai, Lao,
  Burmese, Khmer, Tibetan) is a word of its own, as in the reference tokenizer;
- languages without spaces (:data:`NO_SPACE_LANGUAGES`): each whitespace-separated chunk
  between breaks is cut into words by a real segmenter from PyPI (zh: jieba; ja: fugashi +
  unidic-lite; th: PyThaiNLP newmm); whitespace is a hard break too, since a bigram joined
  without a space across it could never match a text;
- a *segment* is a run of words with no hard break inside: bigrams are adjacent words of one
  segment. Numbers are words (the reference keeps them); a word longer than 256 characters
  is dropped and breaks its segment.

Every word produced is a valid metadata entry (``curation.metadata.validate_entry``).
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable

from curation.matching import is_cjk_or_similar
from curation.metadata.table import MAX_ENTRY_CHARS

# MetaCLIP 2's list (hyphenated Wikipedia codes): bigrams are joined without a space.
METACLIP_NO_SPACE_LANGUAGES = frozenset({"bo", "dz", "ja", "km", "lo", "my", "ryu", "th", "zh",
                                         "zh-classical", "zh-yue"})
# Plus the other Wikipedias written in Han characters without spaces.
NO_SPACE_LANGUAGES = METACLIP_NO_SPACE_LANGUAGES | frozenset({"wuu", "gan", "lzh", "yue"})

Segmenter = Callable[[str], list[str]]
_HAN = ("zh", "zh-classical", "zh-yue", "wuu", "gan", "lzh", "yue")
# language -> segmenter name; languages without one fall back to whitespace chunks.
SEGMENTER_FOR_LANGUAGE = {**{lang: "jieba" for lang in _HAN}, "ja": "fugashi", "ryu": "fugashi",
                          "th": "pythainlp-newmm"}
FALLBACK_SEGMENTER = "whitespace"
_custom_segmenters: dict[str, tuple[str, Segmenter]] = {}


def normalize_lang(code: str) -> str:
    """Wikipedia language code as metadata uses it: lower case, ``_`` -> ``-`` (``zh_yue`` -> ``zh-yue``)."""
    return code.strip().replace("_", "-").lower()


def is_no_space(lang: str, extra: frozenset[str] = frozenset()) -> bool:
    return lang in NO_SPACE_LANGUAGES or lang in extra


def join_bigram(first: str, second: str, no_space: bool) -> str:
    return f"{first}{second}" if no_space else f"{first} {second}"


# ---------------------------------------------------------------- character classes

# Planes 0-3 hold every punctuation, symbol and unspaced-script character; planes 4-13 are
# unassigned and 14-16 hold only format, variation-selector and private-use characters.
_LAST_SCANNED = 0x3FFFF


@functools.cache
def _patterns() -> tuple[re.Pattern, re.Pattern]:
    """(hard-break characters, unspaced-script letters) as compiled character classes."""
    breaks, unspaced = [], []
    for cp in range(_LAST_SCANNED + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat[0] in "PS" or (cp < 128 and not ch.isalnum() and not ch.isspace()):
            breaks.append(cp)
        elif is_cjk_or_similar(ch) and cat[0] in "LMN":
            unspaced.append(cp)
    return re.compile(_char_class(breaks)), re.compile(_char_class(unspaced))


def _char_class(cps: list[int]) -> str:
    ranges, start, prev = [], None, None
    for cp in cps:
        if start is None:
            start = prev = cp
        elif cp == prev + 1:
            prev = cp
        else:
            ranges.append((start, prev))
            start = prev = cp
    if start is not None:
        ranges.append((start, prev))
    parts = [re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges]
    return "[" + "".join(parts) + "]"


def _valid_word(word: str) -> bool:
    return len(word) <= MAX_ENTRY_CHARS and unicodedata.is_normalized("NFC", word)


# ---------------------------------------------------------------- segmenters

def register_segmenter(lang: str, name: str, segmenter: Segmenter) -> None:
    """Use ``segmenter`` (chunk -> words) for ``lang`` in this process (and mark it no-space
    only if it is in NO_SPACE_LANGUAGES or passed as extra by the caller)."""
    _custom_segmenters[normalize_lang(lang)] = (name, segmenter)
    get_segmenter.cache_clear()


def _jieba() -> Segmenter:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return lambda chunk: tokenizer.lcut(chunk, HMM=True)


def _fugashi() -> Segmenter:
    import fugashi

    try:
        tagger = fugashi.Tagger()
    except RuntimeError:  # the full "unidic" package installed without its dictionary
        import unidic_lite

        tagger = fugashi.Tagger(f'-d "{unidic_lite.DICDIR}"')
    return lambda chunk: [word.surface for word in tagger(chunk)]


def _pythainlp() -> Segmenter:
    from pythainlp.tokenize import word_tokenize

    return lambda chunk: word_tokenize(chunk, engine="newmm", keep_whitespace=False)


_FACTORIES: dict[str, Callable[[], Segmenter]] = {"jieba": _jieba, "fugashi": _fugashi,
                                                  "pythainlp-newmm": _pythainlp}


@functools.cache
def get_segmenter(lang: str) -> tuple[str, Segmenter | None]:
    """(name, segmenter) for a no-space language, loaded once per process; (fallback, None)
    when no segmenter is known (chunks between whitespace and breaks are then the words)."""
    if lang in _custom_segmenters:
        return _custom_segmenters[lang]
    name = SEGMENTER_FOR_LANGUAGE.get(lang)
    if name is None:
        return FALLBACK_SEGMENTER, None
    return name, _FACTORIES[name]()


def segmenter_name(lang: str, no_space: bool) -> str:
    if not no_space:
        return "spaces"
    if lang in _custom_segmenters:
        return _custom_segmenters[lang][0]
    return SEGMENTER_FOR_LANGUAGE.get(lang, FALLBACK_SEGMENTER)


# ---------------------------------------------------------------- tokenisation

def _close(segment: list[str], segments: list[list[str]]) -> list[str]:
    if segment:
        segments.append(segment)
    return []


def tokenize(text: str, lang: str, no_space: bool | None = None) -> list[list[str]]:
    """Segments (lists of words) of ``text``; see the module docstring for the rules."""
    if no_space is None:
        no_space = is_no_space(lang)
    breaks, unspaced = _patterns()
    text = breaks.sub("\n", unicodedata.normalize("NFC", text))
    segments: list[list[str]] = []
    if not no_space:
        text = unspaced.sub(r" \g<0> ", text)
        for line in text.split("\n"):
            segment: list[str] = []
            for word in line.split():
                if _valid_word(word):
                    segment.append(word)
                else:
                    segment = _close(segment, segments)
            _close(segment, segments)
        return segments
    _, segmenter = get_segmenter(lang)
    for line in text.split("\n"):
        for chunk in line.split():
            words = segmenter(chunk) if segmenter is not None else [chunk]
            segment = []
            for word in words:
                word = word.strip()
                if word and not any(c.isspace() for c in word) and _valid_word(word):
                    segment.append(word)
                else:
                    segment = _close(segment, segments)
            _close(segment, segments)
    return segments
