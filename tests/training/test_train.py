"""The training library in-process: bf16 + gradient checkpointing, logs, checkpoints, resume, launcher args."""

from __future__ import annotations

import csv
import json
import os
import shutil

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from curation.readers import open_table
from training.launch import parse_args
from training.reader import DataConfig
from training.optim import cosine_lr
from training.train import TrainConfig, train


def _cfg(root: str, out: str, **kw) -> TrainConfig:
    base = {"data": DataConfig(table=f"{root}/curated", seed=3, block_units=2), "output_dir": out,
            "model": "wwclip-tiny", "tokenizer_vocab_size": 200, "batch_size": 16, "max_steps": 6, "warmup_steps": 2,
            "workers": 0, "log_every": 2, "save_every": None, "record_data_order": True}
    base.update(kw)
    return TrainConfig(**base)


def test_train_bf16_checkpointing_logs_and_exports(demo_roots, tmp_path):
    out = str(tmp_path / "run")
    summary = train(_cfg(demo_roots["parquet"], out, precision="bf16", grad_checkpointing=True, max_steps=4))
    assert summary["steps"] == 4 and summary["finished"] and summary["last_loss"] == summary["last_loss"]
    with open(os.path.join(out, "log.csv")) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [2, 4] and float(rows[-1]["samples_per_s"]) > 0
    for name in ("model/open_clip_config.json", "model/open_clip_model.safetensors", "tokenizer/tokenizer.json",
                 "checkpoints/latest", "train_config.json", "summary.json"):
        assert os.path.exists(os.path.join(out, name)), name


def _order(out: str) -> list:
    with open(os.path.join(out, "data_order", "rank0.jsonl")) as f:
        return [(r["step"], r["epoch"], r["uids"]) for r in map(json.loads, f)]


def test_resume_continues_with_the_same_batches(demo_roots, tmp_path):
    root = str(tmp_path / "data")
    shutil.copytree(demo_roots["delta"], root)
    full = str(tmp_path / "full")
    train(_cfg(root, full, max_steps=14, workers=2))  # ~12 steps per epoch: crosses an epoch border
    part = str(tmp_path / "part")
    first = train(_cfg(root, part, max_steps=14, workers=2, stop_at_step=5))
    assert first["steps"] == 5 and not first["finished"]
    # the Delta table moves on meanwhile; the resumed run stays on the version it started from
    extra = pa.table({"uid": ["f" * 24], "url": ["u"], "text": ["new"], "lang": ["en"],
                      "entry_ids": pa.array([[0]], pa.list_(pa.int32())), "keep_prob": [1.0], "jpg": [b"x"]})
    write_deltalake(f"{root}/curated", extra, mode="append", schema_mode="merge")
    assert open_table(f"{root}/curated").num_rows == open_table(f"{root}/curated", version=2).num_rows + 1
    second = train(_cfg(root, part, max_steps=14, workers=2, resume="latest"))
    assert second["steps"] == 14 and second["finished"]
    assert _order(part) == _order(full)
    assert {e for _, e, _ in _order(full)} == {0, 1}


def test_online_mode_trains(demo_roots, tmp_path):
    cfg = _cfg(demo_roots["parquet"], str(tmp_path / "o"), max_steps=3)
    cfg.data = DataConfig(table=f"{demo_roots['parquet']}/matched", mode="online", seed=3)
    assert train(cfg)["steps"] == 3


def test_launcher_arguments_become_a_validated_config(tmp_path):
    cfg = parse_args(["--data", "/d", "--mode", "online", "--output-dir", str(tmp_path), "--version", "3",
                      "--batch-size", "8", "--precision", "bf16", "--resume", "latest", "--grad-checkpointing"])
    assert cfg.data.table == "/d/matched" and cfg.data.entry_probs == "/d/entry_probs" and cfg.data.version == 3
    assert cfg.batch_size == 8 and cfg.precision == "bf16" and cfg.grad_checkpointing and cfg.resume == "latest"
    assert parse_args(["--table", "/x/curated", "--output-dir", "o"]).data.table == "/x/curated"
    with pytest.raises(SystemExit):
        parse_args(["--output-dir", "o"])
    with pytest.raises(ValueError, match="batch_size"):
        parse_args(["--data", "/d", "--output-dir", "o", "--batch-size", "0"])


def test_cosine_schedule():
    assert cosine_lr(0, 1.0, 4, 20) == pytest.approx(0.25)
    assert cosine_lr(3, 1.0, 4, 20) == pytest.approx(1.0)
    assert cosine_lr(12, 1.0, 4, 20) == pytest.approx(0.5)
    assert cosine_lr(25, 1.0, 4, 20) == pytest.approx(0.0)


@pytest.mark.parametrize("drop_last", [False, True])
def test_one_epoch_trains_the_whole_sample_once(uneven_roots, tmp_path, drop_last):
    """Row groups of 1–90 rows, 2 workers ending on partial batches: one epoch trains every curated
    sample exactly once (a smaller last step); with drop_last only that short last step is skipped."""
    from collections import Counter

    from training.coverage import epoch_sample
    from training.reader import shared_plan

    data = DataConfig(table=f"{uneven_roots['parquet']}/curated", seed=5, block_units=2)
    sample = {u for u, _ in epoch_sample(data, shared_plan(data), 0)}
    out = str(tmp_path / "run")
    summary = train(_cfg(uneven_roots["parquet"], out, data=data, epochs=1, max_steps=None, workers=2,
                         drop_last=drop_last))
    trained = Counter(u for _, _, uids in _order(out) for u in uids)
    assert max(trained.values()) == 1 and summary["epoch"] == 1 and summary["finished"]
    n, b = len(sample), 16
    if drop_last:
        assert set(trained) < sample and len(sample) - len(trained) == n % b and summary["steps"] == n // b
    else:
        assert set(trained) == sample and summary["samples"] == n and summary["steps"] == -(-n // b)
