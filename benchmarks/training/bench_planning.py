"""Planning cost at scale: footer reads and time to plan an epoch, 10,000 files × 64 ranks.

A fake pyarrow filesystem (``CountingHandler``) serves ``--files`` Parquet part files of a
``matched``-like table (uid, text, lang, entry_ids; ``--row-groups`` row groups of ``--rows`` rows,
the same bytes under every name, so nothing touches the disk) plus an ``entry_probs`` table, and
counts every request: listings, file-info calls, file opens (a footer read opens the file) and
bytes read. The ranks of a run are simulated in one process, one after another, each with its own
counters: ``broadcast`` is a pickle round trip (what ``torch.distributed.broadcast_object_list``
sends) and ``all_gather`` hands every rank the shares the ranks computed.

Scenarios (``--mode online``: expected yields are computed; ``offline``: weights are row counts):

* ``every rank opens``: each rank pins the table itself (``curation.readers.open_table``: one
  listing plus one footer per file), as the loader did before the shared plan: ``R × files``
  footer reads. Measured for ``--before-ranks`` ranks (default: all) and identical per rank.
* ``shared plan``: ``training.planning.share_data_plan`` — rank 0 pins the table and broadcasts
  it; each rank reads the light columns of its ``1/R`` share of row groups for the expected
  yields (online) and all-gathers them.
* ``epoch plan``: ``training.sharding.assign_units`` over all row groups for R ranks × W workers,
  which every rank computes once per epoch (its workers inherit it).

    python benchmarks/training/bench_planning.py --files 10000 --ranks 64 --workers 8 \\
        --out benchmarks/training/planning_results.json
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pickle
import platform
import sys
import time
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from curation.readers import open_table  # noqa: E402
from training.planning import share_data_plan, yield_shares  # noqa: E402
from training.sharding import assign_units  # noqa: E402

ROOT = "/bench/matched"
PROBS = "/bench/entry_probs"


def matched_file(row_groups: int, rows: int) -> bytes:
    """One part file: ``row_groups × rows`` rows sorted by uid, 1–3 texts per image."""
    n = row_groups * rows
    rng = np.random.default_rng(0)
    per_image = rng.integers(1, 4, size=n)
    uids = np.repeat([f"{i:024x}" for i in range(n)], per_image)[:n]
    table = pa.table({"uid": uids.tolist(), "text": [f"text {i}" for i in range(n)],
                      "lang": rng.choice(["en", "de", "ja"], size=n).tolist(),
                      "entry_ids": pa.array([[int(i % 50)] for i in range(n)], pa.list_(pa.int32()))})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=rows)
    return sink.getvalue()


def probs_file() -> bytes:
    table = pa.table({"lang": [lang for lang in ("en", "de", "ja") for _ in range(50)],
                      "entry_id": pa.array([i for _ in range(3) for i in range(50)], pa.int32()),
                      "prob": pa.array(np.linspace(0.05, 1.0, 150), pa.float32())})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


class _CountingFile(io.RawIOBase):
    def __init__(self, data: bytes, counts: Counter):
        self._buf, self._counts = io.BytesIO(data), counts

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._buf.seek(offset, whence)

    def tell(self) -> int:
        return self._buf.tell()

    def readinto(self, b) -> int:
        n = self._buf.readinto(b)
        self._counts["read_calls"] += 1
        self._counts["bytes_read"] += n
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._buf.read(size)
        self._counts["read_calls"] += 1
        self._counts["bytes_read"] += len(data)
        return data


_HANDLERS: dict[int, CountingHandler] = {}


def _handler(key: int) -> CountingHandler:
    return _HANDLERS[key]


class CountingHandler(pafs.FileSystemHandler):
    """Read-only in-memory filesystem: ``files`` maps path -> bytes; ``counts`` counts requests.

    A pickled copy (the snapshot inside a broadcast plan) refers back to this handler, so the
    requests of every simulated rank land in the same counters."""

    def __init__(self, files: dict[str, bytes], dirs: set[str]):
        self.files, self.dirs = files, dirs
        self.counts: Counter = Counter()
        _HANDLERS[id(self)] = self

    def __reduce__(self):
        return _handler, (id(self),)

    def get_type_name(self) -> str:
        return "counting"

    def equals(self, other) -> bool:
        return other is self

    def normalize_path(self, path: str) -> str:
        return path

    def _info(self, path: str) -> pafs.FileInfo:
        if path in self.files:
            return pafs.FileInfo(path, pafs.FileType.File, size=len(self.files[path]))
        if path.rstrip("/") in self.dirs:
            return pafs.FileInfo(path, pafs.FileType.Directory)
        return pafs.FileInfo(path, pafs.FileType.NotFound)

    def get_file_info(self, paths):
        self.counts["file_info"] += len(paths)
        return [self._info(p) for p in paths]

    def get_file_info_selector(self, selector):
        self.counts["listings"] += 1
        base = selector.base_dir.rstrip("/") + "/"
        return [self._info(p) for p in self.files if p.startswith(base)]

    def open_input_file(self, path: str):
        self.counts["opens"] += 1
        return pa.PythonFile(_CountingFile(self.files[path], self.counts), mode="r")

    def open_input_stream(self, path: str):
        return self.open_input_file(path)

    def _read_only(self, *args, **kwargs):
        raise OSError("read-only benchmark filesystem")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = delete_file = _read_only
    move = copy_file = open_output_stream = open_append_stream = _read_only


def make_fs(n_files: int, row_groups: int, rows: int) -> tuple[pafs.PyFileSystem, CountingHandler]:
    part = matched_file(row_groups, rows)
    files = {f"{ROOT}/part-{i:05d}.parquet": part for i in range(n_files)}
    files[f"{ROOT}/_SUCCESS"] = b""
    files[f"{PROBS}/part-00000.parquet"] = probs_file()
    files[f"{PROBS}/_SUCCESS"] = b""
    handler = CountingHandler(files, {"/bench", ROOT, PROBS})
    return pafs.PyFileSystem(handler), handler


def run(args: argparse.Namespace) -> dict:
    fs, handler = make_fs(args.files, args.row_groups, args.rows)
    R = args.ranks
    result: dict = {"files": args.files, "row_groups_per_file": args.row_groups, "rows_per_row_group": args.rows,
                    "ranks": R, "workers": args.workers, "mode": args.mode, "python": platform.python_version(),
                    "pyarrow": pa.__version__, "cpu_count": os.cpu_count()}

    # -- before: every rank pins the table itself ---------------------------------------------
    before_ranks = min(R, args.before_ranks or R)
    per_rank, times = [], []
    for _ in range(before_ranks):
        handler.counts.clear()
        t0 = time.perf_counter()
        snap = open_table(ROOT, key_column="uid", filesystem=fs)
        times.append(time.perf_counter() - t0)
        per_rank.append(dict(handler.counts))
    assert all(c == per_rank[0] for c in per_rank), "every rank reads the same footers"
    result["every_rank_opens"] = {
        "ranks_measured": before_ranks, "per_rank": per_rank[0], "seconds_per_rank_median": float(np.median(times)),
        "file_opens_all_ranks": per_rank[0]["opens"] * R, "bytes_read_all_ranks": per_rank[0]["bytes_read"] * R}
    units = sum(len(f.row_group_rows) for f in snap.files)

    # -- after: rank 0 reads the footers, the plan is broadcast, yields computed in shares --------
    # Each simulated rank runs share_data_plan up to its all_gather, which records the rank's share
    # and returns placeholders; the real weights are assembled from the recorded shares afterwards.
    state: dict = {}
    shares: list[np.ndarray] = []

    def broadcast(obj, r):
        if r == 0:
            state["blob"] = pickle.dumps(obj)  # what broadcast_object_list sends (no weights yet)
            state["units"] = len(obj.units)
            return obj
        return pickle.loads(state["blob"])

    def all_gather(share):
        shares.append(share)
        return [np.zeros(len(idx)) for idx in yield_shares(pickle.loads(state["blob"]).units, R)]

    per_rank, seconds = [], []
    for r in range(R):
        handler.counts.clear()
        t0 = time.perf_counter()
        share_data_plan(ROOT, mode=args.mode, rank=r, world_size=R, entry_probs=PROBS, filesystem=fs,
                        broadcast=lambda obj, r=r: broadcast(obj, r), all_gather=all_gather)
        seconds.append(time.perf_counter() - t0)
        per_rank.append(dict(handler.counts))
    head = pickle.loads(state["blob"])
    weights = np.zeros(state["units"])
    for idx, part in zip(yield_shares(head.units, R), shares):
        weights[idx] = part
    opens = [c.get("opens", 0) for c in per_rank]
    result["shared_plan"] = {
        "rank0": per_rank[0], "rank0_seconds": seconds[0], "broadcast_bytes": len(state["blob"]),
        "other_ranks_opens_max": max(opens[1:], default=0), "other_ranks_seconds_max": max(seconds[1:], default=0.0),
        "file_opens_all_ranks": sum(opens), "units": state["units"], "expected_samples": float(weights.sum())}

    # -- the epoch plan every rank computes once per epoch ----------------------------------------
    t0 = time.perf_counter()
    plan_ = assign_units(head.units, 0, 0, R, args.workers, weights=weights)
    loads = [sum(weights[u] for w in rank for u in w) for rank in plan_]
    result["epoch_plan"] = {"seconds": time.perf_counter() - t0, "rank_load_min": min(loads),
                            "rank_load_max": max(loads), "max_unit_weight": float(weights.max())}
    return result


def markdown(res: dict) -> str:
    b, s, e = res["every_rank_opens"], res["shared_plan"], res["epoch_plan"]
    R = res["ranks"]
    yields = "footers; each rank the uid/lang/entry_ids of 1/R of the files" if res["mode"] == "online" \
        else "footers"
    return "\n".join([
        f"{res['files']:,} files × {res['row_groups_per_file']} row groups ({s['units']:,} units), {R} ranks × "
        f"{res['workers']} workers, mode {res['mode']}",
        "",
        "| | file opens, all ranks | bytes read, all ranks | per-rank wall time |",
        "|---|---|---|---|",
        f"| every rank opens the table (before) | {b['file_opens_all_ranks']:,} ({b['per_rank']['opens']:,} per "
        f"rank) | {b['bytes_read_all_ranks']:,} | {b['seconds_per_rank_median']:.2f} s |",
        f"| shared plan (after): rank 0 reads {yields} | {s['file_opens_all_ranks']:,} "
        f"(rank 0: {s['rank0'].get('opens', 0):,}; others ≤ {s['other_ranks_opens_max']:,}) | "
        f"{sum(c for k, c in s['rank0'].items() if k == 'bytes_read'):,} (rank 0) | rank 0 {s['rank0_seconds']:.2f} s, "
        f"others ≤ {s['other_ranks_seconds_max']:.2f} s; broadcast {s['broadcast_bytes']:,} bytes |",
        f"| epoch plan (`assign_units`, once per rank per epoch) | 0 | 0 | {e['seconds']:.2f} s |",
        "",
        f"Rank loads after dealing (expected samples): {e['rank_load_min']:.1f} – {e['rank_load_max']:.1f} "
        f"(largest unit {e['max_unit_weight']:.1f}).",
    ])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--row-groups", type=int, default=4)
    ap.add_argument("--rows", type=int, default=64)
    ap.add_argument("--ranks", type=int, default=64)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--mode", choices=("online", "offline"), default="online")
    ap.add_argument("--before-ranks", type=int, help="ranks to measure for 'every rank opens' (default: all)")
    ap.add_argument("--out", help="write the results here as JSON")
    args = ap.parse_args(argv)
    res = run(args)
    print(markdown(res))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
