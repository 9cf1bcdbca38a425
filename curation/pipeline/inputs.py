"""The alt-text input: where it is, what format, and its checks before any work.

A bad input fails here with a ConfigError that names the file and the column (missing, empty,
no rows, truncated Parquet, an uncommitted table, a column of the wrong type, nothing
parseable), before any table is written.

Every input record becomes exactly one row, and every string the pipeline hands on is valid
UTF-8, so every table is readable by pandas, pyarrow, deltalake and Spark:

- JSON Lines: one row per non-blank line, whatever it holds (a line with an array of objects
  is one malformed row, not several rows). Lines are read as raw bytes, parsed with the schema
  Spark infers for the file, and kept raw when they are not a JSON object.
- CSV/TSV: one row per record, quoted fields may span lines (``multiLine``, RFC 4180 ``""``
  escapes). Records are parsed as ISO-8859-1, which maps every byte to one character, so the
  original bytes of every field are recovered exactly and checked as UTF-8; header names are
  decoded as UTF-8.
- Parquet/Delta: string columns as stored (Spark does not check their UTF-8).

Then, the same for every format (``checked_rows``): a record the reader could not parse is
rejected as ``malformed_row``; a record with a string that is not valid Unicode (invalid
bytes, or in JSON a lone surrogate escape such as ``"\\ud83d"``) as ``invalid_utf8``. The
verdict travels in ``transforms.READER_REJECT`` (the pipeline's validation honours it; it is
never written), the raw bytes in the **binary** column ``_corrupt_record`` (the JSONL line or
CSV record that did not parse, the JSONL line that is not valid Unicode, or for CSV, Parquet
and Delta the original bytes of the first invalid field: text, then url, then the others),
and invalid sequences in string columns are replaced by U+FFFD.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from curation.layout import STATS_FILE, SUCCESS_FILE
from curation.pipeline.config import ConfigError, CurationConfig
from curation.spark import fs, transforms
from curation.spark.tables import parquet_problem
from curation.validation import INVALID_UTF8, MALFORMED_ROW

_SUFFIX_FORMATS = ((".jsonl", "jsonl"), (".json", "jsonl"), (".jsonl.gz", "jsonl"), (".json.gz", "jsonl"),
                   (".csv", "csv"), (".csv.gz", "csv"), (".tsv", "tsv"), (".tsv.gz", "tsv"))
PARQUET_MAGIC = b"PAR1"
# A JSON \\u escape of a UTF-16 surrogate that is not half of a pair (a high one not followed
# by a low one, or a low one not preceded by a high one), not itself escaped (an even number of
# backslashes before it). Java regex: Spark's rlike / regexp_replace.
_HIGH = r"\\u[dD][89abAB][0-9a-fA-F]{2}"
_LOW = r"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
LONE_SURROGATE_ESCAPE = rf"(?<!\\)((?:\\\\)*)({_HIGH}(?!{_LOW})|(?<!{_HIGH}){_LOW})"
LATIN1 = "ISO-8859-1"


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


def _reject_if(df, condition, reason: str, raw):
    """Mark rows where ``condition`` holds (and no earlier verdict) with ``reason``, keeping ``raw``."""
    from pyspark.sql import functions as F

    verdict = F.col(transforms.READER_REJECT)
    hit = verdict.isNull() & F.coalesce(condition, F.lit(False))
    return df.withColumns({transforms.READER_REJECT: F.when(hit, F.lit(reason)).otherwise(verdict),
                           transforms.CORRUPT_RECORD: F.when(hit, raw).otherwise(F.col(transforms.CORRUPT_RECORD))})


def _read_jsonl(spark, path: str):
    """One row per non-blank line: the line's raw bytes parsed with the inferred schema."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    inferred = spark.read.option("mode", "PERMISSIVE").json(path).schema
    if not inferred.fields:
        raise ConfigError(f"input {path} (jsonl) has no rows (only blank lines): nothing to curate")
    fields = [f for f in inferred.fields if f.name != transforms.CORRUPT_RECORD]
    if not fields:
        raise ConfigError(f"input {path} (jsonl): no line could be parsed as a JSON object")
    schema = T.StructType([*fields, T.StructField(transforms.CORRUPT_RECORD, T.StringType())])
    lines = spark.read.text(path).filter(F.trim(F.col("value")) != "")
    valid = F.expr("is_valid_utf8(value)")
    lone = F.col("value").rlike(LONE_SURROGATE_ESCAPE)
    # Parsed from valid text: invalid bytes and lone surrogate escapes become U+FFFD first.
    text = F.regexp_replace(F.expr("make_valid_utf8(value)"), LONE_SURROGATE_ESCAPE, "$1\\\\ufffd")
    parsed = lines.select(F.col("value").cast("binary").alias("_raw"), valid.alias("_valid"), lone.alias("_lone"),
                          F.from_json(text, schema, {"mode": "PERMISSIVE"}).alias("_row"))
    df = parsed.select("_raw", "_valid", "_lone", *(F.col("_row").getField(f.name).alias(f.name) for f in fields),
                       F.col("_row").getField(transforms.CORRUPT_RECORD).isNotNull().alias("_unparsed"),
                       F.lit(None).cast("string").alias(transforms.READER_REJECT),
                       F.lit(None).cast("binary").alias(transforms.CORRUPT_RECORD))
    df = _reject_if(df, ~F.col("_valid") | F.col("_lone"), INVALID_UTF8, F.col("_raw"))
    df = _reject_if(df, F.col("_unparsed"), MALFORMED_ROW, F.col("_raw"))
    return df.drop("_raw", "_valid", "_lone", "_unparsed")


def _read_csv(spark, path: str, sep: str):
    """One row per CSV/TSV record (multi-line quoted fields), every field's bytes recovered exactly."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    def reader():
        return (spark.read.option("header", True).option("sep", sep).option("quote", '"').option("escape", '"')
                .option("multiLine", True).option("encoding", LATIN1).option("mode", "PERMISSIVE"))

    header = reader().csv(path).columns
    schema = T.StructType([*(T.StructField(n, T.StringType()) for n in header),
                           T.StructField(transforms.CORRUPT_RECORD, T.StringType())])
    raw = reader().schema(schema).csv(path)

    def original(name: str):  # the field's bytes as in the file, as a (possibly invalid) UTF-8 string
        return F.expr(f"cast(encode(`{name}`, '{LATIN1}') as string)")

    names = {n: n.encode("latin-1").decode("utf-8", errors="replace") for n in header}
    df = raw.select(*(original(n).alias(names[n]) for n in header),
                    F.col(transforms.CORRUPT_RECORD).isNotNull().alias("_unparsed"),
                    F.expr(f"encode(`{transforms.CORRUPT_RECORD}`, '{LATIN1}')").alias("_raw"),
                    F.lit(None).cast("string").alias(transforms.READER_REJECT),
                    F.lit(None).cast("binary").alias(transforms.CORRUPT_RECORD))
    df = _reject_if(df, F.col("_unparsed"), MALFORMED_ROW, F.col("_raw"))
    return df.drop("_unparsed", "_raw")


def checked_rows(df, first: Sequence[str]):
    """Every top-level string column made valid UTF-8 (invalid sequences -> U+FFFD); a row
    with an invalid one is rejected as ``invalid_utf8`` (unless already rejected), its original
    bytes kept in ``_corrupt_record`` (the first invalid of ``first``, then the other columns)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if transforms.READER_REJECT not in df.columns:
        df = df.withColumns({transforms.READER_REJECT: F.lit(None).cast("string"),
                             transforms.CORRUPT_RECORD: F.lit(None).cast("binary")})
    strings = [f.name for f in df.schema.fields
               if isinstance(f.dataType, T.StringType) and f.name != transforms.READER_REJECT]
    order = [c for c in first if c in strings] + [c for c in strings if c not in first]
    if not order:
        return df
    invalid = [F.when(~F.expr(f"is_valid_utf8(`{c}`)"), F.col(f"`{c}`").cast("binary")) for c in order]
    df = _reject_if(df, F.coalesce(*invalid).isNotNull(), INVALID_UTF8, F.coalesce(*invalid))
    return df.withColumns({c: F.expr(f"make_valid_utf8(`{c}`)") for c in order})


def check_committed(spark, path: str) -> None:
    """A Parquet input that is a table of a curation output root (``_stats.json`` beside it) or
    carries a commit marker must be committed and intact, as for the pipeline's own tables."""
    parent = path.rstrip("/").rsplit("/", 1)[0]
    if fs.exists(spark, f"{path}/{SUCCESS_FILE}") or fs.exists(spark, f"{parent}/{STATS_FILE}"):
        problem = parquet_problem(spark, path)
        if problem is not None:
            raise ConfigError(f"input {problem}")


def read_input(spark, cfg: CurationConfig, source: tuple[str, str], files: Sequence[fs.FileInfo]):
    """The input at ``source`` (path, format), whose data files are ``files``, as a DataFrame
    with ``url``, ``text``, ``uid`` (+ carried columns, + ``_corrupt_record`` and the reader's
    verdict, see the module docstring).

    Fails with a ConfigError naming the file and column before any processing starts,
    including an input with no rows (an empty file, a header-only CSV, a Parquet file or Delta
    table with a schema but no rows)."""
    from pyspark.sql import types as T

    path, fmt = source
    if not files:
        raise ConfigError(f"input {path} contains no data files")
    if fmt == "parquet":
        check_parquet_footers(spark, files)
        check_committed(spark, path)
    elif fmt in ("jsonl", "csv", "tsv") and all(f.size == 0 for f in files):
        raise ConfigError(f"input {path} is empty (0 bytes)")
    if fmt == "jsonl":
        df = _read_jsonl(spark, path)
    elif fmt in ("csv", "tsv"):
        df = _read_csv(spark, path, "," if fmt == "csv" else "\t")
    elif fmt == "delta":
        df = spark.read.format("delta").load(path)
    else:
        df = spark.read.parquet(path)
    types = {f.name: f.dataType for f in df.schema.fields}
    for flag, col in (("--url-col", cfg.url_col), ("--text-col", cfg.text_col), ("--uid-col", cfg.uid_col)):
        if col is None:
            continue
        if col not in types:
            shown = sorted(set(types) - {transforms.READER_REJECT, transforms.CORRUPT_RECORD})
            raise ConfigError(f"input {path} ({fmt}) has no column {col!r} ({flag}); columns are {shown}")
        if not isinstance(types[col], (T.StringType, T.NullType)):
            raise ConfigError(f"input {path}: column {col!r} ({flag}) must be a string, "
                              f"found {types[col].simpleString()}")
    df = checked_rows(df, [c for c in (cfg.text_col, cfg.url_col, cfg.uid_col) if c])
    if df.isEmpty():
        raise ConfigError(f"input {path} ({fmt}) has no rows (only a header, blank lines or an empty table): "
                          "nothing to curate")
    return transforms.prepare_input(df, cfg.url_col, cfg.text_col, cfg.uid_col)
