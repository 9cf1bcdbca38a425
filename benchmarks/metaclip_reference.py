"""One-process MetaCLIP-2-style reference (issue 22): what a careful single process does.

``benchmarks.baseline`` is the naive pipeline of SPEC §7 (every rule called text by text,
per-row Python lists). This reference is the way MetaCLIP 2's own scripts are written, and what
issue 22 measured Spark against: Parquet read in Arrow batches, **fastText lid.176 per text**
(``curation.lid.detect`` over a batch's texts: one ``predict`` call each), **one pyahocorasick
automaton per language** built up front (``curation.matching.Matcher.match`` per text, as
MetaCLIP's ``substr_matching``), **NumPy counts and sampling** (``np.bincount`` per language,
the batch forms of ``curation.sampling`` and ``curation.balancing``), Arrow tables in memory
and Parquet out (``matched.parquet``, ``curated.parquet``).

It applies the same rules as the Spark pipeline, so ``matched``, ``kept`` and ``t_en`` must be
equal (``benchmarks.run`` checks it): validation (``validation.reject_reason``), uid
(``ids.image_uid``), a repeated (uid, text) pair counted once, entry probabilities rounded to
float32 as the ``entry_probs`` table stores them. What it does not do, and Spark does: the
per-row tables ``texts_lid`` and ``rejects``, the ``lid`` columns of ``matched``, statistics,
fault tolerance, more than one core.

    python -m benchmarks.metaclip_reference --input benchmarks/data/realistic_1m --output /tmp/ref \\
        --metadata benchmarks/data/realistic_metadata.parquet
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from benchmarks.baseline import engine_main, process_figures
from curation import lid
from curation.balancing import (auto_t_en, entry_probabilities, keep_probabilities, language_thresholds,
                                matched_probabilities, tail_proportion)
from curation.hashing import hash64_many
from curation.ids import image_uid
from curation.matching import Matcher
from curation.metadata import read_metadata
from curation.sampling import image_runs, sample_images
from curation.validation import DEFAULT_MAX_TEXT_CHARS, reject_reason

BATCH_ROWS = 65_536
ENTRY_IDS = pa.list_(pa.int32())


def _annotate_batch(urls: list, texts: list, max_text_chars: int, lang_of: dict[str, str],
                    matchers: dict[str, Matcher], timings: dict[str, float]) -> tuple[list[int], list, list, list]:
    """(row indices, uids, langs, entry id lists) of the matched rows of one batch."""
    clock = time.perf_counter
    t0 = clock()
    rows, uids, valid_texts = [], [], []
    for i, (url, text) in enumerate(zip(urls, texts)):
        if reject_reason(url, text, max_text_chars) is None:
            rows.append(i)
            uids.append(image_uid(url))
            valid_texts.append(text)
    labels, _ = lid.detect(valid_texts)  # fastText lid.176, one predict per text
    langs = []
    for label in labels:
        lang = lang_of.get(label)
        if lang is None:
            lang = lang_of[label] = lid.to_metadata_lang(label)
        langs.append(lang)
    t1 = clock()
    out_rows, out_uids, out_langs, out_ids = [], [], [], []
    for i, uid, text, lang in zip(rows, uids, valid_texts, langs):
        matcher = matchers.get(lang)
        if matcher is None:
            continue
        ids = matcher.match(text)  # one automaton per language, one pass per text
        if ids:
            out_rows.append(i)
            out_uids.append(uid)
            out_langs.append(lang)
            out_ids.append(ids)
    timings["lid"] += t1 - t0
    timings["match"] += clock() - t1
    return out_rows, out_uids, out_langs, out_ids


def _first_of_each_pair(uids: pa.Array, texts: pa.Array) -> np.ndarray:
    """Indices of the first occurrence of each (uid, text) pair (a repeated alt-text of an
    image counts once), by a 64-bit hash of the pair."""
    keys = hash64_many([f"{u}\x00{t}" for u, t in zip(uids.to_pylist(), texts.to_pylist())])
    _, first = np.unique(keys, return_index=True)
    return np.sort(first)


def run_reference(input_path: str, output: str, metadata_path: str | None = None, seed: int = 0, epoch: int = 0,
                  t_en: int | None = None, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> dict:
    clock = time.perf_counter
    cpu0, t_all = time.process_time(), clock()
    timings: dict[str, float] = defaultdict(float)
    t = clock()
    metadata = read_metadata(metadata_path)
    matchers = {lang: Matcher(entries) for lang, entries in metadata.entries.items()}
    n_entries = {lang: len(entries) for lang, entries in metadata.entries.items()}
    timings["setup"] += clock() - t
    lang_of: dict[str, str] = {}
    parts: list[pa.Table] = []
    rows_in = 0
    for rb in ds.dataset(input_path, format="parquet").to_batches(columns=["url", "text"], batch_size=BATCH_ROWS):
        rows_in += rb.num_rows
        rows, uids, langs, ids = _annotate_batch(rb.column("url").to_pylist(), rb.column("text").to_pylist(),
                                                 max_text_chars, lang_of, matchers, timings)
        t = clock()
        taken = rb.take(pa.array(rows, pa.int64()))
        parts.append(pa.table({"uid": pa.array(uids, pa.string()), "url": taken.column("url"),
                               "text": taken.column("text"), "lang": pa.array(langs, pa.string()),
                               "entry_ids": pa.array(ids, ENTRY_IDS)}))
        timings["match"] += clock() - t
    # counts (SPEC §2 step 4): texts per entry, a repeated (uid, text) pair once
    t = clock()
    matched = pa.concat_tables(parts).combine_chunks() if parts else pa.table(
        {"uid": pa.array([], pa.string()), "url": pa.array([], pa.string()), "text": pa.array([], pa.string()),
         "lang": pa.array([], pa.string()), "entry_ids": pa.array([], ENTRY_IDS)})
    matched = matched.take(pa.array(_first_of_each_pair(matched.column("uid"), matched.column("text"))))
    lengths = pc.list_value_length(matched.column("entry_ids")).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(matched.column("entry_ids")).to_numpy(zero_copy_only=False).astype(np.int64)
    lang_codes = pc.dictionary_encode(matched.column("lang")).combine_chunks()
    flat_codes = np.repeat(lang_codes.indices.to_numpy(zero_copy_only=False), lengths)
    counts = {lang: np.zeros(n, np.int64) for lang, n in n_entries.items()}
    for code, lang in enumerate(lang_codes.dictionary.to_pylist()):
        counts[lang] = np.bincount(flat[flat_codes == code], minlength=n_entries[lang]).astype(np.int64)
    timings["count"] += clock() - t
    # thresholds (steps 5-6)
    t = clock()
    en = counts["en"]
    t_en = t_en or auto_t_en(en)
    p = tail_proportion(en, t_en)
    ts = language_thresholds(counts, t_en, p)
    probs = {lang: entry_probabilities(c, ts[lang]).astype(np.float32) for lang, c in counts.items()}
    timings["thresholds"] += clock() - t
    # sample (step 7): images grouped, min-hash choice, keep coin
    t = clock()
    order = pc.sort_indices(matched, sort_keys=[("uid", "ascending")])
    matched = matched.take(order)
    pq.write_table(matched, os.path.join(output, "matched.parquet"))
    uid_list = matched.column("uid").to_pylist()
    lengths = lengths[order.to_numpy()]
    flat = pc.list_flatten(matched.column("entry_ids")).to_numpy(zero_copy_only=False).astype(np.int64)
    keep_probs = keep_probabilities(lengths, matched_probabilities(probs, matched.column("lang").to_pylist(),
                                                                   lengths, flat))
    chosen = sample_images(seed, epoch, uid_list, matched.column("text").to_pylist(), image_runs(uid_list),
                           keep_probs)
    kept = chosen[chosen >= 0]
    pq.write_table(matched.take(pa.array(kept)), os.path.join(output, "curated.parquet"))
    timings["sample"] += clock() - t
    return {"rows_in": rows_in, "matched": matched.num_rows, "kept": int(kept.size), "t_en": int(t_en), "p": p,
            "stage_seconds": {k: round(v, 3) for k, v in timings.items()},
            **process_figures(t_all, cpu0)}


def main(argv: list[str] | None = None) -> None:
    engine_main(run_reference, __doc__, argv)


if __name__ == "__main__":
    main()
