"""Checkpoints: what a resumed run needs to continue mid-epoch with exactly the batches it would have seen.

A checkpoint holds model, optimizer, scaler, step, epoch, every rank's data position
(``training.dataset.LoaderPosition``) and bad-image counters, and the Delta versions of the
tables, so a resumed run reads the snapshots it started from even if the tables moved on.
Files are ``<output>/checkpoints/step_N.pt``, written atomically (temp file + rename) with a
``latest`` pointer; the last K are kept.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import asdict, dataclass, field, replace

import torch

from training.dataset import CuratedDataset, LoaderPosition
from training.distributed import DistInfo, barrier, gather_objects
from training.model import unwrap
from training.optim import Stepper
from training.reader import DataConfig


@dataclass
class Progress:
    """Where a run is: steps done, the epoch in progress, this rank's skipped images per reason."""

    step: int = 0
    epoch: int = 0
    bad: Counter = field(default_factory=Counter)
    samples: int = 0  # real samples trained over all ranks (a short last step counts what it holds)


class Checkpoints:
    """``<output>/checkpoints/step_N.pt`` written atomically, a ``latest`` pointer, the last K kept."""

    def __init__(self, output_dir: str, keep: int):
        self.dir = os.path.join(output_dir, "checkpoints")
        self.keep = keep

    def latest(self) -> str | None:
        pointer = os.path.join(self.dir, "latest")
        if not os.path.exists(pointer):
            return None
        with open(pointer, encoding="utf-8") as f:
            path = os.path.join(self.dir, f.read().strip())
        return path if os.path.exists(path) else None

    def resolve(self, resume: str | None) -> str | None:
        """The checkpoint to resume from: None, ``latest`` (None when there is none yet, so
        relaunching a job is idempotent) or a path that must exist."""
        if resume is None:
            return None
        if resume == "latest":
            return self.latest()
        if not os.path.exists(resume):
            raise FileNotFoundError(f"checkpoint {resume} not found")
        return resume

    def save(self, state: dict, step: int) -> str:
        os.makedirs(self.dir, exist_ok=True)
        name = f"step_{step:09d}.pt"
        tmp = os.path.join(self.dir, f".{name}.tmp")
        torch.save(state, tmp)
        os.replace(tmp, os.path.join(self.dir, name))
        with open(os.path.join(self.dir, ".latest.tmp"), "w", encoding="utf-8") as f:
            f.write(name)
        os.replace(os.path.join(self.dir, ".latest.tmp"), os.path.join(self.dir, "latest"))
        old = sorted(n for n in os.listdir(self.dir) if n.startswith("step_") and n.endswith(".pt"))
        for n in old[:-self.keep] if self.keep > 0 else []:
            os.remove(os.path.join(self.dir, n))
        return os.path.join(self.dir, name)


def load_checkpoint(path: str) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)


def pinned_data(data: DataConfig, state: dict) -> DataConfig:
    """``data`` with the Delta versions the checkpointed run read, where ``data`` leaves them open:
    the tables may have new versions since, and a resumed run must read the same snapshots."""
    pins = {"version": state.get("table_version"), "entry_probs_version": state.get("entry_probs_version")}
    pins = {k: int(v) for k, v in pins.items() if v is not None and getattr(data, k) is None}
    return replace(data, **pins)


def restore(state: dict, stepper: Stepper, dataset: CuratedDataset, rank: int) -> Progress:
    """Load model, optimizer, scaler and this rank's data position; the run's progress."""
    unwrap(stepper.model).load_state_dict(state["model"])
    stepper.optimizer.load_state_dict(state["optimizer"])
    if stepper.scaler is not None and state.get("scaler"):
        stepper.scaler.load_state_dict(state["scaler"])
    counters = state.get("counters") or []
    if state.get("data") is not None:
        dataset.load_state_dict(state["data"][rank])
    return Progress(int(state["step"]), int(state["epoch"]), Counter(counters[rank]) if len(counters) > rank
                    else Counter(), int(state.get("samples", 0)))


def save_checkpoint(ckpts: Checkpoints, info: DistInfo, stepper: Stepper, dataset: CuratedDataset,
                    progress: Progress, position: LoaderPosition | None, next_epoch: int, model_cfg: dict,
                    config: object) -> None:
    """Gather every rank's data position and counters; rank 0 writes; all ranks wait for it.

    ``position`` None: at an epoch border (the next epoch starts from its beginning)."""
    positions = gather_objects(position.state_dict() if position is not None else None, info)
    counters = gather_objects(dict(progress.bad), info)
    if info.is_main:
        ckpts.save({"model": unwrap(stepper.model).state_dict(), "optimizer": stepper.optimizer.state_dict(),
                    "scaler": stepper.scaler.state_dict() if stepper.scaler is not None else None,
                    "step": progress.step, "epoch": next_epoch, "samples": progress.samples,
                    "data": positions if position is not None else None, "counters": counters,
                    "table_version": dataset.snapshot.version, "entry_probs_version": dataset.probs_version,
                    "model_cfg": model_cfg, "config": asdict(config)}, progress.step)  # type: ignore[call-overload]
    barrier(info)
