"""Embedded default metadata, built offline from PyPI data (SPEC §4).

``wordfreq`` word lists give frequent words for ~40 languages; with the numbers 0–99 they
make a small but real metadata set, so the whole pipeline runs on a fresh machine with no
download. The built table is committed as ``curation/data/default_metadata.parquet``;
``python -m curation.default_metadata`` rebuilds it byte-for-byte.
"""

from __future__ import annotations

import argparse

from curation.metadata import (Metadata, default_metadata_path, is_punctuation_only,
                               validate_entry, write_metadata)

DEFAULT_METADATA_VERSION = "wordfreq-default-1"
DEFAULT_WORDS_PER_LANGUAGE = 3000
NUMBERS = tuple(str(i) for i in range(100))
# wordfreq codes whose Wikipedia (metadata) code differs
_WORDFREQ_TO_WIKI = {"fil": "tl", "nb": "no", "zh": "zh"}


def wordfreq_languages() -> list[str]:
    import wordfreq

    return sorted(wordfreq.available_languages(wordlist="best"))


def build_default_metadata(words_per_language: int = DEFAULT_WORDS_PER_LANGUAGE) -> Metadata:
    """Numbers 0–99 first (ids 0..99), then the language's most frequent valid words."""
    import wordfreq

    entries: dict[str, list[str]] = {}
    sources: dict[str, list[str]] = {}
    for wf_lang in wordfreq_languages():
        lang = _WORDFREQ_TO_WIKI.get(wf_lang, wf_lang)
        items, srcs, seen = list(NUMBERS), ["numbers"] * len(NUMBERS), set(NUMBERS)
        for word in wordfreq.top_n_list(wf_lang, words_per_language * 2, wordlist="best"):
            if len(items) - len(NUMBERS) >= words_per_language:
                break
            if word in seen or validate_entry(word) or is_punctuation_only(word):
                continue
            seen.add(word)
            items.append(word)
            srcs.append("wordfreq")
        entries.setdefault(lang, []).extend(items)
        sources.setdefault(lang, []).extend(srcs)
    return Metadata({k: tuple(v) for k, v in entries.items()}, {k: tuple(v) for k, v in sources.items()})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default=default_metadata_path())
    parser.add_argument("--words-per-language", type=int, default=DEFAULT_WORDS_PER_LANGUAGE)
    args = parser.parse_args(argv)
    metadata = build_default_metadata(args.words_per_language)
    write_metadata(metadata, args.output)
    total = sum(len(v) for v in metadata.entries.values())
    print(f"wrote {args.output}: {len(metadata.entries)} languages, {total} entries")


if __name__ == "__main__":
    main()
