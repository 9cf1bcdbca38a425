"""Embedded sample data: a deterministic, multilingual, deliberately messy alt-text corpus.

Files (package data, UTF-8):

- ``default_alt_texts.jsonl.gz``: the default input of ``wwclip-curate`` when no ``--input`` is
  given (gzip JSON Lines ``{url, text, source_lang}``, mtime 0);
- ``vocabulary.json``: the per-language words, caption templates and URL parts it is made from.

``curation.samples.alt_texts`` is the generator (``python -m curation.demo_data`` rewrites the
default file byte-for-byte). This module needs no third-party import: the pipeline asks it for
a path only.
"""

from importlib import resources

DEFAULT_ALT_TEXTS_FILE = "default_alt_texts.jsonl.gz"
VOCABULARY_FILE = "vocabulary.json"


def default_alt_texts_path() -> str:
    """The embedded default alt-text sample shipped inside the package."""
    return str(resources.files("curation.samples") / DEFAULT_ALT_TEXTS_FILE)


__all__ = ["DEFAULT_ALT_TEXTS_FILE", "VOCABULARY_FILE", "default_alt_texts_path"]
