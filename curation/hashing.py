"""The one key builder behind every deterministic draw (sampling coins, text choice, shard order).

A draw is never an RNG stream: it is a 64-bit hash of its *key*, the ``str`` of its parts joined
by ``SEP`` (U+001F, the ASCII unit separator, which no uid or id contains). With
``h = blake2b(key, digest_size=8)`` read big-endian::

    hash64(*parts) = int.from_bytes(blake2b("\\x1f".join(map(str, parts)).encode("utf-8"), 8), "big")

blake2b is in the standard library and fixed by RFC 7693, so a key hashes to the same value on
every machine, Python and library version: the curated tables (``curation.sampling``) and the
training loader's epochs (``training.sharding``) depend on these values, so a key string must
never change. ``tests/test_hashing.py`` pins a few.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

SEP = "\x1f"


def hash_key(*parts: object) -> str:
    """The key string of ``parts``: ``SEP.join(str(p) for p in parts)``.

    A batch form builds many keys faster from fixed pieces, e.g. ``hash_key(seed, epoch, "")``
    (the head ``"seed␟epoch␟"``) + uid + ``hash_key("", "keep")`` (the tail ``"␟keep"``): the
    same string as ``hash_key(seed, epoch, uid, "keep")``."""
    return SEP.join(str(p) for p in parts)


def hash64(*parts: object) -> int:
    """The stable 64-bit hash of ``hash_key(*parts)``, as a Python int in ``[0, 2**64)``."""
    digest = hashlib.blake2b(hash_key(*parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def hash64_many(keys: Iterable[str]) -> np.ndarray:
    """``hash64`` of many already-built key strings, as a uint64 array (one blake2b call per key)."""
    blake2b = hashlib.blake2b
    digests = b"".join([blake2b(k.encode("utf-8"), digest_size=8).digest() for k in keys])
    return np.frombuffer(digests, dtype=">u8").astype(np.uint64)
