"""Versioned table: fastText lid.176 labels -> metadata (Wikipedia) language codes.

Metadata is keyed by Wikipedia language codes (as in MetaCLIP 2). lid.176 mostly uses the
same codes; the exceptions are spelled out below. Bump ``LID_TO_METADATA_VERSION`` whenever
the table changes: curated tables record it in ``_stats.json``.
"""

from __future__ import annotations

LID_TO_METADATA_VERSION = "lid176-wiki-1"

# All 176 labels of lid.176 (read from the model file; a test re-reads them to check).
LID176_LABELS = tuple("""
af als am an ar arz as ast av az azb ba bar bcl be bg bh bn bo bpy br bs bxr ca cbk ce ceb
ckb co cs cv cy da de diq dsb dty dv el eml en eo es et eu fa fi fr frr fy ga gd gl gn gom gu
gv he hi hif hr hsb ht hu hy ia id ie ilo io is it ja jbo jv ka kk km kn ko krc ku kv kw ky la
lb lez li lmo lo lrc lt lv mai mg mhr min mk ml mn mr mrj ms mt mwl my myv mzn nah nap nds ne
new nl nn no oc or os pa pam pfl pl pms pnb ps pt qu rm ro ru rue sa sah sc scn sco sd sh si sk
sl so sq sr su sv sw ta te tg th tk tl tr tt tyv ug uk ur uz vec vep vi vls vo wa war wuu xal
xmf yi yo yue zh
""".split())

# Labels whose Wikipedia code differs from the lid.176 label.
_RENAMED = {
    "cbk": "cbk-zam",  # Chavacano Wikipedia
    "yue": "zh-yue",  # Cantonese Wikipedia
}

LID_TO_METADATA: dict[str, str] = {label: _RENAMED.get(label, label) for label in LID176_LABELS}

# ---------------------------------------------------------------- improved LID (opt-in)

# The script(s) (ISO 15924) each lid.176 label is written in on the web. Used by the opt-in
# improved LID (``curation.lid_script``) to keep fastText's best label *among the languages
# written in the text's script*: a mostly-Greek text is never ``en``, a Han text never ``kk``.
# ``Jpan`` = Han + kana, ``Kore`` = Hangul (+ Hanja). Languages with two common scripts list both.
_SCRIPT_OF_LABELS = {
    "Arab": "ar arz azb ckb fa lrc mzn pnb ps sd ug ur",
    "Armn": "hy",
    "Beng": "as bn bpy",
    "Cyrl": "av ba be bg bxr ce cv kk krc kv ky lez mhr mk mn mrj myv os ru rue sah sr tg tt tyv "
            "uk uz xal",
    "Deva": "bh dty gom hi mai mr ne new sa",
    "Ethi": "am",
    "Geor": "ka xmf",
    "Grek": "el",
    "Gujr": "gu",
    "Guru": "pa",
    "Hani": "wuu yue zh",
    "Hebr": "he yi",
    "Jpan": "ja",
    "Khmr": "km",
    "Knda": "kn",
    "Kore": "ko",
    "Laoo": "lo",
    "Mlym": "ml",
    "Mymr": "my",
    "Orya": "or",
    "Sinh": "si",
    "Taml": "ta",
    "Telu": "te",
    "Thaa": "dv",
    "Thai": "th",
    "Tibt": "bo",
    "Latn": "af als an ast az bar bcl br bs ca cbk ceb co cs cy da de diq dsb en eml eo es et eu fi "
            "fr frr fy ga gd gl gn gv hif hr hsb ht hu ia id ie ilo io is it jbo jv kw la lb li lmo "
            "lt lv mg min ms mt mwl nah nap nds nl nn no oc pam pfl pl pms pt qu rm ro sc scn sco sh "
            "sk sl so sq sr su sv sw tk tl tr tt uz vec vep vi vls vo wa war yo ku",
}
LID176_SCRIPTS: dict[str, frozenset[str]] = {
    label: frozenset(script for script, labels in _SCRIPT_OF_LABELS.items() if label in labels.split())
    for label in LID176_LABELS
}

# CLD2 (pycld2) language codes -> lid.176 labels, for the improved LID's second opinion.
# Codes equal to a lid.176 label map to themselves; these are the ones spelled otherwise.
CLD2_TO_LID176: dict[str, str] = {"iw": "he", "jw": "jv", "zh-Hant": "zh", "sr-ME": "sr"}
