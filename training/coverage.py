"""``python -m training plan``: what one epoch reads per (rank, worker), and whether that is the
epoch's sample, each sample exactly once.

    python -m training plan --data /data/wwclip/curated --world-size 8 --workers 4 --batch-size 256
    python -m training plan --data /data/wwclip --online --epoch 1 --world-size 8 --workers 4

It reads through the trainer's own code, without images, model or process group: the shared data
plan (``training.reader.shared_plan``), each (rank, worker)'s batches as a ``DataLoader`` worker
yields them (``CuratedDataset.iter_batches``), interleaved round-robin as the ``DataLoader`` does,
and turned into the rank's steps by ``RankSteps``. The reference it compares with, the epoch's
sample, is computed without the plan: offline, every live row of the table; online, the balanced
draw of each data file's ``matched`` rows grouped by uid (``training.crosscheck.online_sample_table``
on the whole file, so no row-group ownership rule is involved; the curation jobs keep an image's
texts in one file). Samples are compared as ``(uid, text)`` multisets.

Coverage is ``Σ_s min(yielded_s, sample_s) / |sample|``; a duplicate is a sample yielded more
often than it is in the sample, an extra one that is not in it at all. The exit code is 1 unless
coverage is 100 % with no duplicate and no extra. ``--plan-only`` prints the plan and the expected
counts without reading the rows (for very large tables).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

import pyarrow as pa

from curation.readers import RowGroupReader, exists
from training.crosscheck import online_sample_table
from training.dataset import CuratedDataset, RankSteps
from training.online import MATCHED_COLUMNS
from training.planning import DataPlan
from training.reader import DataConfig, shared_plan, tables_under_root


@dataclass
class WorkerPlan:
    """One data-loader worker of one rank: its row groups and what it yields."""

    rank: int
    worker: int
    units: list[tuple[int, int]]  # (file index, row group)
    expected: float
    samples: int | None = None
    batches: int | None = None


@dataclass
class RankPlan:
    rank: int
    workers: list[WorkerPlan]
    step_sizes: list[int] | None = None  # samples of each of the rank's steps, in order

    @property
    def expected(self) -> float:
        return sum(w.expected for w in self.workers)

    @property
    def samples(self) -> int | None:
        return None if self.step_sizes is None else sum(self.step_sizes)


@dataclass
class EpochCoverage:
    """The plan of one epoch and, unless ``plan_only``, what it yields against the epoch's sample."""

    mode: str
    epoch: int
    world_size: int
    num_workers: int
    batch_size: int
    files: list[str]
    ranks: list[RankPlan]
    sample: int | None = None  # size of the epoch's sample (the reference)
    covered: int = 0
    duplicates: int = 0
    extra: int = 0
    missing_examples: list[str] = field(default_factory=list)
    duplicate_examples: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return self.sample is not None

    @property
    def yielded(self) -> int:
        return sum(r.samples or 0 for r in self.ranks)

    @property
    def coverage(self) -> float:
        return self.covered / self.sample if self.sample else 1.0

    @property
    def missing(self) -> int:
        return (self.sample or 0) - self.covered

    @property
    def ok(self) -> bool:
        return self.verified and self.covered == self.sample and self.duplicates == 0 and self.extra == 0

    def global_steps(self) -> list[int]:
        """Samples of each global step: step ``t`` holds every rank's ``t``-th step (ranks out of
        data take part padded, ``training.train``)."""
        n = max((len(r.step_sizes or ()) for r in self.ranks), default=0)
        return [sum(r.step_sizes[t] for r in self.ranks if r.step_sizes and t < len(r.step_sizes))
                for t in range(n)]

    def summary(self) -> dict:
        steps = self.global_steps()
        g = self.batch_size * self.world_size
        out = {"mode": self.mode, "epoch": self.epoch, "world_size": self.world_size, "workers": self.num_workers,
               "batch_size": self.batch_size, "expected_samples": round(sum(r.expected for r in self.ranks), 1)}
        if self.verified:
            out.update(sample=self.sample, yielded=self.yielded, coverage=self.coverage, duplicates=self.duplicates,
                       missing=self.missing, extra=self.extra, global_steps=len(steps),
                       full_global_steps=sum(s == g for s in steps),
                       padded_rows=len(steps) * g - self.yielded,
                       drop_last_drops=steps[-1] if steps and steps[-1] < g else 0, ok=self.ok)
        return out


def round_robin(streams: Iterable[Iterator[dict]]) -> Iterator[dict]:
    """Items of several iterators in a ``DataLoader``'s order: one from each live worker in turn."""
    live = list(streams)
    while live:
        still = []
        for it in live:
            item = next(it, None)
            if item is not None:
                yield item
                still.append(it)
        live = still


def epoch_sample(config: DataConfig, plan: DataPlan, epoch: int) -> Counter:
    """The epoch's sample as a ``Counter`` of ``(uid, text)``, computed without the plan: offline every
    live row, online the balanced draw of each file's ``matched`` rows (whole files, grouped by uid)."""
    snap, reader = plan.snapshot, RowGroupReader(plan.snapshot)
    out: Counter = Counter()
    for fi, f in enumerate(snap.files):
        if config.mode == "offline":
            for rg in range(len(f.row_group_rows)):
                t = reader.read(fi, rg, ["uid", config.text_column])
                out.update(zip(t.column("uid").to_pylist(), t.column(config.text_column).to_pylist()))
            continue
        parts = [reader.read(fi, rg, list(MATCHED_COLUMNS)) for rg in range(len(f.row_group_rows))]
        rows = pa.concat_tables(parts) if parts else None
        if rows is not None and rows.num_rows:
            assert plan.probs_by_lang is not None
            out.update((u, t) for u, _, t in online_sample_table(rows, plan.probs_by_lang, config.seed, epoch))
    return out


def plan_epoch(config: DataConfig, *, world_size: int, num_workers: int, batch_size: int, epoch: int = 0,
               plan: DataPlan | None = None, verify: bool = True, examples: int = 5) -> EpochCoverage:
    """The epoch's plan per (rank, worker) and, with ``verify``, everything it yields, through the
    trainer's code path, checked against ``epoch_sample``."""
    if world_size < 1 or num_workers < 1 or batch_size < 1:
        raise ValueError("world_size, num_workers and batch_size must be >= 1")
    plan = plan or shared_plan(config)
    datasets = [CuratedDataset(config, batch_size=batch_size, rank=r, world_size=world_size, load_images=False,
                               plan=plan) for r in range(world_size)]
    weights = datasets[0].weights
    layout = datasets[0].epoch_plan(num_workers, epoch)
    units = plan.units
    ranks = [RankPlan(r, [WorkerPlan(r, w, [(units[u].file_index, units[u].row_group) for u in layout[r][w]],
                                     float(sum(weights[u] for u in layout[r][w])))
                          for w in range(num_workers)]) for r in range(world_size)]
    cov = EpochCoverage(config.mode, epoch, world_size, num_workers, batch_size,
                        [f.path for f in plan.snapshot.files], ranks)
    if not verify:
        return cov
    yielded: Counter = Counter()
    for ds, rank in zip(datasets, ranks):
        ds.set_epoch(epoch)

        def counted(worker: WorkerPlan, ds: CuratedDataset = ds) -> Iterator[dict]:
            worker.samples, worker.batches = 0, 0
            for batch in ds.iter_batches(worker.worker, num_workers, in_worker=False):
                worker.samples += len(batch["uids"])
                worker.batches += 1
                yield batch

        rank.step_sizes = []
        for step in RankSteps(round_robin(counted(w) for w in rank.workers), batch_size):
            rank.step_sizes.append(len(step["uids"]))
            yielded.update(zip(step["uids"], step["texts"]))
    sample = epoch_sample(config, plan, epoch)
    cov.sample = sum(sample.values())
    cov.covered = sum(min(n, sample[k]) for k, n in yielded.items())
    cov.duplicates = sum(n - sample[k] for k, n in yielded.items() if k in sample and n > sample[k])
    cov.extra = sum(n for k, n in yielded.items() if k not in sample)
    cov.missing_examples = [k[0] for k, n in sample.items() if yielded[k] < n][:examples]
    cov.duplicate_examples = [k[0] for k, n in yielded.items() if n > sample[k]][:examples]
    return cov


def _units_text(units: list[tuple[int, int]], limit: int) -> str:
    shown = " ".join(f"{f}:{g}" for f, g in units[:limit])
    return shown + (f" … (+{len(units) - limit})" if len(units) > limit else "") if units else "-"


def format_report(cov: EpochCoverage, max_units: int = 8, max_files: int = 10) -> str:
    """The plan as text: files, then per rank and worker the row groups (``file:row_group``) and counts."""
    lines = [f"{cov.mode} epoch {cov.epoch}: {cov.world_size} rank(s) × {cov.num_workers} worker(s), "
             f"batch {cov.batch_size} per rank, {len(cov.files)} file(s)"]
    lines += [f"  file {i}: {p}" for i, p in enumerate(cov.files[:max_files])]
    if len(cov.files) > max_files:
        lines.append(f"  … {len(cov.files) - max_files} more files")
    lines.append(f"{'rank':>5} {'worker':>6} {'row groups':>10} {'expected':>10} {'actual':>8} {'batches':>7}  "
                 "units (file:row group)")
    for r in cov.ranks:
        for w in r.workers:
            actual = "" if w.samples is None else str(w.samples)
            batches = "" if w.batches is None else str(w.batches)
            lines.append(f"{r.rank:>5} {w.worker:>6} {len(w.units):>10} {w.expected:>10.1f} {actual:>8} "
                         f"{batches:>7}  {_units_text(w.units, max_units)}")
        total = "" if r.samples is None else str(r.samples)
        steps = "" if r.step_sizes is None else f"{len(r.step_sizes)} steps"
        lines.append(f"{r.rank:>5} {'all':>6} {sum(len(w.units) for w in r.workers):>10} {r.expected:>10.1f} "
                     f"{total:>8} {steps:>7}")
    s = cov.summary()
    if not cov.verified:
        lines.append(f"expected samples: {s['expected_samples']:.1f} (plan only: rows not read)")
        return "\n".join(lines)
    lines.append(f"epoch sample: {s['sample']}  yielded: {s['yielded']}  coverage: {100 * s['coverage']:.2f} %  "
                 f"duplicates: {s['duplicates']}  missing: {s['missing']}  extra: {s['extra']}")
    lines.append(f"global steps: {s['global_steps']} ({s['full_global_steps']} full), padded rows: "
                 f"{s['padded_rows']}, --drop-last would skip {s['drop_last_drops']} sample(s)")
    if cov.missing_examples:
        lines.append(f"missing, e.g.: {cov.missing_examples}")
    if cov.duplicate_examples:
        lines.append(f"duplicated or extra, e.g.: {cov.duplicate_examples}")
    lines.append("OK" if cov.ok else "FAILED: the epoch does not yield its sample exactly once")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m training plan", description=__doc__.split("\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--data", required=True, help="table (curated, or matched with --online) or curation output root")
    ap.add_argument("--online", action="store_true", help="online balancing of a matched table")
    ap.add_argument("--entry-probs", help="entry_probs table (default: beside the table)")
    ap.add_argument("--epoch", type=int, default=0)
    ap.add_argument("--world-size", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1, help="data-loader workers per rank (0 counts as 1)")
    ap.add_argument("--batch-size", type=int, default=64, help="per rank")
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--format", choices=("auto", "parquet", "delta"), default="auto")
    ap.add_argument("--version", type=int, help="Delta version")
    ap.add_argument("--block-units", type=int, default=4)
    ap.add_argument("--balance", choices=("yield", "rows"), default="yield")
    ap.add_argument("--text-column", default="text")
    ap.add_argument("--plan-only", action="store_true", help="print the plan without reading the rows")
    ap.add_argument("--max-units", type=int, default=8, help="row groups listed per worker")
    ap.add_argument("--json", help="also write the report here as JSON")
    return ap


def config_from_args(args: argparse.Namespace) -> DataConfig:
    mode = "online" if args.online else "offline"
    table, probs = args.data, args.entry_probs
    root_table, root_probs = tables_under_root(args.data, mode)
    if exists(root_table):  # an output root: take its curated / matched table
        table, probs = root_table, probs or root_probs
    return DataConfig(table=table, mode=mode, entry_probs=probs, format=args.format, version=args.version,
                      seed=args.data_seed, block_units=args.block_units, balance=args.balance,
                      text_column=args.text_column)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    cov = plan_epoch(config, world_size=args.world_size, num_workers=max(1, args.workers),
                     batch_size=args.batch_size, epoch=args.epoch, verify=not args.plan_only)
    print(format_report(cov, args.max_units))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"summary": cov.summary(), "ranks": [asdict(r) for r in cov.ranks], "files": cov.files}, f,
                      indent=1)
    return 0 if args.plan_only or cov.ok else 1


if __name__ == "__main__":
    sys.exit(main())
