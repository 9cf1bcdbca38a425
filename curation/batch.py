"""The curation rules applied to column batches (lists/arrays in, arrays out).

Spark UDFs, the single-process baseline and the training loader call these so that each
rule exists exactly once. Per-process caches (LID model, automata) live here too: they are
built lazily inside the worker and never pickled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from curation import lid, validation
from curation.balancing import keep_probability
from curation.ids import image_uid
from curation.matching import Matcher
from curation.sampling import choice_key, keep_uniform

_MATCHERS: dict[tuple[str, str], Matcher] = {}
_MATCHERS_PID: int | None = None


def get_matcher(fingerprint: str, lang: str, entries: Sequence[str]) -> Matcher:
    """The process-wide matcher for (metadata fingerprint, language), built on first use."""
    global _MATCHERS_PID
    if _MATCHERS_PID != os.getpid():
        _MATCHERS.clear()
        _MATCHERS_PID = os.getpid()
    key = (fingerprint, lang)
    matcher = _MATCHERS.get(key)
    if matcher is None:
        matcher = _MATCHERS[key] = Matcher(entries)
    return matcher


def annotate_lid(urls: Sequence[object], texts: Sequence[object], uids: Sequence[object] | None,
                 max_text_chars: int, lid_min_score: float) -> dict[str, list]:
    """Validate rows, derive uids and run LID. Returns columns uid, lid_label, lang, lang_score,
    reject_reason (None for rows that go on to matching)."""
    n = len(texts)
    out_uid: list[str | None] = [None] * n
    reasons: list[str | None] = [None] * n
    todo: list[int] = []
    for i in range(n):
        given = uids[i] if uids is not None else None
        url = urls[i]
        if isinstance(given, str) and given:
            out_uid[i] = given
        elif isinstance(url, str):
            out_uid[i] = image_uid(url)
        reasons[i] = validation.reject_reason(url, texts[i], max_text_chars)
        if reasons[i] is None:
            todo.append(i)
    labels: list[str | None] = [None] * n
    langs: list[str | None] = [None] * n
    scores: list[float | None] = [None] * n
    found, found_scores = lid.detect([texts[i] for i in todo])
    for j, i in enumerate(todo):
        labels[i] = found[j]
        langs[i] = lid.to_metadata_lang(found[j])
        scores[i] = float(found_scores[j])
        if found_scores[j] < lid_min_score:
            reasons[i] = validation.LOW_LID_SCORE
    return {"uid": out_uid, "lid_label": labels, "lang": langs, "lang_score": scores,
            "reject_reason": reasons}


def match_texts(langs: Sequence[str | None], texts: Sequence[str | None],
                prior_reasons: Sequence[str | None], entries_by_lang: Mapping[str, Sequence[str]],
                fingerprint: str) -> tuple[list[list[int] | None], list[str | None]]:
    """Matched entry ids per text and the final reject reason (None = matched)."""
    ids_out: list[list[int] | None] = []
    reasons: list[str | None] = []
    for lang, text, prior in zip(langs, texts, prior_reasons):
        if prior is not None:
            ids_out.append(None)
            reasons.append(prior)
        elif lang not in entries_by_lang:
            ids_out.append(None)
            reasons.append(validation.NO_METADATA_LANGUAGE)
        else:
            ids = get_matcher(fingerprint, lang, entries_by_lang[lang]).match(text)
            ids_out.append(ids or None)
            reasons.append(None if ids else validation.UNMATCHED)
    return ids_out, reasons


def count_entries(langs: Sequence[str], entry_ids: Sequence[Sequence[int]],
                  n_entries: Mapping[str, int]) -> dict[str, np.ndarray]:
    """Per language, how many texts matched each entry (SPEC §2 step 4), as int64 arrays."""
    counts: dict[str, np.ndarray] = {}
    grouped: dict[str, list[np.ndarray]] = {}
    for lang, ids in zip(langs, entry_ids):
        grouped.setdefault(lang, []).append(np.asarray(ids, dtype=np.int64))
    for lang, parts in grouped.items():
        flat = np.concatenate(parts) if parts else np.empty(0, np.int64)
        counts[lang] = np.bincount(flat, minlength=n_entries[lang]).astype(np.int64)
    return counts


def sampling_keys(seed: int, epoch: int, uids: Sequence[str], texts: Sequence[str],
                  langs: Sequence[str], entry_ids: Sequence[Sequence[int]],
                  probs_by_lang: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per matched text: its min-hash choice key, its keep probability and its image's coin."""
    n = len(uids)
    keys = np.empty(n, dtype=np.int64)
    keep_p = np.empty(n, dtype=np.float64)
    coins = np.empty(n, dtype=np.float64)
    for i in range(n):
        keys[i] = choice_key(seed, epoch, uids[i], texts[i])
        probs = probs_by_lang[langs[i]]
        keep_p[i] = keep_probability(probs[np.asarray(entry_ids[i], dtype=np.int64)])
        coins[i] = keep_uniform(seed, epoch, uids[i])
    return {"choice_key": keys, "keep_prob": keep_p, "keep_uniform": coins}
