"""Per-language metadata substring matching (SPEC §2 step 3), exactly as MetaCLIP 2's reference.

Text and entries are padded with spaces so that a match means "whole word" for spaced
scripts, while entries of unspaced scripts (CJK, Thai, ...) match anywhere. The rules are
case-sensitive and do no normalisation on purpose: fidelity with the paper beats tidiness.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Sequence
from operator import itemgetter

import ahocorasick

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


class Matcher:
    """Aho–Corasick matcher over one language's metadata list.

    ``match(text)`` returns the sorted ids of entries whose padded form occurs in the padded
    text (overlaps count). Build one per language per process and reuse it: construction costs
    O(total entry length); pickling automata is slow and leaky, so never ship one to a task.
    """

    def __init__(self, entries: Sequence[str]):
        self.n_entries = len(entries)
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for entry_id, entry in enumerate(entries):
            # A repeated padded entry keeps only the last id, as in the reference.
            self._automaton.add_word(pad_entry(entry), entry_id)
        self._empty = self.n_entries == 0
        if not self._empty:
            self._automaton.make_automaton()

    def match(self, text: str) -> list[int]:
        if self._empty:
            return []
        return sorted(set(map(_ENTRY_ID, self._automaton.iter(pad_text(text)))))

    def match_many(self, texts: Iterable[str]) -> list[list[int]]:
        return [self.match(t) for t in texts]

    def __reduce__(self):  # pragma: no cover - guard, exercised in tests
        raise TypeError("Matcher holds an Aho-Corasick automaton and must not be pickled; "
                        "build it in the worker from the entry list instead")
