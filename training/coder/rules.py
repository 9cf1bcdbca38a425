"""CODER's classification rules (SPEC §6.1), as pure NumPy functions.

CODER (Yi et al., CVPR 2024) represents an image by its cosine similarities to a bank of texts
about the classes — the *cross-modal neighbour representation* φ(v) = T·v — and classifies with
it: a fixed mean/max pooling per class (zero-shot), an optional pairwise re-rank of close calls
(CODER*), and a Tip-Adapter cache keyed by φ (few-shot). METHODS.md §2 describes the method and
the reference code; this module is the one home of the rules, shared by the bank builder, the
evaluation harness and the tests.

Conventions (SPEC §6.1): embeddings are float32 and L2-normalised by the caller; ties break
towards the lower index; ``text_kind`` values are the ``KIND_*`` strings below.

The one-vs-one layout used by :func:`rerank` (``ovo_sims``) is a mapping
``{(c, o): sims[N]}``: for every ordered class pair that has "how c differs from o" texts, the
mean cosine between each image and those texts. It is sparse on purpose — an LLM is asked only
about confusable pairs, and ImageNet has a million ordered pairs. :func:`ovo_pair_sims` builds it
from a bank's ``ovo`` rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

KIND_NAME = "name"            # "a photo of {c}." and the dataset's suffix templates
KIND_SYNONYM = "synonym"      # the name templates applied to WordNet synonyms of c
KIND_ATTRIBUTE = "attribute"  # "{c} which has {attribute}"
KIND_ANALOGOUS = "analogous"  # "a {c} similar to {x}."
KIND_OVO = "ovo"              # how c differs from another class o (CODER* only)
NAME_KINDS = (KIND_NAME, KIND_SYNONYM)
DESCRIPTION_KINDS = (KIND_ATTRIBUTE, KIND_ANALOGOUS)
KINDS = (KIND_NAME, KIND_SYNONYM, KIND_ATTRIBUTE, KIND_ANALOGOUS, KIND_OVO)
RERANK_TOP = 5  # CODER* re-ranks the top 5 classes


def neighbour_representation(image: np.ndarray, bank: np.ndarray) -> np.ndarray:
    """CODER vector φ(v) = T·v for every image: ``[N, M]`` cosines with the ``M`` bank texts.

    ``image`` is ``[N, D]``, ``bank`` is ``[M, D]``, both L2-normalised, so entry ``(i, j)`` is the
    cosine between image ``i`` and text ``j``. The reference uses *all* texts (no top-K).
    """
    image, bank = _matrix(image, "image"), _matrix(bank, "bank")
    if image.shape[1] != bank.shape[1]:
        raise ValueError(f"image dim {image.shape[1]} != bank dim {bank.shape[1]}")
    return (image.astype(np.float32, copy=False) @ bank.astype(np.float32, copy=False).T).astype(np.float32)


def zero_shot_scores(sims: np.ndarray, text_class: Sequence[int] | np.ndarray,
                     text_kind: Sequence[str] | np.ndarray, n_classes: int) -> np.ndarray:
    """CODER's heuristic zero-shot scores ``[N, C]`` (float64).

    For class c with description (attribute/analogous) similarities a_1…a_m and name/synonym
    similarities n_1…n_k::

        score_c = 100 · mean(a_1, …, a_m, max_j n_j)          (= 100 · max_j n_j when m = 0)

    so every description text weighs as much as the single best name text. ``ovo`` rows are
    ignored (they serve :func:`rerank`). Every class needs at least one name/synonym text.
    """
    sims = _matrix(sims, "sims")
    n, m = sims.shape
    cls, kind = _bank_columns(text_class, text_kind, m, n_classes)
    is_name = np.isin(kind, NAME_KINDS)
    is_desc = np.isin(kind, DESCRIPTION_KINDS)
    missing = sorted(set(range(n_classes)) - set(cls[is_name].tolist()))
    if missing:
        raise ValueError(f"classes without a name or synonym text: {missing[:10]}")
    s = sims.astype(np.float64)
    desc_onehot = np.zeros((int(is_desc.sum()), n_classes))
    desc_onehot[np.arange(desc_onehot.shape[0]), cls[is_desc]] = 1.0
    desc_sum = s[:, is_desc] @ desc_onehot  # per-class sums of description cosines
    desc_count = desc_onehot.sum(axis=0)
    best_name = np.full((n, n_classes), -np.inf)
    name_cols = np.flatnonzero(is_name)
    for c, cols in _groups(cls[name_cols], name_cols, n_classes):
        best_name[:, c] = s[:, cols].max(axis=1)
    return 100.0 * (desc_sum + best_name) / (desc_count + 1)


def softmax_margin(scores: np.ndarray) -> np.ndarray:
    """``top1 − top2`` of ``softmax(scores)`` per row, in [0, 1] (1 when there is one class).

    The scores are used as logits as they are (CODER's scores already carry the factor 100).
    """
    scores = _matrix(scores, "scores").astype(np.float64)
    if scores.shape[1] == 1:
        return np.ones(scores.shape[0])
    z = np.exp(scores - scores.max(axis=1, keepdims=True))
    p = z / z.sum(axis=1, keepdims=True)
    top2 = -np.partition(-p, 1, axis=1)[:, :2]
    return top2[:, 0] - top2[:, 1]


def top_candidates(scores: np.ndarray, k: int = RERANK_TOP) -> np.ndarray:
    """``[N, min(k, C)]`` class indices by descending score; equal scores keep the lower index first."""
    scores = _matrix(scores, "scores")
    if k < 1:
        raise ValueError("k must be >= 1")
    return np.argsort(-scores, axis=1, kind="stable")[:, :k]


def rerank(scores: np.ndarray, ovo_sims: Mapping[tuple[int, int], np.ndarray], tau: float,
           k: int = RERANK_TOP) -> np.ndarray:
    """CODER* predictions ``[N]`` (int64): re-rank close calls with the one-vs-one texts.

    An image whose ``softmax_margin`` (top1 − top2 of softmax(score)) is ``< tau`` (strictly) is
    re-ranked among its top-``k`` classes (k = 5; fewer when C < 5); the others keep ``argmax``.
    Each candidate c gets::

        r_c = mean over the other candidates o of [ ovo_sims[(c, o)] − ovo_sims[(o, c)] ]

    where ``ovo_sims[(c, o)][i]`` is image i's mean cosine with the "how c differs from o" texts.
    A pair lacking texts in either direction contributes 0 (as the reference does). The
    prediction is the candidate with the largest r; equal r go to the candidate ranked higher by
    score (the lower position in the top-k, itself ordered with ties to the lower class index),
    so an image none of whose candidate pairs has texts keeps its argmax.

    Unlike the reference code, there is no "true label among the top 5" condition: labels do not
    exist at deployment (METHODS.md §2). Reference τ per dataset: :data:`REFERENCE_TAU`.
    """
    scores = _matrix(scores, "scores")
    n, c_total = scores.shape
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores must be finite")
    if not (isinstance(tau, (int, float, np.floating)) and 0.0 <= float(tau) <= 1.0):
        raise ValueError(f"tau must be a number in [0, 1], got {tau!r}")
    pairs = _check_ovo(ovo_sims, n, c_total)
    cand = top_candidates(scores, k)
    pred = cand[:, 0].astype(np.int64)
    todo = np.flatnonzero(softmax_margin(scores) < float(tau))
    if cand.shape[1] < 2 or not pairs:
        return pred
    kk = cand.shape[1]
    for i in todo:
        row = cand[i]
        diff = np.zeros((kk, kk))
        for a in range(kk):
            for b in range(kk):
                ab, ba = (int(row[a]), int(row[b])), (int(row[b]), int(row[a]))
                if a != b and ab in pairs and ba in pairs:
                    diff[a, b] = pairs[ab][i] - pairs[ba][i]
        r = diff.sum(axis=1) / (kk - 1)  # the diagonal is 0: mean over the kk - 1 others
        pred[i] = row[int(np.argmax(r))]  # first maximum = higher-ranked candidate
    return pred


def ovo_pair_sims(sims: np.ndarray, text_class: Sequence[int] | np.ndarray,
                  text_other: Sequence[int] | np.ndarray) -> dict[tuple[int, int], np.ndarray]:
    """The ``ovo_sims`` mapping of :func:`rerank` from image–text cosines of the ovo texts.

    ``sims`` is ``[N, M_ovo]`` (images × ovo texts), ``text_class[j]`` = c and ``text_other[j]`` = o
    for a text on how c differs from o; each ordered pair maps to the row-wise mean over its texts.
    """
    sims = _matrix(sims, "sims")
    cls = np.asarray(text_class, dtype=np.int64)
    other = np.asarray(text_other, dtype=np.int64)
    if cls.shape != (sims.shape[1],) or other.shape != cls.shape:
        raise ValueError("text_class and text_other need one entry per column of sims")
    if np.any(cls == other):
        raise ValueError("an ovo text compares a class with itself")
    out: dict[tuple[int, int], np.ndarray] = {}
    keys = cls * (int(max(cls.max(initial=0), other.max(initial=0))) + 1) + other
    for key in np.unique(keys):
        cols = np.flatnonzero(keys == key)
        out[(int(cls[cols[0]]), int(other[cols[0]]))] = sims[:, cols].astype(np.float64).mean(axis=1)
    return out


def tip_adapter_logits(zs: np.ndarray, affinity: np.ndarray, labels_onehot: np.ndarray, alpha: float,
                       beta: float, *, minmax: bool = True) -> np.ndarray:
    """Tip-Adapter logits with CODER keys, ``[N, C]`` (float64)::

        logits = zs + α · exp(−β · (1 − A')) · L

    ``zs`` ``[N, C]`` are the zero-shot logits (100 · f·W in the reference), ``affinity`` ``[N, K]``
    the cosines A between each image's (normalised) CODER vector and the K cache keys,
    ``labels_onehot`` ``[K, C]`` the keys' labels L. A' is A min–max normalised per image,
    ``(A − min) / (max − min)``; a row whose affinities are all equal has no nearest key, so every
    key counts as nearest (A' = 1) instead of the reference's 0/0. ``minmax=False`` uses A as it
    is: the original Tip-Adapter (Zhang et al., 2022) on CLIP keys.

    A NaN affinity means "key not available to this image" (used for leave-one-out validation
    on the training shots): it is left out of the min–max and contributes nothing.
    """
    zs, affinity, labels = _matrix(zs, "zs"), _matrix(affinity, "affinity"), _matrix(labels_onehot, "labels_onehot")
    n, c = zs.shape
    if affinity.shape[0] != n:
        raise ValueError(f"affinity has {affinity.shape[0]} rows, zs has {n}")
    if labels.shape != (affinity.shape[1], c):
        raise ValueError(f"labels_onehot must be [K={affinity.shape[1]}, C={c}], got {list(labels.shape)}")
    if not np.all(np.isfinite(zs)):
        raise ValueError("zs must be finite")
    if not (np.all((labels == 0) | (labels == 1)) and np.all(labels.sum(axis=1) == 1)):
        raise ValueError("labels_onehot rows must be one-hot")
    for name, v in (("alpha", alpha), ("beta", beta)):
        if not (isinstance(v, (int, float, np.floating)) and np.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    a = affinity.astype(np.float64)
    absent = np.isnan(a)
    if np.any(np.isinf(a)):
        raise ValueError("affinity must be finite (NaN marks an absent key)")
    if affinity.shape[1] == 0 or np.any(absent.all(axis=1)):
        raise ValueError("every image needs at least one available cache key")
    if minmax:
        lo = np.nanmin(a, axis=1, keepdims=True)
        span = np.nanmax(a, axis=1, keepdims=True) - lo
        a = np.where(span > 0, (a - lo) / np.where(span > 0, span, 1.0), 1.0)
    weight = np.where(absent, 0.0, np.exp(-float(beta) * (1.0 - np.where(absent, 1.0, a))))
    return zs.astype(np.float64) + float(alpha) * (weight @ labels.astype(np.float64))


# CODER* thresholds τ of the reference code (utils.get_thres), per dataset.
REFERENCE_TAU = {"ImageNet": 0.1, "ImageNet-V2": 0.05, "Places365": 0.1, "Caltech101": 0.3, "DTD": 0.6,
                 "CUB200": 0.2, "EuroSAT": 0.3, "Food101": 0.1, "OxfordPets": 0.1}


def _matrix(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D, got shape {list(x.shape)}")
    if not np.issubdtype(x.dtype, np.number):
        raise ValueError(f"{name} must be numeric, got {x.dtype}")
    return x


def _bank_columns(text_class, text_kind, m: int, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(n_classes, (int, np.integer)) or n_classes < 1:
        raise ValueError(f"n_classes must be a positive int, got {n_classes!r}")
    cls = np.asarray(text_class)
    kind = np.asarray(text_kind, dtype=object)
    if cls.shape != (m,) or kind.shape != (m,):
        raise ValueError(f"text_class and text_kind need one entry per bank text ({m})")
    if m and not np.issubdtype(cls.dtype, np.integer):
        raise ValueError("text_class must be integers")
    cls = cls.astype(np.int64)
    if m and (cls.min() < 0 or cls.max() >= n_classes):
        raise ValueError(f"text_class values must lie in [0, {n_classes})")
    unknown = sorted({str(k) for k in kind.tolist()} - set(KINDS))
    if unknown:
        raise ValueError(f"unknown text kinds {unknown}; expected {list(KINDS)}")
    return cls, kind


def _groups(keys: np.ndarray, values: np.ndarray, n: int):
    """``(key, values with that key)`` for every key in ``range(n)`` present, values in order."""
    order = np.argsort(keys, kind="stable")
    keys, values = keys[order], values[order]
    bounds = np.searchsorted(keys, np.arange(n + 1))
    for k in range(n):
        if bounds[k] < bounds[k + 1]:
            yield k, values[bounds[k]:bounds[k + 1]]


def _check_ovo(ovo_sims, n: int, c: int) -> dict[tuple[int, int], np.ndarray]:
    if not isinstance(ovo_sims, Mapping):
        raise ValueError("ovo_sims must be a mapping {(c, o): sims[N]}")
    out = {}
    for key, v in ovo_sims.items():
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(x, (int, np.integer)) for x in key)):
            raise ValueError(f"ovo_sims keys must be (class, other class) int pairs, got {key!r}")
        a, b = int(key[0]), int(key[1])
        if a == b or not (0 <= a < c and 0 <= b < c):
            raise ValueError(f"ovo_sims key {key!r}: need two different classes in [0, {c})")
        v = np.asarray(v, dtype=np.float64)
        if v.shape != (n,) or not np.all(np.isfinite(v)):
            raise ValueError(f"ovo_sims[{key!r}] must be {n} finite values")
        out[(a, b)] = v
    return out
