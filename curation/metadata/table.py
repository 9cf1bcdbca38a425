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


# ---------------------------------------------------------------- merging sources
#
# Full metadata for one language is the union of several sources (SPEC §4). They are merged in
# a fixed priority order: an entry keeps the id and the source of the first part that has it,
# later copies are dropped and counted. Quotas (the paper's caps) count *newly added* entries,
# as in MetaCLIP 2's merge, so a unigram that WordNet already gave does not use up the
# unigram cap. Invalid candidates are dropped, counted per reason and reported, never fixed.

# Imported MetaCLIP lists first (their ids stay the reference's), then MetaCLIP 2's own order.
SOURCE_PRIORITY = ("metaclip", "numbers", "wordnet", "wiki_unigram", "wiki_bigram", "wiki_title")
NUMBERS = tuple(str(i) for i in range(100))
_REPORT_EXAMPLES = 5


@dataclass(frozen=True)
class SourcePart:
    """One source's ranked candidates for one language.

    ``quota``: at most this many *new* entries are taken (None: all). ``labels``: per-entry
    source names (imported MetaCLIP dicts carry their own); default ``source`` for all.
    """

    source: str
    entries: Sequence[str]
    quota: int | None = None
    labels: Sequence[str] | None = None


@dataclass
class MergeReport:
    """What a merge kept and dropped, per source: the builder's report is made of these."""

    added: dict[str, int]
    duplicates: dict[str, int]
    rejected: dict[str, dict[str, int]]
    examples: dict[str, list[tuple[str, str]]]

    def to_dict(self) -> dict:
        return {"added": dict(self.added), "duplicates": dict(self.duplicates),
                "rejected": {s: dict(r) for s, r in self.rejected.items()},
                "rejected_examples": {s: [[e, r] for e, r in ex] for s, ex in self.examples.items()}}


def merge_sources(parts: Sequence[SourcePart]) -> tuple[list[str], list[str], MergeReport]:
    """Merge ranked source parts of one language into (entries, sources, report).

    Entry ids follow the part order, then each part's rank order. The result always passes
    :func:`validate_metadata`.
    """
    entries: list[str] = []
    sources: list[str] = []
    seen: set[str] = set()
    report = MergeReport({}, {}, {}, {})
    for part in parts:
        labels = part.labels if part.labels is not None else [part.source] * len(part.entries)
        if len(labels) != len(part.entries):
            raise ValueError(f"source {part.source!r}: {len(part.entries)} entries but {len(labels)} labels")
        added = 0
        report.added.setdefault(part.source, 0)
        for entry, label in zip(part.entries, labels):
            if part.quota is not None and added >= part.quota:
                break
            reason = validate_entry(entry)
            if reason:
                bucket = report.rejected.setdefault(part.source, {})
                bucket[reason] = bucket.get(reason, 0) + 1
                examples = report.examples.setdefault(part.source, [])
                if len(examples) < _REPORT_EXAMPLES:
                    examples.append((str(entry), reason))
                continue
            if entry in seen:
                report.duplicates[part.source] = report.duplicates.get(part.source, 0) + 1
                continue
            seen.add(entry)
            entries.append(entry)
            sources.append(label or part.source)
            added += 1
        report.added[part.source] += added
    return entries, sources, report


def merge_languages(parts: Mapping[str, Sequence[SourcePart]]) -> tuple[Metadata, dict[str, MergeReport]]:
    """Merge ``{lang: [SourcePart, ...]}``; languages left with no entry are omitted."""
    entries: dict[str, tuple[str, ...]] = {}
    sources: dict[str, tuple[str, ...]] = {}
    reports: dict[str, MergeReport] = {}
    for lang in sorted(parts):
        items, labels, report = merge_sources(parts[lang])
        reports[lang] = report
        if items:
            entries[lang] = tuple(items)
            sources[lang] = tuple(labels)
    return Metadata(entries, sources), reports


def source_counts(metadata: Metadata) -> dict[str, dict[str, int]]:
    """``{lang: {source: number of entries}}``."""
    out: dict[str, dict[str, int]] = {}
    for lang in metadata.languages:
        counts: dict[str, int] = {}
        for source in metadata.sources[lang]:
            counts[source] = counts.get(source, 0) + 1
        out[lang] = counts
    return out


def format_source_table(counts: Mapping[str, Mapping[str, int]], max_rows: int | None = None) -> str:
    """Plain-text table: one row per language, one column per source, totals last."""
    known = [s for s in SOURCE_PRIORITY if any(s in c for c in counts.values())]
    other = sorted({s for c in counts.values() for s in c} - set(known))
    columns = known + other
    header = ["lang", *columns, "total"]
    rows = []
    langs = sorted(counts)
    shown = langs if max_rows is None else langs[:max_rows]
    for lang in shown:
        c = counts[lang]
        rows.append([lang, *(str(c.get(s, 0)) for s in columns), str(sum(c.values()))])
    totals = [sum(counts[lang].get(s, 0) for lang in langs) for s in columns]
    rows.append([f"all ({len(langs)})", *map(str, totals), str(sum(totals))])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    for r in rows:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
    if max_rows is not None and len(langs) > max_rows:
        lines.insert(-1, f"... {len(langs) - max_rows} more languages")
    return "\n".join(lines)


# ---------------------------------------------------------------- files: validation, versions, atomic writes

VERSION_KEY = b"metadata_version"


def validate_metadata_file(path: str) -> list[str]:
    """All problems of a metadata Parquet file: unreadable, wrong column types, invalid UTF-8,
    then everything :func:`validate_metadata` checks. Empty list = valid."""
    if not os.path.exists(path):
        return [f"not found: {path}"]
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        return [f"cannot read Parquet {path}: {exc}"]
    problems = []
    for field in METADATA_SCHEMA:
        if field.name in table.column_names:
            actual = table.schema.field(field.name).type
            if actual != field.type and not (field.type == pa.string() and actual == pa.large_string()):
                problems.append(f"column {field.name!r} has type {actual}, expected {field.type}")
            if table.column(field.name).null_count:
                problems.append(f"column {field.name!r} has {table.column(field.name).null_count} null(s)")
    for name in ("lang", "entry", "source"):
        if name in table.column_names:
            try:
                table.column(name).validate(full=True)
            except pa.ArrowInvalid as exc:
                problems.append(f"column {name!r} is not valid UTF-8: {exc}")
    if problems:
        return problems
    return validate_metadata(table)


def write_metadata_atomic(metadata: Metadata, path: str, version: str | None = None) -> None:
    """Like :func:`write_metadata`, but readers never see a half-written file (temp file +
    ``os.replace``), and ``version`` is stored in the Parquet schema metadata."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    table = metadata.to_table()
    if version:
        table = table.replace_schema_metadata({VERSION_KEY: version.encode()})
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def read_metadata_version(path: str | None = None) -> str | None:
    """The version string stored by :func:`write_metadata_atomic` (None if absent)."""
    schema = pq.read_schema(path or default_metadata_path())
    value = (schema.metadata or {}).get(VERSION_KEY)
    return value.decode() if value else None


# ---------------------------------------------------------------- MetaCLIP JSON formats
#
# MetaCLIP ships English metadata as ``metadata.json``, a JSON list of strings, and MetaCLIP 2
# per-language metadata as a JSON object ``{entry: source}`` in id order, where the source is
# "" (numbers), "w" (WordNet), "u" (Wikipedia unigram), "b" (bigram) or "t" (title).

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
    import json

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
    """Write one language as a MetaCLIP ``list`` (``metadata.json``) or ``dict`` file."""
    import json

    if fmt == "list":
        data: object = list(entries)
    elif fmt == "dict":
        sources = sources if sources is not None else [METACLIP_LIST_SOURCE] * len(entries)
        data = {e: _SOURCE_TO_METACLIP.get(s, s) for e, s in zip(entries, sources)}
        if len(data) != len(entries):
            raise MetadataError(f"{path}: duplicate entries cannot be written as a JSON object")
    else:
        raise ValueError(f"fmt must be 'list' or 'dict', got {fmt!r}")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
    os.replace(tmp, path)


def metadata_from_metaclip(files: Mapping[str, str]) -> Metadata:
    """Import ``{lang: path}`` MetaCLIP JSON files strictly: any invalid or repeated entry
    raises :class:`MetadataError` with the full report (use the builder to drop them instead)."""
    rows = {"lang": [], "entry_id": [], "entry": [], "source": []}
    for lang, path in files.items():
        items, labels = read_metaclip_json(path)
        for i, (entry, source) in enumerate(zip(items, labels)):
            rows["lang"].append(lang)
            rows["entry_id"].append(i)
            rows["entry"].append(entry)
            rows["source"].append(source)
    table = pa.Table.from_pydict(rows, schema=METADATA_SCHEMA)
    return metadata_from_table(table, ", ".join(f"{k}={v}" for k, v in files.items()))


def export_metaclip(metadata: Metadata, out_dir: str, fmt: str = "dict") -> list[str]:
    """Write ``<out_dir>/<lang>.json`` per language; returns the paths."""
    paths = []
    for lang in metadata.languages:
        path = os.path.join(out_dir, f"{lang}.json")
        write_metaclip_json(metadata.entries[lang], metadata.sources[lang], path, fmt)
        paths.append(path)
    return paths


# ---------------------------------------------------------------- CLI

def _lang_path(value: str) -> tuple[str, str]:
    lang, sep, path = value.partition("=")
    if not sep or not lang or not path:
        raise ValueError(f"expected LANG=PATH, got {value!r}")
    return lang, path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m curation.metadata {validate,stats,import-metaclip,export-metaclip} ...``"""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m curation.metadata",
                                     description="Check, inspect and convert metadata tables (SPEC §4).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="report every problem of a metadata Parquet file; exit 1 if any")
    p.add_argument("path", nargs="?", default=None, help="metadata Parquet file (default: the embedded one)")
    p.add_argument("--max-problems", type=int, default=50)
    p = sub.add_parser("stats", help="entries per language and source")
    p.add_argument("path", nargs="?", default=None)
    p = sub.add_parser("import-metaclip", help="MetaCLIP JSON files -> metadata Parquet (strict)")
    p.add_argument("files", nargs="+", metavar="LANG=PATH")
    p.add_argument("--output", required=True)
    p = sub.add_parser("export-metaclip", help="metadata Parquet -> <out_dir>/<lang>.json")
    p.add_argument("path")
    p.add_argument("out_dir")
    p.add_argument("--format", choices=("dict", "list"), default="dict",
                   help="dict: MetaCLIP 2 {entry: source}; list: metadata.json style [%(default)s]")
    args = parser.parse_args(argv)

    if args.command == "validate":
        path = args.path or default_metadata_path()
        problems = validate_metadata_file(path)
        if problems:
            print(f"INVALID {path}: {len(problems)} problem(s)")
            for line in problems[:args.max_problems]:
                print(f"  {line}")
            if len(problems) > args.max_problems:
                print(f"  ... and {len(problems) - args.max_problems} more")
            return 1
        metadata = read_metadata(path)
        total = sum(len(v) for v in metadata.entries.values())
        version = read_metadata_version(path)
        print(f"OK {path}: {len(metadata.entries)} languages, {total} entries"
              + (f", version {version}" if version else ""))
        return 0
    try:
        if args.command == "stats":
            print(format_source_table(source_counts(read_metadata(args.path))))
        elif args.command == "import-metaclip":
            metadata = metadata_from_metaclip(dict(_lang_path(v) for v in args.files))
            write_metadata_atomic(metadata, args.output)
            print(format_source_table(source_counts(metadata)))
            print(f"wrote {args.output}")
        else:
            paths = export_metaclip(read_metadata(args.path), args.out_dir, args.format)
            print(f"wrote {len(paths)} file(s) to {args.out_dir}")
    except (MetadataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
