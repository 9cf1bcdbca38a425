"""CODER: cross-modal neighbour representation for zero- and few-shot classification (seed 003).

An image is represented by its cosines with a bank of texts about the classes (names, WordNet
synonyms, attributes, analogous classes, one-vs-one differences) and classified with that
representation. SPEC §6.1 rules live in :mod:`training.coder.rules`; see ``docs/coder.md``.
Entry point: ``python -m training.coder``.
"""

from training.coder.rules import (
    KINDS,
    neighbour_representation,
    ovo_pair_sims,
    rerank,
    softmax_margin,
    tip_adapter_logits,
    top_candidates,
    zero_shot_scores,
)

__all__ = ["KINDS", "neighbour_representation", "ovo_pair_sims", "rerank", "softmax_margin", "tip_adapter_logits",
           "top_candidates", "zero_shot_scores"]
