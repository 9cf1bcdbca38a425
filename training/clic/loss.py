"""The CLIC loss (SPEC §6.1, METHODS.md §1.5): contrastive + separate hard negative + uni-modal.

Notation: u_i the image embeddings, P^k_j the k-th positive text of image j (k = 1..K, K = 4 in
CLIC: p1 "s_A. s_B.", p2 "s_B. s_A.", p3, p4), N_i the hard negative of image i, all
L2-normalised by the caller; s = exp(logit_scale) (``logit_scale`` is the model's *log* scale
parameter, as in METHODS.md, not open_clip's exponentiated forward output).

- L_cont = ½ [ (1/K) Σ_k CE_i(s·u_i·P^k_*) + (1/K) Σ_k CE_j(s·P^k_j·u_*) ]: a symmetric InfoNCE
  for each positive set alone; the negatives are in no denominator.
- L_sneg = (1/K) Σ_k mean_i −log softmax([s·u_i·P^k_i, s·u_i·N_i])₀
         = (1/K) Σ_k mean_i softplus(s·u_i·N_i − s·u_i·P^k_i): each positive against its own negative.
- L_uni = mean_i ‖P^1_i − P^2_i‖² (squared distance summed over the embedding, not averaged):
  "s_A. s_B." and "s_B. s_A." should embed alike.
- **L = 0.5·L_cont + 0.5·L_sneg + 1.0·L_uni.**

Across ranks (``torch.distributed`` initialised, world > 1): images and positives of every rank
are all-gathered with their autograd graph (``torch.distributed.nn.all_gather``), so the
contrastive terms see the global batch; each rank computes the loss of *its own* rows (its
images against all texts, its texts against all images; L_sneg and L_uni are per row anyway).
Every rank must pass the same N. Gradients reach every rank's features through the gather, so
with DDP's gradient averaging the update is exactly that of the mean loss over the global batch
— the reference code's arrangement.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

WEIGHT_CONT = 0.5
WEIGHT_SNEG = 0.5
WEIGHT_UNI = 1.0


def gather_rows(x: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``(rows of every rank concatenated in rank order, offset of this rank's rows)``.

    Single process: ``(x, 0)``. Distributed: an autograd-aware all-gather, so gradients flow
    back to the rank that owns each slice (this rank's own slice keeps its graph directly).
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return x, 0
    import torch.distributed.nn

    parts = list(torch.distributed.nn.all_gather(x))
    rank = dist.get_rank()
    parts[rank] = x  # the local slice: the very tensor, not a copy
    return torch.cat(parts, dim=0), rank * x.shape[0]


def _check(image: torch.Tensor, positives: torch.Tensor, negative: torch.Tensor) -> None:
    if image.ndim != 2:
        raise ValueError(f"image must be [N, D], got {tuple(image.shape)}")
    n, d = image.shape
    if positives.ndim != 3 or positives.shape[1:] != (n, d):
        raise ValueError(f"positives must be [K, {n}, {d}], got {tuple(positives.shape)}")
    if positives.shape[0] < 2:
        raise ValueError("the uni-modal term needs at least two positives (p1 and p2)")
    if negative.shape != (n, d):
        raise ValueError(f"negative must be [{n}, {d}], got {tuple(negative.shape)}")
    if n < 1:
        raise ValueError("empty batch")


def clic_loss(image: torch.Tensor, positives: torch.Tensor, negative: torch.Tensor, logit_scale: torch.Tensor | float,
              *, weights: tuple[float, float, float] = (WEIGHT_CONT, WEIGHT_SNEG, WEIGHT_UNI)
              ) -> dict[str, torch.Tensor]:
    """``{"total", "cont", "sneg", "uni"}`` for ``image[N,D]``, ``positives[K,N,D]``, ``negative[N,D]``.

    ``weights`` = (cont, sneg, uni), the reference defaults (0.5, 0.5, 1.0). Formulas in the module
    docstring; under ``torch.distributed`` the values are this rank's rows' losses.
    """
    _check(image, positives, negative)
    k, n, _ = positives.shape
    scale = torch.as_tensor(logit_scale, dtype=image.dtype, device=image.device).exp()
    all_images, offset = gather_rows(image)
    labels = torch.arange(n, device=image.device) + offset
    i2t, t2i, sneg = [], [], []
    neg_logit = scale * (image * negative).sum(-1)  # s·u_i·N_i
    for j in range(k):
        all_pos, _ = gather_rows(positives[j])
        i2t.append(F.cross_entropy(scale * image @ all_pos.T, labels))  # local images vs every text of set j
        t2i.append(F.cross_entropy(scale * positives[j] @ all_images.T, labels))  # local texts vs every image
        pos_logit = scale * (image * positives[j]).sum(-1)
        sneg.append(F.softplus(neg_logit - pos_logit).mean())  # = CE([pos, neg], 0)
    cont = 0.5 * (torch.stack(i2t).mean() + torch.stack(t2i).mean())
    sneg_loss = torch.stack(sneg).mean()
    uni = (positives[0] - positives[1]).pow(2).sum(-1).mean()
    w_cont, w_sneg, w_uni = weights
    total = w_cont * cont + w_sneg * sneg_loss + w_uni * uni
    return {"total": total, "cont": cont, "sneg": sneg_loss, "uni": uni}
