"""Read a curation output root without Spark: ``_stats.json`` and the tables, as pyarrow datasets.

Parquet tables are read with pyarrow; Delta tables through ``deltalake`` (the transaction log
says which files are live; reading the directory as plain Parquet would also pick up files an
overwrite replaced). Local paths and the URIs pyarrow knows (``s3://``, ``gs://``,
``hdfs://``, ``file://``) work; on Databricks use ``/Volumes/...`` or ``/dbfs/...`` paths.
"""

from __future__ import annotations

import json
import os
import urllib.parse

import pyarrow.dataset as ds
import pyarrow.fs as pafs

STATS_FILE = "_stats.json"  # written by curation.pipeline at the output root
TABLES = ("texts_lid", "matched", "rejects", "entry_counts", "thresholds", "entry_probs", "curated")


class ReportError(RuntimeError):
    """The output root cannot be reported on (missing stats, unreadable table, missing package)."""


def filesystem(uri: str) -> tuple[pafs.FileSystem, str]:
    """(pyarrow filesystem, path inside it) for a local path or a URI."""
    if uri.startswith("dbfs:"):
        raise ReportError(f"{uri}: pyarrow cannot open dbfs: URIs; use the /dbfs/... or /Volumes/... path")
    if "://" not in uri:
        return pafs.LocalFileSystem(), os.path.abspath(uri)
    if uri.startswith("file://"):
        return pafs.LocalFileSystem(), urllib.parse.unquote(uri[len("file://"):])
    try:
        return pafs.FileSystem.from_uri(uri)
    except Exception as exc:  # pyarrow raises several types for unknown schemes/credentials
        raise ReportError(f"cannot open {uri} with pyarrow: {exc}") from exc


def join(root: str, name: str) -> str:
    return f"{root.rstrip('/')}/{name}"


def exists(uri: str) -> bool:
    fs, path = filesystem(uri)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def read_stats(root: str) -> dict:
    """The run's ``_stats.json``; a ReportError when the root has none."""
    fs, path = filesystem(join(root, STATS_FILE))
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        raise ReportError(f"no {STATS_FILE} under {root}: is this the --output root of a curation run?")
    with fs.open_input_stream(path) as f:
        return json.loads(f.read().decode("utf-8"))


def write_text(uri: str, text: str) -> None:
    fs, path = filesystem(uri)
    parent = path.rsplit("/", 1)[0]
    if parent:
        fs.create_dir(parent, recursive=True)
    with fs.open_output_stream(path) as f:
        f.write(text.encode("utf-8"))


def detect_format(root: str, stats: dict) -> str:
    """``parquet`` or ``delta``: as recorded in ``_stats.json``, else from the first table found."""
    fmt = stats.get("run", {}).get("format")
    if fmt in ("parquet", "delta"):
        return fmt
    for name in TABLES:
        if exists(join(join(root, name), "_delta_log")):
            return "delta"
    return "parquet"


def open_table(root: str, name: str, fmt: str) -> ds.Dataset | None:
    """Table ``name`` under ``root`` as a pyarrow Dataset, or None when no stage has written it."""
    uri = join(root, name)
    if fmt == "delta":
        if not exists(join(uri, "_delta_log")):
            return None
        try:
            from deltalake import DeltaTable
        except ImportError as exc:
            raise ReportError("reading Delta tables needs the 'deltalake' package: "
                              "pip install 'worldwide-clip[report]'") from exc
        try:
            return DeltaTable(uri).to_pyarrow_dataset()
        except Exception as exc:  # e.g. DeltaProtocolError for deletion vectors
            raise ReportError(f"cannot read Delta table {uri}: {exc}") from exc
    if fmt != "parquet":
        raise ReportError(f"unknown table format {fmt!r}; expected parquet or delta")
    if not exists(join(uri, "_SUCCESS")):
        return None
    fs, path = filesystem(uri)
    return ds.dataset(path, filesystem=fs, format="parquet")
