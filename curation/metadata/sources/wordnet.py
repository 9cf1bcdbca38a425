"""Open Multilingual WordNet lemmas per language, from a local WN-LMF file, via ``wn``.

``wn`` imports the WN-LMF XML (plain, ``.gz``/``.xz``, or a wordnet package archive) into its
SQLite data directory; nothing is downloaded. By default a temporary data directory is
used and removed afterwards, so the user's own ``wn`` data is never touched.

Entries, as MetaCLIP 2 builds them: the lemma of every word (lexical entry; in OMW every
entry has a sense), ``_`` turned into a space; for zh, ja and fr the ``+`` that OMW uses to join morphemes is
removed. Lexicon languages (BCP 47, e.g. ``cmn-Hans``, ``zsm``, ``nb``) map to Wikipedia codes
through :data:`WORDNET_TO_WIKI`. Entries per language are unique and sorted (code points).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

# ISO 639-2/3 codes used by OMW lexicons -> Wikipedia codes (two-letter codes map to themselves).
WORDNET_TO_WIKI = {
    "als": "sq",  # Tosk Albanian (OMW's Albanian wordnet), not the Alemannic Wikipedia "als"
    "arb": "ar", "bul": "bg", "cat": "ca", "cmn": "zh", "dan": "da", "ell": "el", "eng": "en",
    "eus": "eu", "fas": "fa", "fin": "fi", "fra": "fr", "glg": "gl", "heb": "he", "hrv": "hr",
    "ind": "id", "isl": "is", "ita": "it", "jpn": "ja", "lit": "lt", "nld": "nl", "nno": "nn",
    "nob": "no", "nb": "no", "pol": "pl", "por": "pt", "qcn": "zh", "ron": "ro", "slk": "sk",
    "slv": "sl", "spa": "es", "swe": "sv", "tha": "th", "zsm": "ms", "yue": "zh-yue",
    "lat": "la", "rus": "ru", "ukr": "uk", "kor": "ko", "vie": "vi", "tur": "tr", "hin": "hi",
}
PLUS_JOINED_LANGUAGES = frozenset({"zh", "ja", "fr"})


def wordnet_lang_to_wiki(code: str) -> str:
    primary = code.strip().split("-")[0].split("_")[0].lower()
    return WORDNET_TO_WIKI.get(primary, primary)


def clean_lemma(lemma: str, lang: str) -> str:
    lemma = lemma.replace("_", " ")
    if lang in PLUS_JOINED_LANGUAGES:
        lemma = lemma.replace("+", "")
    return lemma


def wordnet_entries(paths: Sequence[str], data_dir: str | None = None) -> dict[str, list[str]]:
    """``{wiki lang: sorted unique lemmas}`` of every lexicon in the given WN-LMF files.

    With ``data_dir`` (an existing ``wn`` data directory), the files are added to it and every
    lexicon already there is read too; ``paths`` may then be empty.
    """
    from curation.metadata.sources.deps import require

    wn = require("wn", "wn", "reading WordNet")
    for path in paths:
        if not os.path.exists(path):
            raise FileNotFoundError(f"WordNet file not found: {path}")
    previous = wn.config.data_directory
    tmp = tempfile.TemporaryDirectory(prefix="wn-") if data_dir is None else None
    try:
        wn.config.data_directory = data_dir or tmp.name
        for path in paths:
            wn.add(path, progress_handler=None)
        per_lang: dict[str, set[str]] = {}
        for lexicon in wn.lexicons():
            lang = wordnet_lang_to_wiki(lexicon.language)
            bucket = per_lang.setdefault(lang, set())
            for lemma in wn.Wordnet(lexicon=lexicon.specifier()).lemmas():
                bucket.add(clean_lemma(str(lemma), lang))
        return {lang: sorted(items) for lang, items in sorted(per_lang.items()) if items}
    finally:
        wn.config.data_directory = previous
        if tmp is not None:
            tmp.cleanup()
