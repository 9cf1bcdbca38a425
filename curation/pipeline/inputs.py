"""The alt-text input: where it is, what format, and its checks before any work.

A bad input fails here with a ConfigError that names the file and the column (missing, empty,
truncated Parquet, a column of the wrong type, nothing parseable), before any table is written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from curation.pipeline.config import ConfigError, CurationConfig
from curation.spark import fs, transforms

_SUFFIX_FORMATS = ((".jsonl", "jsonl"), (".json", "jsonl"), (".jsonl.gz", "jsonl"), (".json.gz", "jsonl"),
                   (".csv", "csv"), (".csv.gz", "csv"), (".tsv", "tsv"), (".tsv.gz", "tsv"))
PARQUET_MAGIC = b"PAR1"


def resolve_input(cfg: CurationConfig) -> tuple[str, str]:
    """(path, format) of the alt-text input; the embedded sample when none is given. ``auto``
    guesses the format from the suffix, else Delta when there is a ``_delta_log``, else Parquet."""
    if cfg.input is None:
        from curation.samples import default_alt_texts_path

        return default_alt_texts_path(), "jsonl"
    fmt = cfg.input_format
    if fmt == "auto":
        lower = cfg.input.lower().rstrip("/")
        for suffix, guess in _SUFFIX_FORMATS:
            if lower.endswith(suffix):
                fmt = guess
        if fmt == "auto":
            fmt = "delta" if os.path.isdir(os.path.join(cfg.input, "_delta_log")) else "parquet"
    return cfg.input, fmt


def check_parquet_footers(spark, files: Sequence[fs.FileInfo]) -> None:
    """A truncated or non-Parquet data file fails here, named, before any work: a Parquet file
    starts and ends with ``PAR1`` (at least 12 bytes: the two magics and the footer length)."""
    for path, size, _ in files:
        if not path.endswith(".parquet") and "part-" not in path:
            continue
        ok = size >= 12
        if ok:
            head, tail = fs.read_ranges(spark, path, [(0, 4), (size - 4, 4)])
            ok = head == PARQUET_MAGIC and tail == PARQUET_MAGIC
        if not ok:
            raise ConfigError(f"input file {path} is not a complete Parquet file ({size} bytes, no PAR1 "
                              "footer): truncated or corrupt. Remove or re-copy it.")


def read_input(spark, cfg: CurationConfig, source: tuple[str, str], files: Sequence[fs.FileInfo]):
    """The input at ``source`` (path, format), whose data files are ``files``, as a DataFrame
    with ``url``, ``text``, ``uid`` (+ carried columns).

    Fails with a ConfigError naming the file and column before any processing starts."""
    from pyspark.sql import types as T

    path, fmt = source
    if not files:
        raise ConfigError(f"input {path} contains no data files")
    if fmt == "parquet":
        check_parquet_footers(spark, files)
    elif fmt in ("jsonl", "csv", "tsv") and all(f.size == 0 for f in files):
        raise ConfigError(f"input {path} is empty (0 bytes)")
    reader = spark.read
    if fmt == "jsonl":
        df = reader.option("mode", "PERMISSIVE").json(path)
    elif fmt in ("csv", "tsv"):
        df = (reader.option("header", True).option("sep", "," if fmt == "csv" else "\t")
              .option("escape", '"').option("mode", "PERMISSIVE").csv(path))
    elif fmt == "delta":
        df = reader.format("delta").load(path)
    else:
        df = reader.parquet(path)
    types = {f.name: f.dataType for f in df.schema.fields}
    if transforms.CORRUPT_RECORD in types and len(types) == 1:
        raise ConfigError(f"input {path} ({fmt}): no line could be parsed as a JSON object")
    for flag, col in (("--url-col", cfg.url_col), ("--text-col", cfg.text_col), ("--uid-col", cfg.uid_col)):
        if col is None:
            continue
        if col not in types:
            raise ConfigError(f"input {path} ({fmt}) has no column {col!r} ({flag}); "
                              f"columns are {sorted(types)}")
        if not isinstance(types[col], (T.StringType, T.NullType)):
            raise ConfigError(f"input {path}: column {col!r} ({flag}) must be a string, "
                              f"found {types[col].simpleString()}")
    return transforms.prepare_input(df, cfg.url_col, cfg.text_col, cfg.uid_col)
