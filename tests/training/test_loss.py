"""The masked contrastive loss: open_clip's ClipLoss on full steps; padded rows change nothing; under
DDP every real sample weighs 1/N whichever rank holds it (2 gloo processes)."""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F
from open_clip.loss import ClipLoss

from training.loss import masked_clip_loss


def _features(n: int, d: int = 6, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (F.normalize(torch.randn(n, d, generator=g), dim=-1).requires_grad_(),
            F.normalize(torch.randn(n, d, generator=g), dim=-1).requires_grad_())


def test_full_batch_equals_open_clip_clip_loss():
    img, txt = _features(5)
    scale = torch.tensor(7.0)
    assert masked_clip_loss(img, txt, scale, [5]).item() == pytest.approx(ClipLoss()(img, txt, scale).item(),
                                                                          rel=1e-6)


def test_hand_computed_two_samples():
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    txt = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    # logits = 2·I: each row's CE = log(e^2 + 1) - 2, in both directions
    want = torch.log(torch.exp(torch.tensor(2.0)) + 1) - 2
    assert masked_clip_loss(img, txt, torch.tensor(2.0), [2]).item() == pytest.approx(want.item())


def test_padding_rows_change_neither_loss_nor_gradients():
    img, txt = _features(3, seed=1)
    scale = torch.tensor(10.0)
    ref = ClipLoss()(img, txt, scale)
    ref.backward()
    ref_grads = img.grad.clone(), txt.grad.clone()
    img.grad = txt.grad = None
    pad_i, pad_t = _features(4, seed=2)  # garbage rows that would dominate if they were negatives
    loss = masked_clip_loss(torch.cat([img, pad_i * 50]), torch.cat([txt, pad_t * 50]), scale, [3])
    loss.backward()
    assert loss.item() == pytest.approx(ref.item(), rel=1e-6)
    assert torch.allclose(img.grad, ref_grads[0], atol=1e-6) and torch.allclose(txt.grad, ref_grads[1], atol=1e-6)
    assert (pad_i.grad == 0).all() and (pad_t.grad == 0).all()


def test_bad_counts_are_refused():
    img, txt = _features(2)
    for counts, rank in (([0], 0), ([3], 0), ([1, 1], 2), ([-1, 2], 0)):
        with pytest.raises(ValueError):
            masked_clip_loss(img, txt, torch.tensor(1.0), counts, rank)


# ---- two processes: DDP gradient averaging ---------------------------------------------------

ROWS = 4
COUNTS = [3, 1]  # rank 0 holds 3 real samples, rank 1 one (the rest padding)


def _model_and_data(seed: int = 0):
    torch.manual_seed(seed)
    model = torch.nn.Linear(5, 6)
    g = torch.Generator().manual_seed(seed + 1)
    x_img, x_txt = torch.randn(sum(COUNTS), 5, generator=g), torch.randn(sum(COUNTS), 5, generator=g)
    return model, x_img, x_txt


def _ddp_worker(rank: int, init_file: str, out_file: str) -> None:
    import torch.distributed as dist

    torch.set_num_threads(1)  # a forked child: one intra-op thread, as in a DataLoader worker
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    model, x_img, x_txt = _model_and_data()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    start = sum(COUNTS[:rank])
    real = slice(start, start + COUNTS[rank])
    pad = torch.full((ROWS - COUNTS[rank], 5), 3.0)
    both = F.normalize(ddp(torch.cat([x_img[real], pad, x_txt[real], pad])), dim=-1)  # one forward, as CLIP's
    img, txt = both[:ROWS], both[ROWS:]
    loss = masked_clip_loss(img, txt, torch.tensor(5.0), COUNTS, rank)
    loss.backward()
    if rank == 0:
        torch.save({"weight": model.weight.grad, "bias": model.bias.grad}, out_file)
    dist.barrier()
    dist.destroy_process_group()


@pytest.mark.slow
def test_ddp_gradient_is_the_mean_over_the_steps_real_samples(tmp_path):
    """Two ranks with 3 and 1 real samples (padded to 4): DDP's averaged gradient equals one process
    computing the plain ClipLoss on the 4 real samples — each sample weighs 1/4, not 1/3 vs 1/1."""
    import torch.multiprocessing as mp

    out = str(tmp_path / "grads.pt")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # fork, not spawn: a spawned child would import torch and open_clip again (most of this test's time)
    mp.start_processes(_ddp_worker, args=(str(tmp_path / "init"), out), nprocs=2, join=True, start_method="fork")
    got = torch.load(out)
    model, x_img, x_txt = _model_and_data()
    loss = ClipLoss()(F.normalize(model(x_img), dim=-1), F.normalize(model(x_txt), dim=-1), torch.tensor(5.0))
    loss.backward()
    assert torch.allclose(got["weight"], model.weight.grad, atol=1e-5)
    assert torch.allclose(got["bias"], model.bias.grad, atol=1e-5)
