"""Deterministic, retry-safe balanced sampling (SPEC §2 step 7).

Every random draw is a hash of ``(seed, epoch, uid, purpose)``, never a RNG stream, so the
outcome of an image does not depend on partitioning, task order, retries or the number of
data-loader workers. The offline Spark job and the online training loader both call these.

Choosing "one text uniformly" is done as *min-hash*: each distinct text of an image gets a
key ``hash(seed, epoch, uid, text)`` and the smallest key wins. For distinct texts this is a
uniform choice, and it needs no knowledge of how many texts an image has, so Spark can pick
with a plain ``min_by`` aggregation instead of collecting each image's texts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from curation.balancing import keep_probability

_SEP = "\x1f"
_KEEP = "keep"
_CHOICE = "choice"


def _hash64(*parts: object) -> int:
    key = _SEP.join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")


def _hash64_many(keys: Sequence[str]) -> np.ndarray:
    """``_hash64`` of many already-joined keys, as a uint64 array (one hash call per key)."""
    blake2b = hashlib.blake2b
    digests = b"".join([blake2b(k.encode("utf-8"), digest_size=8).digest() for k in keys])
    return np.frombuffer(digests, dtype=">u8").astype(np.uint64)


def keep_uniforms(seed: int, epoch: int, uids: Sequence[object]) -> np.ndarray:
    """``keep_uniform`` of each uid as float64 (same bits: ``(h >> 11)`` is exact in float64)."""
    head = f"{str(seed)}{_SEP}{str(epoch)}{_SEP}"
    tail = f"{_SEP}{_KEEP}"
    h = _hash64_many([head + str(u) + tail for u in uids])
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def choice_keys(seed: int, epoch: int, uids: Sequence[object], texts: Sequence[object]) -> np.ndarray:
    """``choice_key`` of each (uid, text) pair as int64."""
    head = f"{str(seed)}{_SEP}{str(epoch)}{_SEP}"
    mid = f"{_SEP}{_CHOICE}{_SEP}"
    h = _hash64_many([head + str(u) + mid + str(t) for u, t in zip(uids, texts)])
    return (h >> np.uint64(1)).astype(np.int64)


def keep_uniform(seed: int, epoch: int, uid: str) -> float:
    """The image's keep coin in [0, 1): kept iff ``keep_uniform < keep_probability``."""
    return (_hash64(seed, epoch, uid, _KEEP) >> 11) * (1.0 / (1 << 53))


def choice_key(seed: int, epoch: int, uid: str, text: str) -> int:
    """Non-negative 63-bit key (fits a Spark ``long``); the image's text with the smallest key is chosen."""
    return _hash64(seed, epoch, uid, _CHOICE, text) >> 1


def choose_text(seed: int, epoch: int, uid: str, texts: Sequence[str]) -> int:
    """Index of the chosen text among an image's matched texts (first index among equal texts)."""
    if not texts:
        raise ValueError(f"image {uid!r} has no matched texts to choose from")
    keys = [choice_key(seed, epoch, uid, t) for t in texts]
    return int(np.argmin(keys))


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
    i = choose_text(seed, epoch, uid, texts)
    return i if keep_uniform(seed, epoch, uid) < keep_probability(probs_of_matched[i]) else None
