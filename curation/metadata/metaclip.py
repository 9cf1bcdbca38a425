"""MetaCLIP JSON formats: import into and export from the metadata table format.

MetaCLIP ships English metadata as ``metadata.json``, a JSON list of strings, and MetaCLIP 2
per-language metadata as a JSON object ``{entry: source}`` in id order, where the source is
"" (numbers), "w" (WordNet), "u" (Wikipedia unigram), "b" (bigram) or "t" (title).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence

from curation import localfs
from curation.metadata.table import Metadata, MetadataError, metadata_from_table, metadata_table

METACLIP_SOURCE_CODES = {"": "numbers", "w": "wordnet", "u": "wiki_unigram", "b": "wiki_bigram",
                         "t": "wiki_title"}
_SOURCE_TO_METACLIP = {v: k for k, v in METACLIP_SOURCE_CODES.items()}
METACLIP_LIST_SOURCE = "metaclip"


def read_metaclip_json(path: str) -> tuple[list[str], list[str]]:
    """(entries, sources) from a MetaCLIP list file or ``{entry: source}`` file, in file order.

    List entries get source ``metaclip``; dict codes map through ``METACLIP_SOURCE_CODES``
    (unknown codes are kept verbatim). Entries are returned as they are: validate or merge
    them to find problems.
    """
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise MetadataError(f"cannot read MetaCLIP metadata {path}: {exc}") from exc
    if isinstance(data, list):
        bad = [i for i, e in enumerate(data) if not isinstance(e, str)]
        if bad:
            raise MetadataError(f"{path}: list items must be strings; item {bad[0]} is {data[bad[0]]!r}")
        return list(data), [METACLIP_LIST_SOURCE] * len(data)
    if isinstance(data, dict):
        bad_sources = [k for k, v in data.items() if not isinstance(v, str)]
        if bad_sources:
            raise MetadataError(f"{path}: values must be source strings; {bad_sources[0]!r} has "
                                f"{data[bad_sources[0]]!r}")
        return list(data), [METACLIP_SOURCE_CODES.get(v, v) for v in data.values()]
    raise MetadataError(f"{path}: expected a JSON list of strings or an object {{entry: source}}, "
                        f"found {type(data).__name__}")


def write_metaclip_json(entries: Sequence[str], sources: Sequence[str] | None, path: str,
                        fmt: str = "dict") -> None:
    """Write one language as a MetaCLIP ``list`` (``metadata.json``) or ``dict`` file (atomically)."""
    if fmt == "list":
        data: object = list(entries)
    elif fmt == "dict":
        sources = sources if sources is not None else [METACLIP_LIST_SOURCE] * len(entries)
        data = {e: _SOURCE_TO_METACLIP.get(s, s) for e, s in zip(entries, sources)}
        if len(data) != len(entries):
            raise MetadataError(f"{path}: duplicate entries cannot be written as a JSON object")
    else:
        raise ValueError(f"fmt must be 'list' or 'dict', got {fmt!r}")
    localfs.write_text(path, json.dumps(data, ensure_ascii=False))


def metadata_from_metaclip(files: Mapping[str, str]) -> Metadata:
    """Import ``{lang: path}`` MetaCLIP JSON files strictly: any invalid or repeated entry
    raises :class:`MetadataError` with the full report (use the builder to drop them instead)."""
    table = metadata_table((lang, *read_metaclip_json(path)) for lang, path in files.items())
    return metadata_from_table(table, ", ".join(f"{k}={v}" for k, v in files.items()))


def export_metaclip(metadata: Metadata, out_dir: str, fmt: str = "dict") -> list[str]:
    """Write ``<out_dir>/<lang>.json`` per language; returns the paths."""
    paths = []
    for lang in metadata.languages:
        path = os.path.join(out_dir, f"{lang}.json")
        write_metaclip_json(metadata.entries[lang], metadata.sources[lang], path, fmt)
        paths.append(path)
    return paths
