"""Part-of-speech taggers for CLIC's hard negatives, one per language, all speaking Universal POS.

``swap_negative`` (``training.clic.texts``) swaps words of one shared POS class and never AUX,
DET, INTJ, PART, PUNCT, SYM, X, SCONJ, CCONJ; for those rules to mean the same in every
language, every tagger here returns Universal POS (UPOS) tags. All run offline.

| language | tagger | tag set → UPOS |
|---|---|---|
| any spaCy language | a spaCy pipeline the user installed (``spacy_tagger``) | ``token.pos_`` is UPOS already |
| zh | ``jieba.posseg`` (``jieba_tagger``) | ICTCLAS flags, :data:`JIEBA_TO_UPOS` |
| ja | MeCab + UniDic via ``fugashi`` (``fugashi_tagger``) | UniDic 品詞, :func:`unidic_to_upos` |
| th | PyThaiNLP ``newmm`` words + ``pos_tag(corpus="orchid_ud")`` (``thai_tagger``) | UPOS already |
| user word lists | ``lexicon_tagger({"red": "ADJ", ...})`` | given |
| anything else | ``fallback_tagger``: words, tagged X (punctuation PUNCT) | — |

With the fallback every word is X, so no class is shared and ``swap_negative`` swaps two
random words — the reference's own fallback. The data builder counts how many negatives came
from it (``fallback_swaps`` in its stats).

**spaCy pipelines.** ``pip install spacy`` then install a pipeline package, e.g. ``python -m
spacy download en_core_web_sm`` (or ``pip install <wheel>`` of one downloaded elsewhere, for
offline machines), and either name it per language (``TaggerRegistry(spacy={"en":
"en_core_web_sm", "de": "/models/de_core_news_sm"})``, ``--spacy en=en_core_web_sm`` on the
command line; a name or a local directory) or let the registry find the installed
``<lang>_core_web_sm|md|lg|trf`` / ``<lang>_core_news_sm|md|lg|trf`` packages itself. A configured
spaCy pipeline takes precedence over the built-in zh/ja/th taggers.

A tagger is a callable ``sentence -> TaggedSentence``; tokens keep the text's spacing
(``spaces``) so that a negative made by swapping tokens is written back with the original
spacing.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

UPOS = frozenset({"ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
                  "PUNCT", "SCONJ", "SYM", "VERB", "X"})
NO_SPACE_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo"})
FALLBACK = "fallback"


@dataclass
class TaggedSentence:
    """Tokens, their UPOS tags and the whitespace after each token (``"".join(t + s)`` = the text)."""

    tokens: list[str]
    tags: list[str]
    spaces: list[str]
    tagger: str = ""

    def __post_init__(self) -> None:
        if not len(self.tokens) == len(self.tags) == len(self.spaces):
            raise ValueError("tokens, tags and spaces must have the same length")
        bad = sorted(set(self.tags) - UPOS)
        if bad:
            raise ValueError(f"tags outside Universal POS: {bad}")

    def text(self, tokens: list[str] | None = None) -> str:
        """The sentence, or ``tokens`` (same length, e.g. after a swap) with this sentence's spacing."""
        tokens = self.tokens if tokens is None else tokens
        return "".join(t + s for t, s in zip(tokens, self.spaces)).strip()


Tagger = Callable[[str], TaggedSentence]


def align_spaces(text: str, tokens: list[str]) -> list[str]:
    """Whitespace after each token, found by locating the tokens in ``text`` left to right.

    A token the tagger normalised (not found verbatim) gets one space in spaced text, none in
    unspaced text.
    """
    spaces, cursor = [], 0
    unspaced = not any(ch.isspace() for ch in text.strip())
    positions = []
    for tok in tokens:
        at = text.find(tok, cursor)
        positions.append((at, at + len(tok)) if at >= 0 else None)
        if at >= 0:
            cursor = at + len(tok)
    for i, pos in enumerate(positions):
        nxt = next((p for p in positions[i + 1:] if p is not None), None)
        if pos is None:
            spaces.append("" if unspaced else " ")
            continue
        end = nxt[0] if nxt is not None else len(text)
        gap = text[pos[1]:end]
        spaces.append(gap if gap.isspace() or not gap else ("" if unspaced else " "))
    return spaces


def _is_punct(token: str) -> bool:
    return bool(token) and all(unicodedata.category(c)[0] in "PS" for c in token)


def _punct_tag(token: str) -> str:
    return "SYM" if all(unicodedata.category(c)[0] == "S" for c in token) else "PUNCT"


# ---------------------------------------------------------------- spaCy


def spacy_tagger(pipeline) -> Tagger:
    """A tagger from a spaCy ``Language`` or the name / local path of an installed pipeline."""
    import spacy

    nlp = spacy.load(pipeline) if isinstance(pipeline, str) else pipeline
    name = f"spacy:{nlp.meta.get('lang', '')}_{nlp.meta.get('name', 'pipeline')}"

    def tag(sentence: str) -> TaggedSentence:
        doc = nlp(sentence)
        tokens, tags, spaces = [], [], []
        for t in doc:
            if t.is_space:  # spaCy keeps runs of extra whitespace as tokens: fold into the spacing
                if spaces:
                    spaces[-1] += t.text + t.whitespace_
                continue
            tokens.append(t.text)
            tags.append(t.pos_ if t.pos_ in UPOS else "X")
            spaces.append(t.whitespace_)
        return TaggedSentence(tokens, tags, spaces, name)

    return tag


def installed_spacy_pipeline(lang: str) -> str | None:
    """Name of an installed spaCy pipeline package for ``lang`` (``<lang>_core_{web,news}_{sm,md,lg,trf}``)."""
    try:
        import spacy.util
    except ImportError:
        return None
    for kind in ("web", "news"):
        for size in ("sm", "md", "lg", "trf"):
            name = f"{lang}_core_{kind}_{size}"
            if spacy.util.is_package(name):
                return name
    return None


# ---------------------------------------------------------------- Chinese: jieba.posseg

# ICTCLAS / jieba flags -> UPOS (the first letters decide; the table lists the exceptions).
JIEBA_TO_UPOS: dict[str, str] = {
    "a": "ADJ", "ad": "ADV", "an": "NOUN", "ag": "ADJ", "b": "ADJ", "c": "CCONJ", "d": "ADV", "dg": "ADV",
    "e": "INTJ", "f": "NOUN", "g": "X", "h": "PART", "i": "X", "j": "NOUN", "k": "PART", "l": "X", "m": "NUM",
    "mq": "NUM", "n": "NOUN", "ng": "NOUN", "nr": "PROPN", "nrfg": "PROPN", "nrt": "PROPN", "ns": "PROPN",
    "nt": "PROPN", "nz": "PROPN", "o": "X", "p": "ADP", "q": "NOUN", "r": "PRON", "rg": "PRON", "rr": "PRON",
    "rz": "PRON", "s": "NOUN", "t": "NOUN", "tg": "NOUN", "u": "PART", "ud": "PART", "ug": "PART", "uj": "PART",
    "ul": "PART", "uv": "PART", "uz": "PART", "v": "VERB", "vd": "ADV", "vg": "VERB", "vi": "VERB", "vn": "NOUN",
    "vq": "VERB", "x": "X", "y": "PART", "z": "ADJ", "zg": "ADJ", "eng": "X", "un": "X",
}


def jieba_to_upos(flag: str, word: str = "") -> str:
    """UPOS of a jieba flag (unknown flags by their first letter; punctuation by its characters)."""
    if word and _is_punct(word):
        return _punct_tag(word)
    return JIEBA_TO_UPOS.get(flag) or JIEBA_TO_UPOS.get(flag[:1], "X")


def jieba_tagger() -> Tagger:
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    pos = jieba.posseg.POSTokenizer(jieba.Tokenizer())

    def tag(sentence: str) -> TaggedSentence:
        pairs = [(p.word, p.flag) for p in pos.lcut(sentence) if p.word.strip()]
        tokens = [w for w, _ in pairs]
        return TaggedSentence(tokens, [jieba_to_upos(f, w) for w, f in pairs], align_spaces(sentence, tokens),
                              "jieba.posseg")

    return tag


# ---------------------------------------------------------------- Japanese: fugashi + UniDic

_UNIDIC_POS1 = {"代名詞": "PRON", "形容詞": "ADJ", "形状詞": "ADJ", "連体詞": "DET", "副詞": "ADV", "接続詞": "CCONJ",
                "感動詞": "INTJ", "動詞": "VERB", "助動詞": "AUX", "接頭辞": "NOUN", "記号": "SYM", "空白": "X"}
_UNIDIC_NOUN = {"固有名詞": "PROPN", "数詞": "NUM", "助動詞語幹": "AUX"}
_UNIDIC_PARTICLE = {"格助詞": "ADP", "係助詞": "ADP", "副助詞": "ADP", "接続助詞": "SCONJ", "準体助詞": "SCONJ",
                    "終助詞": "PART"}
_UNIDIC_SUFFIX = {"形容詞的": "ADJ", "形状詞的": "ADJ", "動詞的": "VERB"}


def unidic_to_upos(pos1: str, pos2: str = "") -> str:
    """UPOS of a UniDic (pos1, pos2), following the UD Japanese conventions where they are simple."""
    if pos1 == "名詞":
        return _UNIDIC_NOUN.get(pos2, "NOUN")
    if pos1 == "助詞":
        return _UNIDIC_PARTICLE.get(pos2, "ADP")
    if pos1 == "接尾辞":
        return _UNIDIC_SUFFIX.get(pos2, "NOUN")
    if pos1 == "補助記号":
        return "SYM" if pos2 in ("AA", "顔文字") else "PUNCT"
    if pos1 == "形状詞" and pos2 == "助動詞語幹":
        return "AUX"
    return _UNIDIC_POS1.get(pos1, "X")


def _fugashi() -> object:
    import fugashi

    try:
        return fugashi.Tagger()
    except RuntimeError:  # the full "unidic" package installed without its dictionary: use unidic-lite
        import unidic_lite

        return fugashi.Tagger(f'-d "{unidic_lite.DICDIR}"')


def fugashi_tagger() -> Tagger:
    mecab = _fugashi()

    def tag(sentence: str) -> TaggedSentence:
        words = [w for w in mecab(sentence) if w.surface.strip()]  # type: ignore[operator]
        tokens = [w.surface for w in words]
        tags = [unidic_to_upos(w.feature.pos1 or "", w.feature.pos2 or "") for w in words]
        return TaggedSentence(tokens, tags, align_spaces(sentence, tokens), "fugashi-unidic")

    return tag


# ---------------------------------------------------------------- Thai: PyThaiNLP


def thai_tagger() -> Tagger:
    from pythainlp.tag import pos_tag
    from pythainlp.tokenize import word_tokenize

    def tag(sentence: str) -> TaggedSentence:
        tokens = [t for t in word_tokenize(sentence, engine="newmm", keep_whitespace=False) if t.strip()]
        pairs = pos_tag(tokens, corpus="orchid_ud") if tokens else []
        tags = [_punct_tag(w) if _is_punct(w) else (t if t in UPOS else "X") for w, t in pairs]
        return TaggedSentence(tokens, tags, align_spaces(sentence, tokens), "pythainlp-orchid_ud")

    return tag


# ---------------------------------------------------------------- word lists and fallback

_WORD_OR_MARK = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]", re.UNICODE)


def _words(sentence: str, lang: str) -> list[str]:
    """Words and punctuation marks: the language's segmenter for no-space scripts, else a regex."""
    if lang in NO_SPACE_LANGUAGES:
        from curation.metadata.sources.tokenize import get_segmenter

        _, segmenter = get_segmenter(lang)
        if segmenter is not None:
            out = []
            for chunk in sentence.split():
                for piece in segmenter(chunk):
                    out.extend(_WORD_OR_MARK.findall(piece) if _is_punct(piece[:1]) else [piece])
            return [w for w in out if w.strip()]
    return _WORD_OR_MARK.findall(sentence)


def lexicon_tagger(lexicon: Mapping[str, str], lang: str = "", name: str = "lexicon") -> Tagger:
    """Tags from a word list (``{"red": "ADJ", ...}``, matched lowercased); other words X, marks PUNCT."""
    table = {k.lower(): v for k, v in lexicon.items()}
    bad = sorted(set(table.values()) - UPOS)
    if bad:
        raise ValueError(f"lexicon tags outside Universal POS: {bad}")

    def tag(sentence: str) -> TaggedSentence:
        tokens = _words(sentence, lang)
        tags = [_punct_tag(t) if _is_punct(t) else table.get(t.lower(), "X") for t in tokens]
        return TaggedSentence(tokens, tags, align_spaces(sentence, tokens), name)

    return tag


def fallback_tagger(lang: str = "") -> Tagger:
    """Every word X, punctuation PUNCT: no class is ever shared, so negatives swap random words."""
    return lexicon_tagger({}, lang, FALLBACK)


# ---------------------------------------------------------------- registry

BUILTIN: dict[str, Callable[[], Tagger]] = {"zh": jieba_tagger, "ja": fugashi_tagger, "th": thai_tagger}
BUILTIN_NAMES = {"zh": "jieba.posseg", "ja": "fugashi-unidic", "th": "pythainlp-orchid_ud"}


@dataclass
class TaggerRegistry:
    """The tagger of each language, built once per process on first use.

    Order: a tagger registered with ``register`` (or a lexicon), then a spaCy pipeline named in
    ``spacy`` for the language, then an installed spaCy pipeline package (``auto_spacy``), then the
    built-in zh/ja/th taggers, then the fallback. A tagger that fails to load (package missing)
    is logged once and the next one is used.
    """

    spacy: Mapping[str, object] = field(default_factory=dict)
    auto_spacy: bool = True
    _custom: dict[str, tuple[str, Tagger]] = field(default_factory=dict)
    _cache: dict[str, tuple[str, Tagger]] = field(default_factory=dict)

    def register(self, lang: str, tagger: Tagger, name: str = "custom") -> None:
        lang = _norm(lang)
        self._custom[lang] = (name, tagger)
        self._cache.pop(lang, None)

    def get(self, lang: str | None) -> Tagger:
        lang = _norm(lang)
        if lang not in self._cache:
            self._cache[lang] = self._resolve(lang)
        return self._cache[lang][1]

    def tag(self, sentence: str, lang: str | None) -> TaggedSentence:
        return self.get(lang)(sentence)

    def name_of(self, lang: str | None) -> str:
        """The name of ``lang``'s tagger (resolving it if needed)."""
        self.get(lang)
        return self._cache[_norm(lang)][0]

    def resolved(self) -> dict[str, str]:
        """``{lang: tagger name}`` of the languages used so far (for run summaries)."""
        return {lang: name for lang, (name, _) in sorted(self._cache.items())}

    def _resolve(self, lang: str) -> tuple[str, Tagger]:
        if lang in self._custom:
            return self._custom[lang]
        candidates: list[tuple[str, Callable[[], Tagger]]] = []
        if lang in self.spacy:
            candidates.append((f"spacy {self.spacy[lang]}", functools.partial(spacy_tagger, self.spacy[lang])))
        if self.auto_spacy and lang:
            name = installed_spacy_pipeline(lang)
            if name:
                candidates.append((f"spacy {name}", functools.partial(spacy_tagger, name)))
        if lang in BUILTIN:
            candidates.append((BUILTIN_NAMES[lang], BUILTIN[lang]))
        for what, factory in candidates:
            try:
                return what, factory()
            except (ImportError, OSError, RuntimeError) as exc:
                log.warning("POS tagger %s for %r unavailable (%s); trying the next one", what, lang, exc)
        return FALLBACK, fallback_tagger(lang)


def _norm(lang: str | None) -> str:
    return (lang or "").strip().lower().replace("_", "-").split("-")[0]
