"""Few-shot classification with a Tip-Adapter cache, keyed by CLIP features or by CODER vectors.

Keys are the K labelled training shots (k per class), each the mean of its L2-normalised image
features over augmented passes, re-normalised; for CODER-Tip both keys and queries are then
mapped to their normalised CODER vectors φ (:func:`coder_vectors`). Logits follow
:func:`training.coder.rules.tip_adapter_logits`, with ``zs`` the plain CLIP zero-shot logits
``100 · f·W`` of the class-name prompts.

(α, β) are searched as the reference does (METHODS.md §2): β on ``[0.1, 200)`` in 500 steps,
α on ``[0.1, 20)`` in 50 steps, 3 rounds, each next round on ``[0.5, 1.5) ×`` the best so far —
but **on the training shots only**: leave-one-shot-out validation, where each shot is classified
by the cache of the *other* shots (its own key is masked). :func:`tune_on_shots` has no test
argument, so it cannot see test data; test accuracy is computed once, at the searched values.
The reference instead reported ``max(test at the initial values, test after the search)`` and
searched ImageNet's on its test set (METHODS.md §2, evaluation leak). With one shot per class a
held-out shot has no key of its own class left, so nothing can be validated: the initial
(α, β) are used and the result says so. The best point over all rounds is kept (the reference
kept the last round's best); ties go to the earlier grid point (lower β, then lower α).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from curation.hashing import hash64
from training.coder.rules import neighbour_representation, tip_adapter_logits

SHOT_COUNTS = (1, 2, 4, 8, 16)


@dataclass(frozen=True)
class SearchConfig:
    """The (α, β) grid of the reference, and the values used when no search is possible."""

    beta_range: tuple[float, float] = (0.1, 200.0)
    beta_steps: int = 500
    alpha_range: tuple[float, float] = (0.1, 20.0)
    alpha_steps: int = 50
    rounds: int = 3
    init_alpha: float = 1.0
    init_beta: float = 1.0

    def __post_init__(self):
        for name in ("beta", "alpha"):
            lo, hi = getattr(self, f"{name}_range")
            if not 0 <= lo < hi or getattr(self, f"{name}_steps") < 1:
                raise ValueError(f"{name} grid needs 0 <= low < high and >= 1 step")
        if self.rounds < 1:
            raise ValueError("rounds must be >= 1")


@dataclass(frozen=True)
class Tuned:
    alpha: float
    beta: float
    val_accuracy: float | None  # None: not searched
    val_images: int
    searched: bool


def grid(lo: float, hi: float, steps: int) -> np.ndarray:
    """``lo + i·(hi − lo)/steps`` for ``i < steps`` (the reference's grid, upper end excluded)."""
    return lo + np.arange(steps) * (hi - lo) / steps


def shot_order_key(seed: int, item_id: str) -> int:
    """Deterministic rank of an image among its class's candidates: blake2b of (seed, id)."""
    return hash64(seed, item_id)


def select_shots(ids: Sequence[str], labels: Sequence[int], k: int, seed: int = 0) -> np.ndarray:
    """Indices of ``k`` images per class (all of a class's images when it has fewer), sorted.

    Each class keeps the images with the smallest ``shot_order_key(seed, id)``, so the choice
    does not depend on input order and the k-shot set contains the (k−1)-shot set.
    """
    if k < 1:
        raise ValueError("k must be >= 1")
    labels = np.asarray(labels)
    if len(ids) != len(labels):
        raise ValueError("ids and labels differ in length")
    if len(set(ids)) != len(ids):
        raise ValueError("image ids must be unique")
    keys = np.array([shot_order_key(seed, str(i)) for i in ids], dtype=np.uint64)
    out = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        out.extend(members[np.argsort(keys[members], kind="stable")[:k]].tolist())
    return np.sort(np.asarray(out, dtype=np.int64))


def coder_vectors(features: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """Normalised CODER vectors φ(v)/‖φ(v)‖ of normalised image features (keys and queries of CODER-Tip)."""
    phi = neighbour_representation(_normalise(features), bank).astype(np.float64)
    return _normalise(phi)


def one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must lie in [0, {n_classes})")
    out = np.zeros((labels.size, n_classes))
    out[np.arange(labels.size), labels] = 1.0
    return out


def search_alpha_beta(zs: np.ndarray, affinity: np.ndarray, keys_onehot: np.ndarray, labels: np.ndarray,
                      config: SearchConfig = SearchConfig(), *, minmax: bool = True) -> tuple[float, float, float]:
    """``(alpha, beta, accuracy)`` maximising the accuracy of ``tip_adapter_logits`` on the given images.

    Per β the cache term is computed once (``tip_adapter_logits`` with zero ``zs`` and α = 1);
    logits are linear in α. Rounds narrow both ranges to ``[0.5, 1.5) ×`` the best point.
    """
    labels = np.asarray(labels)
    zeros = np.zeros_like(zs, dtype=np.float64)
    best = (-1.0, 0.0, 0.0)  # (accuracy, alpha, beta)
    b_lo, b_hi = config.beta_range
    a_lo, a_hi = config.alpha_range
    for _ in range(config.rounds):
        alphas = grid(a_lo, a_hi, config.alpha_steps)
        round_best = (-1.0, 0.0, 0.0)
        for beta in grid(b_lo, b_hi, config.beta_steps):
            cache = tip_adapter_logits(zeros, affinity, keys_onehot, 1.0, float(beta), minmax=minmax)
            accs = _accuracies(zs, cache, alphas, labels)
            j = int(np.argmax(accs))  # first maximum: the lowest alpha
            if accs[j] > round_best[0]:
                round_best = (float(accs[j]), float(alphas[j]), float(beta))
        if round_best[0] > best[0]:
            best = round_best
        a_lo, a_hi = 0.5 * best[1], 1.5 * best[1]
        b_lo, b_hi = 0.5 * best[2], 1.5 * best[2]
    return best[1], best[2], best[0]


def tune_on_shots(queries: np.ndarray, keys: np.ndarray, zs: np.ndarray, labels: np.ndarray, n_classes: int,
                  config: SearchConfig = SearchConfig(), *, minmax: bool = True) -> Tuned:
    """(α, β) by leave-one-shot-out validation on the training shots — the only data it is given.

    ``queries`` ``[K, R]``: each shot's representation without augmentation (as a test image
    would be seen); ``keys`` ``[K, R]``: the cache keys (augmented means); ``zs`` ``[K, C]``: the
    shots' zero-shot logits; ``labels`` ``[K]``. Shot i is validated against the cache without
    key i (its affinity is NaN = absent); shots whose class has no other key are not validated.
    """
    labels = np.asarray(labels, dtype=np.int64)
    affinity = np.asarray(queries, np.float64) @ np.asarray(keys, np.float64).T
    np.fill_diagonal(affinity, np.nan)
    counts = np.bincount(labels, minlength=n_classes)
    val = np.flatnonzero(counts[labels] >= 2)
    if val.size == 0:
        return Tuned(config.init_alpha, config.init_beta, None, 0, False)
    alpha, beta, acc = search_alpha_beta(zs[val], affinity[val], one_hot(labels, n_classes), labels[val], config,
                                         minmax=minmax)
    return Tuned(alpha, beta, acc, int(val.size), True)


@dataclass(frozen=True)
class FewShotResult:
    accuracy: float
    tuned: Tuned
    shots: int


def evaluate_few_shot(shot_features: np.ndarray, shot_key_features: np.ndarray, shot_labels: np.ndarray,
                      test_features: np.ndarray, test_labels: np.ndarray, classifier: np.ndarray,
                      bank: np.ndarray | None = None, config: SearchConfig = SearchConfig()) -> FewShotResult:
    """Tip-Adapter (``bank=None``: CLIP keys, raw affinities) or CODER-Tip (CODER keys, min–max).

    ``shot_features`` / ``test_features``: normalised image features ``[K, D]`` / ``[N, D]``;
    ``shot_key_features``: the shots' augmented-mean features ``[K, D]``; ``classifier``: the
    ``[D, C]`` class-name text classifier. (α, β) come from :func:`tune_on_shots`, which receives
    shot data only; the test set is scored once, at those values.
    """
    n_classes = classifier.shape[1]
    if bank is None:
        represent, minmax = _normalise, False
    else:
        def represent(x):
            return coder_vectors(x, bank)
        minmax = True
    labels = np.asarray(shot_labels, dtype=np.int64)
    tuned = tune_on_shots(represent(shot_features), represent(shot_key_features),
                          100.0 * np.asarray(shot_features, np.float64) @ classifier, labels, n_classes, config,
                          minmax=minmax)
    keys = represent(shot_key_features)
    logits = tip_adapter_logits(100.0 * np.asarray(test_features, np.float64) @ classifier,
                                represent(test_features) @ keys.T, one_hot(labels, n_classes), tuned.alpha, tuned.beta,
                                minmax=minmax)
    acc = float(np.mean(np.argmax(logits, axis=1) == np.asarray(test_labels)))
    return FewShotResult(acc, tuned, int(np.bincount(labels).max(initial=0)))


def _accuracies(zs: np.ndarray, cache: np.ndarray, alphas: np.ndarray, labels: np.ndarray,
                max_cells: int = 1 << 24) -> np.ndarray:
    """Accuracy of ``argmax(zs + α·cache)`` for every α, in chunks of at most ``max_cells`` logits."""
    out = np.empty(len(alphas))
    step = max(1, max_cells // max(1, zs.size))
    for i in range(0, len(alphas), step):
        a = alphas[i:i + step, None, None]
        out[i:i + step] = (np.argmax(zs[None] + a * cache[None], axis=2) == labels[None]).mean(axis=1)
    return out


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    if np.any(norms == 0) or not np.all(np.isfinite(x)):
        raise ValueError("features must be finite and non-zero")
    return x / norms
