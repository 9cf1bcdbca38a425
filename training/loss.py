"""The contrastive (CLIP) loss of one step over all ranks, with padded rows masked out.

Every rank's batch has the same number of rows ``B`` (the feature all-gather needs equal shapes),
but at the end of an epoch some ranks hold fewer real samples (the merged tail of their workers'
last batches) or none at all: they pad to ``B`` rows (``training.train``) and report their real
counts ``counts[r]`` (``training.distributed.step_counts``). A padded row is neither an anchor nor
a negative: its logit column is set to ``-1e4`` (``exp`` underflows to exactly 0 after the
log-sum-exp shift, finite in fp16/bf16) and its loss term is dropped.

Rank ``r``'s loss, with ``N = Σ_r counts[r]`` the step's real samples::

    loss_r = R / N · Σ_{real rows i of r} (CE(image_i → texts) + CE(text_i → images)) / 2

DDP averages the ranks' parameter gradients (÷ R) and the gather's backward sums the gradients
every rank's loss sends to a feature, so the optimised quantity is ``(1/R) Σ_r loss_r =
Σ_i (CE_i→ + CE_i←) / 2 / N``: each real sample weighs ``1/N``, whichever rank holds it and
however many rows are padding. A plain per-rank mean instead would weigh a sample on a rank
with 3 real rows 1/3 against 1/B elsewhere. With full batches (``N = R·B``) this is open_clip's
``ClipLoss(local_loss=True, gather_with_grad=True)`` exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

MASKED_LOGIT = -1.0e4  # far below any |logit| <= logit_scale <= 100; finite in every float type


def masked_clip_loss(image_features: torch.Tensor, text_features: torch.Tensor, logit_scale: torch.Tensor,
                     counts: Sequence[int], rank: int = 0) -> torch.Tensor:
    """``loss_r`` above, for local features of ``B`` rows (real rows first) and every rank's real count.

    Call it on every rank of the step (it all-gathers features with gradient when ``len(counts) > 1``)."""
    world = len(counts)
    rows = image_features.shape[0]
    total = int(sum(counts))
    if not 0 <= rank < world or any(not 0 <= c <= rows for c in counts) or total == 0:
        raise ValueError(f"need 0 <= counts[r] <= {rows} with a positive sum and 0 <= rank < {world}, "
                         f"got counts={list(counts)} rank={rank}")
    if world > 1:
        from open_clip.loss import gather_features

        all_images, all_texts = gather_features(image_features, text_features, local_loss=True,
                                                gather_with_grad=True, rank=rank, world_size=world)
    else:
        all_images, all_texts = image_features, text_features
    device = image_features.device
    position = torch.arange(rows, device=device)
    real_columns = (position[None, :] < torch.as_tensor(list(counts), device=device)[:, None]).reshape(-1)
    logits_per_image = (logit_scale * image_features @ all_texts.T).masked_fill(~real_columns, MASKED_LOGIT)
    logits_per_text = (logit_scale * text_features @ all_images.T).masked_fill(~real_columns, MASKED_LOGIT)
    labels = position + rows * rank
    per_row = (F.cross_entropy(logits_per_image, labels, reduction="none")
               + F.cross_entropy(logits_per_text, labels, reduction="none")) / 2
    real_rows = position < counts[rank]
    return torch.where(real_rows, per_row, torch.zeros_like(per_row)).sum() * (world / total)
