"""The report's view of an output root, read through ``curation.readers`` (no Spark).

What is the report's own: a table no stage has written is *absent* (None, listed as missing in
the report) rather than an error, the format of a root comes from its ``_stats.json``, every
reading problem is a ``ReportError`` (which ``wwclip-report`` prints), and the HTML is written
next to the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow.dataset as ds

from curation import readers
from curation.layout import REALSYN_SECTION, REALSYN_TABLES, TABLES
from curation.readers import join


class ReportError(RuntimeError):
    """The output root cannot be reported on (missing stats, unreadable table, missing package)."""


@contextmanager
def _reporting() -> Iterator[None]:
    """Reader errors become ReportErrors (same message)."""
    try:
        yield
    except readers.ReaderError as exc:
        raise ReportError(str(exc)) from exc


def read_stats(root: str) -> dict:
    """The run's ``_stats.json``; a ReportError when the root has none."""
    with _reporting():
        return readers.read_stats(root)


def write_text(uri: str, text: str) -> None:
    with _reporting():
        fs, path = readers.filesystem(uri)
    parent = path.rsplit("/", 1)[0]
    if parent:
        fs.create_dir(parent, recursive=True)
    with fs.open_output_stream(path) as f:
        f.write(text.encode("utf-8"))


def detect_format(root: str, stats: dict) -> str:
    """``parquet`` or ``delta``: as recorded in ``_stats.json``, else from the first table found."""
    fmt = stats.get("run", {}).get("format") or stats.get(REALSYN_SECTION, {}).get("config", {}).get("format")
    if fmt in ("parquet", "delta"):
        return fmt
    with _reporting():
        if any(readers.exists(join(join(root, name), "_delta_log")) for name in (*TABLES, *REALSYN_TABLES)):
            return "delta"
    return "parquet"


def open_table(root: str, name: str, fmt: str) -> ds.Dataset | None:
    """Table ``name`` under ``root`` as a pyarrow Dataset, or None when no stage has written it
    (Delta: no ``_delta_log``; Parquet: no ``_SUCCESS``)."""
    if fmt not in ("parquet", "delta"):
        raise ReportError(f"unknown table format {fmt!r}; expected parquet or delta")
    uri = join(root, name)
    with _reporting():
        if not readers.exists(join(uri, "_delta_log" if fmt == "delta" else "_SUCCESS")):
            return None
        return readers.open_table(uri, format=fmt).dataset()
