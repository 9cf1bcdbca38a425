"""The hash key of every deterministic draw in RealSyn (cluster caps, caption draws).

Same recipe as the project-wide ``curation.hashing.hash64`` (blake2b, 8-byte digest, of the
parts as strings joined by U+001F, read as a big-endian unsigned integer); kept private here
until that module is merged, then replaced by it. Being a function of (seed, ..., id) only,
a draw never depends on task order, partitioning or retries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

SEPARATOR = "\x1f"


def hash64(*parts: object) -> int:
    """blake2b(digest_size=8) of ``"\\x1f".join(str(p) for p in parts)``, big-endian -> int in [0, 2**64)."""
    data = SEPARATOR.join(str(p) for p in parts).encode("utf-8")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def hash64_many(prefix: tuple, ids: Iterable[object]) -> np.ndarray:
    """``hash64(*prefix, id)`` for every id, as uint64[N]."""
    head = SEPARATOR.join(str(p) for p in prefix) + SEPARATOR if prefix else ""
    blake = hashlib.blake2b
    return np.fromiter((int.from_bytes(blake(f"{head}{i}".encode("utf-8"), digest_size=8).digest(), "big")
                        for i in ids), dtype=np.uint64)
