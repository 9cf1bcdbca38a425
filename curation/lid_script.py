"""Script-aware language decisions for the opt-in improved LID (``--lid improved``).

lid.176 alone mislabels texts whose *script* already tells the language, or narrows it to
a few: about one Chinese caption in ten without any kana comes out ``ja`` (or ``wuu``,
``yue``, even ``kk``), a mostly-Greek line with an English acronym comes out ``en``. The
rules below fix those cases from the characters alone and leave everything else to
fastText. They never touch the reference mode (``curation.lid.detect``).

1. **Letters per script.** Every letter or combining mark (Unicode categories L*, M*) is
   counted in its script (ISO 15924 code, :data:`SCRIPT_RANGES`); digits, punctuation,
   symbols and letters of unlisted scripts count nowhere.
2. **Dominant script.** Han, kana and Hangul form one East-Asian group whose letters weigh
   :data:`CJK_WEIGHT` (= 2: one such character carries about as much as two alphabet
   letters, so ``MVPは打率.450`` is Japanese, ``Photo of 北京 skyline`` is not).
   The heaviest of that group and the other scripts dominates (ties: the East-Asian group,
   then the script named first in :data:`SCRIPT_RANGES`). Within the group the text is
   ``Kore`` when it has more Hangul than kana, else ``Jpan`` when it has any kana
   (excluding the prolonged-sound mark ー, also seen in Chinese), else ``Hani``.
3. **Decision** (:func:`script_decision`, no model needed):
   ``Kore`` → ``ko``; ``Jpan`` → ``ja``; ``Hani`` → ``ja`` if the text holds a kanji that
   only Japanese writes (:data:`JAPANESE_ONLY_KANJI`: 県, 駅, 働, ...), else ``yue`` if it
   holds a character written only in Cantonese (:data:`CANTONESE_CHARS`), else ``zh`` (so
   lid.176's ``ja``/``wuu``/``yue`` labels of Chinese text become ``zh``); a script used by exactly one lid.176
   language (:data:`SCRIPT_DECIDES`: Thai, Lao, Khmer, Myanmar, Tibetan, Armenian, Greek,
   Georgian, Ethiopic, Sinhala, Thaana and the Indic scripts of one language) → that
   language. Method ``script:<Script>``; fastText need not run.
4. **Restricted fastText** (:func:`restrict_to_script`, other scripts: Latin, Cyrillic,
   Arabic, Devanagari, Hebrew, Bengali): fastText's best label *written in the dominant
   script* (:data:`curation.lid_codes.LID176_SCRIPTS`), unless the script of its top-1
   holds at least a third of the letters; method ``fasttext`` when the top-1 stands,
   ``fasttext+script:<Script>`` when a lower-ranked label was taken. fastText reads
   :func:`fasttext_input` (web/e-mail addresses and file names removed, all-capitals
   text lower-cased).
5. **Hindi vs Marathi** (:func:`hindi_marathi_vote`): both are written in Devanagari and
   lid.176 confuses them on short texts. When the restricted label is ``hi`` or ``mr``,
   function words and spellings that exist in only one of the two languages vote; a
   strict majority decides (method ``script:Deva+words``), a tie keeps fastText's label.
6. A text with no letter at all keeps fastText's top-1 (method ``fasttext``).
7. **Second opinion** (:func:`second_opinion`): when fastText is unsure (probability of
   its label < 0.7), CLD2 (``pycld2``, whose model is compiled into its wheel) picks among
   fastText's top 5 labels of the script (method ``cld2``).

Everything here is a pure function of the text (and of fastText's ranking where step 4
needs it), so a Spark task, a test and the evaluation make the same decision.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence

from curation.lid_codes import LID176_SCRIPTS

IMPROVED_LID_VERSION = "lid176-script-1"
"""Version of these rules; record it with ``lid = improved`` in stats and fingerprints."""

CJK_WEIGHT = 2
CJK_GROUP = ("Hani", "Kana", "Hang")

# Inclusive code-point ranges of each script's letters and marks (blocks; the category
# check in ``script_counts`` drops the digits and punctuation some blocks hold).
SCRIPT_RANGES: dict[str, tuple[tuple[int, int], ...]] = {
    "Hani": ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2FA1F), (0xF900, 0xFAFF),
             (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3100, 0x312F), (0x31A0, 0x31BF)),
    "Kana": ((0x3040, 0x309F), (0x30A0, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F), (0x1B000, 0x1B16F)),
    "Hang": ((0xAC00, 0xD7AF), (0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xD7B0, 0xD7FF),
             (0xFFA0, 0xFFDC)),
    "Latn": ((0x0041, 0x005A), (0x0061, 0x007A), (0x00AA, 0x00AA), (0x00BA, 0x00BA), (0x00C0, 0x024F),
             (0x0250, 0x02AF), (0x1E00, 0x1EFF), (0x2C60, 0x2C7F), (0xA720, 0xA7FF), (0xFF21, 0xFF3A),
             (0xFF41, 0xFF5A)),
    "Cyrl": ((0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F)),
    "Grek": ((0x0370, 0x03FF), (0x1F00, 0x1FFF)),
    "Armn": ((0x0531, 0x058F), (0xFB13, 0xFB17)),
    "Hebr": ((0x0591, 0x05FF), (0xFB1D, 0xFB4F)),
    "Arab": ((0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)),
    "Thaa": ((0x0780, 0x07BF),),
    "Deva": ((0x0900, 0x097F), (0xA8E0, 0xA8FF)),
    "Beng": ((0x0980, 0x09FF),),
    "Guru": ((0x0A00, 0x0A7F),),
    "Gujr": ((0x0A80, 0x0AFF),),
    "Orya": ((0x0B00, 0x0B7F),),
    "Taml": ((0x0B80, 0x0BFF),),
    "Telu": ((0x0C00, 0x0C7F),),
    "Knda": ((0x0C80, 0x0CFF),),
    "Mlym": ((0x0D00, 0x0D7F),),
    "Sinh": ((0x0D80, 0x0DFF),),
    "Thai": ((0x0E00, 0x0E7F),),
    "Laoo": ((0x0E80, 0x0EFF),),
    "Tibt": ((0x0F00, 0x0FFF),),
    "Mymr": ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)),
    "Geor": ((0x10A0, 0x10FF), (0x1C90, 0x1CBF), (0x2D00, 0x2D2F)),
    "Ethi": ((0x1200, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F)),
    "Khmr": ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
    "Mong": ((0x1800, 0x18AF),),
}
_PROLONGED_SOUND_MARK = "\u30fc"  # ー: katakana, but also written in Chinese

# Scripts written by exactly one lid.176 language (step 3); derived, not restated.
SCRIPT_DECIDES: dict[str, str] = {
    script: next(iter(labels))
    for script in SCRIPT_RANGES
    if len(labels := {label for label, scripts in LID176_SCRIPTS.items() if script in scripts}) == 1
}
SCRIPT_DECIDES.update({"Jpan": "ja", "Kore": "ko"})

def _encodable(char: str, codec: str) -> bool:
    try:
        char.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


# Variant forms that Hong Kong and Taiwan texts write although Big5 lacks them.
_CHINESE_VARIANTS = frozenset("裏邨綫擧爲産呉峯説絶")


def _japanese_only_kanji() -> frozenset[str]:
    """Han characters of Japanese's JIS X 0208 (Shift-JIS) that neither simplified (GB 2312)
    nor traditional (Big5) Chinese encodes: Japanese shinjitai and kokuji such as 県 広 駅 込
    働 畑 (the Chinese forms are 县/縣, 广/廣, 站/驛, ...), minus variants Chinese texts use."""
    return frozenset(
        ch for ch in map(chr, range(0x4E00, 0xA000))
        if _encodable(ch, "shift_jis") and not _encodable(ch, "gb2312") and not _encodable(ch, "big5")
    ) - _CHINESE_VARIANTS | {"々"}  # 々: the Japanese iteration mark


JAPANESE_ONLY_KANJI = _japanese_only_kanji()

# Characters of written Cantonese that standard written Chinese does not use (particles,
# pronouns, negation, common verbs): one of them makes a Han text Cantonese.
CANTONESE_CHARS = frozenset("嘅咗唔佢哋冇喺嘢啲嚟咩嗰噉㗎嘞囉嚿冚瞓攞睇諗揾搵啱嘥乜畀")


_SCRIPTS = tuple(SCRIPT_RANGES)
_RANK = {name: i for i, name in enumerate(_SCRIPTS)}  # tie-break: the script named first
_ASTRAL = re.compile("[\U00010000-\U0010FFFF]")
_MARK_BASE = 0xE000  # script i is counted as private-use character U+E000 + i after translate


@functools.cache
def _tables() -> tuple[dict[int, int | None], re.Pattern, frozenset[str]]:
    """(BMP translate table: letter/mark -> its script's marker, private-use markers ->
    deleted; pattern of supplementary-plane letters; the marker characters)."""
    table: dict[int, int | None] = {cp: None for cp in range(_MARK_BASE, _MARK_BASE + len(_SCRIPTS))}
    supplementary = []
    for i, name in enumerate(_SCRIPTS):
        for lo, hi in SCRIPT_RANGES[name]:
            if lo > 0xFFFF:
                supplementary.append((lo, hi, i))
                continue
            for cp in range(lo, hi + 1):
                if unicodedata.category(chr(cp))[0] in "LM":
                    table[cp] = _MARK_BASE + i
    markers = frozenset(chr(_MARK_BASE + i) for i in range(len(_SCRIPTS)))
    ranges = "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi, _ in supplementary)
    return table, re.compile(f"[{ranges}]"), markers


def script_of(char: str) -> str | None:
    """ISO 15924 code of a letter or mark (``Kana`` for hiragana and katakana), else None."""
    if unicodedata.category(char)[0] not in "LM":
        return None
    cp = ord(char)
    for name, ranges in SCRIPT_RANGES.items():
        if any(lo <= cp <= hi for lo, hi in ranges):
            return name
    return None


def script_counts(text: str) -> dict[str, int]:
    """Letters (and marks) of ``text`` per script; characters of no listed script are not
    counted. (One ``str.translate`` of the text onto per-script markers, then a count per
    marker: C-speed, the same result as ``script_of`` on every character.)"""
    if text.isascii():  # most web text: one C-level pass
        letters = sum(map(str.isalpha, text))
        return {"Latn": letters} if letters else {}
    table, supplementary, markers = _tables()
    marked = text.translate(table)
    counts = {_SCRIPTS[ord(m) - _MARK_BASE]: marked.count(m) for m in markers.intersection(marked)}
    if _ASTRAL.search(text) is not None:
        for char in supplementary.findall(text):
            name = script_of(char)
            if name is not None:
                counts[name] = counts.get(name, 0) + 1
    if _PROLONGED_SOUND_MARK in text and "Kana" in counts:
        counts["Kana"] -= text.count(_PROLONGED_SOUND_MARK)  # ー alone is not Japanese
        if counts["Kana"] == 0:
            del counts["Kana"]
    return counts


def dominant_script(counts: dict[str, int]) -> str | None:
    """The text's writing system (step 2): ``Kore``, ``Jpan``, ``Hani`` or a script of
    :data:`SCRIPT_RANGES` outside the East-Asian group; None when there is no letter."""
    best, best_weight, best_rank = None, 0, len(_SCRIPTS)
    cjk = 0
    for script, n in counts.items():
        if script in CJK_GROUP:
            cjk += n
            continue
        rank = _RANK[script]
        if n > best_weight or (n == best_weight and rank < best_rank):
            best, best_weight, best_rank = script, n, rank
    if cjk and cjk * CJK_WEIGHT >= best_weight:
        best = "CJK"
    if best != "CJK":
        return best
    hangul, kana = counts.get("Hang", 0), counts.get("Kana", 0)
    if hangul > kana:
        return "Kore"
    return "Jpan" if kana > 0 else "Hani"


def script_decision(text: str, dominant: str | None = None) -> tuple[str, str] | None:
    """(label, method) when the script alone decides (step 3), else None (fastText needed)."""
    if dominant is None:
        dominant = dominant_script(script_counts(text))
    if dominant is None:
        return None
    if dominant == "Hani":
        chars = set(text)
        if not chars.isdisjoint(JAPANESE_ONLY_KANJI):
            return "ja", "script:Hani+ja"
        if not chars.isdisjoint(CANTONESE_CHARS):
            return "yue", "script:Hani+yue"
        return "zh", "script:Hani"
    label = SCRIPT_DECIDES.get(dominant)
    return None if label is None else (label, f"script:{dominant}")


def restrict_to_script(ranked_labels: Sequence[str], counts: dict[str, int],
                       dominant: str | None) -> tuple[str, str]:
    """fastText's best label written in the dominant script (step 4) and the method.

    ``ranked_labels`` is fastText's ranking, best first (all 176 labels, or at least up to
    the first one in the script). The top-1 stands when :func:`top1_fits_script`; falls
    back to it when no ranked label uses the script (e.g. Mongolian script, which no
    lid.176 label is listed for).
    """
    if not ranked_labels:
        raise ValueError("restrict_to_script needs at least one ranked label")
    top = ranked_labels[0]
    if top1_fits_script(top, counts, dominant):
        return top, "fasttext"
    allowed = _labels_of(dominant)
    for label in ranked_labels[1:]:
        if label in allowed:
            return label, f"fasttext+script:{dominant}"
    return top, "fasttext"


def script_labels(script: str) -> frozenset[str]:
    """The lid.176 labels written in ``script`` (empty for Hani/Jpan/Kore: step 3 decides those)."""
    return _LABELS_OF_SCRIPT.get(script, frozenset())


_labels_of = script_labels


_LABELS_OF_SCRIPT: dict[str, frozenset[str]] = {
    script: frozenset(label for label, scripts in LID176_SCRIPTS.items() if script in scripts)
    for script in {s for scripts in LID176_SCRIPTS.values() for s in scripts}
}


def top1_fits_script(label: str, counts: dict[str, int], dominant: str | None) -> bool:
    """True when fastText's top-1 stands (step 4): the text has no letters, the label is
    written in the dominant script, or its script(s) hold at least a third of the letters
    (``The Scorpion -- третий`` may well be Russian)."""
    if dominant is None or label in _labels_of(dominant):
        return True
    own = sum(counts.get(script, 0) for script in LID176_SCRIPTS.get(label, ()))
    return 3 * own >= sum(counts.values())


# ---------------------------------------------------------------- Hindi vs Marathi

# Standalone words (whitespace/punctuation separated) that belong to one language only:
# Hindi postpositions, auxiliaries, pronouns and adverbs that Marathi attaches or says
# otherwise (में/मध्ये, है/आहे, लेकिन/पण, यहां/इथे), and Marathi auxiliaries, conjunctions
# and pronouns Hindi lacks. Words both use (का, की, तो, ये, होता, होते, आता, या, तू, हे, ते,
# एक) are left out on purpose.
HINDI_WORDS = frozenset("""
है हैं था थे थी थीं में से को ने और नहीं यह वह वे इस उस इसे उसे इन उन लिए भी पर हुआ हुए हुई
गया गए गई रहा रहे रही करने किया किए कहा अपने अपनी अपना साथ बहुत क्या कि मैं हम आप सकते
इससे उससे इसके उसके इसकी उसकी इनके उनके इनकी उनकी उसने इसने उन्होंने जिसमें जिसके जिससे जिसकी
वहां वहाँ यहां यहाँ लेकिन कोई तक बाद अब जब तब
""".split())
MARATHI_WORDS = frozenset("""
आहे आहेत आहोत आहेस आणि नाही नाहीत मध्ये साठी म्हणून केले केला केली झाला झाले झाली असे असा अशी
त्या त्याने त्याला त्याचा त्याची त्याचे ह्या मी माझा माझी माझे आम्ही तुम्ही काय कोणी पण व नंतर
पर्यंत जेव्हा तेव्हा इथे तिथे कसे कसा करत होतो होतात आला गेला ती हा
""".split())
_MARATHI_LETTER = "\u0933"  # ळ: a Marathi letter, absent from standard Hindi spelling
_MARATHI_SUFFIX = "च्या"  # genitive ending Marathi attaches (भारताच्या); Hindi writes "के"
_WORD = re.compile(r"[\u0900-\u097F]+")


def hindi_marathi_vote(text: str) -> str | None:
    """``hi`` or ``mr`` when one language's exclusive words/spellings strictly outnumber the
    other's in ``text``, else None. Marathi evidence: :data:`MARATHI_WORDS`, words with ळ,
    words ending in च्या; Hindi evidence: :data:`HINDI_WORDS`."""
    hindi = marathi = 0
    for word in _WORD.findall(text):
        if word in HINDI_WORDS:
            hindi += 1
        elif word in MARATHI_WORDS or _MARATHI_LETTER in word or word.endswith(_MARATHI_SUFFIX):
            marathi += 1
    if hindi > marathi:
        return "hi"
    if marathi > hindi:
        return "mr"
    return None


# ---------------------------------------------------------------- fastText input

# Web addresses, e-mail addresses and file names: no language, but fastText reads their
# letters ("Email: franz371...@gmail.com" -> fr).
_ADDRESS = re.compile(r"(?:https?://|www\.)\S+|[^\s@]+@[^\s@]+|\S+\.(?:com|org|net|html?|jpe?g|png|gif|pdf|docx?)\b",
                      re.IGNORECASE)
_MIN_CASED_FOR_CAPS = 4


def fasttext_input(text: str) -> str:
    """The text fastText reads in the improved mode (step 4; the script rules read the
    original): addresses removed (unless nothing with letters would be left), and an
    all-capitals text (>= 4 cased letters, >= 80 % upper case) lower-cased, since lid.176
    learnt from ordinary case ("LOCATION HAS CLOSED." -> es, "location has closed." -> en)."""
    if "@" in text or "." in text:
        stripped = " ".join(_ADDRESS.sub(" ", text).split())
        if any(c.isalpha() for c in stripped):
            text = stripped
    upper = sum(map(str.isupper, text))
    if upper >= _MIN_CASED_FOR_CAPS and 5 * upper >= 4 * (upper + sum(map(str.islower, text))):
        text = text.lower()
    return text


# ---------------------------------------------------------------- second opinion (CLD2)

SECOND_OPINION_BELOW = 0.7
SECOND_OPINION_TOP_K = 5


def second_opinion(label: str, method: str, ranked: Sequence[str], probs: Sequence[float],
                   other: str | None, dominant: str | None) -> tuple[str, str]:
    """Step 7: a second detector (CLD2) decides between fastText's likely labels.

    When fastText's probability of ``label`` is below :data:`SECOND_OPINION_BELOW` (0.7),
    and the other detector's label ``other`` is among fastText's top
    :data:`SECOND_OPINION_TOP_K` (5) and written in the dominant script, ``other`` wins
    (method ``cld2``). A word decision (``script:Deva+words``) is never overruled. The
    thresholds were chosen on the dev half of the evaluation set
    (``benchmarks/lid/RESULTS.md``): lid.176 is poorly calibrated on short texts, CLD2 is
    strong exactly where it is weak (short Latin-script and Devanagari texts), and
    requiring agreement with fastText's top 5 keeps CLD2's own misses out.
    """
    if other is None or other == label or method == "script:Deva+words":
        return label, method
    position = {lab: i for i, lab in enumerate(ranked[:SECOND_OPINION_TOP_K])}
    if other not in position or label not in ranked:
        return label, method
    if probs[ranked.index(label)] >= SECOND_OPINION_BELOW:
        return label, method
    if dominant is not None and other not in _labels_of(dominant):
        return label, method
    return other, "cld2"


def decide(text: str, ranked_labels: Callable[[], Sequence[str]]) -> tuple[str, str]:
    """(label, method) of ``text`` under steps 1-6; ``ranked_labels()`` is called (lazily)
    only when the script does not decide, and returns fastText's ranking, best first."""
    counts = script_counts(text)
    dominant = dominant_script(counts)
    decided = script_decision(text, dominant)
    if decided is not None:
        return decided
    label, method = restrict_to_script(ranked_labels(), counts, dominant)
    if label in ("hi", "mr"):
        vote = hindi_marathi_vote(text)
        if vote is not None and vote != label:
            return vote, "script:Deva+words"
    return label, method
