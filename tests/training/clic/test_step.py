"""CLIC training hooks: frozen visual tower, alternation, optimiser groups, clamp, LR schedule."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from training.clic.loss import clic_loss
from training.clic.step import (
    CLICConfig,
    clamp_logit_scale,
    clic_lr,
    clic_step,
    freeze_visual,
    is_clic_step,
    param_groups,
    step_kind,
    train_step,
    warmup_steps,
)
from training.model import create_model
from training.tokenizer import train_tokenizer

TEXTS = ["a red circle on the left", "a blue square at the top", "green triangle right side", "yellow circle bottom"]


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(TEXTS * 5, vocab_size=60, context_length=16)


def tiny(tokenizer, seed: int = 0):
    torch.manual_seed(seed)
    model, _ = create_model("wwclip-tiny", tokenizer)
    return model


def batch(tokenizer, n: int = 4, seed: int = 0, n_single: int | None = None) -> dict:
    g = torch.Generator().manual_seed(seed)
    n_single = n if n_single is None else n_single
    texts = [[TEXTS[(i + k) % 4] + f" {k}" for i in range(n)] for k in range(5)]
    return {"images": torch.randn(n, 3, 32, 32, generator=g), "texts": torch.stack([tokenizer(t) for t in texts]),
            "single_images": torch.randn(n_single, 3, 32, 32, generator=g),
            "single_texts": tokenizer([TEXTS[i % 4] for i in range(n_single)])}


def snapshot(model, prefix: str) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters() if k.startswith(prefix)}


def test_reference_defaults():
    c = CLICConfig()
    assert (c.lr, c.lr_start, c.lr_end, c.warmup_epochs) == (1e-6, 1e-7, 1e-8, 0.2)
    assert (c.betas, c.eps, c.weight_decay, c.batch_size, c.epochs) == ((0.9, 0.98), 1e-8, 0.1, 200, 1)
    assert c.weights == (0.5, 0.5, 1.0) and c.alternate
    with pytest.raises(ValueError):
        CLICConfig(lr=1e-6, lr_end=1e-5)
    with pytest.raises(ValueError):
        CLICConfig(weights=(1, 1))


def test_visual_parameters_unchanged_after_steps(tokenizer):
    from open_clip.loss import ClipLoss

    model = tiny(tokenizer)
    n_frozen = freeze_visual(model)
    assert n_frozen == sum(1 for k, _ in model.named_parameters() if "visual" in k) > 0
    visual, text = snapshot(model, "visual"), snapshot(model, "transformer")
    emb, scale = model.token_embedding.weight.detach().clone(), model.text_projection.detach().clone()
    cfg = CLICConfig(lr=1e-2, lr_start=1e-3, lr_end=1e-4, batch_size=4)
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=cfg.betas, eps=cfg.eps)
    for step in range(4):
        train_step(step, model, batch(tokenizer, seed=step), opt, 1e-2, clip_loss_fn=ClipLoss(), cfg=cfg)
    for k, v in model.named_parameters():
        if k.startswith("visual"):
            assert torch.equal(v, visual[k]), k
            assert v.grad is None
    assert any(not torch.equal(v, text[k]) for k, v in model.named_parameters() if k in text)
    assert not torch.equal(model.token_embedding.weight, emb) and not torch.equal(model.text_projection, scale)


def test_alternation_order(tokenizer):
    from open_clip.loss import ClipLoss

    assert [step_kind(s) for s in range(5)] == ["clic", "clip", "clic", "clip", "clic"]
    assert all(is_clic_step(s, alternate=False) for s in range(4))
    model = tiny(tokenizer)
    freeze_visual(model)
    cfg = CLICConfig(batch_size=4)
    opt = torch.optim.AdamW(param_groups(model, 0.1), lr=1e-6)
    # the single part has 3 rows, the joined part 4: the step's loss says which part it used
    kinds = []
    for step in range(4):
        out = train_step(step, model, batch(tokenizer, n=4, n_single=3), opt, 1e-6, clip_loss_fn=ClipLoss(), cfg=cfg)
        kinds.append(out["kind"])
        assert ({"cont", "sneg", "uni"} <= set(out)) == (step % 2 == 0)
        assert ("clip" in out) == (step % 2 == 1)
    assert kinds == ["clic", "clip", "clic", "clip"]


def test_clic_step_is_clic_loss_of_the_model_features(tokenizer):
    model = tiny(tokenizer).eval()
    b = batch(tokenizer, n=3)
    got = clic_step(model, b)
    with torch.no_grad():
        u = F.normalize(model.encode_image(b["images"]), dim=-1)
        t = F.normalize(model.encode_text(b["texts"].reshape(15, -1)), dim=-1).reshape(5, 3, -1)
        want = clic_loss(u, t[:4], t[4], model.logit_scale)
    for k in want:
        assert torch.allclose(got[k], want[k], atol=1e-6), k


def test_param_groups_and_logit_scale_clamp(tokenizer):
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
    with torch.no_grad():
        model.logit_scale.fill_(9.0)
    clamp_logit_scale(model)
    assert float(model.logit_scale.detach()) == pytest.approx(math.log(100))
    with torch.no_grad():
        model.logit_scale.fill_(-1.0)
    clamp_logit_scale(model)
    assert float(model.logit_scale.detach()) == 0.0


def reference_schedule(peak, end, epochs, niter, warmup_epochs, start):
    """The reference's cosine_scheduler, re-derived: linspace warm-up then cosine, one value per step."""
    w = int(warmup_epochs * niter)
    warm = np.linspace(start, peak, w) if warmup_epochs > 0 else np.array([])
    iters = np.arange(epochs * niter - w)
    return np.concatenate((warm, end + 0.5 * (peak - end) * (1 + np.cos(np.pi * iters / len(iters)))))


@pytest.mark.parametrize("niter,warm", [(100, 0.2), (37, 0.2), (10, 0.0), (50, 0.5)])
def test_lr_schedule_matches_the_reference_construction(niter, warm):
    cfg = CLICConfig(warmup_epochs=warm)
    w = warmup_steps(cfg, niter)
    got = [clic_lr(s, niter, w, cfg.lr, cfg.lr_start, cfg.lr_end) for s in range(niter)]
    want = reference_schedule(cfg.lr, cfg.lr_end, 1, niter, warm, cfg.lr_start)
    assert np.allclose(got, want, rtol=1e-12, atol=1e-20)
    if w:
        assert got[0] == pytest.approx(1e-7) and got[w - 1] == pytest.approx(1e-6)
    assert max(got) == pytest.approx(1e-6) and got[-1] > 1e-8
    assert clic_lr(niter, niter, w, 1e-6, 1e-7, 1e-8) == pytest.approx(1e-8)  # the end of the cosine
