"""Exact epochs: every layout of ranks × workers yields the epoch's sample, each sample once
(``python -m training plan``, which runs the trainer's data path), and a rank's steps are full
but its last one."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from curation.readers import open_table
from training import coverage
from training.coverage import epoch_sample, plan_epoch
from training.crosscheck import online_sample
from training.dataset import CuratedDataset, LoaderPosition, RankSteps, make_loader
from training.planning import expected_images, share_data_plan, unit_weights, yield_shares
from training.reader import DataConfig, shared_plan

LAYOUTS = [(1, 1), (2, 2), (3, 2), (8, 4), (16, 4)]
BATCH = 8


def _config(root: str, mode: str) -> DataConfig:
    table = f"{root}/curated" if mode == "offline" else f"{root}/matched"
    return DataConfig(table=table, mode=mode, seed=5, block_units=2)


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
@pytest.mark.parametrize("mode,epoch", [("offline", 0), ("online", 0), ("online", 1)])
@pytest.mark.parametrize("world_size,num_workers", LAYOUTS)
def test_every_layout_yields_the_epoch_sample_exactly_once(uneven_roots, fmt, mode, epoch, world_size, num_workers):
    cov = plan_epoch(_config(uneven_roots[fmt], mode), world_size=world_size, num_workers=num_workers,
                     batch_size=BATCH, epoch=epoch)
    s = cov.summary()
    assert (s["coverage"], s["duplicates"], s["missing"], s["extra"]) == (1.0, 0, 0, 0), coverage.format_report(cov)
    assert cov.ok and cov.yielded == cov.sample > 0
    for rank in cov.ranks:  # only a rank's last step may be short (a rank without row groups has none)
        assert all(n == BATCH for n in rank.step_sizes[:-1]) and all(0 < n <= BATCH for n in rank.step_sizes)
        assert len(rank.step_sizes) == -(-rank.samples // BATCH)
        assert rank.samples == sum(w.samples for w in rank.workers)
    units = [u for r in cov.ranks for w in r.workers for u in w.units]
    assert len(units) == len(set(units))  # each row group planned once
    if world_size * num_workers > len(units):
        assert any(not w.units for r in cov.ranks for w in r.workers)  # the layout leaves workers idle


def test_the_reference_sample_is_the_curated_table_and_changes_per_epoch(uneven_roots):
    root = uneven_roots["parquet"]
    curated = epoch_sample(_config(root, "offline"), shared_plan(_config(root, "offline")), 0)
    plan = shared_plan(_config(root, "online"))
    online0 = epoch_sample(_config(root, "online"), plan, 0)
    assert online0 == curated  # demo_data wrote curated with the same rules, seed 5, epoch 0
    assert online0 == Counter((u, t) for u, _, t in online_sample(f"{root}/matched", f"{root}/entry_probs", 5, 0))
    assert epoch_sample(_config(root, "online"), plan, 1) != online0


def test_ranks_are_balanced_by_expected_yield(uneven_roots):
    """Online, row groups are weighted by expected kept images (not rows): ranks get similar yields."""
    config = _config(uneven_roots["parquet"], "online")
    plan = shared_plan(config)
    rows = np.array([u.rows for u in plan.units], dtype=float)
    assert plan.weights is not None and (plan.weights <= rows).all() and plan.weights.sum() < rows.sum()
    totals = []
    for epoch in range(4):
        cov = plan_epoch(config, world_size=3, num_workers=2, batch_size=BATCH, epoch=epoch, plan=plan)
        expected = [r.expected for r in cov.ranks]
        assert max(expected) - min(expected) <= plan.weights.max()
        totals.append((cov.sample, sum(expected)))
    # the expectation is the mean of the epochs' sample sizes, within a few standard deviations
    mean_expected = totals[0][1]
    assert abs(np.mean([s for s, _ in totals]) - mean_expected) < 3 * np.sqrt(mean_expected) / 2


def test_expected_images_hand_computed():
    # images a (2 texts: p 1.0, 0.5), b (1 text: 0.2), c (3 texts: 0, 0, 0.3)
    uids = ["a", "a", "b", "c", "c", "c"]
    assert expected_images(uids, [1.0, 0.5, 0.2, 0.0, 0.0, 0.3]) == pytest.approx(0.75 + 0.2 + 0.1)
    assert expected_images([], []) == 0.0
    with pytest.raises(ValueError):
        expected_images(["a"], [0.1, 0.2])


def test_plan_is_shared_by_one_reader_and_cached(uneven_roots, tmp_path, monkeypatch):
    """Rank 0 alone reads footers; the others get the plan by broadcast; weights are computed in
    shares, all-gathered, cached, and read back instead of recomputed."""
    import copy

    import training.planning as planning

    config = _config(uneven_roots["delta"], "online")
    kwargs = {"mode": "online", "entry_probs": config.entry_probs, "cache_dir": str(tmp_path)}
    head = planning.open_data_plan(config.table, mode="online", entry_probs=config.entry_probs)
    world = 3
    shares = [unit_weights(head, "online", indices=idx) for idx in yield_shares(head.units, world)]
    opened: list[int] = []
    monkeypatch.setattr(planning, "open_data_plan", lambda *a, **k: opened.append(1) or copy.copy(head))
    plans = [share_data_plan(config.table, rank=r, world_size=world, broadcast=lambda obj: obj or copy.copy(head),
                             all_gather=lambda _: shares, **kwargs) for r in range(world)]
    assert len(opened) == 1  # only rank 0 opened the table
    single = shared_plan(config)
    assert all(np.allclose(p.weights, single.weights) for p in plans)
    assert len(list(tmp_path.glob("expected_yields-*.npy"))) == 1
    monkeypatch.setattr(planning, "unit_weights", lambda *a, **k: pytest.fail("recomputed despite the cache"))
    again = share_data_plan(config.table, rank=0, world_size=1, **kwargs)
    assert np.allclose(again.weights, single.weights)


def test_plan_command_exit_codes(uneven_roots, capsys, monkeypatch):
    root = uneven_roots["parquet"]
    args = ["--data", root, "--world-size", "3", "--workers", "2", "--batch-size", "8", "--data-seed", "5"]
    assert coverage.main(args) == 0
    out = capsys.readouterr().out
    assert "coverage: 100.00 %" in out and "duplicates: 0" in out and out.rstrip().endswith("OK")
    assert coverage.main([*args, "--online", "--epoch", "1", "--plan-only"]) == 0
    assert "plan only" in capsys.readouterr().out

    # a loader that drops each worker's last partial batch (the old drop_last=True) fails the check
    real = CuratedDataset.iter_batches

    def dropping(self, *a, **k):
        return (b for b in real(self, *a, **k) if len(b["uids"]) == self.batch_size)

    monkeypatch.setattr(CuratedDataset, "iter_batches", dropping)
    assert coverage.main(args) == 1
    assert "FAILED" in capsys.readouterr().out


def test_python_dash_m_training_dispatches(uneven_roots):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "training", "plan", "--data", f"{uneven_roots['delta']}/curated",
                           "--world-size", "2", "--workers", "2", "--batch-size", "16"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "coverage: 100.00 %" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "training", "nonsense"], capture_output=True, text=True, timeout=60,
                         check=False)
    assert bad.returncode == 2 and "plan" in bad.stderr


# ---- RankSteps -----------------------------------------------------------------------------

def _batch(worker: int, uids: list[str], stats: dict | None = None) -> dict:
    import torch

    return {"uids": uids, "langs": ["en"] * len(uids), "texts": torch.arange(len(uids)).unsqueeze(1),
            "images": torch.zeros(len(uids), 2), "worker": worker, "cursor": [0, len(uids)], "epoch": 0,
            "stats": stats or {"records": len(uids)}}


def test_rank_steps_merge_the_workers_last_batches():
    stream = [_batch(0, ["a0", "a1", "a2", "a3"]), _batch(1, ["b0", "b1"], {"records": 3, "decode_error": 1}),
              _batch(2, ["c0", "c1", "c2", "c3"]), _batch(0, ["a4"]), _batch(2, ["c4", "c5", "c6"])]
    steps = RankSteps(iter(stream), 4)
    out = []
    while steps.has_next():
        out.append(next(steps))
    assert [s["uids"] for s in out] == [["a0", "a1", "a2", "a3"], ["c0", "c1", "c2", "c3"],
                                        ["a4", "b0", "b1", "c4"], ["c5", "c6"]]  # tail in worker order
    assert [bool(s.get("tail")) for s in out] == [False, False, True, True]
    assert out[2]["images"].shape == (4, 2) and out[2]["texts"].tolist() == [[0], [0], [1], [0]]
    assert out[2]["stats"] == {"records": 7, "decode_error": 1} and out[3]["stats"] == {}
    pos = LoaderPosition(0, 3, 1, 0, 0, "f")
    for s in out[:3]:
        pos.update(s)
    assert pos.tail == 4 and pos.samples == 12 and pos.cursors == {"0": [0, 4], "2": [0, 4]}
    resumed = list(RankSteps(iter([stream[1], *stream[3:]]), 4, pos))  # held batches are read again
    assert [s["uids"] for s in resumed] == [["c5", "c6"]]
    assert list(RankSteps(iter([]), 4)) == []


@pytest.mark.parametrize("mode", ["offline", "online"])
def test_resume_inside_the_merged_tail_gives_the_same_steps(uneven_roots, mode):
    config = _config(uneven_roots["parquet"], mode)

    def run(stop_after=None, state=None):
        ds = CuratedDataset(config, batch_size=BATCH, rank=1, world_size=2, load_images=False)
        if state is None:
            ds.set_epoch(1)
        else:
            ds.load_state_dict(state)
        pos = ds.new_position(3)
        out = []
        for step in RankSteps(make_loader(ds, 3), BATCH, pos):
            pos.update(step)
            out.append(step["uids"])
            if stop_after is not None and len(out) == stop_after:
                break
        return out, pos

    full, _ = run()
    n_full = sum(len(u) == BATCH for u in full) - 1  # some steps of full size come from the merged tail
    assert len(full) > 3 and sum(map(len, full)) == len({u for s in full for u in s})
    for k in sorted({1, len(full) - 2, len(full) - 1, max(1, n_full)}):
        first, pos = run(stop_after=k)
        rest, _ = run(state=pos.state_dict())
        assert first + rest == full, k
