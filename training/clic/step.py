"""The CLIC training hooks: what a trainer calls per step (METHODS.md §1.4-1.7).

- ``freeze_visual(model)``: every parameter whose name contains ``visual`` stops training; the
  text tower, token embedding, projection and logit scale train.
- ``param_groups(model, weight_decay)``: the trainer's AdamW groups — no decay on biases, norms and
  other 1-D parameters (``training.train.param_groups``; frozen parameters are left out).
- ``clamp_logit_scale(model)``: log logit_scale clamped to [0, ln 100] after each update.
- ``clic_lr(step, ...)``: linear warm-up from ``lr_start`` to ``lr`` over the warm-up steps, then
  cosine to ``lr_end`` (the reference's ``cosine_scheduler``: warm-up values ``linspace(start,
  peak, W)``, then ``end + ½(peak − end)(1 + cos(π i / (T − W)))``).
- ``is_clic_step(step)``: even steps are CLIC steps, odd steps plain CLIP steps (the reference's
  ``[True, False]`` pattern). Each loader batch carries both parts (``training.clic.data``); step
  t uses the joined images and texts of its batch when even, image A alone with its first
  sentence when odd.
- ``clic_step`` / ``clip_step``: forward and loss of one batch (``{"total", …}``), no backward;
  ``train_step``: the whole update (autocast, backward, optional clipping, AdamW, clamp).

``CLICConfig`` holds the reference defaults: AdamW (0.9, 0.98), eps 1e-8, weight decay 0.1,
peak lr 1e-6 with warm-up from 1e-7 over 0.2 epoch and cosine to 1e-8, 200 images per GPU,
1 epoch, loss weights (0.5, 0.5, 1.0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from training.clic.loss import WEIGHT_CONT, WEIGHT_SNEG, WEIGHT_UNI, clic_loss
from training.model import unwrap
from training.optim import param_groups

__all__ = ["CLICConfig", "clamp_logit_scale", "clic_lr", "clic_step", "clip_step", "freeze_visual", "is_clic_step",
           "param_groups", "step_kind", "train_step", "warmup_steps"]

LOGIT_SCALE_MAX = math.log(100)


@dataclass
class CLICConfig:
    """CLIC optimisation settings (the reference defaults); validated on construction."""

    lr: float = 1e-6
    lr_start: float = 1e-7
    lr_end: float = 1e-8
    warmup_epochs: float = 0.2
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-8
    weight_decay: float = 0.1
    batch_size: int = 200  # images per rank (4 GPUs × 200 in the reference)
    epochs: int = 1
    weights: tuple[float, float, float] = (WEIGHT_CONT, WEIGHT_SNEG, WEIGHT_UNI)
    alternate: bool = True  # odd steps: plain CLIP loss on image A with its first sentence
    grad_clip: float | None = None  # the reference does not clip

    def __post_init__(self) -> None:
        self.betas = tuple(self.betas)  # type: ignore[assignment]
        self.weights = tuple(self.weights)  # type: ignore[assignment]
        if not 0 < self.lr_end <= self.lr and 0 < self.lr_start <= self.lr:
            raise ValueError("need 0 < lr_start <= lr and 0 < lr_end <= lr")
        if self.warmup_epochs < 0 or self.batch_size < 1 or self.epochs < 1:
            raise ValueError("warmup_epochs must be >= 0, batch_size and epochs >= 1")
        if len(self.weights) != 3 or min(self.weights) < 0:
            raise ValueError("weights are three non-negative numbers (cont, sneg, uni)")


def freeze_visual(model: torch.nn.Module) -> int:
    """Stop gradients for every parameter named ``*visual*``; returns how many tensors were frozen."""
    n = 0
    for name, p in unwrap(model).named_parameters():
        if "visual" in name:
            p.requires_grad_(False)
            n += 1
    if n == 0:
        raise ValueError("the model has no parameter named 'visual': not an open_clip CLIP?")
    return n


@torch.no_grad()
def clamp_logit_scale(model: torch.nn.Module) -> None:
    """log logit_scale into [0, ln 100] (a temperature between 1 and 100)."""
    unwrap(model).logit_scale.clamp_(0, LOGIT_SCALE_MAX)


def warmup_steps(cfg: CLICConfig, steps_per_epoch: int) -> int:
    """Warm-up length in steps: ``int(warmup_epochs × steps_per_epoch)`` (as the reference rounds)."""
    return int(cfg.warmup_epochs * steps_per_epoch)


def clic_lr(step: int, total_steps: int, warmup: int, lr: float, lr_start: float, lr_end: float) -> float:
    """Learning rate at ``step`` (0-based): linspace warm-up from ``lr_start`` to ``lr``, then cosine to ``lr_end``."""
    if step < warmup:
        return lr_start if warmup == 1 else lr_start + (lr - lr_start) * step / (warmup - 1)
    span = max(1, total_steps - warmup)
    i = min(step - warmup, span)
    return lr_end + 0.5 * (lr - lr_end) * (1 + math.cos(math.pi * i / span))


def is_clic_step(step: int, alternate: bool = True) -> bool:
    """Even steps (0, 2, …) train on joined pairs with ``clic_loss``; odd steps on single images."""
    return (not alternate) or step % 2 == 0


def step_kind(step: int, alternate: bool = True) -> str:
    return "clic" if is_clic_step(step, alternate) else "clip"


def _features(model: torch.nn.Module, images: torch.Tensor, texts: torch.Tensor):
    """Normalised (image, text) features through the model's forward (so DDP sees a forward call)."""
    out = model(images, texts)
    if isinstance(out, Mapping):
        return out["image_features"], out["text_features"]
    return out[0], out[1]


def clic_step(model: torch.nn.Module, batch: Mapping, device: torch.device | str = "cpu",
              weights: tuple[float, float, float] = (WEIGHT_CONT, WEIGHT_SNEG, WEIGHT_UNI)) -> dict[str, torch.Tensor]:
    """``clic_loss`` of a batch's joined images [N,3,H,W] and texts [K+1,N,L] (K positives, then the negative)."""
    images = batch["images"].to(device, non_blocking=True)
    texts = batch["texts"].to(device, non_blocking=True)
    k1, n, length = texts.shape
    image_features, text_features = _features(model, images, texts.reshape(k1 * n, length))
    text_features = text_features.reshape(k1, n, -1)
    return clic_loss(image_features, text_features[:-1], text_features[-1], unwrap(model).logit_scale, weights=weights)


def clip_step(model: torch.nn.Module, batch: Mapping, loss_fn: torch.nn.Module,
              device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """Plain CLIP loss (``loss_fn``, e.g. open_clip's gathered ``ClipLoss``) on image A with its first sentence."""
    images = batch["single_images"].to(device, non_blocking=True)
    texts = batch["single_texts"].to(device, non_blocking=True)
    image_features, text_features = _features(model, images, texts)
    loss = loss_fn(image_features, text_features, unwrap(model).logit_scale.exp())
    return {"total": loss, "clip": loss}


def train_step(step: int, model: torch.nn.Module, batch: Mapping, optimizer: torch.optim.Optimizer, lr: float, *,
               clip_loss_fn: torch.nn.Module, cfg: CLICConfig, device: torch.device | str = "cpu",
               amp_dtype: torch.dtype | None = None, scaler: torch.amp.GradScaler | None = None) -> dict[str, object]:
    """One update: the CLIC or CLIP loss by ``step``'s parity, backward, AdamW, logit-scale clamp.

    Returns the loss terms as floats and ``kind`` ("clic" or "clip").
    """
    for group in optimizer.param_groups:
        group["lr"] = lr
    device = torch.device(device)
    clic = is_clic_step(step, cfg.alternate)
    with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
        losses = clic_step(model, batch, device, cfg.weights) if clic else clip_step(model, batch, clip_loss_fn, device)
    optimizer.zero_grad(set_to_none=True)
    loss = losses["total"]
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
    else:
        loss.backward()
    if cfg.grad_clip:
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.grad_clip)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    clamp_logit_scale(model)
    out: dict[str, object] = {k: float(v.detach()) for k, v in losses.items()}
    out["kind"] = "clic" if clic else "clip"
    return out
