"""Arrow helpers of the RealSyn Spark stages: embedding columns and whole-group batching."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

EMB_TYPE = pa.list_(pa.float32())


def emb_array(x: np.ndarray) -> pa.ListArray:
    """float32[N, D] -> Arrow list<float32> (Spark ``array<float>``)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    n, d = x.shape
    offsets = pa.array(np.arange(0, (n + 1) * d, d, dtype=np.int32) if n else np.zeros(1, np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(x.reshape(-1)))


def emb_matrix(column, dim: int | None = None) -> np.ndarray:
    """Arrow list<float> column (every row of one length) -> float32[N, D]."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    n = len(column)
    if n == 0:
        return np.zeros((0, dim or 0), np.float32)
    if column.null_count:
        raise ValueError("embedding column has null rows")
    flat = column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False)
    if flat.size % n:
        raise ValueError("embedding rows have different lengths")
    return flat.reshape(n, flat.size // n)


def whole_groups(batches: Iterator[pa.RecordBatch], key: str) -> Iterator[pa.Table]:
    """Re-cut a stream of record batches *sorted by* ``key`` so that every yielded table holds
    only whole groups (all rows of each of its key values; usually several groups, split them
    with ``curation.sampling.image_runs``). Memory: one group plus one batch."""
    pending: list[pa.RecordBatch] = []
    for batch in batches:
        if batch.num_rows == 0:
            continue
        keys = batch.column(key)
        last = keys[batch.num_rows - 1]
        # first row of the batch's last group: everything before it is complete
        values = keys.to_pylist()
        cut = batch.num_rows - 1
        while cut > 0 and values[cut - 1] == last.as_py():
            cut -= 1
        if cut > 0:
            pending.append(batch.slice(0, cut))
            yield pa.Table.from_batches(pending)
            pending = []
        pending.append(batch.slice(cut))
    if pending:
        yield pa.Table.from_batches(pending)
