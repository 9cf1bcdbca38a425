"""Opt-in extended matching for Japanese and Korean (``--matching extended``).

The reference rule (:mod:`curation.matching`, SPEC §2 step 3) pads an entry with spaces
unless its first/last character is CJK-or-similar, and kana and Hangul are not: so a
Japanese entry that starts or ends in kana (``ラーメン``, ``東京タワー``) only matches
between spaces, which unspaced Japanese never has, and a Korean noun followed by its
particle (``고양이가``: 고양이 + 가) never matches the entry ``고양이``. Treating kana and
Hangul as CJK would fix recall but let every short entry match inside unrelated words
(``이`` in ``고양이``, ``メン`` in ``ラーメン``).

The extended rule matches at **morpheme boundaries** instead, for the languages of
:data:`SEGMENTED_LANGUAGES` (``ja``: fugashi + unidic-lite; ``ko``: kiwipiepy):

1. The text and every entry are cut into morphemes by the same segmenter; each morpheme is
   kept as its exact surface string. A *function* morpheme (Japanese particles, auxiliary
   verbs, affixes, symbols; Korean particles, endings, the copula, affixes, punctuation:
   :data:`JA_FUNCTION_POS`, :func:`korean_is_content`) gets the prefix :data:`FUNCTION_MARK`.
2. The token string is ``" " + " ".join(tokens) + " "``; an entry matches a text iff the
   entry's token string is a substring of the text's (a whole run of morphemes, function
   morphemes matching only function morphemes). An entry with no content morpheme
   (``の``, ``は``, ``을``) takes no part: it would match almost every text. Overlapping
   morphemes (contractions: 위한 = 위하 + ㄴ) stay one piece (:func:`spans_to_segments`).
3. A *short* entry (one content token of one non-Han character: ``밥``, ``수``) matches
   only where the text's next token is a function morpheme or the word ends, so it cannot
   match a syllable inside a name or an unknown word (``투`` in 투르벨) that the segmenter
   cut into pieces.
4. **Extended = reference ∪ morpheme matches**: every reference match is kept, so the
   extended set of a text always contains the reference set; counts, thresholds and
   sampling are unchanged in form. Other languages match exactly as the reference.

:class:`ExtendedMatcher` has the API of :class:`curation.matching.Matcher`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Sequence

import ahocorasick
import numpy as np

from curation.matching import Matcher, _csr

MATCHING_EXTENDED_VERSION = "morpheme-ja-ko-1"
"""Version of these rules; record it with ``matching = extended`` in stats and fingerprints."""

FUNCTION_MARK = "\x1f"  # prefix of a function morpheme in a token string (removed from surfaces)

Segment = tuple[str, bool, bool]  # (surface, is_content, ends_a_word: whitespace or the text's end follows)
Segmenter = Callable[[str], list[Segment]]

# unidic part-of-speech (pos1) of Japanese function morphemes
JA_FUNCTION_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白", "接尾辞", "接頭辞"})
# Sejong tags (kiwipiepy) of Korean content morphemes: nouns, pronouns, numerals, verbs and
# adjectives (not the copula 이다), determiners, adverbs, interjections, roots, foreign
# words, Hanja, numbers, web tokens; everything else (J*, E*, VCP, X[SP]*, punctuation) is function.
_KO_CONTENT_PREFIXES = ("NN", "NR", "NP", "VV", "VA", "VX", "VCN", "MM", "MA", "IC", "XR", "SL", "SH",
                        "SN", "W_", "UN")


def korean_is_content(tag: str) -> bool:
    return tag.startswith(_KO_CONTENT_PREFIXES)


# ---------------------------------------------------------------- segmenters

_SEGMENTERS: dict[str, tuple[int, Segmenter]] = {}


def _fugashi_segmenter() -> Segmenter:
    import fugashi

    try:
        tagger = fugashi.Tagger()
    except RuntimeError:  # the full "unidic" package installed without its dictionary
        import unidic_lite

        tagger = fugashi.Tagger(f'-d "{unidic_lite.DICDIR}"')

    def segment(text: str) -> list[Segment]:
        spans, cursor = [], 0
        for word in tagger(text):
            at = text.find(word.surface, cursor) if word.surface else -1
            if at < 0:
                continue
            cursor = at + len(word.surface)
            spans.append((at, cursor, word.feature.pos1 not in JA_FUNCTION_POS))
        return spans_to_segments(text, spans)

    return segment


def _kiwi_segmenter() -> Segmenter:
    from kiwipiepy import Kiwi

    kiwi = Kiwi()

    def segment(text: str) -> list[Segment]:
        return spans_to_segments(text, [(t.start, t.start + t.len, korean_is_content(t.tag))
                                        for t in kiwi.tokenize(text)])

    return segment


_FACTORIES: dict[str, Callable[[], Segmenter]] = {"ja": _fugashi_segmenter, "ko": _kiwi_segmenter}
SEGMENTED_LANGUAGES = frozenset(_FACTORIES)


def get_segmenter(lang: str) -> Segmenter:
    """The process-wide segmenter of ``lang`` (loaded once per process, reloaded after a fork)."""
    if lang not in _FACTORIES:
        raise ValueError(f"no morpheme segmenter for {lang!r}; extended matching segments {sorted(_FACTORIES)}")
    cached = _SEGMENTERS.get(lang)
    if cached is None or cached[0] != os.getpid():
        cached = (os.getpid(), _FACTORIES[lang]())
        _SEGMENTERS[lang] = cached
    return cached[1]


def spans_to_segments(text: str, spans: Iterable[tuple[int, int, bool]]) -> list[Segment]:
    """Pieces of ``text`` from morpheme spans ``(start, end, is_content)``.

    Overlapping spans form one piece: analysers that undo contractions give a fused
    syllable to two morphemes (Korean 한 in 위한 = 위하 + ㄴ, 쓴 in 쓴다 = 쓰 + ㄴ다), and
    cutting there would invent the syllable 한 or 쓴 as a word. A piece is content when
    one of its morphemes is; it ends a word when whitespace or the end of the text follows.
    Whitespace inside a piece splits it; characters no span covers are dropped.
    """
    ordered = sorted((s, e, c) for s, e, c in spans if 0 <= s < e <= len(text))
    groups: list[list] = []
    for start, end, content in ordered:
        if groups and start < groups[-1][1]:
            group = groups[-1]
            group[1] = max(group[1], end)
            group[2] = group[2] or content
        else:
            groups.append([start, end, content])
    segments: list[Segment] = []
    for start, end, content in groups:
        words = text[start:end].split()
        for i, word in enumerate(words):
            last = i == len(words) - 1
            segments.append((word, content, not last or end == len(text) or text[end].isspace()))
    return segments


def token_string(segments: Sequence[Segment]) -> tuple[str, frozenset[int]]:
    """(``" " + " ".join(tokens) + " "``, positions of the spaces that end a word).

    Function tokens are prefixed by :data:`FUNCTION_MARK` (removed from surfaces first).
    """
    parts, word_ends, position = [" "], [], 0
    for surface, content, ends_word in segments:
        token = surface.replace(FUNCTION_MARK, "")
        if not token:
            continue
        if not content:
            token = FUNCTION_MARK + token
        parts.append(token)
        parts.append(" ")
        position += len(token) + 1  # index of the space after this token
        if ends_word:
            word_ends.append(position)
    return "".join(parts), frozenset(word_ends)


def entry_tokens(entry: str, segmenter: Segmenter) -> str | None:
    """The entry's token string, or None when it has no content morpheme (step 2)."""
    segments = segmenter(entry)
    if not any(content for _, content, _ in segments):
        return None
    return token_string(segments)[0]


def _is_short(tokens: str) -> bool:
    """One content token of one non-Han character (``밥``, ``수``): matches only before a
    function morpheme or at a word end (step 3)."""
    inner = tokens.strip()
    return len(inner) == 1 and not ("\u4e00" <= inner <= "\u9fff" or "\u3400" <= inner <= "\u4dbf")


# ---------------------------------------------------------------- matcher


class ExtendedMatcher:
    """Reference matches ∪ morpheme-boundary matches (module docstring) for one language.

    Same API as :class:`curation.matching.Matcher`: ``match(text)`` -> sorted entry ids,
    ``match_many_arrays(texts)`` -> (offsets, ids). For a language without a segmenter (and
    no ``segmenter`` given) it is exactly the reference matcher.
    """

    def __init__(self, entries: Sequence[str], lang: str, segmenter: Segmenter | None = None):
        self.lang = lang
        self.n_entries = len(entries)
        self.reference = Matcher(entries)
        if segmenter is None and lang in SEGMENTED_LANGUAGES:
            segmenter = get_segmenter(lang)
        self._segmenter = segmenter
        self._automaton = None
        if segmenter is None or not entries:
            return
        ids_of: dict[str, list[int]] = {}
        for entry_id, entry in enumerate(entries):
            tokens = entry_tokens(entry, segmenter)
            if tokens is not None:
                ids_of.setdefault(tokens, []).append(entry_id)
        if ids_of:
            self._automaton = ahocorasick.Automaton(ahocorasick.STORE_ANY)
            for tokens, ids in ids_of.items():
                self._automaton.add_word(tokens, (tuple(ids), _is_short(tokens)))
            self._automaton.make_automaton()
        self.n_segmented_entries = sum(map(len, ids_of.values()))

    @property
    def extended(self) -> bool:
        """True when morpheme matches are added (a segmenter and at least one usable entry)."""
        return self._automaton is not None

    def text_tokens(self, text: str) -> tuple[str, frozenset[int]]:
        """The text's token string and its word-end positions (:func:`token_string`)."""
        return token_string(self._segmenter(text.strip())) if self._segmenter else (" ", frozenset())

    def _hits(self, tokens: str, word_ends: frozenset[int]) -> Iterable[tuple[int, tuple[int, ...]]]:
        """(end, entry ids) of the morpheme matches in one token string, short entries
        kept only before a function token or at a word end."""
        for end, (ids, short) in self._automaton.iter(tokens):
            if not short or end in word_ends or tokens.startswith(FUNCTION_MARK, end + 1):
                yield end, ids

    def _morpheme_ids(self, text: str) -> set[int]:
        return {i for _, ids in self._hits(*self.text_tokens(text)) for i in ids}

    def match(self, text: str) -> list[int]:
        if not self.extended:
            return self.reference.match(text)
        return sorted(set(self.reference.match(text)) | self._morpheme_ids(text))

    def match_many(self, texts: Iterable[str]) -> list[list[int]]:
        return [self.match(t) for t in texts]

    def match_many_arrays(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``match`` of every text as (offsets int64[len(texts) + 1], ids int32), as
        :meth:`curation.matching.Matcher.match_many_arrays`."""
        offsets, ids = self.reference.match_many_arrays(texts)
        if not self.extended or len(texts) == 0:
            return offsets, ids
        n, n_e = len(texts), self.n_entries
        ref_keys = np.repeat(np.arange(n, dtype=np.int64), np.diff(offsets)) * n_e + ids
        hit_texts, hit_ids = [], []
        for i, text in enumerate(texts):  # one automaton pass per text: word ends are per text
            for _, entry_ids in self._hits(*self.text_tokens(text)):
                hit_texts.extend([i] * len(entry_ids))
                hit_ids.extend(entry_ids)
        keys = np.concatenate([ref_keys, np.asarray(hit_texts, dtype=np.int64) * n_e
                               + np.asarray(hit_ids, dtype=np.int64)])
        return _csr(keys, n, n_e)

    def __reduce__(self):  # pragma: no cover - guard, exercised in tests
        raise TypeError("ExtendedMatcher holds automata and a segmenter and must not be pickled; "
                        "build it in the worker from the entry list instead")


MATCHING_MODES = ("reference", "extended")


def make_matcher(entries: Sequence[str], lang: str, mode: str = "reference") -> Matcher | ExtendedMatcher:
    """The matcher of ``lang`` for a ``--matching`` mode: ``reference`` (SPEC §2, default) or
    ``extended`` (morpheme boundaries for :data:`SEGMENTED_LANGUAGES`, reference elsewhere)."""
    if mode == "reference":
        return Matcher(entries)
    if mode == "extended":
        return ExtendedMatcher(entries, lang) if lang in SEGMENTED_LANGUAGES else Matcher(entries)
    raise ValueError(f"unknown matching mode {mode!r}; choose from {MATCHING_MODES}")


@functools.cache
def segmenter_versions() -> dict[str, str]:
    """Versions of the segmenter packages (for fingerprints: a new dictionary may cut differently)."""
    from importlib import metadata

    out = {}
    for package in ("fugashi", "unidic-lite", "kiwipiepy", "kiwipiepy_model"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out
