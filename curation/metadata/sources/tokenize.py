"""Plain text -> word segments per language, for Wikipedia unigram/bigram counts.

Rules (MetaCLIP 2's n-gram tokenisation, made explicit):

- text is NFC-normalised; every punctuation or symbol character (Unicode categories P* and
  S*, which include ASCII punctuation and the full-width punctuation of
  ``curation.matching``) is a *hard break*, and so is a line break;
- spaced languages: words are the whitespace-separated runs between breaks; a character of an
  unspaced script (``curation.matching.is_cjk_or_similar``: CJK ideographs, Thai, Lao,
  Burmese, Khmer, Tibetan) is a word of its own, as in the reference tokenizer;
- languages without spaces (:data:`NO_SPACE_LANGUAGES`): each whitespace-separated chunk
  between breaks is cut into words by the segmenter of :data:`DEFAULT_SEGMENTER` (one table,
  :data:`SEGMENTERS`, names every segmenter, its PyPI packages and what it does; MetaCLIP 2's
  choices where they work offline): zh: jieba; ja: MeCab + IPAdic (fugashi, ``ipadic``);
  th: PyThaiNLP newmm; km: khmer-nltk (CRF); lo: LaoNLP; my: burmesenlp (dictionary longest
  match); bo/dz: Tibetan syllables (see :func:`tibetan_syllables`). Whitespace is a hard
  break too, since a bigram joined without a space across it could never match a text;
- a *segment* is a run of words with no hard break inside: bigrams are adjacent words of one
  segment. Numbers are words (the reference keeps them); a word longer than 256 characters
  is dropped and breaks its segment.

Every word produced is a valid metadata entry (``curation.metadata.validate_entry``).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from curation.matching import cjk_or_similar_code_points
from curation.metadata.sources.deps import require
from curation.metadata.table import MAX_ENTRY_CHARS

# MetaCLIP 2's list (hyphenated Wikipedia codes): bigrams are joined without a space.
METACLIP_NO_SPACE_LANGUAGES = frozenset({"bo", "dz", "ja", "km", "lo", "my", "ryu", "th", "zh",
                                         "zh-classical", "zh-yue"})
# Plus the other Wikipedias written in Han characters without spaces.
NO_SPACE_LANGUAGES = METACLIP_NO_SPACE_LANGUAGES | frozenset({"wuu", "gan", "lzh", "yue"})

Segmenter = Callable[[str], list[str]]
_HAN = ("zh", "zh-classical", "zh-yue", "wuu", "gan", "lzh", "yue")
FALLBACK_SEGMENTER = "whitespace"
_custom_segmenters: dict[str, tuple[str, Segmenter]] = {}
# Characters that are punctuation (Unicode P*) but join syllables inside words: the Tibetan
# tsheg and non-breaking tsheg. They are kept for these languages so the segmenter sees them.
WORD_INTERNAL_PUNCTUATION = {"bo": "\u0f0b\u0f0c", "dz": "\u0f0b\u0f0c"}
BOTOK_DIALECT_PACK_ENV = "WWCLIP_BOTOK_DIALECT_PACK"


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
def _scan() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(hard-break code points, unspaced-script letter code points)."""
    breaks, unspaced = [], []
    cjk_or_similar = cjk_or_similar_code_points()  # a set: the range scan per code point took seconds
    for cp in range(_LAST_SCANNED + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat[0] in "PS" or (cp < 128 and not ch.isalnum() and not ch.isspace()):
            breaks.append(cp)
        elif cp in cjk_or_similar and cat[0] in "LMN":
            unspaced.append(cp)
    return tuple(breaks), tuple(unspaced)


@functools.cache
def _patterns(keep: str = "") -> tuple[re.Pattern, re.Pattern]:
    """(hard-break characters except ``keep``, unspaced-script letters) as compiled classes."""
    breaks, unspaced = _scan()
    kept = {ord(c) for c in keep}
    return re.compile(_char_class([cp for cp in breaks if cp not in kept])), re.compile(_char_class(list(unspaced)))


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
    """Use ``segmenter`` (chunk -> words) for ``lang`` in this process only (tests, notebooks;
    a Spark job picks segmenters by name from :data:`SEGMENTERS`, see ``--segmenter``)."""
    _custom_segmenters[normalize_lang(lang)] = (name, segmenter)
    get_segmenter.cache_clear()


def _jieba() -> Segmenter:
    jieba = require("jieba", "jieba", "Chinese word segmentation")
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return lambda chunk: tokenizer.lcut(chunk, HMM=True)


def _mecab_ipadic() -> Segmenter:
    fugashi = require("fugashi", "fugashi", "MeCab for Japanese")
    ipadic = require("ipadic", "ipadic", "the IPAdic dictionary for MeCab")
    tagger = fugashi.GenericTagger(ipadic.MECAB_ARGS)
    return lambda chunk: [word.surface for word in tagger(chunk)]


def _mecab_unidic_lite() -> Segmenter:
    fugashi = require("fugashi", "fugashi", "MeCab for Japanese")
    unidic_lite = require("unidic_lite", "unidic-lite", "the UniDic dictionary for MeCab")
    tagger = fugashi.Tagger(f'-d "{unidic_lite.DICDIR}"')
    return lambda chunk: [word.surface for word in tagger(chunk)]


def _pythainlp() -> Segmenter:
    tokenize = require("pythainlp.tokenize", "pythainlp", "Thai word segmentation")
    return lambda chunk: tokenize.word_tokenize(chunk, engine="newmm", keep_whitespace=False)


def _khmer_nltk() -> Segmenter:
    khmernltk = require("khmernltk", "khmer-nltk", "Khmer word segmentation")
    logging.getLogger("khmer-nltk").setLevel(logging.WARNING)
    return lambda chunk: khmernltk.word_tokenize(chunk, return_tokens=True)


def _laonlp() -> Segmenter:
    tokenize = require("laonlp.tokenize", "laonlp", "Lao word segmentation")
    return tokenize.word_tokenize


def _burmesenlp() -> Segmenter:
    burmesenlp = require("burmesenlp", "burmesenlp", "Burmese word segmentation")
    return burmesenlp.word_tokenize


_TSHEG_SYLLABLE = re.compile("[^\u0f0b\u0f0c]+[\u0f0b\u0f0c]*|[\u0f0b\u0f0c]+")


def tibetan_syllables(chunk: str) -> list[str]:
    """Tibetan/Dzongkha syllables: each run up to and including its tsheg (U+0F0B, U+0F0C).

    Tibetan writes a tsheg after every syllable, so syllables need no dictionary; a word of
    two syllables is then a *bigram*, joined without a space, which restores the written form
    (``བོད་`` + ``ཡིག`` -> ``བོད་ཡིག``). Used because botok, MetaCLIP 2's Tibetan segmenter,
    downloads its dictionary at run time (see the ``botok`` segmenter for a local copy)."""
    return _TSHEG_SYLLABLE.findall(chunk)


def _botok() -> Segmenter:
    """botok with a dialect pack already on disk (``$WWCLIP_BOTOK_DIALECT_PACK``, e.g. the
    unpacked ``general`` pack of botok-data): botok would otherwise download it."""
    path = os.environ.get(BOTOK_DIALECT_PACK_ENV)
    if not path or not os.path.isdir(os.path.join(path, "dictionary")):
        raise RuntimeError(f"the botok segmenter needs a local dialect pack: set {BOTOK_DIALECT_PACK_ENV} to an "
                           "unpacked botok-data dialect pack directory (holding dictionary/); botok would "
                           "otherwise download it, and the builder never uses the network")
    require("botok", "botok", "Tibetan word segmentation")
    from botok import WordTokenizer
    from botok.config import Config

    path = os.path.abspath(path)
    tokenizer = WordTokenizer(config=Config(dialect_name=os.path.basename(path), base_path=os.path.dirname(path)))
    return lambda chunk: [t.text for t in tokenizer.tokenize(chunk, split_affixes=False)]


@dataclass(frozen=True)
class SegmenterSpec:
    """One word segmenter: its PyPI packages (all in the ``metadata`` extra) and its loader."""

    name: str
    packages: tuple[tuple[str, str], ...]  # (import name, PyPI name)
    factory: Callable[[], Segmenter]
    about: str


SEGMENTERS: dict[str, SegmenterSpec] = {s.name: s for s in (
    SegmenterSpec("jieba", (("jieba", "jieba"),), _jieba, "Chinese: jieba dictionary + HMM (MetaCLIP 2: ckip)"),
    SegmenterSpec("mecab-ipadic", (("fugashi", "fugashi"), ("ipadic", "ipadic")), _mecab_ipadic,
                  "Japanese: MeCab with IPAdic, as MetaCLIP 2 (keeps compounds such as 日本語, 美術館)"),
    SegmenterSpec("mecab-unidic-lite", (("fugashi", "fugashi"), ("unidic_lite", "unidic-lite")),
                  _mecab_unidic_lite, "Japanese: MeCab with UniDic (short units: 日本 + 語)"),
    SegmenterSpec("pythainlp-newmm", (("pythainlp", "pythainlp"),), _pythainlp,
                  "Thai: PyThaiNLP newmm dictionary maximal matching"),
    SegmenterSpec("khmer-nltk", (("khmernltk", "khmer-nltk"),), _khmer_nltk,
                  "Khmer: khmer-nltk CRF over Khmer character clusters (the model MetaCLIP 2 uses)"),
    SegmenterSpec("laonlp", (("laonlp", "laonlp"),), _laonlp, "Lao: LaoNLP dictionary maximal matching, as MetaCLIP 2"),
    SegmenterSpec("burmesenlp", (("burmesenlp", "burmesenlp"),), _burmesenlp,
                  "Burmese: burmesenlp longest dictionary match over syllables (bundled lexicon)"),
    SegmenterSpec("tibetan-syllables", (), lambda: tibetan_syllables,
                  "Tibetan/Dzongkha: tsheg-delimited syllables (no dictionary, no download)"),
    SegmenterSpec("botok", (("botok", "botok"),), _botok,
                  "Tibetan/Dzongkha: botok with a local dialect pack ($WWCLIP_BOTOK_DIALECT_PACK), as MetaCLIP 2"),
)}
# language -> segmenter name; other no-space languages fall back to whitespace chunks.
DEFAULT_SEGMENTER = {**{lang: "jieba" for lang in _HAN}, "ja": "mecab-ipadic", "ryu": "mecab-ipadic",
                     "th": "pythainlp-newmm", "km": "khmer-nltk", "lo": "laonlp", "my": "burmesenlp",
                     "bo": "tibetan-syllables", "dz": "tibetan-syllables"}
# Kept for callers of the former name.
SEGMENTER_FOR_LANGUAGE = DEFAULT_SEGMENTER


def segmenter_for(lang: str, chosen: str | None = None) -> str:
    """Name of the segmenter ``lang`` uses: ``chosen`` (validated), else the default, else fallback."""
    if chosen is not None:
        if chosen not in SEGMENTERS and chosen != FALLBACK_SEGMENTER:
            raise ValueError(f"unknown segmenter {chosen!r} for {lang}; known: {', '.join(sorted(SEGMENTERS))}")
        return chosen
    return DEFAULT_SEGMENTER.get(lang, FALLBACK_SEGMENTER)


def segmenter_modules(names) -> list[tuple[str, str, str]]:
    """``(import name, PyPI name, purpose)`` of the packages the named segmenters need."""
    return [(module, package, SEGMENTERS[name].about) for name in sorted(set(names)) if name in SEGMENTERS
            for module, package in SEGMENTERS[name].packages]


@functools.cache
def get_segmenter(lang: str, name: str | None = None) -> tuple[str, Segmenter | None]:
    """(name, segmenter) for a no-space language, loaded once per process; (fallback, None)
    when no segmenter is known (chunks between whitespace and breaks are then the words)."""
    if name is None and lang in _custom_segmenters:
        return _custom_segmenters[lang]
    name = segmenter_for(lang, name)
    if name == FALLBACK_SEGMENTER:
        return FALLBACK_SEGMENTER, None
    return name, SEGMENTERS[name].factory()


def segmenter_name(lang: str, no_space: bool, chosen: str | None = None) -> str:
    if not no_space:
        return "spaces"
    if chosen is None and lang in _custom_segmenters:
        return _custom_segmenters[lang][0]
    return segmenter_for(lang, chosen)


# ---------------------------------------------------------------- tokenisation

def _close(segment: list[str], segments: list[list[str]]) -> list[str]:
    if segment:
        segments.append(segment)
    return []


def tokenize(text: str, lang: str, no_space: bool | None = None, segmenter: str | None = None) -> list[list[str]]:
    """Segments (lists of words) of ``text``; see the module docstring for the rules.

    ``segmenter`` names an entry of :data:`SEGMENTERS` (default: the language's)."""
    if no_space is None:
        no_space = is_no_space(lang)
    breaks, unspaced = _patterns(WORD_INTERNAL_PUNCTUATION.get(lang, "") if no_space else "")
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
    _, split = get_segmenter(lang, segmenter)
    for line in text.split("\n"):
        for chunk in line.split():
            words = split(chunk) if split is not None else [chunk]
            segment = []
            for word in words:
                word = word.strip()
                if word and not any(c.isspace() for c in word) and _valid_word(word):
                    segment.append(word)
                else:
                    segment = _close(segment, segments)
            _close(segment, segments)
    return segments
