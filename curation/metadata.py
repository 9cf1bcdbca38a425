"""Metadata tables (SPEC §4): ``(lang, entry_id, entry, source)``, ids 0..n-1 per language.

Metadata is small next to the alt-text corpus (bounded by languages x entries), so it is
read on the driver with pyarrow, validated once, and shipped to workers as plain string
lists; each worker builds its own automata from them (see ``curation.matching.Matcher``).
"""

from __future__ import annotations

import hashlib
import os
import string
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import pyarrow as pa
import pyarrow.parquet as pq

MAX_ENTRY_CHARS = 256
METADATA_SCHEMA = pa.schema([
    pa.field("lang", pa.string(), nullable=False),
    pa.field("entry_id", pa.int32(), nullable=False),
    pa.field("entry", pa.string(), nullable=False),
    pa.field("source", pa.string(), nullable=False),
])
DEFAULT_METADATA_FILE = "default_metadata.parquet"
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
        rows = {"lang": [], "entry_id": [], "entry": [], "source": []}
        for lang in self.languages:
            for i, (entry, source) in enumerate(zip(self.entries[lang], self.sources[lang])):
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


def metadata_from_table(table: pa.Table, where: str = "metadata") -> Metadata:
    """Validate and convert; raises MetadataError listing (up to 20) problems."""
    problems = validate_metadata(table)
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise MetadataError(f"invalid metadata in {where}: {len(problems)} problem(s)\n  {shown}{more}")
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
    rows = {"lang": [], "entry_id": [], "entry": [], "source": []}
    for lang, items in entries.items():
        for i, entry in enumerate(items):
            rows["lang"].append(lang)
            rows["entry_id"].append(i)
            rows["entry"].append(entry)
            rows["source"].append(source)
    return metadata_from_table(pa.Table.from_pydict(rows, schema=METADATA_SCHEMA), "lists")


def default_metadata_path() -> str:
    """The embedded default metadata table shipped inside the package."""
    return str(resources.files("curation") / "data" / DEFAULT_METADATA_FILE)


def read_metadata(path: str | None = None) -> Metadata:
    """Read a metadata table (Parquet file or directory; default: the embedded one)."""
    path = path or default_metadata_path()
    if not os.path.exists(path):
        raise MetadataError(f"metadata not found: {path}")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise MetadataError(f"cannot read metadata table {path}: {exc}") from exc
    return metadata_from_table(table, path)


def write_metadata(metadata: Metadata, path: str) -> None:
    """Write one Parquet file in the table format (sorted by lang, entry_id: deterministic)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    pq.write_table(metadata.to_table(), path, compression="zstd")
