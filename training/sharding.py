"""Split an epoch's row groups across (rank, data-loader worker): no overlap, no gap, resumable.

The work unit is one Parquet row group of the pinned snapshot (ECOSYSTEM §4). Each epoch the
units are put in a hash order of ``(seed, epoch, unit)`` — not an RNG stream, so every rank
computes the same plan without communicating and the plan survives library upgrades — and
dealt greedily to the least-loaded rank (by rows), then within a rank to the least-loaded
worker. Every unit goes to exactly one (rank, worker), and rank totals differ by at most one
unit's rows, which keeps DDP ranks in step.

A worker reads its units in blocks of ``block_units`` consecutive units; the samples of one
block are emitted in a hash order, so batches mix row groups and change every epoch. The resume
position of a worker is ``(block, offset)``: blocks before it are skipped without reading.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from curation.hashing import hash64
from curation.readers import TableSnapshot


@dataclass(frozen=True)
class Unit:
    """One row group of one file of the snapshot, with its live row count."""

    file_index: int
    row_group: int
    rows: int


def list_units(snapshot: TableSnapshot) -> list[Unit]:
    """All non-empty row groups, in file order."""
    units = []
    for fi, f in enumerate(snapshot.files):
        for rg in range(len(f.row_group_rows)):
            rows = snapshot.row_group_rows(fi, rg)
            if rows > 0:
                units.append(Unit(fi, rg, rows))
    return units


def _deal(items: Sequence[int], weights: Sequence[int], bins: int) -> list[list[int]]:
    """Greedy: each item (in the given order) goes to the bin with the least weight so far (ties: lowest bin)."""
    heap = [(0, b) for b in range(bins)]
    out: list[list[int]] = [[] for _ in range(bins)]
    for item in items:
        load, b = heapq.heappop(heap)
        out[b].append(item)
        heapq.heappush(heap, (load + weights[item], b))
    return out


def epoch_order(units: Sequence[Unit], seed: int, epoch: int, shuffle: bool = True) -> list[int]:
    """Unit indices in this epoch's order: a hash order of ``(seed, epoch, file, row group)``."""
    idx = list(range(len(units)))
    if shuffle:
        idx.sort(key=lambda i: (hash64(seed, epoch, "unit", units[i].file_index, units[i].row_group), i))
    return idx


def assign_units(units: Sequence[Unit], seed: int, epoch: int, world_size: int, num_workers: int,
                 shuffle: bool = True) -> list[list[list[int]]]:
    """``plan[rank][worker]`` = unit indices that (rank, worker) reads this epoch, in reading order."""
    if world_size < 1 or num_workers < 1:
        raise ValueError("world_size and num_workers must be >= 1")
    order = epoch_order(units, seed, epoch, shuffle)
    weights = [u.rows for u in units]
    per_rank = _deal(order, weights, world_size)
    return [_deal(rank_units, weights, num_workers) for rank_units in per_rank]


def blocks(unit_ids: Sequence[int], block_units: int) -> list[list[int]]:
    """Consecutive groups of ``block_units`` unit ids (the shuffle and resume granularity)."""
    if block_units < 1:
        raise ValueError("block_units must be >= 1")
    return [list(unit_ids[i:i + block_units]) for i in range(0, len(unit_ids), block_units)]


def sample_order_key(seed: int, epoch: int, uid: str) -> int:
    """Order of samples inside a block; uids are unique per block, so the order is total."""
    return hash64(seed, epoch, "order", uid)
