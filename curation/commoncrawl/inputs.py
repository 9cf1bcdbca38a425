"""Which files to read: ``--input`` values -> a sorted list of WAT/WARC paths; opening one.

An ``--input`` value is one of (values may also be comma-separated, and the flag repeated):

- a file path or URI (``/data/x.warc.wat.gz``, ``s3a://bucket/x.wat.gz``, ``hdfs://nn/x``,
  ``https://data.commoncrawl.org/crawl-data/...``);
- a glob (``/data/wat/*.wat.gz``, ``s3a://bucket/CC-MAIN-2024-22/**/wat/*.gz``); names starting
  with ``.`` or ``_`` are skipped (hidden files, Spark/Hadoop markers), as in folders;
- a directory: every ``*.warc``, ``*.wat``, ``*.warc.gz``, ``*.wat.gz`` below it;
- a list file, one path per line (``#`` comments and blank lines skipped): ``@paths.txt``, or
  any name ending in ``.paths``, ``.paths.gz``, ``.txt`` or ``.lst`` (Common Crawl publishes
  ``wat.paths.gz``). Relative lines are joined to ``--path-prefix`` (e.g.
  ``https://data.commoncrawl.org/`` or ``s3a://commoncrawl/``), else to the list file's folder.

Files are read with fsspec on the driver (listing) and on the executors (reading), so one
filesystem layer sees the same paths everywhere. Hadoop's ``s3a://``/``s3n://`` names are read
as fsspec's ``s3://`` (install ``s3fs``; ``gcsfs`` for ``gs://``; ``hdfs://`` uses pyarrow's
libhdfs; ``https://`` needs ``aiohttp``); the path is recorded as given.
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import re

from curation.pipeline.config import ConfigError

LIST_SUFFIXES = (".paths", ".paths.gz", ".txt", ".lst")
DATA_SUFFIXES = (".warc", ".wat", ".warc.gz", ".wat.gz")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
_FSSPEC_ALIASES = {"s3a": "s3", "s3n": "s3"}
_CRAWL_ID = re.compile(r"CC-MAIN-\d{4}-\d{2}")
READ_BLOCK_BYTES = 8 * 1024 * 1024


class InputListError(ConfigError):
    """An --input value names nothing readable (reported before any work)."""


def fsspec_path(path: str) -> str:
    """The path as fsspec wants it (Hadoop scheme aliases mapped; ``file:`` kept)."""
    match = _SCHEME.match(path)
    if match and match.group(1).lower() in _FSSPEC_ALIASES:
        return f"{_FSSPEC_ALIASES[match.group(1).lower()]}://{path[match.end():]}"
    return path


def is_remote(path: str) -> bool:
    match = _SCHEME.match(path)
    return bool(match) and match.group(1).lower() != "file"


def crawl_id(path: str) -> str | None:
    """The Common Crawl snapshot id in a path (``CC-MAIN-2024-22``), the last one if several."""
    found = _CRAWL_ID.findall(path)
    return found[-1] if found else None


def open_input(path: str, block_size: int = READ_BLOCK_BYTES):
    """A binary file object for ``path`` (local files without fsspec's indirection)."""
    if not is_remote(path):
        local = path[len("file://"):] if path.startswith("file://") else path
        return open(local, "rb", buffering=block_size)
    import fsspec

    return fsspec.open(fsspec_path(path), "rb", block_size=block_size).open()


def _fs(path: str):
    import fsspec

    fs, root = fsspec.core.url_to_fs(fsspec_path(path))
    return fs, root


def _with_scheme(original: str, found: str) -> str:
    """fsspec returns paths without the scheme: put the user's scheme (s3a, ...) back."""
    match = _SCHEME.match(original)
    if not match or found.startswith(match.group(0)):
        return found
    return f"{match.group(0)}{found.lstrip('/') if match.group(1).lower() != 'file' else found}"


def _is_list_file(value: str) -> bool:
    return value.startswith("@") or value.lower().endswith(LIST_SUFFIXES)


def _read_list(value: str, prefix: str | None) -> list[str]:
    path = value[1:] if value.startswith("@") else value
    try:
        with open_input(path) as handle:
            data = handle.read()
    except (OSError, ValueError) as exc:
        raise InputListError(f"cannot read the list of input files {path}: {exc}") from None
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    base = prefix if prefix else (path.rsplit("/", 1)[0] + "/" if "/" in path else "")
    out = []
    for line in io.StringIO(data.decode("utf-8")):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if _SCHEME.match(line) or line.startswith("/"):
            out.append(line)
        elif base:
            out.append(posixpath.join(base, line) if _SCHEME.match(base) else os.path.join(base, line))
        else:
            out.append(line)
    if not out:
        raise InputListError(f"the list of input files {path} names no file")
    return out


def _expand_one(value: str) -> list[str]:
    """A path, glob or directory -> files (remote plain paths are taken as they are)."""
    if any(ch in value for ch in "*?["):
        fs, root = _fs(value)
        found = sorted(p for p in fs.glob(root)
                       if not posixpath.basename(p).startswith((".", "_")) and not fs.isdir(p))
        if not found:
            raise InputListError(f"--input {value}: the pattern matches no file")
        return [_with_scheme(value, p) for p in found]
    if is_remote(value):
        return [value]
    local = value[len("file://"):] if value.startswith("file://") else value
    if os.path.isdir(local):
        found = sorted(os.path.join(d, f) for d, _, files in os.walk(local) for f in files
                       if f.lower().endswith(DATA_SUFFIXES) and not f.startswith((".", "_")))
        if not found:
            raise InputListError(f"--input {value}: the folder holds no *.warc[.gz] or *.wat[.gz] file")
        return found
    if not os.path.isfile(local):
        raise InputListError(f"--input {value}: no such file")
    return [value]


def expand_inputs(values: list[str], path_prefix: str | None = None) -> list[str]:
    """Every input file named by ``values`` (see the module docstring), sorted, without repeats.
    Raises :class:`InputListError` naming the value that matches nothing."""
    files: list[str] = []
    for value in values:
        for item in (v.strip() for v in value.split(",")):
            if not item:
                continue
            if _is_list_file(item):
                for line in _read_list(item, path_prefix):
                    files.extend(_expand_one(line) if any(ch in line for ch in "*?[") else [line])
            else:
                files.extend(_expand_one(item))
    if not files:
        raise InputListError("--input names no file")
    return sorted(set(files))
