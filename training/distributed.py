"""The process group and this process's place in it: join, leave, and the few collectives the loop uses.

A run is single-process or launched by ``torchrun`` (which sets ``WORLD_SIZE``, ``RANK``,
``LOCAL_RANK``); NCCL on GPUs, gloo on CPU. Every helper is a no-op in a world of one, so the
training loop reads the same either way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as dist


@dataclass
class DistInfo:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str = "auto") -> DistInfo:
    """Join the ``torchrun`` process group when launched by it; pick this process's device."""
    if device not in ("auto", "cuda", "cpu"):
        raise ValueError("device must be auto, cuda or cpu")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = torch.cuda.is_available() and device in ("auto", "cuda")
    if device == "cuda" and not use_cuda:
        raise ValueError("device=cuda but no GPU is visible")
    dev = torch.device(f"cuda:{local}") if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(dev)
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return DistInfo(rank, local, world, dev)


def shutdown_distributed() -> None:
    """Leave the process group (if any) before the process exits, as torch asks of NCCL users."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def set_cpu_threads(requested: int | None, workers: int) -> int:
    """Intra-op threads for a CPU run; oversubscribed OpenMP threads are many times slower than one."""
    if requested is None and "OMP_NUM_THREADS" in os.environ:
        return torch.get_num_threads()  # the user (or torchrun) decided
    per_process = (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    n = requested or max(1, per_process - workers)
    torch.set_num_threads(n)
    return n


def step_counts(samples: int, more: bool, info: DistInfo) -> tuple[list[int], bool]:
    """Every rank's sample count for this step, and whether any rank has a step after it.

    One all-gather of two integers per step: the epoch ends when every count is 0 (no rank is
    left waiting in a collective), a rank whose data ran out takes part with a padded, masked
    batch meanwhile, and the loss divides by the step's real samples (``training.loss``)."""
    if info.world_size == 1:
        return [samples], more
    mine = torch.tensor([samples, int(more)], dtype=torch.int64, device=info.device)
    parts = [torch.zeros_like(mine) for _ in range(info.world_size)]
    dist.all_gather(parts, mine)
    table = torch.stack(parts).cpu()
    return table[:, 0].tolist(), bool(table[:, 1].any())


def broadcast_object(obj: object, info: DistInfo) -> object:
    """Rank 0's ``obj`` on every rank (pickled; e.g. the data plan, read by rank 0 alone)."""
    if info.world_size == 1:
        return obj
    box = [obj if info.is_main else None]
    dist.broadcast_object_list(box, src=0, device=info.device if info.device.type == "cuda" else None)
    return box[0]


def gather_objects(obj: object, info: DistInfo) -> list:
    """``obj`` of every rank, in rank order (picklable objects)."""
    if info.world_size == 1:
        return [obj]
    out: list = [None] * info.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(info: DistInfo) -> None:
    if info.world_size > 1:
        dist.barrier()


def sum_over_ranks(value: float, info: DistInfo) -> float:
    if info.world_size == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64, device=info.device)
    dist.all_reduce(t)
    return float(t.item())
