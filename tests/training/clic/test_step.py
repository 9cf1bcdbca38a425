"""CLIC step pieces: frozen visual tower, the alternation rule, the CLIC forward, optimiser groups, LR schedule.

The same behaviours inside the trainer's loop (order of steps, untouched visual weights, clamp,
AdamW settings, torchrun) are tested in ``test_trainer.py``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from training.clic.loss import clic_loss
from training.clic.step import REFERENCE_DEFAULTS, clic_lr, clic_step, freeze_visual, is_clic_step, warmup_steps
from training.model import create_model
from training.optim import param_groups
from training.tokenizer import train_tokenizer

TEXTS = ["a red circle on the left", "a blue square at the top", "green triangle right side", "yellow circle bottom"]


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS * 5, vocab_size=60, context_length=16)


def tiny(tokenizer, seed: int = 0):
    torch.manual_seed(seed)
    model, _ = create_model("wwclip-tiny", tokenizer)
    return model


def batch(tokenizer, n: int = 4, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    texts = [[TEXTS[(i + k) % 4] + f" {k}" for i in range(n)] for k in range(5)]
    return {"images": torch.randn(n, 3, 32, 32, generator=g), "texts": torch.stack([tokenizer(t) for t in texts])}


def test_reference_defaults_and_alternation_rule():
    assert REFERENCE_DEFAULTS == {"lr": 1e-6, "lr_start": 1e-7, "lr_end": 1e-8, "warmup_epochs": 0.2, "eps": 1e-8,
                                  "weight_decay": 0.1, "grad_clip": 0.0}
    assert [is_clic_step(s) for s in range(5)] == [True, False, True, False, True]
    assert all(is_clic_step(s, alternate=False) for s in range(4))


def test_freeze_visual_freezes_exactly_the_visual_tower(tokenizer):
    model = tiny(tokenizer)
    n = freeze_visual(model)
    assert n == sum(1 for k, _ in model.named_parameters() if "visual" in k) > 0
    assert all(p.requires_grad == ("visual" not in k) for k, p in model.named_parameters())
    with pytest.raises(ValueError, match="visual"):
        freeze_visual(torch.nn.Linear(2, 2))


def test_clic_step_is_clic_loss_of_the_model_features(tokenizer):
    model = tiny(tokenizer).eval()
    b = batch(tokenizer, n=3)
    got = clic_step(model, b["images"], b["texts"])
    with torch.no_grad():
        u = F.normalize(model.encode_image(b["images"]), dim=-1)
        t = F.normalize(model.encode_text(b["texts"].reshape(15, -1)), dim=-1).reshape(5, 3, -1)
        want = clic_loss(u, t[:4], t[4], model.logit_scale)
    for k in want:
        assert torch.allclose(got[k], want[k], atol=1e-6), k


def test_param_groups_leave_out_the_frozen_tower(tokenizer):
    model = tiny(tokenizer)
    freeze_visual(model)
    groups = param_groups(model, 0.1)
    ids = {id(p): g["weight_decay"] for g in groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert all(id(p) not in ids for k, p in named.items() if "visual" in k)  # frozen: not optimised
    for k, p in named.items():
        if "visual" in k:
            continue
        want = 0.0 if (p.ndim < 2 or "bias" in k or "ln" in k or "logit_scale" in k) else 0.1
        assert ids[id(p)] == want, k
    assert ids[id(named["token_embedding.weight"])] == 0.1 and ids[id(named["ln_final.weight"])] == 0.0


def reference_schedule(peak, end, epochs, niter, warmup_epochs, start):
    """The reference's cosine_scheduler, re-derived: linspace warm-up then cosine, one value per step."""
    w = int(warmup_epochs * niter)
    warm = np.linspace(start, peak, w) if warmup_epochs > 0 else np.array([])
    iters = np.arange(epochs * niter - w)
    return np.concatenate((warm, end + 0.5 * (peak - end) * (1 + np.cos(np.pi * iters / len(iters)))))


@pytest.mark.parametrize("niter,warm", [(100, 0.2), (37, 0.2), (10, 0.0), (50, 0.5)])
def test_lr_schedule_matches_the_reference_construction(niter, warm):
    lr, lr_start, lr_end = (REFERENCE_DEFAULTS[k] for k in ("lr", "lr_start", "lr_end"))
    w = warmup_steps(warm, niter)
    got = [clic_lr(s, niter, w, lr, lr_start, lr_end) for s in range(niter)]
    want = reference_schedule(lr, lr_end, 1, niter, warm, lr_start)
    assert np.allclose(got, want, rtol=1e-12, atol=1e-20)
    if w:
        assert got[0] == pytest.approx(1e-7) and got[w - 1] == pytest.approx(1e-6)
    assert max(got) == pytest.approx(1e-6) and got[-1] > 1e-8
    assert clic_lr(niter, niter, w, 1e-6, 1e-7, 1e-8) == pytest.approx(1e-8)  # the end of the cosine
