"""Split an epoch's row groups across (rank, data-loader worker): no overlap, no gap, resumable.

The work unit is one Parquet row group of the pinned snapshot (ECOSYSTEM §4). Each unit has a
*weight*, the number of samples it is expected to yield: its live rows offline, the sum of its
images' keep probabilities under online balancing (``training.planning``). Each epoch the units
are dealt greedily to the least-loaded rank, then within a rank to the least-loaded worker,
largest first: in decreasing weight class (``weight_class``: 9 % wide), within a class in a hash order of
``(seed, epoch, unit)`` — not an RNG stream, so every rank computes the same plan without
communicating and the plan survives library upgrades, and units of similar size still change
places every epoch. Every unit goes to exactly one (rank, worker). Greedy dealing keeps the
ranks' expected loads within one unit's weight of each other; dealing large units first makes
the last units dealt, which set the final gap, the small ones (as in LPT scheduling). A worker
then reads its units in the epoch's hash order.

A worker reads its units in blocks of ``block_units`` consecutive units; the samples of one
block are emitted in a hash order, so batches mix row groups and change every epoch. The resume
position of a worker is ``(block, offset)``: blocks before it are skipped without reading.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

from curation.hashing import hash64
from curation.readers import TableSnapshot


# Bumped whenever the deal changes: a mid-epoch resume position is only valid under the same deal.
# 1: hash order, greedy by rows; 2: largest weight class first, greedy by expected yield.
PLAN_VERSION = "deal-v2"


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


def _deal(items: Sequence[int], weights: Sequence[float], bins: int) -> list[list[int]]:
    """Greedy: each item (in the given order) goes to the bin with the least weight so far (ties: lowest bin)."""
    heap: list[tuple[float, int]] = [(0.0, b) for b in range(bins)]
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


CLASSES_PER_OCTAVE = 8


def weight_class(weight: float) -> int:
    """``floor(8 · log2(weight))``, and a class below every other for weight 0: units are dealt by
    decreasing class, so one class holds weights within 2^(1/8) ≈ 9 % of each other (e.g. all
    full row groups of an offline table), shuffled per epoch; larger classes go first."""
    return math.floor(CLASSES_PER_OCTAVE * math.log2(weight)) if weight > 0 else -(1 << 30)


def assign_units(units: Sequence[Unit], seed: int, epoch: int, world_size: int, num_workers: int,
                 shuffle: bool = True, weights: Sequence[float] | None = None) -> list[list[list[int]]]:
    """``plan[rank][worker]`` = unit indices that (rank, worker) reads this epoch, in reading order.

    ``weights[i]``: samples unit ``i`` is expected to yield (default: its rows). Deal order:
    decreasing ``weight_class``, then the epoch's hash order; reading order: the hash order."""
    if world_size < 1 or num_workers < 1:
        raise ValueError("world_size and num_workers must be >= 1")
    w = [float(u.rows) for u in units] if weights is None else [float(x) for x in weights]
    if len(w) != len(units) or any(not x >= 0 for x in w):  # `not >=` also catches NaN
        raise ValueError("weights must be one non-negative number per unit")
    order = epoch_order(units, seed, epoch, shuffle)
    position = {u: i for i, u in enumerate(order)}
    deal = sorted(order, key=lambda u: (-weight_class(w[u]), position[u]))
    plan = []
    for rank_units in _deal(deal, w, world_size):
        plan.append([sorted(ws, key=position.__getitem__) for ws in _deal(rank_units, w, num_workers)])
    return plan


def blocks(unit_ids: Sequence[int], block_units: int) -> list[list[int]]:
    """Consecutive groups of ``block_units`` unit ids (the shuffle and resume granularity)."""
    if block_units < 1:
        raise ValueError("block_units must be >= 1")
    return [list(unit_ids[i:i + block_units]) for i in range(0, len(unit_ids), block_units)]


def sample_order_key(seed: int, epoch: int, uid: str) -> int:
    """Order of samples inside a block; uids are unique per block, so the order is total."""
    return hash64(seed, epoch, "order", uid)
