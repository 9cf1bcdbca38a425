"""Spark glue of the CLIP embeddings and cluster assignment (Arrow batches in, float32 out).

The model is loaded once per Python worker (``embed.get_embedder``); centroids travel as a
Spark broadcast and are assigned with ``retrieval.nearest_centroid`` / ``top_centroids``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from curation.realsyn import rules
from curation.realsyn.arrow import emb_array, emb_matrix
from curation.realsyn.retrieval import top_centroids

NOT_DOWNLOADED = "not_downloaded"
UNDECODABLE = "undecodable"


@dataclass(frozen=True)
class EmbedParams:
    clip_model: str
    device: str = "auto"
    batch_size: int = 32
    min_side: int = rules.MIN_SIDE
    max_aspect: float = rules.MAX_ASPECT


def _text_mapper(params: EmbedParams, text_column: str):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from curation.realsyn.embed import get_embedder

        model = get_embedder(params.clip_model, params.device, params.batch_size)
        for batch in batches:
            emb = model.embed_texts(batch.column(text_column).to_pylist())
            yield batch.append_column("emb", emb_array(emb))
    return run


def embed_texts(df, params: EmbedParams, text_column: str = "text"):
    """Append ``emb array<float>`` (L2-normalised) computed from ``text_column``."""
    schema = df.schema.simpleString()[len("struct<"):-1]
    return df.mapInArrow(_text_mapper(params, text_column), f"{schema},emb:array<float>")


def image_batch(batch: pa.RecordBatch, params: EmbedParams) -> pa.RecordBatch:
    """Decode, size-check (``rules.image_reject_reason`` on the real size), hash and embed the
    ``image`` column; drops the bytes. Reasons: not_downloaded, undecodable, too_small,
    bad_aspect (null = kept, with an embedding)."""
    from curation.realsyn.embed import get_embedder

    model = get_embedder(params.clip_model, params.device, params.batch_size)
    blobs = batch.column("image").to_pylist()
    decoded = model.decode(blobs)
    n = len(blobs)
    reasons: list[str | None] = [None] * n
    keep = np.zeros(n, bool)
    pixel_of = np.cumsum(decoded.ok) - 1
    for i in range(n):
        if blobs[i] is None:
            reasons[i] = NOT_DOWNLOADED
        elif not decoded.ok[i]:
            reasons[i] = UNDECODABLE
        else:
            reasons[i] = rules.image_reject_reason(int(decoded.width[i]), int(decoded.height[i]),
                                                   params.min_side, params.max_aspect)
            keep[i] = reasons[i] is None
    kept = np.flatnonzero(keep)
    emb = model.embed_pixels([decoded.pixels[pixel_of[i]] for i in kept])
    rows: list = [None] * n
    for row, i in enumerate(kept):
        rows[i] = emb[row].tolist()
    ok = decoded.ok.tolist()

    def when_ok(values, dtype):
        return pa.array([int(v) if o else None for v, o in zip(values.tolist(), ok)], dtype)

    out = batch.drop_columns(["image"])
    for name, column in (("width", when_ok(decoded.width, pa.int32())), ("height", when_ok(decoded.height, pa.int32())),
                         ("phash", when_ok(decoded.phash, pa.int64())), ("reason", pa.array(reasons, pa.string())),
                         ("emb", pa.array(rows, pa.list_(pa.float32())))):
        out = out.append_column(name, column)
    return out


def _image_mapper(params: EmbedParams):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield image_batch(batch, params)
    return run


def embed_images(df, params: EmbedParams):
    """``df`` with an ``image`` binary column (null = not downloaded) -> same columns without
    ``image``, plus ``width, height, phash, reason, emb``."""
    fields = [f for f in df.schema.fields if f.name != "image"]
    base = ",".join(f"{f.name}:{f.dataType.simpleString()}" for f in fields)
    return df.mapInArrow(_image_mapper(params),
                         f"{base},width:int,height:int,phash:bigint,reason:string,emb:array<float>")


def _assign_mapper(broadcast, probe: int):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        centroids = broadcast.value
        for batch in batches:
            x = emb_matrix(batch.column("emb"), centroids.shape[1])
            ids = top_centroids(x, centroids, probe) if len(x) else np.zeros((0, probe), np.int64)
            probe_col = pa.ListArray.from_arrays(
                pa.array(np.arange(0, (len(ids) + 1) * ids.shape[1], ids.shape[1], dtype=np.int32)),
                pa.array(ids.reshape(-1).astype(np.int32)))
            batch = batch.append_column("cluster", pa.array(ids[:, 0].astype(np.int32) if len(ids)
                                                            else np.zeros(0, np.int32)))
            yield batch.append_column("probe_clusters", probe_col)
    return run


def assign_clusters(df, centroids: np.ndarray, probe: int = 1):
    """Append ``cluster`` (nearest centroid, ties to the lower id) and ``probe_clusters`` (the
    ``probe`` nearest, best first) from the ``emb`` column."""
    spark = df.sparkSession
    bc = spark.sparkContext.broadcast(np.ascontiguousarray(centroids, dtype=np.float32))
    base = df.schema.simpleString()[len("struct<"):-1]
    return df.mapInArrow(_assign_mapper(bc, min(probe, len(centroids))),
                         f"{base},cluster:int,probe_clusters:array<int>")
