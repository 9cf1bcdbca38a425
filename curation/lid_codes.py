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
