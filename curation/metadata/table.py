"""The metadata model (SPEC §4): ``(lang, entry_id, entry, source)``, ids 0..n-1 per language.

One entry is valid when :func:`validate_entry` finds nothing; a table when every entry is,
ids are 0..n-1 per language and no entry repeats within a language (:func:`validate_metadata`).
A table is never fixed silently: it is refused with every problem listed.
"""

from __future__ import annotations

import hashlib
import string
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pyarrow as pa

MAX_ENTRY_CHARS = 256
METADATA_SCHEMA = pa.schema([
    pa.field("lang", pa.string(), nullable=False),
    pa.field("entry_id", pa.int32(), nullable=False),
    pa.field("entry", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
])
_PUNCT_OR_SPACE = frozenset(string.punctuation) | frozenset(" \t\n\r")


class MetadataError(ValueError):
    """Raised with a readable report when a metadata table breaks the format."""


@dataclass(frozen=True)
class Metadata:
    """Validated metadata: per language, entries in id order (and their sources)."""

    entries: Mapping[str, tuple[str, ...]]
    sources: Mapping[str, tuple[str, ...]]

    @property
    def languages(self) -> list[str]:
        return sorted(self.entries)

    def n_entries(self, lang: str) -> int:
        return len(self.entries.get(lang, ()))

    def fingerprint(self) -> str:
        """Content hash: caches of automata and stats are keyed by it."""
        h = hashlib.sha256()
        for lang in self.languages:
            h.update(lang.encode() + b"\x00")
            for entry in self.entries[lang]:
                h.update(entry.encode() + b"\x01")
        return h.hexdigest()[:16]

    def to_table(self) -> pa.Table:
        """The table format, sorted by (lang, entry_id): the same metadata gives the same table."""
        return metadata_table((lang, self.entries[lang], self.sources[lang]) for lang in self.languages)


def metadata_table(parts: Iterable[tuple[str, Sequence[str], Sequence[str]]]) -> pa.Table:
    """``(lang, entries, sources)`` parts -> a table in ``METADATA_SCHEMA``, ids 0..n-1 in list
    order within each part (not validated: see :func:`metadata_from_table`)."""
    rows: dict[str, list] = {"lang": [], "entry_id": [], "entry": [], "source": []}
    for lang, entries, sources in parts:
        for i, (entry, source) in enumerate(zip(entries, sources)):
            rows["lang"].append(lang)
            rows["entry_id"].append(i)
            rows["entry"].append(entry)
            rows["source"].append(source)
    return pa.Table.from_pydict(rows, schema=METADATA_SCHEMA)


def is_punctuation_only(entry: str) -> bool:
    return all(c in _PUNCT_OR_SPACE or unicodedata.category(c).startswith("P") for c in entry)


def validate_entry(entry: object) -> str | None:
    """The reason an entry is invalid, or None."""
    if not isinstance(entry, str) or not entry:
        return "empty entry"
    if len(entry) > MAX_ENTRY_CHARS:
        return f"longer than {MAX_ENTRY_CHARS} characters"
    if entry != entry.strip():
        return "leading or trailing whitespace"
    if is_punctuation_only(entry):
        return "punctuation only"
    if not unicodedata.is_normalized("NFC", entry):
        return "not NFC-normalised"
    if any(0xD800 <= ord(c) <= 0xDFFF for c in entry):
        return "lone surrogate (invalid UTF-8)"
    return None


def validate_metadata(table: pa.Table) -> list[str]:
    """All problems of a metadata table, as readable lines (empty list = valid).

    Never fixes anything silently: a bad table is reported and refused.
    """
    missing = [f.name for f in METADATA_SCHEMA if f.name not in table.column_names]
    if missing:
        return [f"missing column(s) {missing}; expected {METADATA_SCHEMA.names}"]
    problems: list[str] = []
    per_lang: dict[str, dict[int, str]] = {}
    seen: dict[tuple[str, str], int] = {}
    for lang, entry_id, entry in zip(table.column("lang").to_pylist(),
                                     table.column("entry_id").to_pylist(),
                                     table.column("entry").to_pylist()):
        if not lang:
            problems.append(f"row with empty lang (entry {entry!r})")
            continue
        if entry_id is None:
            problems.append(f"{lang}: entry {entry!r} has no entry_id")
            continue
        reason = validate_entry(entry)
        if reason:
            problems.append(f"{lang}[{entry_id}] {entry!r}: {reason}")
        ids = per_lang.setdefault(lang, {})
        if entry_id in ids:
            problems.append(f"{lang}: entry_id {entry_id} used twice")
        ids[entry_id] = entry
        if (lang, entry) in seen:
            problems.append(f"{lang}: duplicate entry {entry!r} (ids {seen[(lang, entry)]} and {entry_id})")
        else:
            seen[(lang, entry)] = entry_id
    for lang, ids in per_lang.items():
        if sorted(ids) != list(range(len(ids))):
            problems.append(f"{lang}: entry ids are not 0..{len(ids) - 1}")
    return problems


def format_problems(problems: Sequence[str], where: str, limit: int = 20) -> str:
    """The message of a refused table: the count, up to ``limit`` problems, and the way out."""
    shown = "\n  ".join(problems[:limit])
    more = f"\n  ... and {len(problems) - limit} more" if len(problems) > limit else ""
    return (f"invalid metadata in {where}: {len(problems)} problem(s)\n  {shown}{more}\n"
            "(python -m curation.metadata clean IN OUT, or wwclip-curate --clean-metadata, drops or fixes "
            "such entries and reports every change)")


def metadata_from_table(table: pa.Table, where: str = "metadata") -> Metadata:
    """Validate and convert; raises MetadataError listing (up to 20) problems."""
    problems = validate_metadata(table)
    if problems:
        raise MetadataError(format_problems(problems, where))
    if "source" not in table.column_names:
        table = table.append_column("source", pa.array([""] * table.num_rows, pa.string()))
    table = table.sort_by([("lang", "ascending"), ("entry_id", "ascending")])
    entries: dict[str, list[str]] = {}
    sources: dict[str, list[str]] = {}
    for lang, entry, source in zip(table.column("lang").to_pylist(), table.column("entry").to_pylist(),
                                   table.column("source").to_pylist()):
        entries.setdefault(lang, []).append(entry)
        sources.setdefault(lang, []).append(source or "")
    return Metadata({k: tuple(v) for k, v in entries.items()}, {k: tuple(v) for k, v in sources.items()})


def metadata_from_lists(entries: Mapping[str, Sequence[str]], source: str = "user") -> Metadata:
    """Build (and validate) metadata from ``{lang: [entry, ...]}``; ids follow list order."""
    table = metadata_table((lang, items, [source] * len(items)) for lang, items in entries.items())
    return metadata_from_table(table, "lists")
