"""Per-language metadata substring matching (SPEC §2 step 3), exactly as MetaCLIP 2's reference.

Text and entries are padded with spaces so that a match means "whole word" for spaced
scripts, while entries of unspaced scripts (CJK, Thai, ...) match anywhere. The rules are
case-sensitive and do no normalisation on purpose: fidelity with the paper beats tidiness.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from itertools import chain
from operator import itemgetter

import ahocorasick
import numpy as np

FULLWIDTH_PUNCTUATION = frozenset("，。、；：？！“”‘’（）【】《》〈〉「」『』～—")
ASCII_PUNCTUATION = frozenset(string.punctuation)
PUNCTUATION_TO_WRAP = (",", ".", ";", ":", "?", "!", "`")
CHARS_TO_SPACE = ("\t", "\n", "\r")
_NEEDS_PADDING = re.compile("[" + "".join(map(re.escape, PUNCTUATION_TO_WRAP + CHARS_TO_SPACE)) + "]")

# Inclusive code-point ranges whose characters are written without spaces between words.
_UNSPACED_RANGES = (
    (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0x2CEB0, 0x2EBEF), (0xF900, 0xFAFF),
    (0x2E80, 0x2EFF), (0x2F00, 0x2FDF), (0x2FF0, 0x2FFF),  # CJK ideographs and radicals
    (0x0E00, 0x0E7F),  # Thai
    (0x0E80, 0x0EFF),  # Lao
    (0x1000, 0x109F),  # Burmese
    (0x1780, 0x17FF),  # Khmer
    (0x0F00, 0x0FFF),  # Tibetan
)


def is_cjk_or_similar(char: str) -> bool:
    """True when ``char`` needs no space next to it: unspaced scripts and (ASCII or full-width) punctuation.

    Kana and Hangul are deliberately *not* included (reference behaviour).
    """
    cp = ord(char)
    if any(lo <= cp <= hi for lo, hi in _UNSPACED_RANGES):
        return True
    return char in ASCII_PUNCTUATION or char in FULLWIDTH_PUNCTUATION


def cjk_or_similar_code_points() -> frozenset[int]:
    """Every code point ``c`` with ``is_cjk_or_similar(chr(c))``, from the same ranges and sets
    (a table for code that classifies whole alphabets: one set lookup per character instead of a
    scan of the ranges)."""
    cps = {cp for lo, hi in _UNSPACED_RANGES for cp in range(lo, hi + 1)}
    return frozenset(cps | {ord(c) for c in ASCII_PUNCTUATION | FULLWIDTH_PUNCTUATION})


def pad_text(text: str) -> str:
    """Strip, surround with spaces, wrap ``, . ; : ? ! ` `` in spaces, turn tab/CR/LF into spaces."""
    padded = f" {text.strip()} "
    if _NEEDS_PADDING.search(padded) is None:  # most texts: every replace below is a no-op
        return padded
    for punct in PUNCTUATION_TO_WRAP:
        padded = padded.replace(punct, f" {punct} ")
    for char in CHARS_TO_SPACE:
        padded = padded.replace(char, " ")
    return padded


def pad_entry(entry: str) -> str:
    """Add a leading/trailing space unless the first/last character is CJK-or-similar."""
    if not entry:
        raise ValueError("metadata entries must be non-empty")
    padded = entry if is_cjk_or_similar(entry[0]) else f" {entry}"
    return padded if is_cjk_or_similar(padded[-1]) else f"{padded} "


_ENTRY_ID = itemgetter(1)
# Separators to join the padded texts of a batch for one automaton pass: a Matcher uses the
# first one that no padded entry contains, so that no match can span two texts.
SEPARATORS = ("\x00", "\x01", "\uffff")


def _separator_for(padded_entries: Iterable[str]) -> str | None:
    """The first of SEPARATORS that no padded entry contains, else None."""
    words = "\n".join(padded_entries)
    return next((sep for sep in SEPARATORS if sep not in words), None)


def _csr(keys: np.ndarray, n_texts: int, n_entries: int) -> tuple[np.ndarray, np.ndarray]:
    """(offsets int64[n_texts + 1], ids int32) from hit keys ``text * n_entries + id``: per text
    the sorted distinct ids, i.e. ``sorted(set(...))`` of ``Matcher.match``."""
    keys = np.sort(keys)
    if len(keys):
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
    offsets = np.zeros(n_texts + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys // n_entries, minlength=n_texts), out=offsets[1:])
    return offsets, (keys % n_entries).astype(np.int32)


class Matcher:
    """Aho–Corasick matcher over one language's metadata list.

    ``match(text)`` returns the sorted ids of entries whose padded form occurs in the padded
    text (overlaps count); ``match_many_arrays(texts)`` gives the same for a batch in one pass.
    Build one per language per process and reuse it: construction costs
    O(total entry length); pickling automata is slow and leaky, so never ship one to a task.
    """

    def __init__(self, entries: Sequence[str]):
        self.n_entries = len(entries)
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        padded = [pad_entry(entry) for entry in entries]
        for entry_id, word in enumerate(padded):
            # A repeated padded entry keeps only the last id, as in the reference.
            self._automaton.add_word(word, entry_id)
        # joins texts for match_many_arrays; None: some entry holds every candidate
        self._separator = _separator_for(padded)
        self._empty = self.n_entries == 0
        if not self._empty:
            self._automaton.make_automaton()

    def match(self, text: str) -> list[int]:
        if self._empty:
            return []
        return sorted(set(map(_ENTRY_ID, self._automaton.iter(pad_text(text)))))

    def match_many_arrays(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``match`` of every text as (offsets int64[len(texts) + 1], ids int32): text i matched
        ``ids[offsets[i]:offsets[i + 1]]``. One automaton pass over the joined padded texts
        instead of one call per text, for batches."""
        n = len(texts)
        if self._empty or n == 0:
            return np.zeros(n + 1, dtype=np.int64), np.empty(0, dtype=np.int32)
        padded = list(map(pad_text, texts))
        if self._separator is None:
            keys = self._keys_one_by_one(padded)
        else:
            keys = self._keys_joined(padded, self._separator)
        return _csr(keys, n, self.n_entries)

    def _keys_one_by_one(self, padded: Sequence[str]) -> np.ndarray:
        """Hit keys ``i * n_entries + id`` of the padded texts, one pass each (no usable separator)."""
        n_e, iter_hits = self.n_entries, self._automaton.iter
        return np.fromiter((i * n_e + entry_id for i, p in enumerate(padded) for _, entry_id in iter_hits(p)),
                           np.int64)

    def _keys_joined(self, padded: list[str], sep: str) -> np.ndarray:
        """Hit keys ``i * n_entries + id`` of all padded texts from one pass over their join by
        ``sep``. A hit spanning two texts would contain the ``sep`` between them, which no entry
        does; texts are located by their lengths, so a text may itself contain ``sep``."""
        # text i spans [ends[i] - len(padded[i]), ends[i]); ends[i] is the sep after it
        ends = np.cumsum(np.fromiter(map(len, padded), np.int64, len(padded)) + 1) - 1
        hits = np.fromiter(chain.from_iterable(self._automaton.iter(sep.join(padded))), np.int64).reshape(-1, 2)
        # a hit's end index is that of its last character: text i holds ends[i - 1] < end < ends[i]
        text_of_hit = np.searchsorted(ends, hits[:, 0], side="right")
        return text_of_hit * self.n_entries + hits[:, 1]

    def __reduce__(self):  # pragma: no cover - guard, exercised in tests
        raise TypeError("Matcher holds an Aho-Corasick automaton and must not be pickled; "
                        "build it in the worker from the entry list instead")
