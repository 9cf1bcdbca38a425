"""What the trainer's ``--method clic`` adds to a step (METHODS.md §1.4-1.7); the loop is ``training.train``.

- ``REFERENCE_DEFAULTS``: the reference's optimisation settings, the defaults of a ``--method
  clic`` run (``training.train.TrainConfig`` fills them in where the user gave nothing): AdamW
  (0.9, 0.98), eps 1e-8, weight decay 0.1 (none on biases, norms, other 1-D parameters and the
  logit scale: ``training.optim.param_groups``), peak lr 1e-6 with a linear warm-up from 1e-7
  over 0.2 epoch and cosine to 1e-8, no gradient clipping. Loss weights (0.5, 0.5, 1.0).
- ``freeze_visual(model)``: every parameter whose name contains ``visual`` stops training
  (``requires_grad`` False, so ``param_groups`` leaves it out of AdamW); the text tower, token
  embedding, projection and logit scale train. The trainer's update clamps log logit_scale to
  [0, ln 100] after every step (``training.optim.Stepper``).
- ``clic_lr(step, ...)``: linear warm-up from ``lr_start`` to ``lr`` over the warm-up steps, then
  cosine to ``lr_end`` (the reference's ``cosine_scheduler``: warm-up values ``linspace(start,
  peak, W)``, then ``end + ½(peak − end)(1 + cos(π i / (T − W)))``).
- ``is_clic_step(step)``: even steps are CLIC steps, odd steps plain CLIP steps (the reference's
  ``[True, False]`` pattern). Each loader batch carries both parts (``training.clic.data``); step
  t uses the joined images and texts of its batch when even, image A alone with its first
  sentence when odd (the trainer's own masked, gathered CLIP loss).
- ``clic_step``: forward and ``clic_loss`` of one batch's joined part (``{"total", …}``), no backward.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from training.clic.loss import WEIGHT_CONT, WEIGHT_SNEG, WEIGHT_UNI, clic_loss
from training.model import unwrap

__all__ = ["LOSS_WEIGHTS", "REFERENCE_DEFAULTS", "clic_lr", "clic_step", "freeze_visual", "is_clic_step",
           "warmup_steps"]

LOSS_WEIGHTS = (WEIGHT_CONT, WEIGHT_SNEG, WEIGHT_UNI)
# TrainConfig field -> the reference value (``grad_clip`` 0: no clipping)
REFERENCE_DEFAULTS: dict[str, float] = {"lr": 1e-6, "lr_start": 1e-7, "lr_end": 1e-8, "warmup_epochs": 0.2,
                                        "eps": 1e-8, "weight_decay": 0.1, "grad_clip": 0.0}


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


def warmup_steps(warmup_epochs: float, steps_per_epoch: int) -> int:
    """Warm-up length in steps: ``int(warmup_epochs × steps_per_epoch)`` (as the reference rounds)."""
    return int(warmup_epochs * steps_per_epoch)


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


def clic_step(model: torch.nn.Module, images: torch.Tensor, texts: torch.Tensor,
              weights: tuple[float, float, float] = LOSS_WEIGHTS) -> dict[str, torch.Tensor]:
    """``clic_loss`` of joined ``images`` [N,3,H,W] and ``texts`` [K+1,N,L] (K positives, then the negative).

    One forward of the model (so DDP sees one call) on N images and (K+1)·N texts; under
    ``torch.distributed`` the loss gathers the embeddings of every rank (``training.clic.loss``)."""
    k1, n, length = texts.shape
    out = model(images, texts.reshape(k1 * n, length))
    image_features, text_features = ((out["image_features"], out["text_features"]) if isinstance(out, Mapping)
                                     else (out[0], out[1]))
    text_features = text_features.reshape(k1, n, -1)
    return clic_loss(image_features, text_features[:-1], text_features[-1], unwrap(model).logit_scale, weights=weights)
