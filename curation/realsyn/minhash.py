"""MinHash signatures and LSH band keys for near-duplicate sentences (NumPy, no extra package).

Why not ``datasketch``: its ``MinHash`` hashes one shingle per Python call and its LSH index
lives in one process; the Spark stage needs signatures for whole Arrow batches and band keys
it can group on, so a vectorised NumPy form is both faster and simpler here.

- shingles: character 5-grams of the case-folded sentence with whitespace collapsed (a
  sentence shorter than 5 characters is one shingle); character n-grams work for every
  script, spaced or not;
- shingle hash: a polynomial rolling hash of the code points, mod 2**64, kept to 32 bits;
- permutation j: ``(a_j * x + b_j) mod 2**64 >> 32`` (multiply-shift), with ``a_j`` odd and
  ``a_j, b_j`` drawn from ``hash64(seed, "minhash", j)``: signatures depend on the seed only;
- signature[j] = min over the sentence's shingles; Jaccard ≈ mean(sig_a == sig_b);
- LSH: ``bands`` bands of ``rows`` values; two sentences are candidates when one band's
  values are equal, i.e. their band keys (a 64-bit hash of the band) are equal. With the
  defaults (128 = 16 × 8) a pair with Jaccard 0.8 is a candidate with probability 0.95, one
  with Jaccard 0.5 with 0.06; candidates are then verified on the estimated Jaccard.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from curation.hashing import hash64

SHINGLE = 5
NUM_PERM = 64
BANDS = 16
_BASE = np.uint64(1_000_003)
_MASK32 = np.uint64(0xFFFFFFFF)
_PERM_CHUNK = 16


def normalise(text: str) -> str:
    return " ".join(text.casefold().split())


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([hash64(seed, "minhash", "a", j) | 1 for j in range(num_perm)], dtype=np.uint64)
    b = np.array([hash64(seed, "minhash", "b", j) for j in range(num_perm)], dtype=np.uint64)
    return a, b


def _rolling(cps: np.ndarray, n: int) -> np.ndarray:
    """32-bit hashes of every window of n code points (polynomial hash mod 2**64, folded)."""
    with np.errstate(over="ignore"):
        h = np.zeros(len(cps) - n + 1, dtype=np.uint64)
        for j in range(n):
            h = h * _BASE + cps[j:len(cps) - n + 1 + j]
    return (h ^ (h >> np.uint64(32))) & _MASK32


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def shingle_hashes(text: str, n: int = SHINGLE) -> np.ndarray:
    """uint64 hashes (32-bit values) of the character n-grams of ``normalise(text)``."""
    cps = _code_points(normalise(text))
    if len(cps) == 0:
        return np.zeros(1, dtype=np.uint64)
    return _rolling(cps, min(n, len(cps)))


def _batch_shingles(texts: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """(all shingle hashes, start offset of each text's run): ``shingle_hashes`` of every text,
    computed with one rolling pass over the concatenated texts (windows that cross a text
    boundary dropped); texts shorter than n take the per-text path."""
    norm = [normalise(t) for t in texts]
    lens = np.array([len(t) for t in norm], dtype=np.int64)
    short = lens < n
    runs: list[np.ndarray] = []
    long_idx = np.flatnonzero(~short)
    if len(long_idx):
        cps = _code_points("".join(norm[i] for i in long_idx))
        h = _rolling(cps, n)
        starts = np.r_[0, np.cumsum(lens[long_idx])[:-1]]
        counts = lens[long_idx] - n + 1
        keep = np.concatenate([np.arange(s, s + c) for s, c in zip(starts, counts)])
        long_runs = np.split(h[keep], np.cumsum(counts)[:-1])
    out = [None] * len(texts)
    for j, i in enumerate(long_idx):
        out[i] = long_runs[j]
    for i in np.flatnonzero(short):
        out[i] = shingle_hashes(norm[i], n)
    runs = out
    sizes = np.array([len(r) for r in runs], dtype=np.int64)
    return np.concatenate(runs), np.r_[0, np.cumsum(sizes)[:-1]]


def signatures(texts: Sequence[str], num_perm: int = NUM_PERM, seed: int = 0, n: int = SHINGLE) -> np.ndarray:
    """uint32[N, num_perm] MinHash signatures of ``texts``."""
    a, b = _permutations(num_perm, seed)
    out = np.empty((len(texts), num_perm), dtype=np.uint32)
    if not len(texts):
        return out
    flat, starts = _batch_shingles(texts, n)
    with np.errstate(over="ignore"):
        for j0 in range(0, num_perm, _PERM_CHUNK):
            j1 = min(num_perm, j0 + _PERM_CHUNK)
            values = (flat[:, None] * a[None, j0:j1] + b[None, j0:j1]) >> np.uint64(32)
            out[:, j0:j1] = np.minimum.reduceat(values, starts, axis=0).astype(np.uint32)
    return out


def band_keys(sigs: np.ndarray, bands: int = BANDS) -> np.ndarray:
    """int64[N, bands]: a 64-bit hash of each band of each signature (equal bands <-> equal keys,
    up to 64-bit collisions). Signed, to be a Spark LongType."""
    sigs = np.asarray(sigs, dtype=np.uint32)
    if sigs.shape[1] % bands:
        raise ValueError(f"num_perm {sigs.shape[1]} is not a multiple of bands {bands}")
    rows = sigs.shape[1] // bands
    parts = sigs.reshape(len(sigs), bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        key = np.full((len(sigs), bands), 1469598103934665603, dtype=np.uint64)
        for r in range(rows):
            key = (key ^ parts[:, :, r]) * np.uint64(1099511628211)
        key = key ^ (np.arange(bands, dtype=np.uint64)[None, :] * np.uint64(0x9E3779B97F4A7C15))
    return key.view(np.int64)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Fraction of equal signature positions (row-wise for 2-D input)."""
    return (np.asarray(sig_a) == np.asarray(sig_b)).mean(axis=-1)
