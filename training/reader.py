"""Torch-free reading of a curated table as per-epoch sample records (the loader's core).

``EpochReader`` knows the snapshot, the per-epoch plan of row groups over (rank, worker) — weighted
by the samples each row group is expected to yield, from a ``training.planning.DataPlan`` the
ranks of a run share — and how one row group becomes samples: offline mode takes every ``curated`` row; online mode groups the
``matched`` rows of each image and applies MetaCLIP 2 balanced sampling (``training.online``).
A run of one image's texts split across a row-group boundary belongs to the row group holding its
first row; that reader also reads the run's tail from the next row group(s), the other skips it.

``training.dataset`` wraps this in a torch ``IterableDataset``; keeping this part free of torch
lets ``training.crosscheck`` and the Spark cross-check test run without it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from curation.readers import RowGroupReader, TableSnapshot, open_table
from curation.sampling import image_runs
from training.images import ImageSpec, payloads, resolve_image_spec
from training.online import MATCHED_COLUMNS, probs_from_snapshot, sample_rows
from training.planning import BALANCE, DataPlan, share_data_plan, unit_weights
from training.sharding import Unit, assign_units, blocks, list_units, sample_order_key

log = logging.getLogger(__name__)

MODES = ("offline", "online")


@dataclass
class DataConfig:
    """Where the training data is and how to read it (validated once, before any work)."""

    table: str
    mode: str = "offline"
    entry_probs: str | None = None  # online mode; default: sibling ``entry_probs`` of ``table``
    format: str = "auto"
    version: int | None = None  # Delta time travel for ``table``
    entry_probs_version: int | None = None
    text_column: str = "text"
    image_bytes_column: str | None = None
    image_path_column: str | None = None
    image_key_column: str | None = None
    image_root: str | None = None
    seed: int = 0
    block_units: int = 4
    shuffle: bool = True
    balance: str = "yield"  # plan weights: expected samples per row group, or "rows" (training.planning)
    storage_options: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.balance not in BALANCE:
            raise ValueError(f"balance must be one of {BALANCE}, got {self.balance!r}")
        if self.block_units < 1:
            raise ValueError("block_units must be >= 1")
        if self.mode == "online" and self.entry_probs is None:
            self.entry_probs = os.path.join(os.path.dirname(self.table.rstrip("/")), "entry_probs")


def shared_plan(config: DataConfig, *, rank: int = 0, world_size: int = 1,
                broadcast: Callable[[object], object] = lambda obj: obj,
                all_gather: Callable[[object], list] = lambda obj: [obj],
                cache_dir: str | None = None) -> DataPlan:
    """``training.planning.share_data_plan`` for a ``DataConfig``: the plan a run's ranks share
    (the defaults plan in this process alone, as ``python -m training plan`` does)."""
    return share_data_plan(config.table, mode=config.mode, rank=rank, world_size=world_size, broadcast=broadcast,
                           all_gather=all_gather, balance=config.balance, cache_dir=cache_dir,
                           entry_probs=config.entry_probs, format=config.format, version=config.version,
                           entry_probs_version=config.entry_probs_version, storage_options=config.storage_options)


def tables_under_root(root: str, mode: str) -> tuple[str, str | None]:
    """``<root>/curated`` (offline) or ``<root>/matched`` + ``<root>/entry_probs`` (online)."""
    root = root.rstrip("/")
    if mode == "offline":
        return f"{root}/curated", None
    return f"{root}/matched", f"{root}/entry_probs"


@dataclass
class Record:
    """One sample before decoding: the image's uid, its (chosen) text and where its image is."""

    uid: str
    text: str
    lang: str | None
    text_index: int
    payload: object = None


class EpochReader:
    """Per-epoch sample records of one rank of a curated table, sharded by row group."""

    def __init__(self, config: DataConfig, *, rank: int = 0, world_size: int = 1, load_images: bool = True,
                 snapshot: TableSnapshot | None = None, probs_by_lang: Mapping[str, np.ndarray] | None = None,
                 plan: DataPlan | None = None):
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world of size {world_size}")
        self.config = config
        self.rank, self.world_size = rank, world_size
        self.load_images = load_images
        online = config.mode == "online"
        if plan is None:  # a process on its own; a run shares one plan (training.planning.share_data_plan)
            snap = snapshot or open_table(config.table, format=config.format, version=config.version,
                                          key_column="uid" if online else None,
                                          storage_options=config.storage_options)
            plan = DataPlan(snap, list_units(snap), dict(probs_by_lang) if probs_by_lang is not None else None)
        self.plan = plan
        self.snapshot = plan.snapshot
        names = self.snapshot.schema.names
        need = list(MATCHED_COLUMNS) if online else ["uid", config.text_column]
        if online and config.text_column != "text":
            raise ValueError("online mode reads the matched table's 'text' column")
        missing = [c for c in need if c not in names]
        if missing:
            raise ValueError(f"{config.table} lacks columns {missing} needed for {config.mode} mode (has {names})")
        if not online and {"entry_ids", "lid_label"} <= set(names) and "keep_prob" not in names:
            log.warning("%s looks like a 'matched' table; offline mode trains on every text row. "
                        "Use mode='online' for MetaCLIP 2 balancing.", config.table)
        self.lang_column = "lang" if "lang" in names else None
        self.image_spec: ImageSpec | None = None
        if load_images:
            self.image_spec = resolve_image_spec(
                self.snapshot.schema, config.table, bytes_column=config.image_bytes_column,
                path_column=config.image_path_column, key_column=config.image_key_column, root=config.image_root)
        if online and plan.probs_by_lang is None:
            assert config.entry_probs is not None
            probs = open_table(config.entry_probs, version=config.entry_probs_version,
                               storage_options=config.storage_options)
            plan.probs_version = probs.version
            plan.probs_by_lang = probs_from_snapshot(probs)
        self.probs_by_lang = plan.probs_by_lang
        self.probs_version: int | None = plan.probs_version  # Delta version of entry_probs (checkpoints pin it)
        partitions = {f.partition_values for f in self.snapshot.files}
        if online and len(partitions) > 1:
            log.warning("%s has %d partitions (%s …): the loader groups an image's texts within one file, so an "
                        "image whose texts sit in several partitions (e.g. incremental batches that saw the same "
                        "url) is sampled once per partition, unlike the offline job", config.table,
                        len(partitions), min(partitions))
        self.units: list[Unit] = plan.units
        if not self.units:
            raise ValueError(f"{config.table} has no rows")
        self.epoch = 0
        self._reader: RowGroupReader | None = None
        self._plans: dict[tuple[int, int], list[list[list[int]]]] = {}

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_reader"] = None  # open file handles stay in the process that opened them
        return state

    # ---- plan -------------------------------------------------------------------------
    @property
    def weights(self) -> np.ndarray:
        """Expected samples per unit (``training.planning``); computed here if the plan has none yet."""
        if self.plan.weights is None:
            self.plan.weights = unit_weights(self.plan, self.config.mode, self.config.balance, reader=self.reader)
        return self.plan.weights

    def epoch_plan(self, num_workers: int, epoch: int | None = None) -> list[list[list[int]]]:
        """``plan[rank][worker]``: unit indices of every (rank, worker) in ``epoch`` (memoised)."""
        epoch = self.epoch if epoch is None else epoch
        key = (epoch, num_workers)
        if key not in self._plans:
            if len(self._plans) > 2:
                self._plans.clear()
            self._plans[key] = assign_units(self.units, self.config.seed, epoch, self.world_size, num_workers,
                                            self.config.shuffle, self.weights)
        return self._plans[key]

    def worker_units(self, worker: int, num_workers: int, epoch: int | None = None) -> list[int]:
        """Unit indices that (this rank, ``worker``) reads in ``epoch``."""
        return self.epoch_plan(num_workers, epoch)[self.rank][worker]

    # ---- reading -----------------------------------------------------------------------
    @property
    def reader(self) -> RowGroupReader:
        if self._reader is None:  # one per process: never shared across forked workers
            self._reader = RowGroupReader(self.snapshot)
        return self._reader

    def _columns(self, with_payload: bool) -> list[str]:
        cols = list(MATCHED_COLUMNS) if self.config.mode == "online" else ["uid", self.config.text_column]
        if self.lang_column and self.lang_column not in cols:
            cols.append(self.lang_column)
        if with_payload and self.image_spec is not None and self.image_spec.column not in cols:
            cols.append(self.image_spec.column)
        return cols

    def _live_rows(self, fi: int, rg: int) -> int:
        return self.snapshot.row_group_rows(fi, rg)

    def _previous_last_uid(self, fi: int, rg: int, first_uid: str) -> str | None:
        """Last uid of the nearest earlier non-empty row group of the file (None if provably different)."""
        ranges = self.snapshot.files[fi].key_ranges
        for k in range(rg - 1, -1, -1):
            if self._live_rows(fi, k) == 0:
                continue
            if ranges and ranges[k] is not None and ranges[k][1] < first_uid:
                return None  # max of row group k < our first uid: no shared uid
            uids = self.reader.read(fi, k, ["uid"]).column("uid")
            return uids[len(uids) - 1].as_py()
        return None

    def _continuation(self, fi: int, rg: int, last_uid: str) -> pa.Table | None:
        """Rows with ``last_uid`` at the start of the following row groups (light columns only)."""
        f = self.snapshot.files[fi]
        parts = []
        for k in range(rg + 1, len(f.row_group_rows)):
            if self._live_rows(fi, k) == 0:
                continue
            if f.key_ranges and f.key_ranges[k] is not None and last_uid < f.key_ranges[k][0]:
                break
            t = self.reader.read(fi, k, list(MATCHED_COLUMNS))
            uids = t.column("uid").to_pylist()
            n = int(image_runs(uids)[1]) if uids and uids[0] == last_uid else 0
            parts.append(t.slice(0, n))
            if n < len(uids):
                break
        return pa.concat_tables(parts) if parts else None

    def unit_records(self, unit: Unit, epoch: int, with_payload: bool = True) -> list[Record]:
        """Samples of one row group in this epoch (online: balanced; offline: every row)."""
        fi, rg = unit.file_index, unit.row_group
        table = self.reader.read(fi, rg, self._columns(with_payload))
        if table.num_rows == 0:
            return []
        uids = table.column("uid").to_pylist()
        if self.config.mode == "offline":
            langs = table.column(self.lang_column).to_pylist() if self.lang_column else [None] * len(uids)
            texts = table.column(self.config.text_column).to_pylist()
            rows = list(range(len(uids)))
            pay = payloads(table, self.image_spec, rows) if with_payload and self.image_spec else [None] * len(rows)
            return [Record(uids[r], texts[r], langs[r], 0, pay[r]) for r in rows]
        prev = self._previous_last_uid(fi, rg, uids[0]) if rg > 0 else None
        # an image continued from an earlier row group is owned by that one: skip its run
        start = int(image_runs(uids)[1]) if prev is not None and prev == uids[0] else 0
        if start == len(uids):
            return []
        matched = table.select(list(MATCHED_COLUMNS)).slice(start)
        cont = self._continuation(fi, rg, uids[-1])
        if cont is not None and cont.num_rows:
            matched = pa.concat_tables([matched, cont])
        firsts, chosen = sample_rows(matched, self.probs_by_lang, self.config.seed, epoch)
        assert (firsts < len(uids) - start).all()  # every image sampled here starts in this row group
        picked = matched.take(pa.array(chosen, pa.int64()))
        own = (firsts + start).tolist()
        pay = payloads(table, self.image_spec, own) if with_payload and self.image_spec else [None] * len(own)
        return [Record(*fields) for fields in zip(picked.column("uid").to_pylist(), picked.column("text").to_pylist(),
                                                  picked.column("lang").to_pylist(), (chosen - firsts).tolist(), pay)]

    def block_records(self, unit_ids: Sequence[int], epoch: int, with_payload: bool = True) -> list[Record]:
        recs = [r for u in unit_ids for r in self.unit_records(self.units[u], epoch, with_payload)]
        if self.config.shuffle:
            recs.sort(key=lambda r: sample_order_key(self.config.seed, epoch, r.uid))
        return recs

    def iter_records(self, worker: int = 0, num_workers: int = 1, epoch: int | None = None,
                     start: Sequence[int] = (0, 0), with_payload: bool = True
                     ) -> Iterator[tuple[tuple[int, int], Record]]:
        """``((block, offset_after), record)`` for one (rank, worker) in reading order, from ``start``."""
        epoch = self.epoch if epoch is None else epoch
        start_block, start_offset = int(start[0]), int(start[1])
        for b, blk in enumerate(blocks(self.worker_units(worker, num_workers, epoch), self.config.block_units)):
            if b < start_block:
                continue
            recs = self.block_records(blk, epoch, with_payload)
            for off in range(start_offset if b == start_block else 0, len(recs)):
                yield (b, off + 1), recs[off]

    def estimate_epoch_samples(self) -> int:
        """Samples per epoch over all ranks: exact offline; online, the sum of the units' expected yields."""
        return round(float(self.weights.sum()))


def iter_epoch_records(table: str | TableSnapshot, *, mode: str = "offline",
                       probs_by_lang: Mapping[str, np.ndarray] | None = None, seed: int = 0, epoch: int = 0,
                       world_size: int = 1, num_workers: int = 1, load_images: bool = False,
                       **config: object) -> Iterator[Record]:
    """Every record of one epoch, over all ranks and workers, exactly as the loader plans them."""
    uri = table.uri if isinstance(table, TableSnapshot) else table
    snapshot = table if isinstance(table, TableSnapshot) else None
    cfg = DataConfig(table=uri, mode=mode, seed=seed, **config)  # type: ignore[arg-type]
    plan = None
    for rank in range(world_size):
        ds = EpochReader(cfg, rank=rank, world_size=world_size, load_images=load_images, snapshot=snapshot,
                         probs_by_lang=probs_by_lang, plan=plan)
        plan = ds.plan  # one snapshot and one set of weights for all ranks, as in a run
        for w in range(num_workers):
            for _, rec in ds.iter_records(w, num_workers, epoch, with_payload=load_images):
                yield rec
