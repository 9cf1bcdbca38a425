"""One optimisation step and its schedule: AdamW param groups, linear warmup + cosine LR, AMP.

``make_stepper`` wraps the model in DDP when distributed and builds AdamW and the fp16 grad
scaler; ``Stepper`` runs one step with ``training.loss.masked_clip_loss`` (features all-gathered
with gradient, each rank computing the loss of its own rows — open_clip's ``ClipLoss`` on full
batches — with the padded rows of a short step masked out and the loss normalised by the step's
real samples over all ranks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from training.distributed import DistInfo
from training.loss import masked_clip_loss
from training.model import unwrap

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def resolve_precision(precision: str, device: torch.device) -> str:
    """``auto`` is bf16 on CUDA and fp32 on CPU; fp16 (with a grad scaler) needs CUDA."""
    resolved = precision if precision != "auto" else ("bf16" if device.type == "cuda" else "fp32")
    if resolved == "fp16" and device.type != "cuda":
        raise ValueError("fp16 needs CUDA; use bf16 or fp32 on CPU")
    return resolved


def cosine_lr(step: int, base_lr: float, warmup: int, total: int) -> float:
    """Linear warmup to ``base_lr`` over ``warmup`` steps, then half-cosine to 0 at ``total``."""
    if step < warmup:
        return base_lr * (step + 1) / warmup
    span = max(1, total - warmup)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / span))) * base_lr


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """No weight decay on gains, biases, embeddings' scale and the logit scale (CLIP practice)."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        skip = p.ndim < 2 or "bn" in name or "ln" in name or "bias" in name or "logit_scale" in name
        (no_decay if skip else decay).append(p)
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]


@dataclass
class Stepper:
    """One optimisation step: forward under autocast, gathered contrastive loss, backward, clip, update."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    device: torch.device
    rank: int = 0
    world_size: int = 1
    amp_dtype: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None
    grad_clip: float | None = None

    def __call__(self, images: torch.Tensor, texts: torch.Tensor, lr: float,
                 counts: list[int] | None = None) -> torch.Tensor:
        """One step on every rank's ``B`` rows; ``counts[r]``: real (unpadded) rows of rank r,
        default all ``B``. Returns this rank's share of the loss (its ``ClipLoss`` on full steps)."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        images = images.to(self.device, non_blocking=True)
        texts = texts.to(self.device, non_blocking=True)
        counts = counts if counts is not None else [images.shape[0]] * self.world_size
        with torch.autocast(self.device.type, dtype=self.amp_dtype, enabled=self.amp_dtype is not None):
            image_features, text_features, logit_scale = self.model(images, texts)[:3]
            loss = masked_clip_loss(image_features, text_features, logit_scale, counts, self.rank)
        self.optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            loss.backward()
        if self.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        with torch.no_grad():
            unwrap(self.model).logit_scale.clamp_(0, math.log(100))
        return loss.detach()


def make_stepper(model: torch.nn.Module, info: DistInfo, *, precision: str, lr: float, weight_decay: float,
                 betas: tuple[float, float] = (0.9, 0.98), eps: float = 1e-6,
                 grad_clip: float | None = None) -> Stepper:
    """Wrap ``model`` in DDP when distributed; build AdamW and the grad scaler (fp16)."""
    if info.world_size > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[info.device.index] if info.device.type == "cuda" else None)
    optimizer = torch.optim.AdamW(param_groups(model, weight_decay), lr=lr, betas=betas, eps=eps)
    scaler = torch.amp.GradScaler("cuda") if precision == "fp16" else None
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    return Stepper(model, optimizer, info.device, info.rank, info.world_size, amp_dtype, scaler, grad_clip)
