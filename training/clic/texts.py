"""CLIC text rules (SPEC §6.1): usable caption sentences and the word-swap hard negative.

**Usable sentences** (``usable_sentences``). CLIC needs long captions (several sentences per
image). A caption is cut into sentences, an opening like "The image shows" is stripped from
its first sentence, and the sentences with more than 3 and fewer than 35 words are kept,
lowercased; a caption left with fewer than 2 is unusable (``[]``).

- *Sentence ends*: ``. ! ? …`` followed by whitespace or the end (so "3.5" and "www.x.org"
  stay whole; a few abbreviations such as "e.g." and "Dr." are not ends, see
  :data:`ABBREVIATIONS`); ``。 ！ ？ ． ｡`` (no-space scripts) and the Devanagari, Arabic,
  Armenian and Ethiopic full stops anywhere; a line break.
- *Words* are counted with the project's one word segmenter,
  ``curation.metadata.sources.tokenize.tokenize`` (punctuation breaks words, as in the
  reference's ``\\w+`` count; zh: jieba, ja: fugashi/UniDic, th: PyThaiNLP). A caption's
  language is the ``lang`` argument or, when absent, guessed from its script (kana → ja, Han →
  zh, Thai → th, anything else is counted by spaces).
- *Openings* (:data:`OPENINGS`, per language, matched case-insensitively at the start of the
  first sentence, longest first, whole words): en is the reference list plus the picture/photo
  forms; de, fr, es, ru, zh, ja are their usual equivalents in captioner output. Without
  ``lang`` every list is tried.

The reference splits on ". " before a capital letter only, which does not work for lowercase
captions or other scripts; it strips openings before splitting; both lead to the same sentences
on its English data.

**Hard negative** (``swap_negative``). Given the tokens and Universal-POS tags of two
sentences s_A and s_B (``training.clic.pos`` tags them), pick one POS class both sentences
have — never AUX, DET, INTJ, PART, PUNCT, SYM, X, SCONJ, CCONJ (:data:`EXCLUDED_POS`) — and
one word of that class from each sentence, ignoring every word that occurs in both sentences,
and swap them: every occurrence of w_A in s_A becomes w_B and every occurrence of w_B in s_B
becomes w_A (whole tokens, so "cat" never changes "category"). Class and words are uniform
draws from ``rng`` over a fixed order (classes sorted, words in first-occurrence order), so a
seeded ``rng`` gives the same negative everywhere. When no class qualifies, two random tokens
are swapped instead (the reference's fallback), each drawn from the first non-empty of: its
sentence's unshared tokens of a swappable class, its unshared words (not PUNCT/SYM), its
unshared tokens. ``choose_swap`` says which case
happened so the data builder can count the fallback.

When w_A occurs in s_A as often as w_B in s_B (always so when each occurs once, the usual case),
the negative has exactly the positive's multiset of words: only their binding changed. The
reference ignores shared words per class only; here a word found in both sentences under any tag
is never swapped (swapping it would leave it on both sides).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MIN_WORDS_EXCLUSIVE = 3  # a sentence needs more than 3 words ...
MAX_WORDS_EXCLUSIVE = 35  # ... and fewer than 35
MIN_SENTENCES = 2  # a caption needs at least 2 usable sentences

# Universal POS classes never swapped (SPEC §6.1).
EXCLUDED_POS = frozenset({"AUX", "DET", "INTJ", "PART", "PUNCT", "SYM", "X", "SCONJ", "CCONJ"})
# Tokens the random-token fallback avoids when it has a choice.
NON_WORD_POS = frozenset({"PUNCT", "SYM"})

# Caption openings stripped from the first sentence, per language (lowercase; matched
# case-insensitively). en: the reference's list (CLIC assets/create_dataset.py) plus the
# picture/photo forms; the others are the same phrases as captioning models write them.
OPENINGS: dict[str, tuple[str, ...]] = {
    "en": (
        "the image displays", "the image showcases", "the image shows", "the image is", "the image features",
        "the image depicts", "the image illustrates", "this image displays", "this image showcases",
        "this image shows", "this image is", "this image features", "this image depicts", "this image illustrates",
        "this image appears to be", "a digital representation of", "a collection of", "a graphic representation of",
        "a screenshot of", "the picture shows", "this picture shows", "the photo shows", "this photo shows",
        "the photograph shows", "this photograph shows", "in this image,", "in the image,", "in this picture,",
    ),
    "de": (
        "das bild zeigt", "dieses bild zeigt", "das foto zeigt", "dieses foto zeigt", "auf dem bild sieht man",
        "auf dem bild ist", "auf dem bild sind", "auf diesem bild ist", "auf diesem bild sind", "das bild ist",
    ),
    "fr": (
        "l'image montre", "cette image montre", "l'image représente", "cette image représente", "l'image présente",
        "cette image présente", "l'image affiche", "la photo montre", "cette photo montre", "sur l'image, on voit",
        "sur cette image, on voit", "on voit sur l'image", "l'image est",
    ),
    "es": (
        "la imagen muestra", "esta imagen muestra", "la imagen presenta", "esta imagen presenta",
        "la imagen representa", "esta imagen representa", "en la imagen se ve", "en la imagen se muestra",
        "en esta imagen se ve", "la foto muestra", "esta foto muestra", "la imagen es",
    ),
    "ru": (
        "на изображении показан", "на изображении показана", "на изображении показано", "на изображении",
        "на этом изображении", "изображение показывает", "на фотографии", "на фото", "на картинке",
    ),
    "zh": (
        "这张图片显示了", "这张图片显示", "这张图片展示了", "这张图片展示", "这张图片描绘了", "这幅图片展示了",
        "图片显示了", "图片显示", "图片展示了", "图片展示", "图像显示了", "图像显示", "图中显示了", "图中显示",
        "图中展示了", "图片中", "画面中",
    ),
    "ja": (
        "この画像には", "この画像は", "この写真には", "この写真は", "画像には", "画像は", "写真には", "写真は",
    ),
}

# Lowercase abbreviations whose final dot does not end a sentence.
ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "prof.", "sr.", "jr.", "st.", "e.g.", "i.e.", "etc.", "vs.",
                           "fig.", "no.", "approx.", "ca.", "z.b.", "bzw.", "usw.", "p.ej.", "etc"})

_END_SPACED = ".!?…"
_END_ANYWHERE = "。！？．｡।॥؟۔։።"
_SPLIT = re.compile(rf"(?<=[{re.escape(_END_SPACED)}])[\"'”’)\]]*\s+|(?<=[{_END_ANYWHERE}])\s*|\s*\n\s*")
_TRAILING_DOTS = ".．。｡"
_NO_SPACE_TERMINAL = "。"


def _strip_openings(sentence: str, lang: str | None) -> str:
    """The sentence without the longest matching opening (and the punctuation after it)."""
    langs = [lang] if lang in OPENINGS else list(OPENINGS)
    low = sentence.lower()
    best = 0
    for code in langs:
        for opening in OPENINGS[code]:
            if not low.startswith(opening) or len(opening) <= best:
                continue
            nxt = low[len(opening):len(opening) + 1]
            # spaced scripts: the opening must end on a word boundary ("the image is" ≠ "the image isn't")
            if nxt and opening[-1].isalnum() and nxt.isalnum() and not _is_unspaced(opening[-1]):
                continue
            best = len(opening)
    if not best:
        return sentence
    rest = sentence[best:]
    return rest.lstrip(" \t,:;、，：；-—–")


def _is_unspaced(ch: str) -> bool:
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "THAI", "IDEOGRAPHIC"))


def guess_language(text: str) -> str | None:
    """Language for word counting from the script alone: kana → ja, Han → zh, Thai → th, else None."""
    han = False
    for ch in text:
        cp = ord(ch)
        if 0x3040 <= cp <= 0x30FF or 0x31F0 <= cp <= 0x31FF or 0xFF66 <= cp <= 0xFF9D:
            return "ja"
        if 0x0E00 <= cp <= 0x0E7F:
            return "th"
        if 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2FA1F:
            han = True
    return "zh" if han else None


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (see the module docstring for where sentences end), stripped, non-empty."""
    text = unicodedata.normalize("NFC", text or "")
    pieces = [p.strip() for p in _SPLIT.split(text)]
    out: list[str] = []
    for piece in pieces:
        if not piece:
            continue
        if out and out[-1].split()[-1].lower() in ABBREVIATIONS:
            out[-1] = f"{out[-1]} {piece}"  # "dr. smith" did not end at "dr."
            continue
        out.append(piece)
    return out


def count_words(sentence: str, lang: str | None = None) -> int:
    """Words of ``sentence`` by the project's segmenter (``curation.metadata.sources.tokenize``)."""
    from curation.metadata.sources.tokenize import tokenize

    code = lang or guess_language(sentence) or "en"
    return sum(len(segment) for segment in tokenize(sentence, code))


def usable_sentences(caption: str, lang: str | None = None) -> list[str]:
    """Lowercased sentences of ``caption`` with > 3 and < 35 words; ``[]`` if fewer than 2 remain.

    ``lang`` selects the openings list and the word segmenter; when ``None`` both follow the
    script (see the module docstring).
    """
    if not isinstance(caption, str):
        raise TypeError(f"caption must be a string, got {type(caption).__name__}")
    sentences = split_sentences(caption)
    if sentences:
        sentences[0] = _strip_openings(sentences[0], lang)
    kept = []
    for s in sentences:
        s = s.rstrip(_TRAILING_DOTS).strip()
        if s and MIN_WORDS_EXCLUSIVE < count_words(s, lang) < MAX_WORDS_EXCLUSIVE:
            kept.append(s.lower())
    return kept if len(kept) >= MIN_SENTENCES else []


def join_sentences(sentences: Sequence[str], lang: str | None = None) -> str:
    """"s1. s2." as the reference joins captions: each sentence ends with a full stop (added when it
    has no ending), joined by a space; no-space scripts (zh, ja) end with "。" and join without one."""
    no_space = (lang or guess_language("".join(sentences))) in ("zh", "ja")
    ends = _END_SPACED + _END_ANYWHERE
    parts = []
    for s in sentences:
        s = s.strip()
        if not s:
            continue
        parts.append(s if s[-1] in ends else s + (_NO_SPACE_TERMINAL if no_space else "."))
    return ("" if no_space else " ").join(parts)


# ---------------------------------------------------------------- hard negative


@dataclass(frozen=True)
class Swap:
    """The words exchanged between s_A and s_B; ``pos`` is the shared class, ``None`` for the fallback."""

    word_a: str
    word_b: str
    pos: str | None

    @property
    def fallback(self) -> bool:
        return self.pos is None


def _pick(rng: random.Random | np.random.Generator, n: int) -> int:
    """A uniform index in ``[0, n)`` from either kind of generator."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(n))
    return rng.randrange(n)


def _distinct(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def choose_swap(tokens_a: Sequence[str], tags_a: Sequence[str], tokens_b: Sequence[str], tags_b: Sequence[str],
                rng: random.Random | np.random.Generator) -> Swap | None:
    """The swap ``swap_negative`` applies, or ``None`` when the sentences share every word."""
    for tokens, tags, name in ((tokens_a, tags_a, "a"), (tokens_b, tags_b, "b")):
        if len(tokens) != len(tags):
            raise ValueError(f"tokens_{name} and tags_{name} differ in length ({len(tokens)} != {len(tags)})")
    shared = set(tokens_a) & set(tokens_b)
    by_class_a: dict[str, list[str]] = {}
    by_class_b: dict[str, list[str]] = {}
    for tokens, tags, by_class in ((tokens_a, tags_a, by_class_a), (tokens_b, tags_b, by_class_b)):
        for tok, tag in zip(tokens, tags):
            if tag not in EXCLUDED_POS and tok not in shared:
                by_class.setdefault(tag, [])
                if tok not in by_class[tag]:
                    by_class[tag].append(tok)
    classes = sorted(set(by_class_a) & set(by_class_b))
    if classes:
        pos = classes[_pick(rng, len(classes))]
        words_a, words_b = by_class_a[pos], by_class_b[pos]
        return Swap(words_a[_pick(rng, len(words_a))], words_b[_pick(rng, len(words_b))], pos)
    # fallback: random tokens, from the first non-empty of: tokens of a swappable class, words
    # (not punctuation or symbols), any token; never a shared one
    pools = []
    for tokens, tags in ((tokens_a, tags_a), (tokens_b, tags_b)):
        own = [(t, g) for t, g in zip(tokens, tags) if t not in shared]
        pools.append(_distinct([t for t, g in own if g not in EXCLUDED_POS])
                     or _distinct([t for t, g in own if g not in NON_WORD_POS])
                     or _distinct([t for t, _ in own]))
    if not pools[0] or not pools[1]:
        return None
    return Swap(pools[0][_pick(rng, len(pools[0]))], pools[1][_pick(rng, len(pools[1]))], None)


def apply_swap(tokens_a: Sequence[str], tokens_b: Sequence[str], swap: Swap | None) -> tuple[list[str], list[str]]:
    """Every ``word_a`` token of A becomes ``word_b`` and every ``word_b`` token of B becomes ``word_a``."""
    if swap is None:
        return list(tokens_a), list(tokens_b)
    return ([swap.word_b if t == swap.word_a else t for t in tokens_a],
            [swap.word_a if t == swap.word_b else t for t in tokens_b])


def swap_negative(tokens_a: Sequence[str], tags_a: Sequence[str], tokens_b: Sequence[str], tags_b: Sequence[str],
                  rng: random.Random | np.random.Generator) -> tuple[list[str], list[str]]:
    """``(tokens_a', tokens_b')``: one word of one shared POS class swapped between the sentences
    (SPEC §6.1; rules in the module docstring). Unchanged copies when nothing can be swapped."""
    return apply_swap(tokens_a, tokens_b, choose_swap(tokens_a, tags_a, tokens_b, tags_b, rng))
