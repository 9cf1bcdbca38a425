"""Per-language thresholds and balancing probabilities (SPEC §2 steps 5–7, MetaCLIP 2).

Vocabulary follows the paper and its reference code: ``t`` is the per-entry threshold,
``p`` the English *tail proportion*, ``count`` the number of texts matching an entry.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Paper values for t_en; small inputs use ``auto_t_en`` instead.
T_EN_METACLIP2 = 170_000
T_EN_METACLIP1 = 20_000
# ``--t-en auto`` picks the English threshold at which this share of English matches sits in
# tail entries, which keeps balancing meaningful on inputs far smaller than the paper's.
AUTO_TAIL_PROPORTION = 0.5


def _as_counts(counts: Sequence[int] | np.ndarray) -> np.ndarray:
    arr = np.asarray(counts, dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError("counts must be one-dimensional")
    if arr.size and arr.min() < 0:
        raise ValueError("counts must be non-negative")
    return arr


def tail_proportion(counts: Sequence[int] | np.ndarray, t: int) -> float:
    """``p = sum(c[c < t]) / sum(c)``: the share of (English) matches that fall in tail entries."""
    c = _as_counts(counts)
    total = int(c.sum())
    if total == 0:
        raise ValueError("tail proportion is undefined for a language with no matches")
    return float(c[c < t].sum()) / total


def threshold_for_proportion(counts: Sequence[int] | np.ndarray, p: float) -> int:
    """``t = sorted(c)[argmin |cumsum(sorted(c)) / sum(c) - p|]`` (first index on ties).

    Returns 0 for a language with no matches; callers treat t == 0 as "no threshold".
    """
    c = np.sort(_as_counts(counts), kind="stable")
    total = int(c.sum())
    if total == 0:
        return 0
    portion = np.cumsum(c, dtype=np.int64) / total
    return int(c[int(np.argmin(np.abs(portion - p)))])


def entry_probabilities(counts: Sequence[int] | np.ndarray, t: int) -> np.ndarray:
    """``prob[e] = t / max(count[e], t)`` as float32; all zeros when ``t <= 0`` (no threshold)."""
    c = _as_counts(counts)
    if t <= 0:
        return np.zeros(c.shape, dtype=np.float32)
    return (t / np.maximum(c, t).astype(np.float64)).astype(np.float32)


def keep_probabilities(lengths: Sequence[int] | np.ndarray, probs: Sequence[float] | np.ndarray) -> np.ndarray:
    """Per text ``1 - prod(1 - prob[e])`` over its matched entries, as float64 (0.0 for none).

    The texts' entry probabilities come flattened: text ``i`` owns the next ``lengths[i]`` values
    of ``probs``. The product is taken left to right in float64 by ``np.multiply.reduceat`` over
    the flattened texts; ``keep_probability`` is this function on one text, so a batch and a
    single text give the same bits."""
    n = np.asarray(lengths, dtype=np.int64)
    p = np.asarray(probs, dtype=np.float64)
    if n.ndim != 1 or p.ndim != 1:
        raise ValueError("lengths and probs must be one-dimensional")
    if n.size and n.min() < 0:
        raise ValueError("lengths must be non-negative")
    if int(n.sum()) != p.size:
        raise ValueError(f"lengths add up to {int(n.sum())} but there are {p.size} probabilities")
    out = np.zeros(n.size, dtype=np.float64)
    nonempty = n > 0
    if nonempty.any():
        starts = (np.cumsum(n) - n)[nonempty]
        out[nonempty] = 1.0 - np.multiply.reduceat(1.0 - p, starts)
    return out


def matched_probabilities(probs_by_lang: Mapping[str, np.ndarray], langs: Sequence[object],
                          lengths: Sequence[int] | np.ndarray, entry_ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """The entry probability of every matched entry of every text, flattened, as float64:
    text ``i`` (language ``langs[i]``) owns the next ``lengths[i]`` ids of ``entry_ids``, and each
    id ``e`` gets ``probs_by_lang[langs[i]][e]``. ``keep_probabilities(lengths, ...)`` of the
    result is each text's keep probability.

    A KeyError names a language without probabilities, an IndexError an id outside its
    language's table: ``matched`` and ``entry_probs`` of different runs do not belong together."""
    n = np.asarray(lengths, dtype=np.int64)
    ids = np.asarray(entry_ids, dtype=np.int64)
    if n.shape != (len(langs),) or int(n.sum()) != ids.size:
        raise ValueError("lengths must give one count per language label, adding up to the number of ids")
    code_of: dict[object, int] = {}
    codes = np.fromiter((code_of.setdefault(lang, len(code_of)) for lang in langs), np.int64, len(langs))
    flat_codes = np.repeat(codes, n)
    out = np.empty(ids.size, dtype=np.float64)
    for lang, code in code_of.items():
        if lang not in probs_by_lang:
            raise KeyError(f"language {lang!r} has no entry probabilities")
        table = np.asarray(probs_by_lang[lang])
        mask = flat_codes == code
        sel = ids[mask]
        if sel.size and (sel.min() < 0 or sel.max() >= table.size):
            raise IndexError(f"entry id {int(sel.min() if sel.min() < 0 else sel.max())} outside the "
                             f"{table.size} entry probabilities of {lang!r}")
        out[mask] = table[sel]
    return out


def text_keep_probabilities(probs_by_lang: Mapping[str, np.ndarray], langs: Sequence[object],
                            entry_ids: Sequence[Sequence[int] | None]) -> np.ndarray:
    """``keep_probability`` of each text (float64) from its language and its list of matched entry
    ids (None: none): ``keep_probabilities`` of its ``matched_probabilities``."""
    lengths = np.fromiter((0 if ids is None else len(ids) for ids in entry_ids), np.int64, len(entry_ids))
    flat_ids = np.fromiter(itertools.chain.from_iterable(ids for ids in entry_ids if ids is not None), np.int64,
                           int(lengths.sum()))
    return keep_probabilities(lengths, matched_probabilities(probs_by_lang, langs, lengths, flat_ids))


def keep_probability(probs_of_matched: Sequence[float] | np.ndarray) -> float:
    """``1 - prod(1 - prob[e])`` over one text's matched entries (0.0 for none)."""
    p = np.asarray(probs_of_matched, dtype=np.float64).reshape(-1)
    return float(keep_probabilities([p.size], p)[0])


def auto_t_en(en_counts: Sequence[int] | np.ndarray) -> int:
    """A t_en for inputs far below web scale: the English count at ``AUTO_TAIL_PROPORTION``."""
    return max(1, threshold_for_proportion(en_counts, AUTO_TAIL_PROPORTION))


ENTRY_PROBS_COLUMNS = ("lang", "entry_id", "prob")


def counts_by_lang(table: pa.Table, n_entries: dict[str, int]) -> dict[str, np.ndarray]:
    """Rows (lang, entry_id, count), possibly several per entry (partial sums of several
    batches or tasks), as ``{lang: int64 count per entry_id}`` for every metadata language.
    One pass: rows are grouped by language with one sort, never one scan per language."""
    out = {lang: np.zeros(n, dtype=np.int64) for lang, n in n_entries.items()}
    if table.num_rows == 0:
        return out
    langs = table.column("lang").combine_chunks().dictionary_encode()
    ids = table.column("entry_id").to_numpy(zero_copy_only=False).astype(np.int64)
    counts = table.column("count").to_numpy(zero_copy_only=False).astype(np.int64)
    codes = langs.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(langs.dictionary) + 1))
    for code, lang in enumerate(langs.dictionary.to_pylist()):
        rows = order[bounds[code]:bounds[code + 1]]
        if lang not in out:
            raise ValueError(f"counts for language {lang!r}, which the metadata does not have")
        np.add.at(out[lang], ids[rows], counts[rows])
    return out


def language_thresholds(counts_by_lang: dict[str, np.ndarray], t_en: int, p: float,
                        en_lang: str = "en") -> dict[str, int]:
    """``t`` per language (SPEC §2 step 5): English uses ``t_en``; every other language the
    threshold that keeps the English tail proportion ``p``; 0 (no threshold) for a language
    with no matches. The Spark job and the single-process baseline both call this."""
    out = {}
    for lang, counts in counts_by_lang.items():
        c = _as_counts(counts)
        out[lang] = 0 if c.sum() == 0 else (int(t_en) if lang == en_lang else threshold_for_proportion(c, p))
    return out


@dataclass(frozen=True)
class ThresholdPlan:
    """Every language's ``t`` and how it was chosen (what ``thresholds`` and ``_stats.json`` record).

    ``p_source``: ``t_en`` (the paper: p from English at ``t_en``), ``tail_proportion`` (p given),
    ``auto`` (t_en = ``auto_t_en``) or ``auto_fallback`` (auto found no English tail, or no
    English: p = ``AUTO_TAIL_PROPORTION``). ``raised``: languages with matches whose rule gave
    t = 0 and that auto raised to their smallest non-zero count. ``dropped``: languages with
    matches left at t = 0 (only with an explicit ``t_en`` or ``p``: the exact rule drops them).
    ``overridden``: languages whose t was given by the user."""

    t: dict[str, int]
    p: float
    t_en: int | None
    p_source: str
    raised: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
    overridden: tuple[str, ...] = ()


class ThresholdError(ValueError):
    """The requested thresholds are undefined for these counts (e.g. t_en without English)."""


def plan_thresholds(counts_by_lang: Mapping[str, np.ndarray], *, t_en: int | None = None,
                    p: float | None = None, overrides: Mapping[str, int] | None = None,
                    en_lang: str = "en") -> ThresholdPlan:
    """Thresholds per language from one of three sources of the tail proportion ``p``:

    - ``t_en`` given (paper: 170,000): ``p = tail_proportion(c_en, t_en)``, English keeps
      ``t_en``, others ``threshold_for_proportion(c, p)`` (SPEC §2 step 5, exact; a language
      whose rule gives 0 is dropped and listed in ``dropped``);
    - ``p`` given (``--tail-proportion``, e.g. a corpus without English): every language,
      English included unless ``t_en`` is given too, gets ``threshold_for_proportion(c, p)``
      (exact likewise);
    - neither (``auto``, for inputs far below web scale): ``t_en = auto_t_en(c_en)``; when that
      leaves no English tail (p = 0: every English entry at or above t_en) or there is no
      English match at all, p falls back to ``AUTO_TAIL_PROPORTION`` for every language. In auto
      mode a language with matches never gets t = 0: it is raised to its smallest non-zero
      count (the lowest threshold that still keeps its rarest entries whole).

    ``overrides`` (``--t LANG=N``) replace the result for their languages last. A language with no
    matches always has t = 0 (no threshold)."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(counts_by_lang))
    if unknown:
        raise ThresholdError(f"--t for language(s) {unknown} that the metadata does not have")
    if any(int(v) < 1 for v in overrides.values()):
        raise ThresholdError("--t values must be positive integers")
    en = _as_counts(counts_by_lang.get(en_lang, np.zeros(0, np.int64)))
    has_en = bool(en.sum() > 0)
    auto = t_en is None and p is None
    if p is not None and not 0.0 < p <= 1.0:
        raise ThresholdError(f"--tail-proportion must be in (0, 1], got {p}")
    if t_en is not None and p is None:
        if not has_en:
            raise ThresholdError(f"no English ({en_lang!r}) text matched any metadata entry, so p cannot be "
                                 f"derived from t_en; give the tail proportion directly (--tail-proportion, "
                                 f"e.g. {AUTO_TAIL_PROPORTION}) or check --en-lang")
        p, source = tail_proportion(en, t_en), "t_en"
    elif p is not None:
        source = "tail_proportion"
    else:
        t_en = auto_t_en(en) if has_en else None
        p = tail_proportion(en, t_en) if has_en else 0.0
        source = "auto"
        if p == 0.0:
            t_en, p, source = None, AUTO_TAIL_PROPORTION, "auto_fallback"
    t: dict[str, int] = {}
    raised, dropped = [], []
    for lang, counts in counts_by_lang.items():
        c = _as_counts(counts)
        if c.sum() == 0:
            t[lang] = 0
            continue
        t[lang] = int(t_en) if (lang == en_lang and t_en is not None) else threshold_for_proportion(c, p)
        if t[lang] == 0:
            if auto:
                t[lang] = int(c[c > 0].min())
                raised.append(lang)
            else:
                dropped.append(lang)
    for lang, value in overrides.items():
        t[lang] = int(value)
    dropped = [lang for lang in dropped if lang not in overrides]
    return ThresholdPlan(t=t, p=float(p), t_en=None if t_en is None else int(t_en), p_source=source,
                         raised=tuple(sorted(raised)), dropped=tuple(sorted(dropped)),
                         overridden=tuple(sorted(overrides)))


def _ids_ascending_per_code(codes: np.ndarray, ids: np.ndarray) -> bool:
    """True when ``ids`` ascend strictly wherever ``codes`` stays the same (codes sorted)."""
    same = np.diff(codes) == 0
    return bool(np.all(np.diff(ids)[same] > 0))


def probabilities_by_lang(table: pa.Table) -> dict[str, np.ndarray]:
    """An ``entry_probs`` table as ``{lang: float32 prob indexed by entry_id}``.

    The offline Spark sample and the online training loader both read probabilities through
    this one function, so they can never disagree on what an entry's probability is."""
    missing = [c for c in ENTRY_PROBS_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"entry_probs table lacks columns {missing}; has {table.column_names}")
    if table.num_rows == 0:
        return {}
    # One pass, O(rows log rows): dictionary-encode the language, sort rows by (language, id),
    # cut at language boundaries. Never one scan per language (300+ languages x 400k entries).
    encoded = pc.dictionary_encode(table.column("lang").combine_chunks())
    if encoded.null_count:
        raise ValueError("entry_probs has rows with a null language")
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    ids = table.column("entry_id").to_numpy(zero_copy_only=False).astype(np.int64)
    probs = table.column("prob").to_numpy(zero_copy_only=False).astype(np.float32)
    # Tables written by the pipeline are already in (lang, entry_id) order: skip the sort then.
    if len(codes) > 1 and not (np.all(np.diff(codes) >= 0) and _ids_ascending_per_code(codes, ids)):
        order = np.lexsort((ids, codes))
        codes, ids, probs = codes[order], ids[order], probs[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(codes)]))
    names = encoded.dictionary.to_pylist()
    out: dict[str, np.ndarray] = {}
    for start, end in sorted(zip(starts.tolist(), ends.tolist()), key=lambda se: names[codes[se[0]]]):
        lang = names[codes[start]]
        lang_ids = ids[start:end]
        if lang_ids[0] < 0 or (end - start > 1 and not np.all(np.diff(lang_ids) > 0)):
            raise ValueError(f"entry_probs for {lang!r} has negative or repeated entry ids")
        arr = np.zeros(int(lang_ids[-1]) + 1, dtype=np.float32)
        arr[lang_ids] = probs[start:end]
        out[lang] = arr
    return out
