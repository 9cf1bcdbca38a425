"""The one Spark-free reader of curation output: a table pinned as a snapshot of row groups.

Training, the report and tools read the tables without Spark. A Delta table is pinned to one
version with ``deltalake`` (time travel by ``version``), a Parquet table is a directory of part
files read with pyarrow. Both become the same thing: a ``TableSnapshot``, an ordered list of
files, each with its row-group sizes (what the training plan splits across ranks and workers),
read row group by row group (``RowGroupReader``) or scanned as one pyarrow Dataset
(``TableSnapshot.dataset``, the report's streamed reductions). Local paths and the URIs pyarrow
knows (``s3://``, ``gs://``, ``hdfs://``, ``file://``) work; on Databricks use ``/Volumes/...``
or ``/dbfs/...`` paths. ``read_stats`` reads a run's ``_stats.json``.

Delta pitfalls handled here (ECOSYSTEM §2): ``file_uris()`` silently ignores deletion vectors,
so their keep-masks are loaded and applied; column mapping changes physical column names, so
such tables are refused with a clear error instead of being read wrongly; a directory read as
plain Parquet would also pick up files an overwrite replaced, so only the log's live files are
read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import urllib.parse
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from curation.commits import is_hidden, manifest_problem, parse_manifest, uncommitted_message
from curation.layout import STATS_FILE, SUCCESS_FILE

log = logging.getLogger(__name__)

FORMATS = ("auto", "parquet", "delta")
# Reader features of a Delta protocol this reader knows it cannot honour.
_UNSUPPORTED_DELTA_READER_FEATURES = ("columnMapping",)


class ReaderError(RuntimeError):
    """A table or output root is missing, unreadable, or uses a feature this reader cannot honour."""


@dataclass(frozen=True)
class FileInfo:
    """One data file of the snapshot: where it is and how its rows are split into row groups."""

    path: str
    row_group_rows: tuple[int, ...]
    partition_values: tuple[tuple[str, str], ...] = ()
    # Per row group (min, max) of the key column (e.g. uid) when the footer has statistics.
    key_ranges: tuple[tuple[str, str] | None, ...] = ()
    has_deletion_vector: bool = False


@dataclass
class TableSnapshot:
    """A pinned, immutable view of a table: the unit of reproducibility for one training run."""

    uri: str
    format: str
    version: int | None
    files: list[FileInfo]
    schema: pa.Schema
    filesystem: pafs.FileSystem
    # Delta deletion vectors: file path -> boolean keep-mask over the file's rows.
    keep_masks: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        """Rows in the snapshot, deleted rows excluded."""
        total = 0
        for f in self.files:
            mask = self.keep_masks.get(f.path)
            total += int(mask.sum()) if mask is not None else sum(f.row_group_rows)
        return total

    def fingerprint(self) -> str:
        """Identity of the data layout; a resumed run must see the same one."""
        h = hashlib.sha256()
        h.update(f"{self.format}|{self.version}".encode())
        for f in self.files:
            h.update(f"{os.path.basename(f.path)}|{f.row_group_rows}".encode())
        return h.hexdigest()[:16]

    def row_group_keep_mask(self, file_index: int, row_group: int) -> np.ndarray | None:
        """Keep-mask of one row group's rows (None when the file has no deletion vector)."""
        f = self.files[file_index]
        mask = self.keep_masks.get(f.path)
        if mask is None:
            return None
        start = sum(f.row_group_rows[:row_group])
        return mask[start:start + f.row_group_rows[row_group]]

    def row_group_rows(self, file_index: int, row_group: int) -> int:
        """Live rows of one row group (deletion vectors applied)."""
        mask = self.row_group_keep_mask(file_index, row_group)
        if mask is not None:
            return int(mask.sum())
        return self.files[file_index].row_group_rows[row_group]

    def dataset(self) -> pads.Dataset:
        """The snapshot's files as one pyarrow Dataset, for streamed scans with column selection
        and filters; partition columns are strings, as ``RowGroupReader.read`` gives them.

        A Dataset cannot drop single rows of a file, so a snapshot with deletion vectors is
        refused (read it row group by row group, or purge the vectors)."""
        if self.keep_masks:
            raise ReaderError(f"{self.uri} has deletion vectors, which a pyarrow Dataset cannot apply; read it "
                              "with RowGroupReader or run REORG TABLE ... APPLY (PURGE)")
        schema = pq.read_schema(self.files[0].path, filesystem=self.filesystem)
        partitions = []
        for f in self.files:
            expr = pads.scalar(True)
            for name, value in f.partition_values:
                expr = expr & (pads.field(name) == pa.scalar(value, pa.string()))
            partitions.append(expr)
        for name in sorted({n for f in self.files for n, _ in f.partition_values} - set(schema.names)):
            schema = schema.append(pa.field(name, pa.string()))
        return pads.FileSystemDataset.from_paths([f.path for f in self.files], schema=schema,
                                                 format=pads.ParquetFileFormat(), filesystem=self.filesystem,
                                                 partitions=partitions)


def filesystem(uri: str, storage_options: dict[str, str] | None = None) -> tuple[pafs.FileSystem, str]:
    """(pyarrow filesystem, path inside it) for a local path or a URI.

    ``storage_options`` reach deltalake only; pyarrow resolves credentials from the environment."""
    if uri.startswith("dbfs:"):
        raise ReaderError(f"{uri}: pyarrow cannot open dbfs: URIs; use the /dbfs/... or /Volumes/... path")
    if "://" not in uri:
        return pafs.LocalFileSystem(), os.path.abspath(uri)
    if uri.startswith("file://"):
        return pafs.LocalFileSystem(), urllib.parse.unquote(uri[len("file://"):])
    if storage_options:
        log.info("storage_options are passed to deltalake only; pyarrow resolves %s from the environment", uri)
    try:
        return pafs.FileSystem.from_uri(uri)
    except Exception as exc:  # pyarrow raises several types for unknown schemes/credentials
        raise ReaderError(f"cannot open {uri} with pyarrow: {exc}") from exc


def join(root: str, name: str) -> str:
    """``root/name`` for a local path or a URI."""
    return f"{root.rstrip('/')}/{name}"


def exists(uri: str) -> bool:
    fs, path = filesystem(uri)
    return fs.get_file_info(path).type != pafs.FileType.NotFound


def read_stats(root: str) -> dict:
    """The run's ``_stats.json`` under an output root; a ReaderError when the root has none."""
    fs, path = filesystem(join(root, STATS_FILE))
    if fs.get_file_info(path).type == pafs.FileType.NotFound:
        raise ReaderError(f"no {STATS_FILE} under {root}: is this the --output root of a curation run?")
    with fs.open_input_stream(path) as f:
        return json.loads(f.read().decode("utf-8"))


def detect_format(uri: str, storage_options: dict[str, str] | None = None,
                  fs: pafs.FileSystem | None = None) -> str:
    """``delta`` when the directory has a ``_delta_log``, else ``parquet``."""
    fs, path = (fs, uri) if fs is not None else filesystem(uri, storage_options)
    info = fs.get_file_info(path)
    if info.type == pafs.FileType.NotFound:
        raise ReaderError(f"table not found: {uri}")
    if fs.get_file_info(f"{path.rstrip('/')}/_delta_log").type == pafs.FileType.Directory:
        return "delta"
    return "parquet"


def _footer(fs: pafs.FileSystem, path: str, key_column: str | None) -> tuple[tuple[int, ...], tuple, pa.Schema]:
    md = pq.read_metadata(path, filesystem=fs)
    rows = tuple(md.row_group(i).num_rows for i in range(md.num_row_groups))
    ranges: list[tuple[str, str] | None] = []
    if key_column is not None:
        names = [md.schema.column(j).path for j in range(md.num_columns)]
        j = names.index(key_column) if key_column in names else -1
        for i in range(md.num_row_groups):
            stats = md.row_group(i).column(j).statistics if j >= 0 else None
            if stats is not None and stats.has_min_max and isinstance(stats.min, str):
                ranges.append((stats.min, stats.max))
            else:
                ranges.append(None)
    return rows, tuple(ranges), md.schema.to_arrow_schema()


def _read_footers(fs: pafs.FileSystem, paths: Sequence[str], key_column: str | None, threads: int = 16):
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(paths)))) as pool:
        return list(pool.map(lambda p: _footer(fs, p, key_column), paths))


def _data_files(fs: pafs.FileSystem, root: str) -> dict[str, int]:
    """``{path relative to root: size}`` of the data files below ``root`` (hidden paths skipped)."""
    base = root.rstrip("/") + "/"
    out = {}
    for info in fs.get_file_info(pafs.FileSelector(root, recursive=True)):
        rel = info.path[len(base):] if info.path.startswith(base) else info.base_name
        if info.type == pafs.FileType.File and not is_hidden(rel):
            out[rel] = int(info.size)
    return out


def parquet_commit_problem(fs: pafs.FileSystem, root: str, uri: str) -> str | None:
    """Why the Parquet directory ``root`` must not be read (None: read it), as the Spark jobs
    decide (``curation.commits``): a marker whose manifest differs from the files, or no marker
    on a table of a curation output root (``_stats.json`` beside it: a write that did not
    finish). A directory of another tool without a marker is read, with a warning."""
    root = root.rstrip("/")
    marker = f"{root}/{SUCCESS_FILE}"
    if fs.get_file_info(marker).type == pafs.FileType.NotFound:
        parent = root.rsplit("/", 1)[0] if "/" in root else "."
        if fs.get_file_info(f"{parent}/{STATS_FILE}").type != pafs.FileType.NotFound:
            return uncommitted_message(uri)
        log.warning("%s has no _SUCCESS marker: it may be incomplete (reading it anyway)", uri)
        return None
    with fs.open_input_stream(marker) as f:
        manifest = parse_manifest(f.read().decode("utf-8", errors="replace"))
    if manifest is None:
        return None
    problem = manifest_problem(manifest, _data_files(fs, root))
    return f"table at {uri} differs from its commit: {problem}. Re-run the stage that writes it" if problem else None


def _parquet_snapshot(uri: str, key_column: str | None, fs: pafs.FileSystem | None = None) -> TableSnapshot:
    fs, root = (fs, uri) if fs is not None else filesystem(uri)
    info = fs.get_file_info(root)
    if info.type != pafs.FileType.Directory:
        raise ReaderError(f"Parquet table must be a directory of part files: {uri}")
    problem = parquet_commit_problem(fs, root, uri)
    if problem is not None:
        raise ReaderError(problem)
    dataset = pads.dataset(root, filesystem=fs, format="parquet", partitioning="hive")
    fragments = sorted(dataset.get_fragments(), key=lambda fr: fr.path)
    if not fragments:
        raise ReaderError(f"no Parquet files under {uri}")
    footers = _read_footers(fs, [fr.path for fr in fragments], key_column)
    files = []
    for fr, (rows, ranges, _) in zip(fragments, footers):
        keys = pads.get_partition_keys(fr.partition_expression) or {}
        files.append(FileInfo(fr.path, rows, tuple(sorted((k, str(v)) for k, v in keys.items())), ranges))
    return TableSnapshot(uri, "parquet", None, files, dataset.schema, fs)


def _delta_snapshot(uri: str, version: int | None, key_column: str | None,
                    storage_options: dict[str, str] | None, fs: pafs.FileSystem | None = None) -> TableSnapshot:
    try:
        from deltalake import DeltaTable
    except ImportError as exc:  # pragma: no cover - the training extra installs it
        raise ReaderError("reading Delta tables needs the 'deltalake' package: "
                          "pip install 'worldwide-clip[training]' (or [report])") from exc
    try:
        dt = DeltaTable(uri, version=version, storage_options=storage_options)
    except Exception as exc:  # deltalake raises its own types (TableNotFoundError, DeltaError, ...)
        raise ReaderError(f"cannot read Delta table {uri}: {exc}") from exc
    protocol = dt.protocol()
    features = set(protocol.reader_features or ())
    config = dt.metadata().configuration or {}
    bad = sorted(features.intersection(_UNSUPPORTED_DELTA_READER_FEATURES))
    if bad or config.get("delta.columnMapping.mode", "none") != "none":
        raise ReaderError(
            f"Delta table {uri} uses column mapping ({bad or config.get('delta.columnMapping.mode')}); "
            "physical column names differ from logical ones. Rewrite it without column mapping "
            "(the curation jobs never enable it).")
    fs = fs if fs is not None else filesystem(uri, storage_options)[0]
    paths = sorted(_local_or_uri_path(p) for p in dt.file_uris())
    if not paths:
        raise ReaderError(f"Delta table {uri} (version {dt.version()}) has no data files")
    partition_columns = list(dt.metadata().partition_columns or [])
    partitions = _delta_partition_values(dt, uri, partition_columns) if partition_columns else {}
    masks = _delta_keep_masks(dt, features) if "deletionVectors" in features else {}
    footers = _read_footers(fs, paths, key_column)
    files = [FileInfo(p, rows, partitions.get(p, ()), ranges, p in masks)
             for p, (rows, ranges, _) in zip(paths, footers)]
    for f in files:  # a keep-mask covers the file's rows exactly; rows past its end are live
        if f.path in masks:
            n, mask = sum(f.row_group_rows), masks[f.path]
            masks[f.path] = np.concatenate([mask[:n], np.ones(max(0, n - len(mask)), dtype=bool)])
    schema = footers[0][2]
    for name in partition_columns:
        if name not in schema.names:
            schema = schema.append(pa.field(name, pa.string()))
    return TableSnapshot(uri, "delta", dt.version(), files, schema, fs, masks)


def _local_or_uri_path(uri: str) -> str:
    """deltalake returns plain absolute paths locally, ``scheme://`` URIs elsewhere; pyarrow wants paths."""
    if uri.startswith("file://"):
        return urllib.parse.unquote(uri[len("file://"):])
    if "://" in uri:
        return uri.split("://", 1)[1]
    return uri


def _delta_partition_values(dt, uri: str, columns: list[str]) -> dict[str, tuple[tuple[str, str], ...]]:
    actions = pa.table(dt.get_add_actions(flatten=True))
    root = _local_or_uri_path(str(dt.table_uri)).rstrip("/")
    out: dict[str, tuple[tuple[str, str], ...]] = {}
    rel_paths = actions.column("path").to_pylist()
    for i, rel in enumerate(rel_paths):
        values = []
        for col in columns:
            name = f"partition.{col}"
            if name in actions.column_names:
                v = actions.column(name)[i].as_py()
                values.append((col, "" if v is None else str(v)))
        out[f"{root}/{urllib.parse.unquote(rel)}"] = tuple(sorted(values))
    return out


def _delta_keep_masks(dt, features: set[str]) -> dict[str, np.ndarray]:
    if not hasattr(dt, "deletion_vectors"):
        raise ReaderError("this Delta table has deletion vectors but the installed deltalake cannot read "
                         "them; upgrade deltalake or run REORG TABLE ... APPLY (PURGE)")
    table = pa.table(dt.deletion_vectors())
    masks: dict[str, np.ndarray] = {}
    for path, sel in zip(table.column("filepath").to_pylist(), table.column("selection_vector").to_pylist()):
        masks[_local_or_uri_path(path)] = np.asarray(sel, dtype=bool)
    return masks


def open_table(uri: str, *, format: str = "auto", version: int | None = None, key_column: str | None = None,
               storage_options: dict[str, str] | None = None,
               filesystem: pafs.FileSystem | None = None) -> TableSnapshot:
    """Pin a table: list its files and row groups once (Delta: at ``version``, default latest).

    ``filesystem``: a pyarrow filesystem to list and read through, ``uri`` being a path in it
    (e.g. a wrapped or instrumented one); default: resolved from the URI."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    fmt = detect_format(uri, storage_options, filesystem) if format == "auto" else format
    if fmt == "parquet":
        if version is not None:
            raise ReaderError("time travel (version=...) needs a Delta table; a Parquet table has one version")
        snap = _parquet_snapshot(uri, key_column, filesystem)
    else:
        snap = _delta_snapshot(uri, version, key_column, storage_options, filesystem)
    log.info("opened %s table %s (version %s): %d files, %d row groups, %d rows", snap.format, uri,
             snap.version, len(snap.files), sum(len(f.row_group_rows) for f in snap.files), snap.num_rows)
    return snap


class RowGroupReader:
    """Reads row groups of a snapshot with a small per-process cache of open Parquet files."""

    def __init__(self, snapshot: TableSnapshot, max_open_files: int = 8):
        self.snapshot = snapshot
        self.max_open_files = max_open_files
        self._open: OrderedDict[int, pq.ParquetFile] = OrderedDict()

    def _file(self, file_index: int) -> pq.ParquetFile:
        pf = self._open.pop(file_index, None)
        if pf is None:
            pf = pq.ParquetFile(self.snapshot.files[file_index].path, filesystem=self.snapshot.filesystem)
        self._open[file_index] = pf
        while len(self._open) > self.max_open_files:
            self._open.popitem(last=False)
        return pf

    def read(self, file_index: int, row_group: int, columns: Sequence[str]) -> pa.Table:
        """Live rows of one row group, deleted rows removed, partition columns filled in."""
        info = self.snapshot.files[file_index]
        partition = dict(info.partition_values)
        physical = [c for c in columns if c not in partition]
        table = self._file(file_index).read_row_group(row_group, columns=physical)
        for name in columns:
            if name in partition:
                table = table.append_column(name, pa.array([partition[name]] * table.num_rows, pa.string()))
        table = table.select(list(columns))
        mask = self.snapshot.row_group_keep_mask(file_index, row_group)
        if mask is not None:
            table = table.filter(pa.array(mask))
        return table
