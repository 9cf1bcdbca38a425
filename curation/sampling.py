"""Deterministic, retry-safe balanced sampling (SPEC §2 step 7).

Every random draw is a hash of ``(seed, epoch, uid, purpose)`` (``curation.hashing``), never an
RNG stream, so the outcome of an image does not depend on partitioning, task order, retries or
the number of data-loader workers. The offline Spark job, the single-process baseline and the
online training loader all call these.

Choosing "one text uniformly" is done as *min-hash*: each distinct text of an image gets a
key ``hash(seed, epoch, uid, text)`` and the smallest key wins. For distinct texts this is a
uniform choice, and it needs no knowledge of how many texts an image has, so Spark can pick
with a plain ``min_by`` aggregation instead of collecting each image's texts.

Each rule has a batch form over many rows (NumPy arrays out) and a scalar form for one image;
the scalar text choice and sample are the batch forms applied to one image, so the two can
never disagree. A batch groups an image's rows into one *run* of consecutive rows
(``image_runs``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from curation.balancing import keep_probabilities
from curation.hashing import hash64, hash64_many, hash_key

_KEEP = "keep"
_CHOICE = "choice"
_UNIT = 1.0 / (1 << 53)


def keep_uniform(seed: int, epoch: int, uid: str) -> float:
    """The image's keep coin in [0, 1): kept iff ``keep_uniform < keep_probability``.

    ``(hash64(seed, epoch, uid, "keep") >> 11) / 2**53``: the top 53 bits, exact in a float64."""
    return (hash64(seed, epoch, uid, _KEEP) >> 11) * _UNIT


def keep_uniforms(seed: int, epoch: int, uids: Sequence[object]) -> np.ndarray:
    """``keep_uniform`` of each uid as float64 (same bits: ``h >> 11`` is exact in float64)."""
    head, tail = hash_key(seed, epoch, ""), hash_key("", _KEEP)
    h = hash64_many([head + str(u) + tail for u in uids])
    return (h >> np.uint64(11)).astype(np.float64) * _UNIT


def choice_key(seed: int, epoch: int, uid: str, text: str) -> int:
    """Non-negative 63-bit key (fits a Spark ``long``); the image's text with the smallest key is chosen."""
    return hash64(seed, epoch, uid, _CHOICE, text) >> 1


def choice_keys(seed: int, epoch: int, uids: Sequence[object], texts: Sequence[object]) -> np.ndarray:
    """``choice_key`` of each (uid, text) pair as int64."""
    head, mid = hash_key(seed, epoch, ""), hash_key("", _CHOICE, "")
    h = hash64_many([head + str(u) + mid + str(t) for u, t in zip(uids, texts)])
    return (h >> np.uint64(1)).astype(np.int64)


def image_runs(uids: Sequence[object] | np.ndarray) -> np.ndarray:
    """Boundaries of the runs of equal consecutive uids: int64 ``b`` of length ``images + 1``,
    image ``k`` being rows ``b[k]:b[k + 1]`` (``[0]`` for no rows).

    Every table the sampling reads keeps an image's rows together (the curation jobs sort each
    partition by uid), so this is how a batch is grouped into images, here and in the loader.
    The same uid in two separate runs makes two images: callers sort first when rows may not be
    grouped."""
    u = np.asarray(uids, dtype=object)
    if u.ndim != 1:
        raise ValueError("uids must be one-dimensional")
    change = np.flatnonzero(u[1:] != u[:-1]) + 1
    return np.concatenate(([0], change, [u.size])).astype(np.int64) if u.size else np.zeros(1, np.int64)


def _check_runs(bounds: np.ndarray, n: int) -> None:
    if bounds.ndim != 1 or bounds.size == 0 or bounds[0] != 0 or bounds[-1] != n:
        raise ValueError(f"run boundaries must start at 0 and end at the number of rows ({n})")
    if (np.diff(bounds) <= 0).any():
        raise ValueError("every image needs at least one text (run boundaries must increase)")


def chosen_rows(bounds: Sequence[int] | np.ndarray, keys: Sequence[int] | np.ndarray) -> np.ndarray:
    """Per image (rows ``bounds[k]:bounds[k + 1]``), the row with the smallest choice key, the
    first row among equal keys (so among equal texts the first is chosen), as int64.

    Rows sorted by (image, key, row): image ``k``'s winner is the first of its sorted rows."""
    b = np.asarray(bounds, dtype=np.int64)
    k = np.asarray(keys)
    _check_runs(b, k.size)
    run = np.repeat(np.arange(b.size - 1), np.diff(b))
    order = np.lexsort((np.arange(k.size), k, run))
    return order[b[:-1]].astype(np.int64)


def sample_images(seed: int, epoch: int, uids: Sequence[object], texts: Sequence[object],
                  bounds: Sequence[int] | np.ndarray, keep_probs: Sequence[float] | np.ndarray) -> np.ndarray:
    """Balanced sampling of a batch of images: per image its chosen row if kept, else -1 (int64).

    ``bounds`` from ``image_runs(uids)``; ``keep_probs[r]`` is row r's keep probability
    (``balancing.keep_probabilities``). Image k chooses row ``r = chosen_rows(...)[k]`` and is
    kept iff ``keep_uniform(seed, epoch, uid) < keep_probs[r]``."""
    b = np.asarray(bounds, dtype=np.int64)
    p = np.asarray(keep_probs, dtype=np.float64)
    if p.shape != (len(uids),) or len(texts) != len(uids):
        raise ValueError("uids, texts and keep_probs must have one value per row")
    rows = chosen_rows(b, choice_keys(seed, epoch, uids, texts))
    coins = keep_uniforms(seed, epoch, [uids[i] for i in b[:-1].tolist()])
    return np.where(coins < p[rows], rows, -1)


def choose_text(seed: int, epoch: int, uid: str, texts: Sequence[str]) -> int:
    """Index of the chosen text among an image's matched texts (first index among equal texts)."""
    if not texts:
        raise ValueError(f"image {uid!r} has no matched texts to choose from")
    return int(chosen_rows([0, len(texts)], choice_keys(seed, epoch, [uid] * len(texts), texts))[0])


def sample_image(
    seed: int,
    epoch: int,
    uid: str,
    texts: Sequence[str],
    probs_of_matched: Sequence[Sequence[float] | np.ndarray],
) -> int | None:
    """Balanced sampling for one image: the chosen text's index if the image is kept, else None.

    ``probs_of_matched[i]`` are the entry probabilities of text i's matched entries.
    """
    if not texts:
        raise ValueError(f"image {uid!r} has no matched texts to choose from")
    if len(probs_of_matched) != len(texts):
        raise ValueError(f"image {uid!r}: {len(texts)} texts but {len(probs_of_matched)} probability lists")
    parts = [np.asarray(p, dtype=np.float64).reshape(-1) for p in probs_of_matched]
    keep_probs = keep_probabilities([p.size for p in parts], np.concatenate(parts))
    row = int(sample_images(seed, epoch, [uid] * len(texts), texts, [0, len(texts)], keep_probs)[0])
    return None if row < 0 else row
