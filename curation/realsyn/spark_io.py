"""Reading RealSyn's inputs with their schemas checked before any work.

- documents: Parquet or Delta directory, or JSON Lines (file or directory), in OBELICS layout
  (``curation.realsyn.documents``). JSON is read with an explicit schema, so a row whose
  ``texts`` is not a list becomes a ``not_lists`` reject instead of changing the inferred type
  of the whole column; ``metadata`` written as a nested JSON value is read as its JSON text.
- images: the download stage's table (``uid`` + the image bytes column, ``jpg`` by default).
- synthetic captions (optional): ``uid`` + a text column.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa

from curation.pipeline.config import ConfigError
from curation.realsyn.documents import document_id

DOC_COLUMNS = ("texts", "images", "metadata", "general_metadata")


def _format(spark, path: str, fmt: str) -> str:
    from curation.spark.tables import is_delta_table

    if fmt != "auto":
        return fmt
    if is_delta_table(spark, path):
        return "delta"
    if path.rstrip("/").endswith((".jsonl", ".json", ".jsonl.gz", ".json.gz")):
        return "jsonl"
    return "parquet"


def _read(spark, path: str, fmt: str, schema: str | None = None):
    from curation.spark import fs

    if not fs.exists(spark, path):
        raise ConfigError(f"input not found: {path}")
    fmt = _format(spark, path, fmt)
    if fmt == "delta":
        return spark.read.format("delta").load(path)
    if fmt == "jsonl":
        reader = spark.read.option("mode", "PERMISSIVE")
        return reader.schema(schema).json(path) if schema else reader.json(path)
    return spark.read.parquet(path)


def _content_ids(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        cols = [batch.column(c).to_pylist() for c in DOC_COLUMNS]
        ids = [document_id(*values) for values in zip(*cols)]
        yield batch.append_column("content_id", pa.array(ids, pa.string()))


def read_documents(spark, path: str, fmt: str = "auto", doc_id_column: str | None = None):
    """``doc_id, content_id, texts, images, metadata, general_metadata``; ConfigError on a wrong schema."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    json_schema = ", ".join(["texts array<string>", "images array<string>", "metadata string",
                             "general_metadata string"] + ([f"`{doc_id_column}` string"] if doc_id_column else []))
    df = _read(spark, path, fmt, json_schema)
    types = {f.name: f.dataType for f in df.schema.fields}
    for col in ("texts", "images"):
        if col not in types:
            raise ConfigError(f"documents at {path} have no column {col!r} (columns: {sorted(types)}); "
                              "expected the OBELICS layout (docs/realsyn.md)")
        if types[col] != T.ArrayType(T.StringType(), True) and types[col] != T.ArrayType(T.StringType(), False):
            raise ConfigError(f"documents column {col!r} must be array<string>, got {types[col].simpleString()}")
    if doc_id_column and doc_id_column not in types:
        raise ConfigError(f"--doc-id-column {doc_id_column!r} is not a column of {path}")
    for col in ("metadata", "general_metadata"):
        if col not in types:
            df = df.withColumn(col, F.lit(None).cast("string"))
        elif not isinstance(types[col], T.StringType):
            df = df.withColumn(col, F.to_json(col))
    df = df.select(*DOC_COLUMNS, *([F.col(doc_id_column).cast("string").alias("_user_id")] if doc_id_column else []))
    schema = ", ".join(["texts array<string>", "images array<string>", "metadata string", "general_metadata string"]
                       + (["_user_id string"] if doc_id_column else []) + ["content_id string"])
    df = df.mapInArrow(_content_ids, schema)
    doc_id = F.coalesce(F.col("_user_id"), F.col("content_id")) if doc_id_column else F.col("content_id")
    return df.select(doc_id.alias("doc_id"), "content_id", *DOC_COLUMNS)


def read_images(spark, path: str, image_column: str = "jpg", fmt: str = "auto"):
    """``uid, image`` (bytes) of the downloaded images; one row per uid."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    df = _read(spark, path, fmt)
    types = {f.name: f.dataType for f in df.schema.fields}
    if "uid" not in types or image_column not in types:
        raise ConfigError(f"images table {path} needs columns 'uid' and {image_column!r} (has {sorted(types)}); "
                          "it is the download stage's output (wwclip-download)")
    if not isinstance(types[image_column], T.BinaryType):
        raise ConfigError(f"images column {image_column!r} must be binary, got {types[image_column].simpleString()}")
    return (df.select(F.col("uid").cast("string").alias("uid"), F.col(image_column).alias("image"))
            .groupBy("uid").agg(F.min("image").alias("image")))


def read_captions(spark, path: str, column: str = "syn_text", fmt: str = "auto"):
    """``uid, syn_text`` of the synthetic captions (one per uid: the smallest text if repeated)."""
    from pyspark.sql import functions as F

    df = _read(spark, path, fmt)
    if "uid" not in df.columns or column not in df.columns:
        raise ConfigError(f"synthetic captions table {path} needs columns 'uid' and {column!r} (has {df.columns})")
    return (df.select(F.col("uid").cast("string").alias("uid"), F.col(column).cast("string").alias("syn_text"))
            .where(F.col("syn_text").isNotNull() & (F.trim("syn_text") != ""))
            .groupBy("uid").agg(F.min("syn_text").alias("syn_text")))
