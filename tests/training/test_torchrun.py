"""``torchrun --nproc_per_node 2`` on CPU (gloo): trains from Delta and from Parquet; resume keeps the data order.

Each launch costs two fresh interpreters importing torch and open_clip (most of a test's time), so
the uninterrupted Delta run is shared: the Delta test checks it, the resume test compares with it.
(Resume of offline Parquet runs: tests/training/test_data.py and test_train.py, in one process.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def _torchrun(root: str, out: str, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "training.launch", "--data", root, "--output-dir", out, "--model", "wwclip-tiny",
           "--tokenizer-vocab-size", "200", "--batch-size", "8", "--warmup", "2", "--log-every", "4",
           "--workers", "1", "--data-seed", "3", "--record-data-order", *extra]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)


def _orders(out: str) -> list[list]:
    result = []
    for rank in (0, 1):
        with open(os.path.join(out, "data_order", f"rank{rank}.jsonl")) as f:
            result.append([(r["step"], r["epoch"], r["uids"]) for r in map(json.loads, f)])
    return result


STEPS = ("--mode", "online", "--max-steps", "16")  # ~12 steps per epoch: the resume crosses an epoch border


@pytest.fixture(scope="module")
def delta_full(demo_roots, tmp_path_factory) -> str:
    """One uninterrupted 16-step run from Delta, online: the delta test's run and the resume test's reference."""
    out = str(tmp_path_factory.mktemp("torchrun") / "full")
    summary = _torchrun(demo_roots["delta"], out, *STEPS)
    assert summary["world_size"] == 2 and summary["steps"] == 16 and summary["finished"]
    return out


def test_torchrun_two_processes_from_delta_online(delta_full):
    rank0, rank1 = _orders(delta_full)
    assert len(rank0) == len(rank1) == 16
    first6 = {u for _, _, uids in rank0[:6] for u in uids}
    assert len(first6) == 6 * 8 and all(e == 0 for _, e, _ in rank0[:6])
    epoch0 = [[u for _, e, uids in rank for u in uids if e == 0] for rank in (rank0, rank1)]
    seen0, seen1 = set(epoch0[0]), set(epoch0[1])
    assert len(seen0) == len(epoch0[0]) and len(seen1) == len(epoch0[1])  # no image twice in an epoch
    assert not seen0 & seen1  # ranks read disjoint images within the epoch
    assert os.path.exists(os.path.join(delta_full, "model", "open_clip_model.safetensors"))


@pytest.mark.slow
def test_torchrun_delta_online_resume_gives_the_same_data_order(demo_roots, delta_full, tmp_path):
    part = str(tmp_path / "part")
    first = _torchrun(demo_roots["delta"], part, *STEPS, "--stop-at-step", "5")
    assert first["steps"] == 5 and not first["finished"]
    second = _torchrun(demo_roots["delta"], part, *STEPS, "--resume", "latest")
    assert second["steps"] == 16 and second["finished"]
    assert _orders(part) == _orders(delta_full)
    assert {e for _, e, _ in _orders(delta_full)[0]} == {0, 1}


def test_torchrun_one_epoch_trains_the_epoch_sample_exactly_once(uneven_roots, tmp_path):
    """2 ranks × 2 workers, one epoch over row groups of 1–90 rows. The plan (the trainer's own data
    path) has the ranks run dry at different steps and every worker end on a partial batch — what an
    epoch ending with the first rank, or workers dropping their last batch, would lose. The union
    of the uids the two ranks trained is the curated table, each uid once."""
    from collections import Counter

    from training.coverage import epoch_sample, plan_epoch
    from training.reader import DataConfig, shared_plan

    root = uneven_roots["parquet"]
    data = DataConfig(table=f"{root}/curated", seed=5, block_units=4)  # the launcher's defaults
    sample = sorted(u for u, _ in epoch_sample(data, shared_plan(data), 0))
    cov = plan_epoch(data, world_size=2, num_workers=2, batch_size=8)
    assert cov.ok and len({len(r.step_sizes) for r in cov.ranks}) == 2
    assert all(w.samples % 8 for r in cov.ranks for w in r.workers)
    out = str(tmp_path / "epoch")
    summary = _torchrun(root, out, "--mode", "offline", "--epochs", "1", "--workers", "2", "--data-seed", "5")
    trained = Counter(u for rank in _orders(out) for _, _, uids in rank for u in uids)
    assert max(trained.values()) == 1
    assert sorted(trained) == sample
    assert summary["samples"] == len(sample) and summary["steps"] == max(len(r.step_sizes) for r in cov.ranks)
