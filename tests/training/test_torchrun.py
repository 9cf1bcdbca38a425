"""``torchrun --nproc_per_node 2`` on CPU (gloo): trains from Delta and from Parquet; resume keeps the data order."""

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


def test_torchrun_two_processes_from_delta_online(demo_roots, tmp_path):
    out = str(tmp_path / "delta")
    summary = _torchrun(demo_roots["delta"], out, "--mode", "online", "--max-steps", "6")
    assert summary["world_size"] == 2 and summary["steps"] == 6 and summary["finished"]
    rank0, rank1 = _orders(out)
    seen0 = {u for _, _, uids in rank0 for u in uids}
    seen1 = {u for _, _, uids in rank1 for u in uids}
    assert len(seen0) == 6 * 8 and not seen0 & seen1  # ranks read disjoint images within the epoch
    assert os.path.exists(os.path.join(out, "model", "open_clip_model.safetensors"))


@pytest.mark.slow
def test_torchrun_parquet_resume_gives_the_same_data_order(demo_roots, tmp_path):
    full, part = str(tmp_path / "full"), str(tmp_path / "part")
    args = ("--mode", "offline", "--max-steps", "16")  # ~13 steps per epoch: the resume crosses an epoch border
    _torchrun(demo_roots["parquet"], full, *args)
    first = _torchrun(demo_roots["parquet"], part, *args, "--stop-at-step", "5")
    assert first["steps"] == 5 and not first["finished"]
    second = _torchrun(demo_roots["parquet"], part, *args, "--resume", "latest")
    assert second["steps"] == 16 and second["finished"]
    assert _orders(part) == _orders(full)
    assert {e for _, e, _ in _orders(full)[0]} == {0, 1}


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
