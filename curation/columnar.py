"""Arrow forms of the curation rules: pyarrow arrays in, arrays out, for Spark ``mapInArrow``.

Each function applies the scalar rules of ``validation``, ``ids``, ``lid``, ``matching``,
``sampling`` and ``balancing`` to a column batch; it never re-states them. The pattern is
``validation``'s: a vectorised step narrows or groups the rows (a prefilter that proves rows
valid, one dictionary entry per distinct text, one matcher call per language), then the scalar
rule decides. Tests check every function against the scalar rules row by row, bit for bit.

The per-process matcher cache lives here too: built lazily inside each worker, never pickled.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curation import lid, validation
from curation.balancing import keep_probabilities, matched_probabilities
from curation.ids import image_uid
from curation.matching import Matcher
from curation.matching_extended import ExtendedMatcher, make_matcher
from curation.sampling import choice_keys, chosen_rows, image_runs, keep_uniforms

ENTRY_IDS_TYPE = pa.list_(pa.int32())


class MatcherCache:
    """The matchers of one process, keyed by (metadata fingerprint, language, matching mode),
    built on first use (never pickled: ``Matcher`` refuses it).

    ``max_entries`` bounds memory for large metadata (MetaCLIP 2: 300+ languages, tens of
    millions of entries): when the cached matchers would hold more entries than that, the least
    recently used are dropped first (an automaton costs ~130 B per entry); the matcher being
    built is always kept, however large. 0 means no bound (every language a process meets
    stays built, as before). ``builds``, ``evictions`` and ``build_seconds`` count what
    happened, for benchmarks."""

    def __init__(self, max_entries: int = 0):
        self.max_entries = max_entries
        self._matchers: OrderedDict[tuple[str, str, str], Matcher | ExtendedMatcher] = OrderedDict()
        self.builds = self.evictions = 0
        self.build_seconds = 0.0

    @property
    def entries_held(self) -> int:
        return sum(m.n_entries for m in self._matchers.values())

    def get(self, fingerprint: str, lang: str, entries: Sequence[str] | Callable[[], Sequence[str]],
            mode: str = "reference") -> Matcher | ExtendedMatcher:
        """The matcher of ``lang``; ``entries`` (a sequence, or a callable returning one, called
        only when the matcher has to be built) is the language's entry list."""
        key = (fingerprint, lang, mode)
        matcher = self._matchers.get(key)
        if matcher is not None:
            self._matchers.move_to_end(key)
            return matcher
        started = time.perf_counter()
        values = entries() if callable(entries) else entries
        if isinstance(values, (pa.Array, pa.ChunkedArray)):
            values = values.to_pylist()
        matcher = make_matcher(values, lang, mode)
        del values  # the Python list is only needed while the automaton is built
        self.builds += 1
        self.build_seconds += time.perf_counter() - started
        if self.max_entries:
            held = self.entries_held
            while self._matchers and held + matcher.n_entries > self.max_entries:
                _, dropped = self._matchers.popitem(last=False)
                held -= dropped.n_entries
                self.evictions += 1
        self._matchers[key] = matcher
        return matcher


_CACHE = MatcherCache()
_CACHE_PID: int | None = None


def matcher_cache(max_entries: int = 0) -> MatcherCache:
    """This process's ``MatcherCache`` (a new one after a fork: nothing is shared with the
    parent), with its bound set to ``max_entries``."""
    global _CACHE, _CACHE_PID
    if _CACHE_PID != os.getpid():
        _CACHE, _CACHE_PID = MatcherCache(), os.getpid()
    _CACHE.max_entries = max_entries
    return _CACHE


def get_matcher(fingerprint: str, lang: str, entries: Sequence[str] | Callable[[], Sequence[str]],
                mode: str = "reference", max_entries: int = 0) -> Matcher | ExtendedMatcher:
    """The process-wide matcher for (metadata fingerprint, language, mode), built on first use
    (``MatcherCache.get``; ``max_entries`` bounds the cache, 0: no bound)."""
    return matcher_cache(max_entries).get(fingerprint, lang, entries, mode)


def _array(values) -> pa.Array:
    """A pyarrow Array from an Array or ChunkedArray."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _scatter(values: pa.Array, rows: np.ndarray, n: int) -> pa.Array:
    """An n-row array holding ``values[j]`` at row ``rows[j]`` and null elsewhere."""
    pos = np.full(n, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows), dtype=np.int64)
    return pc.take(values, pa.array(pos, mask=pos < 0))


# --- LID (SPEC §2 steps 1-2) -------------------------------------------------------------------

def _reasons_and_uids(urls: Sequence[object], texts: Sequence[object], uids: Sequence[object] | None,
                      max_text_chars: int, proven_valid: Sequence[bool]
                      ) -> tuple[list[str | None], list[str | None], list[int]]:
    """uid (the given one if a non-empty string, else ``image_uid(url)``), reject reason and the
    indices of rows that go on to LID. Rows in ``proven_valid`` skip ``reject_reason``: the
    caller has proven it would return None for them."""
    n = len(texts)
    out_uid: list[str | None] = [None] * n
    reasons: list[str | None] = [None] * n
    todo: list[int] = []
    reject = validation.reject_reason
    given_uids = uids if uids is not None else (None,) * n
    for i, (url, text, given, ok) in enumerate(zip(urls, texts, given_uids, proven_valid)):
        if isinstance(given, str) and given:
            out_uid[i] = given
        elif isinstance(url, str):
            out_uid[i] = image_uid(url)
        if not ok:
            reason = reject(url, text, max_text_chars)
            if reason is not None:
                reasons[i] = reason
                continue
        todo.append(i)
    return out_uid, reasons, todo


def _lid_columns(n: int, todo: Sequence[int], valid_texts: pa.Array, reasons: list[str | None],
                 lid_min_score: float, lid_mode: str = "reference") -> dict[str, pa.Array]:
    """lid_label, lang, lang_score (and, in the ``improved`` mode, lid_method) for n rows, null
    except at rows ``todo`` (whose texts are ``valid_texts``). Each distinct text is detected
    once (``lid.detect``, or ``lid.detect_improved`` for ``lid_mode="improved"``); each distinct
    label mapped once. Sets ``reasons[i] = LOW_LID_SCORE`` where the score is below ``lid_min_score``."""
    rows = np.asarray(todo, dtype=np.int64)
    encoded = pc.dictionary_encode(valid_texts)
    distinct = encoded.dictionary.to_pylist()
    methods = None
    if lid_mode == "reference":
        labels, scores = lid.detect(distinct)
    elif lid_mode == "improved":
        labels, scores, methods = lid.detect_improved(distinct)
    else:
        raise ValueError(f"unknown LID mode {lid_mode!r}; choose from {lid.LID_MODES}")
    lang_of = {label: lid.to_metadata_lang(label) for label in set(labels)}
    idx = encoded.indices
    idx_np = idx.to_numpy(zero_copy_only=False).astype(np.int64)
    row_scores = scores[idx_np]  # float32: a float32 score equal to float32(lid_min_score) is kept
    for i in rows[row_scores < lid_min_score].tolist():
        reasons[i] = validation.LOW_LID_SCORE
    full_scores = np.zeros(n, dtype=np.float32)
    full_scores[rows] = row_scores
    present = np.zeros(n, dtype=bool)
    present[rows] = True
    out = {"lid_label": _scatter(pc.take(pa.array(labels, pa.string()), idx), rows, n),
           "lang": _scatter(pc.take(pa.array([lang_of[x] for x in labels], pa.string()), idx), rows, n),
           "lang_score": pa.array(full_scores, pa.float32(), mask=~present)}
    if methods is not None:
        out["lid_method"] = _scatter(pc.take(pa.array(methods, pa.string()), idx), rows, n)
    return out


def annotate_lid_arrow(urls: pa.Array, texts: pa.Array, uids: pa.Array | None,
                       max_text_chars: int, lid_min_score: float, lid_mode: str = "reference") -> dict[str, pa.Array]:
    """Validate rows (SPEC §2 step 1), derive uids and run LID (step 2): columns uid, lid_label,
    lang (string), lang_score (float32) and reject_reason (string, null for rows that go on to
    matching; ``low_lid_score`` below ``lid_min_score``); with ``lid_mode="improved"`` also
    lid_method (string: which rule decided, ``lid.detect_improved``; null for rejected rows).

    A vectorized prefilter (``validation.fast_valid_mask``) proves most rows valid; only the
    others are checked with ``validation.reject_reason``."""
    urls, texts = _array(urls), _array(texts)
    uids = _array(uids) if uids is not None else None
    n = len(texts)
    proven = validation.fast_valid_mask(urls, texts, max_text_chars).tolist()
    out_uid, reasons, todo = _reasons_and_uids(urls.to_pylist(), texts.to_pylist(),
                                               uids.to_pylist() if uids is not None else None,
                                               max_text_chars, proven)
    valid_texts = texts.take(pa.array(todo, pa.int64()))
    if not (pa.types.is_string(valid_texts.type) or pa.types.is_large_string(valid_texts.type)):
        valid_texts = pa.array(valid_texts.to_pylist(), pa.string())
    lid_cols = _lid_columns(n, todo, valid_texts, reasons, lid_min_score, lid_mode)
    return {"uid": pa.array(out_uid, pa.string()), **lid_cols, "reject_reason": pa.array(reasons, pa.string())}


# --- Matching (SPEC §2 step 3) -----------------------------------------------------------------

_Groups = list[tuple[object, np.ndarray]]  # (lang, row indices)


def _split_by_code(rows: np.ndarray, codes: np.ndarray, value_of: Mapping[int, object]) -> _Groups:
    """(value_of[code], its rows ascending) per distinct code, ``codes[j]`` being row ``rows[j]``'s."""
    order = np.argsort(codes, kind="stable")
    rows, codes = rows[order], codes[order]
    present, counts = np.unique(codes, return_counts=True)
    return [(value_of[code], part) for code, part in zip(present.tolist(), np.split(rows, np.cumsum(counts)[:-1]))]


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``range(starts[j], starts[j] + counts[j])`` over j."""
    ends = np.cumsum(counts)
    return np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64) + np.repeat(starts - (ends - counts), counts)


def _match_groups(texts: pa.Array, groups: _Groups, entries_by_lang: Mapping[str, Sequence[str]],
                  fingerprint: str, mode: str = "reference", max_entries: int = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(offsets int64[n + 1], ids int32, no_metadata mask) over the n ``texts``: row i matched
    ``ids[offsets[i]:offsets[i + 1]]`` (empty for rows outside ``groups``); ``no_metadata`` marks
    the rows of languages without metadata. A language's entries are read from
    ``entries_by_lang`` only when its matcher has to be built (lazy broadcasts stay unread)."""
    n = len(texts)
    no_metadata = np.zeros(n, dtype=bool)
    counts = np.zeros(n, dtype=np.int64)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for lang, rows in groups:
        if lang not in entries_by_lang:
            no_metadata[rows] = True
            continue
        matcher = get_matcher(fingerprint, lang, lambda lang=lang: entries_by_lang[lang], mode, max_entries)
        row_counts, ids = _match_distinct(matcher, texts.take(pa.array(rows)))
        counts[rows] = row_counts
        parts.append((rows, row_counts, ids))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    values = np.empty(int(offsets[-1]), dtype=np.int32)
    for rows, row_counts, ids in parts:
        values[_ranges(offsets[rows], row_counts)] = ids
    return offsets, values, no_metadata


def _strings(values: pa.Array) -> pa.Array:
    """``values`` as a string array when it is all-null (type null), unchanged otherwise."""
    return values.cast(pa.string()) if pa.types.is_null(values.type) else values


def _lang_groups(langs: pa.Array, todo: np.ndarray) -> _Groups:
    """(lang, row indices) for the rows in ``todo`` (a bool mask) per language (null langs as None)."""
    encoded = pc.dictionary_encode(_strings(langs))
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = np.flatnonzero(todo)
    value_of = {-1: None, **dict(enumerate(encoded.dictionary.to_pylist()))}
    return _split_by_code(rows, codes[rows], value_of)


def _match_distinct(matcher: Matcher | ExtendedMatcher, texts: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(id count per text, ids) of ``texts``, each distinct text matched once."""
    encoded = pc.dictionary_encode(texts, null_encoding="encode")
    offsets, ids = matcher.match_many_arrays(encoded.dictionary.to_pylist())
    slot = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    counts = np.diff(offsets)[slot]
    return counts, ids[_ranges(offsets[:-1][slot], counts)]


def match_arrow(langs: pa.Array, texts: pa.Array, prior_reasons: pa.Array,
                entries_by_lang: Mapping[str, Sequence[str]], fingerprint: str, mode: str = "reference",
                max_entries: int = 0) -> tuple[pa.Array, pa.Array]:
    """Metadata substring matching (SPEC §2 step 3) of the rows without a prior reject reason:
    (entry_ids as list<int32>, null unless matched; reason as string: the prior reason,
    ``no_metadata_language``, ``unmatched``, or null = matched). Each language's distinct texts
    are matched in one ``match_many_arrays`` call of its matcher (``mode``: ``reference``, or
    ``extended`` for ``curation.matching_extended``; equal to ``match`` text by text) and the
    lists assembled with NumPy. ``max_entries`` bounds the process's matcher cache (0: none)."""
    langs, texts, prior_reasons = _array(langs), _array(texts), _array(prior_reasons)
    todo = prior_reasons.is_null().to_numpy(zero_copy_only=False)
    offsets, values, no_metadata = _match_groups(texts, _lang_groups(langs, todo), entries_by_lang, fingerprint,
                                                 mode, max_entries)
    if offsets[-1] > np.iinfo(np.int32).max:
        raise OverflowError("too many matched entry ids for one list<int32> array")
    unmatched = np.diff(offsets) == 0
    ids = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values), ENTRY_IDS_TYPE,
                                   mask=pa.array(unmatched))
    reasons = prior_reasons.cast(pa.string())
    reasons = pc.if_else(pa.array(no_metadata), pa.scalar(validation.NO_METADATA_LANGUAGE, pa.string()), reasons)
    reasons = pc.if_else(pa.array(todo & unmatched & ~no_metadata),
                         pa.scalar(validation.UNMATCHED, pa.string()), reasons)
    return ids, reasons


# --- Counting and sampling (SPEC §2 steps 4 and 7) ---------------------------------------------

def _flat(entry_ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(lengths per row, flattened entry ids as int64) of a list array; null lists count as empty."""
    lengths = pc.fill_null(pc.list_value_length(entry_ids), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(entry_ids)
    if flat.null_count:
        raise ValueError("entry id lists must not contain nulls")
    return lengths, flat.to_numpy(zero_copy_only=False).astype(np.int64)


def _flat_by_lang(langs: Sequence[object], entry_ids: pa.Array
                  ) -> tuple[np.ndarray, np.ndarray, dict[object, np.ndarray]]:
    """(lengths per row, flattened entry ids as int64, {lang: mask over the flattened ids}) with
    langs in order of first appearance. Null lists count as empty."""
    lengths, flat_ids = _flat(entry_ids)
    code_of: dict[object, int] = {}
    codes = np.fromiter((code_of.setdefault(lang, len(code_of)) for lang in langs), np.int64, len(langs))
    flat_codes = np.repeat(codes, lengths)
    return lengths, flat_ids, {lang: flat_codes == code for lang, code in code_of.items()}


def count_entries_arrow(langs: pa.Array, entry_ids: pa.Array, n_entries: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Per language, how many texts matched each entry (SPEC §2 step 4: texts, not occurrences;
    an entry id appears at most once per text), as int64 arrays of length ``n_entries[lang]``,
    languages in order of first appearance. ``entry_ids`` is a list array; null lists count nothing."""
    _, flat_ids, masks = _flat_by_lang(_array(langs).to_pylist(), _array(entry_ids))
    return {lang: np.bincount(flat_ids[mask], minlength=n_entries[lang]).astype(np.int64)
            for lang, mask in masks.items()}


def _keep_probabilities(langs: Sequence[object], entry_ids: pa.Array,
                        probs_by_lang: Mapping[str, np.ndarray]) -> np.ndarray:
    """``balancing.keep_probabilities`` per row of its ``balancing.matched_probabilities``
    (a KeyError for a language without probabilities)."""
    lengths, flat_ids = _flat(entry_ids)
    return keep_probabilities(lengths, matched_probabilities(probs_by_lang, langs, lengths, flat_ids))


def sampling_keys_arrow(seed: int, epoch: int, uids: pa.Array, texts: pa.Array, langs: pa.Array,
                        entry_ids: pa.Array, probs_by_lang: Mapping[str, np.ndarray]) -> dict[str, pa.Array]:
    """Per matched text (SPEC §2 step 7): its min-hash ``choice_key`` (int64, ``sampling.choice_key``),
    its ``keep_prob`` (float64, ``balancing.keep_probability`` of its entries' probabilities) and
    its image's coin ``keep_uniform`` (float64, ``sampling.keep_uniform``)."""
    uid_list = _array(uids).to_pylist()
    out = {"choice_key": choice_keys(seed, epoch, uid_list, _array(texts).to_pylist()),
           "keep_prob": _keep_probabilities(_array(langs).to_pylist(), _array(entry_ids), probs_by_lang),
           "keep_uniform": keep_uniforms(seed, epoch, uid_list)}
    return {name: pa.array(values) for name, values in out.items()}


def chosen_per_image(uids: pa.Array, keys: np.ndarray) -> np.ndarray:
    """Row index of the chosen text of every image in a batch whose rows are grouped by uid:
    ``sampling.chosen_rows`` over ``sampling.image_runs`` of the uids. Images come out in the
    order they appear."""
    return chosen_rows(image_runs(_array(uids).to_numpy(zero_copy_only=False)), keys)
