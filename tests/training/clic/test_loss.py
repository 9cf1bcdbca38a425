"""clic_loss: a hand-computed N=2, D=3 case, an independent loop implementation, gradients, ranks."""

from __future__ import annotations

import math
import os

import pytest
import torch
import torch.nn.functional as F

from training.clic.loss import clic_loss

E1, E2, E3 = torch.eye(3, dtype=torch.float64)


def sp(x: float) -> float:
    """softplus(x) = ln(1 + e^x) = -ln softmax([y, y + x])_0: the two-way cross-entropy."""
    return math.log1p(math.exp(x))


def test_hand_computed_n2_d3():
    # s = exp(0) = 1; images u1 = e1, u2 = e2
    image = torch.stack([E1, E2])
    # positives P^k = (P^k_1, P^k_2): k=1 (e1, e2), k=2 (e1, e3), k=3 (e1, e2), k=4 (e3, e2)
    positives = torch.stack([torch.stack(p) for p in ((E1, E2), (E1, E3), (E1, E2), (E3, E2))])
    negative = torch.stack([-E1, E2])  # u1·N1 = -1, u2·N2 = +1
    out = clic_loss(image, positives, negative, 0.0)

    # L_cont. Image→text logits of set k are u_i·P^k_j; text→image logits are their transpose.
    #   k=1,3: [[1,0],[0,1]]  -> each row CE = -ln(e/(e+1)) = softplus(-1) = 0.313262
    #   k=2:   [[1,0],[0,0]]  -> rows softplus(-1), ln 2 -> mean 0.503204 (same transposed)
    #   k=4:   [[0,0],[0,1]]  -> rows ln 2, softplus(-1) -> mean 0.503204
    per_set = [sp(-1), (sp(-1) + math.log(2)) / 2, sp(-1), (math.log(2) + sp(-1)) / 2]
    cont = 0.5 * (sum(per_set) / 4 + sum(per_set) / 4)
    assert cont == pytest.approx(0.408233, abs=1e-6)
    # L_sneg: softplus(u_i·N_i - u_i·P^k_i) with u·N = (-1, +1) and u·P^k_i per set:
    #   k=1,3: (1, 1) -> softplus(-2), softplus(0);  k=2: (1, 0) -> softplus(-2), softplus(1)
    #   k=4:   (0, 1) -> softplus(-1), softplus(0)
    sneg = (2 * (sp(-2) + sp(0)) / 2 + (sp(-2) + sp(1)) / 2 + (sp(-1) + sp(0)) / 2) / 4
    assert sneg == pytest.approx(0.510844, abs=1e-6)
    # L_uni: ‖e1 − e1‖² = 0 and ‖e2 − e3‖² = 2 -> mean 1
    uni = 1.0
    total = 0.5 * cont + 0.5 * sneg + 1.0 * uni
    assert total == pytest.approx(1.459538, abs=1e-6)
    for key, want in {"cont": cont, "sneg": sneg, "uni": uni, "total": total}.items():
        assert float(out[key]) == pytest.approx(want, abs=1e-12), key


def reference_loop(image, positives, negative, logit_scale):
    """A straightforward, loop-by-loop reading of METHODS.md §1.5 (float64 Python arithmetic)."""
    s = math.exp(logit_scale)
    k, n, _ = positives.shape
    dot = lambda a, b: float((a * b).sum())  # noqa: E731
    i2t = t2i = sneg = 0.0
    for kk in range(k):
        for i in range(n):
            row = [s * dot(image[i], positives[kk][j]) for j in range(n)]
            i2t += -(row[i] - math.log(sum(math.exp(x) for x in row)))
            col = [s * dot(positives[kk][i], image[j]) for j in range(n)]
            t2i += -(col[i] - math.log(sum(math.exp(x) for x in col)))
            pos, neg = s * dot(image[i], positives[kk][i]), s * dot(image[i], negative[i])
            sneg += -(pos - math.log(math.exp(pos) + math.exp(neg)))
    cont = 0.5 * (i2t / (k * n) + t2i / (k * n))
    sneg /= k * n
    uni = sum(dot(positives[0][i] - positives[1][i], positives[0][i] - positives[1][i]) for i in range(n)) / n
    return {"cont": cont, "sneg": sneg, "uni": uni, "total": 0.5 * cont + 0.5 * sneg + uni}


@pytest.mark.parametrize("seed,n,d,k", [(0, 5, 8, 4), (1, 1, 3, 4), (2, 7, 4, 2), (3, 16, 32, 4)])
def test_matches_an_independent_loop_implementation(seed, n, d, k):
    g = torch.Generator().manual_seed(seed)
    image = F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=-1)
    positives = F.normalize(torch.randn(k, n, d, generator=g, dtype=torch.float64), dim=-1)
    negative = F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=-1)
    logit_scale = float(torch.rand(1, generator=g)) * math.log(100)
    got = clic_loss(image, positives, negative, torch.tensor(logit_scale, dtype=torch.float64))
    want = reference_loop(image, positives, negative, logit_scale)
    for key in want:
        assert float(got[key]) == pytest.approx(want[key], rel=1e-9, abs=1e-12), key


def test_gradients_match_finite_differences():
    g = torch.Generator().manual_seed(7)
    image = torch.randn(2, 3, generator=g, dtype=torch.float64, requires_grad=True)
    positives = torch.randn(4, 2, 3, generator=g, dtype=torch.float64, requires_grad=True)
    negative = torch.randn(2, 3, generator=g, dtype=torch.float64, requires_grad=True)
    scale = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)

    def f(i, p, ng, s):
        return clic_loss(F.normalize(i, dim=-1), F.normalize(p, dim=-1), F.normalize(ng, dim=-1), s)["total"]

    assert torch.autograd.gradcheck(f, (image, positives, negative, scale))


def test_weights_and_shape_errors():
    g = torch.Generator().manual_seed(0)
    u = F.normalize(torch.randn(4, 6, generator=g), dim=-1)
    p = F.normalize(torch.randn(4, 4, 6, generator=g), dim=-1)
    ng = F.normalize(torch.randn(4, 6, generator=g), dim=-1)
    out = clic_loss(u, p, ng, 1.0, weights=(1.0, 0.0, 0.0))
    assert torch.allclose(out["total"], out["cont"])
    with pytest.raises(ValueError, match="positives must be"):
        clic_loss(u, p[:, :3], ng, 1.0)
    with pytest.raises(ValueError, match="at least two positives"):
        clic_loss(u, p[:1], ng, 1.0)
    with pytest.raises(ValueError, match="negative must be"):
        clic_loss(u, p, ng[:, :5], 1.0)
    with pytest.raises(ValueError, match="image must be"):
        clic_loss(u[0], p, ng, 1.0)


# ---------------------------------------------------------------- two ranks (gloo, CPU)


def _rank_main(rank: int, world: int, init_file: str, out_dir: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        image, positives, negative, scale = _global_batch()
        n = image.shape[0] // world
        rows = slice(rank * n, (rank + 1) * n)
        u = image[rows].clone().requires_grad_(True)
        p = positives[:, rows].clone().requires_grad_(True)
        ng = negative[rows].clone().requires_grad_(True)
        out = clic_loss(u, p, ng, scale)
        out["total"].backward()
        torch.save({"total": out["total"].detach(), "gu": u.grad, "gp": p.grad, "gn": ng.grad},
                   os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        dist.destroy_process_group()


def _global_batch():
    g = torch.Generator().manual_seed(11)
    image = F.normalize(torch.randn(6, 5, generator=g, dtype=torch.float64), dim=-1)
    positives = F.normalize(torch.randn(4, 6, 5, generator=g, dtype=torch.float64), dim=-1)
    negative = F.normalize(torch.randn(6, 5, generator=g, dtype=torch.float64), dim=-1)
    return image, positives, negative, torch.tensor(1.3, dtype=torch.float64)


def test_two_ranks_equal_the_global_batch(tmp_path):
    """Mean of the ranks' losses = the global loss; DDP-averaged gradients = the global gradients."""
    import torch.multiprocessing as mp

    world = 2
    mp.start_processes(_rank_main, args=(world, str(tmp_path / "init"), str(tmp_path)), nprocs=world,
                       start_method="spawn")
    parts = [torch.load(tmp_path / f"rank{r}.pt") for r in range(world)]
    image, positives, negative, scale = _global_batch()
    u, p, ng = (t.clone().requires_grad_(True) for t in (image, positives, negative))
    full = clic_loss(u, p, ng, scale)
    full["total"].backward()
    assert float(sum(x["total"] for x in parts) / world) == pytest.approx(float(full["total"].detach()), rel=1e-10)
    n = image.shape[0] // world
    for r, x in enumerate(parts):
        rows = slice(r * n, (r + 1) * n)
        # the gather's backward sums every rank's gradient into the owner; DDP divides by the world size
        assert torch.allclose(x["gu"] / world, u.grad[rows], atol=1e-12)
        assert torch.allclose(x["gp"] / world, p.grad[:, rows], atol=1e-12)
        assert torch.allclose(x["gn"] / world, ng.grad[rows], atol=1e-12)
