"""The data plan all ranks share: one process reads the table's footers, every rank gets the result.

A run's plan needs the pinned snapshot (files and row-group sizes: one footer read per file),
``entry_probs`` (online mode) and, per row group, the number of samples it is expected to yield
(the weights ``training.sharding`` balances ranks and workers by). Read naively, every rank — and
every data-loader worker — would list the table and read every footer: ``R × files`` requests
before the first step. Instead rank 0 opens the tables once and broadcasts them
(``share_data_plan``); ranks then compute the expected yields of a disjoint ``1/R`` share of the
files and all-gather them. Workers inherit the plan from their rank; each opens only the
files it reads.

Expected yield of a row group (``expected_images``): offline, its live rows. Online, each image
is kept with the keep probability of the text chosen for it, and the text is chosen uniformly
among the image's texts (``curation.sampling``), so the image is kept with probability
``mean_t keep_probability(t)`` and a row group is expected to yield

    E[samples] = Σ_images (1 / n_texts) Σ_texts keep_probability(text)

computed from ``uid``, ``lang`` and ``entry_ids`` with ``entry_probs`` — no text is read (exact
for images with distinct texts). An image whose texts cross a row-group border belongs to the
row group of its first row, as in the reader: a row group whose first uid is the previous row
group's last one (its footer's uid maximum) leaves that run out, and the owner counts the mean
over the rows it holds. The expectation does not depend on the epoch, so it is computed
once per run and cached under the output directory, keyed by the snapshot and the probabilities.
``balance="rows"`` skips that scan and balances by rows (for tables where one pass over the light
columns at start-up is too much).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow.fs as pafs

from curation.readers import RowGroupReader, TableSnapshot, open_table
from curation.sampling import image_runs
from training.online import MATCHED_COLUMNS, keep_probabilities_of_rows, probs_from_snapshot
from training.sharding import Unit, list_units

log = logging.getLogger(__name__)

BALANCE = ("yield", "rows")
_YIELD_COLUMNS = ("uid", "lang", "entry_ids")
assert set(_YIELD_COLUMNS) <= set(MATCHED_COLUMNS)


def expected_images(uids: Sequence[object], keep_probs: Sequence[float] | np.ndarray) -> float:
    """Expected number of kept images among rows grouped by uid: ``Σ_images mean(keep_probs of its rows)``."""
    p = np.asarray(keep_probs, dtype=np.float64)
    if p.shape != (len(uids),):
        raise ValueError("one keep probability per row is needed")
    if p.size == 0:
        return 0.0
    bounds = image_runs(uids)
    return float((np.add.reduceat(p, bounds[:-1]) / np.diff(bounds)).sum())


def probs_digest(probs_by_lang: Mapping[str, np.ndarray] | None) -> str:
    """Content hash of the per-language probability arrays (keys the expected-yield cache)."""
    h = hashlib.sha256()
    for lang in sorted(probs_by_lang or {}):
        h.update(lang.encode("utf-8") + b"\x00")
        h.update(np.ascontiguousarray(probs_by_lang[lang], dtype=np.float32).tobytes())
    return h.hexdigest()[:16]


@dataclass
class DataPlan:
    """What every rank needs to plan an epoch, read once: snapshot, probabilities, weights per unit."""

    snapshot: TableSnapshot
    units: list[Unit]
    probs_by_lang: dict[str, np.ndarray] | None = None
    probs_version: int | None = None  # Delta version of entry_probs (checkpoints pin it)
    weights: np.ndarray | None = None  # expected samples per unit; None until computed

    def cache_key(self, mode: str, balance: str) -> str:
        h = hashlib.sha256(f"{mode}|{balance}|{self.snapshot.fingerprint()}|{probs_digest(self.probs_by_lang)}"
                           .encode())
        return h.hexdigest()[:20]


def open_data_plan(table: str, *, mode: str, entry_probs: str | None = None, format: str = "auto",
                   version: int | None = None, entry_probs_version: int | None = None,
                   storage_options: dict[str, str] | None = None, filesystem: pafs.FileSystem | None = None
                   ) -> DataPlan:
    """Pin the table (and, online, read ``entry_probs``) in this process: one footer read per file."""
    online = mode == "online"
    snapshot = open_table(table, format=format, version=version, key_column="uid" if online else None,
                          storage_options=storage_options, filesystem=filesystem)
    plan = DataPlan(snapshot, list_units(snapshot))
    if online:
        if entry_probs is None:
            raise ValueError("online mode needs an entry_probs table")
        probs = open_table(entry_probs, version=entry_probs_version, storage_options=storage_options,
                           filesystem=filesystem)
        plan.probs_by_lang, plan.probs_version = probs_from_snapshot(probs), probs.version
    return plan


def unit_weights(plan: DataPlan, mode: str, balance: str = "yield", indices: Sequence[int] | None = None,
                 reader: RowGroupReader | None = None) -> np.ndarray:
    """Expected samples of ``plan.units[i]`` for each ``i`` in ``indices`` (default: all), float64.

    Offline, or ``balance="rows"``: live rows (no read). Online: ``expected_images`` of the row
    group's ``uid``/``lang``/``entry_ids`` columns."""
    if balance not in BALANCE:
        raise ValueError(f"balance must be one of {BALANCE}, got {balance!r}")
    idx = range(len(plan.units)) if indices is None else indices
    if mode != "online" or balance == "rows":
        return np.array([plan.units[i].rows for i in idx], dtype=np.float64)
    if plan.probs_by_lang is None:
        raise ValueError("expected yields under online balancing need entry_probs")
    reader = reader or RowGroupReader(plan.snapshot)
    out = np.zeros(len(idx), dtype=np.float64)
    for k, i in enumerate(idx):
        u = plan.units[i]
        rows = reader.read(u.file_index, u.row_group, list(_YIELD_COLUMNS))
        if rows.num_rows:
            uids = rows.column("uid").to_pylist()
            p = keep_probabilities_of_rows(rows, plan.probs_by_lang)
            start = int(image_runs(uids)[1]) if _continues_previous(plan.snapshot, u, uids[0]) else 0
            out[k] = expected_images(uids[start:], p[start:])
    return out


def _continues_previous(snapshot: TableSnapshot, unit: Unit, first_uid: str) -> bool:
    """Whether the row group's first image started in the previous non-empty row group of the file,
    judged from the footers' uid maxima (no statistics: assume not)."""
    f = snapshot.files[unit.file_index]
    for k in range(unit.row_group - 1, -1, -1):
        if snapshot.row_group_rows(unit.file_index, k) == 0:
            continue
        bounds = f.key_ranges[k] if k < len(f.key_ranges) else None
        return bounds is not None and bounds[1] == first_uid
    return False


def yield_shares(units: Sequence[Unit], world_size: int) -> list[list[int]]:
    """Unit indices whose expected yield each rank computes: whole files, file ``f`` to rank
    ``f mod R``, so every file is opened by one rank once."""
    shares: list[list[int]] = [[] for _ in range(world_size)]
    for i, u in enumerate(units):
        shares[u.file_index % world_size].append(i)
    return shares


def _cache_path(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, f"expected_yields-{key}.npy")


def share_data_plan(table: str, *, mode: str, rank: int = 0, world_size: int = 1,
                    broadcast: Callable[[object], object] = lambda obj: obj,
                    all_gather: Callable[[object], list] = lambda obj: [obj],
                    balance: str = "yield", cache_dir: str | None = None, **open_kwargs: object) -> DataPlan:
    """The plan on every rank, with one reader of the table's footers (rank 0).

    ``broadcast(obj)`` returns rank 0's ``obj`` on every rank and ``all_gather(obj)`` every rank's
    ``obj`` in rank order (``training.distributed`` wraps torch's object collectives; a world of
    one passes the defaults). Rank 0 opens the tables and looks for cached weights; the plan is
    broadcast; missing weights are computed by every rank for its share of the files
    (``yield_shares``) and all-gathered; rank 0 writes the cache."""
    plan = None
    if rank == 0:
        plan = open_data_plan(table, mode=mode, **open_kwargs)  # type: ignore[arg-type]
        if cache_dir and os.path.exists(_cache_path(cache_dir, plan.cache_key(mode, balance))):
            weights = np.load(_cache_path(cache_dir, plan.cache_key(mode, balance)))
            if weights.shape == (len(plan.units),):
                plan.weights = weights
    plan = broadcast(plan)
    assert isinstance(plan, DataPlan)
    if plan.weights is None:
        shares = yield_shares(plan.units, world_size)
        parts = all_gather(unit_weights(plan, mode, balance, shares[rank]))
        weights = np.zeros(len(plan.units), dtype=np.float64)
        for share, part in zip(shares, parts):
            weights[share] = part
        plan.weights = weights
        if rank == 0 and cache_dir and mode == "online" and balance == "yield":
            os.makedirs(cache_dir, exist_ok=True)
            tmp = os.path.join(cache_dir, f".tmp-{os.getpid()}.npy")
            np.save(tmp, weights)
            os.replace(tmp, _cache_path(cache_dir, plan.cache_key(mode, balance)))
    log.info("data plan: %d units, %.0f expected samples per epoch (%s)", len(plan.units), plan.weights.sum(),
             "rows" if mode != "online" or balance == "rows" else "expected yield")
    return plan
