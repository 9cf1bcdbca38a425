"""Metadata files: Parquet read/write, file checks, the stored version, the embedded default.

Metadata is small next to the alt-text corpus (bounded by languages x entries), so it is
read on the driver with pyarrow, validated once, and shipped to workers as plain string
lists; each worker builds its own automata from them (see ``curation.matching.Matcher``).
A file is written sorted by (lang, entry_id) with zstd, so the same metadata gives the same
bytes; :func:`write_metadata_atomic` also stores a version string in the Parquet schema
metadata and replaces the file atomically (``curation.localfs``).
"""

from __future__ import annotations

import os
from importlib import resources

import pyarrow as pa
import pyarrow.parquet as pq

from curation.localfs import atomic_write
from curation.metadata.table import (
    METADATA_SCHEMA,
    Metadata,
    MetadataError,
    format_problems,
    metadata_from_table,
    validate_metadata,
)

DEFAULT_METADATA_FILE = "default_metadata.parquet"
VERSION_KEY = b"metadata_version"


def default_metadata_path() -> str:
    """The embedded default metadata table shipped inside the package (see ``curation.metadata.default``)."""
    return str(resources.files("curation.metadata") / DEFAULT_METADATA_FILE)


def read_metadata_table(path: str | None = None) -> pa.Table:
    """The raw table of a metadata Parquet file or directory (default: the embedded one),
    unchecked; a MetadataError when it is missing or not Parquet."""
    path = path or default_metadata_path()
    if not os.path.exists(path):
        raise MetadataError(f"metadata not found: {path}")
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise MetadataError(f"cannot read metadata table {path}: {exc}") from exc


def _type_ok(expected: pa.DataType, actual: pa.DataType) -> bool:
    """Any integer type for ``entry_id`` (int32 is what we write; int64 is what most tools
    write), any string type for the text columns."""
    if pa.types.is_integer(expected):
        return pa.types.is_integer(actual)
    return pa.types.is_string(actual) or pa.types.is_large_string(actual) or str(actual) == "string_view"


def column_problems(table: pa.Table) -> list[str]:
    """Problems of a metadata table's columns, before its rows are looked at: a column of the
    wrong type, nulls in ``lang``/``entry_id``/``entry`` (a null ``source`` reads as ""),
    strings that are not valid UTF-8. ``validate`` and ``curate`` both apply these."""
    problems = []
    for field in METADATA_SCHEMA:
        if field.name not in table.column_names:
            continue
        actual = table.schema.field(field.name).type
        if not _type_ok(field.type, actual):
            kind = "an integer type" if pa.types.is_integer(field.type) else "a string type"
            problems.append(f"column {field.name!r} has type {actual}, expected {kind} ({field.type})")
        elif field.name != "source" and table.column(field.name).null_count:
            problems.append(f"column {field.name!r} has {table.column(field.name).null_count} null(s)")
        elif not pa.types.is_integer(field.type):
            try:
                table.column(field.name).validate(full=True)
            except pa.ArrowInvalid as exc:
                problems.append(f"column {field.name!r} is not valid UTF-8: {exc}")
    return problems


def read_metadata(path: str | None = None) -> Metadata:
    """Read and validate a metadata table (Parquet file or directory; default: the embedded
    one): the same checks as ``validate_metadata_file``, a MetadataError listing the problems."""
    path = path or default_metadata_path()
    table = read_metadata_table(path)
    problems = column_problems(table)
    if problems:
        raise MetadataError(format_problems(problems, path))
    return metadata_from_table(table, path)


def write_metadata(metadata: Metadata, path: str) -> None:
    """Write one Parquet file in the table format (sorted by lang, entry_id: deterministic)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    pq.write_table(metadata.to_table(), path, compression="zstd")


def validate_metadata_file(path: str) -> list[str]:
    """All problems of a metadata Parquet file: unreadable, column problems (types, nulls,
    UTF-8), then everything :func:`validate_metadata` checks. Empty list = valid; exactly
    the tables ``read_metadata`` (and so ``curate``) accepts."""
    if not os.path.exists(path):
        return [f"not found: {path}"]
    try:
        table = read_metadata_table(path)
    except MetadataError as exc:
        return [str(exc)]
    return column_problems(table) or validate_metadata(table)


def write_metadata_atomic(metadata: Metadata, path: str, version: str | None = None) -> None:
    """Like :func:`write_metadata`, but readers never see a half-written file (temp file +
    ``os.replace``), and ``version`` is stored in the Parquet schema metadata."""
    table = metadata.to_table()
    if version:
        table = table.replace_schema_metadata({VERSION_KEY: version.encode()})
    atomic_write(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


def read_metadata_version(path: str | None = None) -> str | None:
    """The version string stored by :func:`write_metadata_atomic` (None if absent)."""
    schema = pq.read_schema(path or default_metadata_path())
    value = (schema.metadata or {}).get(VERSION_KEY)
    return value.decode() if value else None
