"""Embedded default metadata, built offline from PyPI data (SPEC §4).

``wordfreq`` word lists give frequent words for ~40 languages; Thai, which wordfreq lacks,
comes from the Thai National Corpus word frequencies bundled in ``pythainlp`` (CC0). With
the numbers 0–99 they make a small but real metadata set, so the whole pipeline runs on a
fresh machine with no download. The built table is committed as
``curation/metadata/default_metadata.parquet`` (its version is stored in the file's schema
metadata); ``python -m curation.default_metadata`` rebuilds it byte-for-byte (same package
versions) and writes it atomically, so readers never see a partial file.

Per language, ids 0..99 are the numbers, then the most frequent valid words in frequency
order (entries failing ``curation.metadata.validate_entry`` are skipped, not fixed).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from curation.metadata.io import default_metadata_path, read_metadata_version, write_metadata_atomic
from curation.metadata.merge import NUMBERS, SourcePart, merge_languages
from curation.metadata.table import Metadata, validate_entry

DEFAULT_METADATA_VERSION = "wordfreq-default-2"  # 2: Thai from pythainlp's TNC frequencies
DEFAULT_WORDS_PER_LANGUAGE = 3000
# wordfreq codes whose Wikipedia (metadata) code differs
_WORDFREQ_TO_WIKI = {"fil": "tl", "nb": "no", "zh": "zh"}
_THAI_BLOCK = (0x0E00, 0x0E7F)


def wordfreq_languages() -> list[str]:
    import wordfreq

    return sorted(wordfreq.available_languages(wordlist="best"))


def _first_valid(words: Iterable[str], n: int) -> list[str]:
    out, seen = [], set(NUMBERS)
    for word in words:
        if len(out) >= n:
            break
        if word in seen or validate_entry(word):
            continue
        seen.add(word)
        out.append(word)
    return out


def wordfreq_words(wf_lang: str, n: int) -> list[str]:
    import wordfreq

    return _first_valid(wordfreq.top_n_list(wf_lang, n * 2, wordlist="best"), n)


def thai_words(n: int) -> list[str]:
    """Most frequent Thai words of the Thai National Corpus list shipped inside ``pythainlp``
    (``corpus/tnc_freq.txt``, read directly: no download). Words without a Thai letter
    (English loans in Latin script) are skipped."""
    from importlib import resources

    text = (resources.files("pythainlp") / "corpus" / "tnc_freq.txt").read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        word, _, freq = line.partition("\t")
        if freq.strip().isdigit() and any(_THAI_BLOCK[0] <= ord(c) <= _THAI_BLOCK[1] for c in word):
            rows.append((word, int(freq)))
    rows.sort(key=lambda wf: (-wf[1], wf[0]))
    return _first_valid((w for w, _ in rows), n)


def build_default_metadata(words_per_language: int = DEFAULT_WORDS_PER_LANGUAGE) -> Metadata:
    """Numbers 0–99 first (ids 0..99), then the language's most frequent valid words."""
    words: dict[str, tuple[str, list[str]]] = {}
    for wf_lang in wordfreq_languages():
        words[_WORDFREQ_TO_WIKI.get(wf_lang, wf_lang)] = ("wordfreq", wordfreq_words(wf_lang, words_per_language))
    words.setdefault("th", ("pythainlp_tnc", thai_words(words_per_language)))
    parts = {lang: [SourcePart("numbers", NUMBERS), SourcePart(source, items)]
             for lang, (source, items) in words.items()}
    metadata, _ = merge_languages(parts)
    return metadata


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m curation.default_metadata", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=default_metadata_path())
    parser.add_argument("--words-per-language", type=int, default=DEFAULT_WORDS_PER_LANGUAGE)
    args = parser.parse_args(argv)
    metadata = build_default_metadata(args.words_per_language)
    write_metadata_atomic(metadata, args.output, DEFAULT_METADATA_VERSION)
    total = sum(len(v) for v in metadata.entries.values())
    print(f"wrote {args.output}: {len(metadata.entries)} languages, {total} entries, "
          f"version {read_metadata_version(args.output)}")
