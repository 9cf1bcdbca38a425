"""Sentence splitting and word lists for every language LID finds (RealSyn extraction).

The paper splits OBELICS texts with NLTK's punkt, which is trained for English (and a few
European languages) and knows nothing of ``。`` or ``।``. This splitter is rule-based and
script-aware instead, so it behaves the same for every language:

- a line break always ends a sentence (OBELICS texts are paragraphs);
- *hard* terminals end a sentence wherever they stand, because the scripts that use them put
  no space after a sentence: CJK ``。！？｡．`` (and ``‼⁇⁈⁉``), Devanagari/Bengali danda
  ``। ॥``, Khmer khan ``។ ៕``, Burmese section mark ``။``, Tibetan shad ``། ༎``, Ethiopic
  ``። ፧ ፨``, Armenian ``։``, Arabic ``؟`` and Urdu ``۔``;
- *soft* terminals ``. ! ? …`` end a sentence only when followed by whitespace or the end of
  the line; a ``.`` does not end one when the next word starts with a lower-case letter, or
  when the word before it is a single letter, contains another dot (``U.S.``, ``z.B.``) or is
  one of a few titles (``Dr.``, ``Mr.``, ...);
- closing quotes and brackets after a terminal stay with the sentence they close;
- Thai and Lao mark sentence (and clause) ends with a space, not punctuation: a run of spaces
  between two letters of the Thai (or the Lao) script ends a sentence. The rule is keyed on the
  script, not on a language label, so it needs no LID before splitting and never fires
  inside Latin text (``iPhone 15`` in a Thai sentence stays whole).

Words (for the length rule and the word entropy) are those of the metadata builder's
tokenizer, ``curation.metadata.sources.tokenize.tokenize``: whitespace words for spaced
languages and real segmenters for zh (jieba), ja (fugashi + unidic-lite) and th (PyThaiNLP
newmm); punctuation is never a word. Other no-space languages (km, lo, my, bo, dz) have no
segmenter installed, so their words are whitespace chunks (phrases) unless one is registered
with ``curation.metadata.sources.tokenize.register_segmenter``.
"""

from __future__ import annotations

import re

from curation.lid import OTHER, to_metadata_lang
from curation.metadata.sources.tokenize import normalize_lang, tokenize

HARD_TERMINALS = "。！？｡．‼⁇⁈⁉।॥។៕။།༎።፧፨։؟۔"
SOFT_TERMINALS = "!?…"
CLOSERS = "\"'”’»›)]}」』）】》〉〕］｝"
# Titles whose dot never ends a sentence (single letters and dotted words are handled by rule).
ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "fig", "vol", "nr", "ca",
                           "no", "art", "sig", "sra", "srta", "hr", "fr"})
SPACE_DELIMITED_SCRIPTS = ("\u0e00-\u0e7f", "\u0e80-\u0eff")  # Thai, Lao

_C = re.escape(CLOSERS)
_BOUNDARY = re.compile(
    rf"[{re.escape(HARD_TERMINALS)}]+[{_C}]*"          # hard: always
    rf"|[{re.escape(SOFT_TERMINALS)}]+[{_C}]*(?=\s|$)"  # soft: before whitespace
    rf"|\.+[{_C}]*(?=\s|$)"                             # dot: before whitespace, unless abbreviation
)
_SCRIPT_SPACE = re.compile("|".join(rf"(?<=[{chars}])\s+(?=[{chars}])" for chars in SPACE_DELIMITED_SCRIPTS))
_PREV_WORD = re.compile(r"(\S+)$")
_NEXT_CHAR = re.compile(r"\s*(\S)")


def _language_code(lang: str) -> str:
    """Metadata language code of a lid.176 label (``yue`` -> ``zh-yue``); unmapped labels keep
    their own normalised code, so a segmenter registered for them is still found."""
    code = to_metadata_lang(lang) if lang else OTHER
    return code if code != OTHER else normalize_lang(lang or OTHER)


def _dot_ends_sentence(line: str, start: int, end: int) -> bool:
    """Whether the dot run ``line[start:end]`` (followed by whitespace or the end) ends a sentence."""
    if end - start > 1 and line[start:end].startswith(".."):
        return True  # an ellipsis written with dots
    nxt = _NEXT_CHAR.match(line, end)
    if nxt is not None and nxt.group(1).islower():
        return False
    prev = _PREV_WORD.search(line, 0, start)
    if prev is None:
        return True
    word = prev.group(1).lstrip("\"'“‘«‹([{")
    letters = word.replace(".", "")
    if len(letters) == 1 and letters.isalpha():
        return False  # an initial: "J. Smith"
    if "." in word:
        return False  # "U.S.", "z.B.", "e.g."
    return word.casefold() not in ABBREVIATIONS


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (a paragraph or a whole OBELICS text), stripped, in order, none
    empty; the same rules for every language (module docstring), so no LID is needed first."""
    sentences: list[str] = []
    for line in text.splitlines():
        cuts = [0]
        for m in _BOUNDARY.finditer(line):
            if line[m.start()] == "." and not _dot_ends_sentence(line, m.start(), m.end()):
                continue
            cuts.append(m.end())
        cuts.extend(m.start() for m in _SCRIPT_SPACE.finditer(line))
        cuts.append(len(line))
        cuts = sorted(set(cuts))
        for a, b in zip(cuts, cuts[1:]):
            piece = line[a:b].strip()
            if piece:
                sentences.append(piece)
    return sentences


def words(text: str, lang: str) -> list[str]:
    """The words of ``text`` as the metadata builder's tokenizer cuts them (punctuation excluded)."""
    return [w for segment in tokenize(text, _language_code(lang)) for w in segment]


def entropy_tokens(text: str, lang: str) -> list[str]:
    """Tokens counted for the word entropy: the words, case-folded (``The`` and ``the`` are one word)."""
    return [w.casefold() for w in words(text, lang)]
