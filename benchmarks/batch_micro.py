"""Micro-benchmark of the per-row curation rules that Spark Python workers run (no Spark).

For each Arrow function it prints µs per row of
  * ``rows``:  a per-row loop of scalar rule calls (the pre-Arrow implementation, frozen here),
  * ``arrow``: the Arrow form the Spark transforms call (``columnar.annotate_lid_arrow`` ...),
and checks that both give identical values.

    python -m benchmarks.batch_micro --rows 200000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds

from curation import columnar, lid, validation
from curation.balancing import keep_probability
from curation.ids import image_uid
from curation.metadata import read_metadata
from curation.sampling import choice_key, keep_uniform
from curation.validation import DEFAULT_MAX_TEXT_CHARS

CORPUS = os.path.join(os.path.dirname(__file__), "data", "corpus_1m")


# --- per-row loops of scalar rule calls, as the pipeline ran before the Arrow forms (frozen) ----

def rows_annotate_lid(urls, texts, uids, max_text_chars, lid_min_score):
    model = lid.get_model()
    n = len(texts)
    out = {k: [None] * n for k in ("uid", "lid_label", "lang", "lang_score", "reject_reason")}
    for i in range(n):
        given = uids[i] if uids is not None else None
        if isinstance(given, str) and given:
            out["uid"][i] = given
        elif isinstance(urls[i], str):
            out["uid"][i] = image_uid(urls[i])
        reason = validation.reject_reason(urls[i], texts[i], max_text_chars)
        if reason is None:
            (label,), (score,) = model.predict(lid._clean(texts[i]), k=1)
            label = label[len("__label__"):]
            score = np.float32(min(float(score), 1.0))
            out["lid_label"][i], out["lang"][i] = label, lid.to_metadata_lang(label)
            out["lang_score"][i] = float(score)
            if score < lid_min_score:
                reason = validation.LOW_LID_SCORE
        out["reject_reason"][i] = reason
    return out


def rows_match_texts(langs, texts, priors, entries, fingerprint):
    ids_out, reasons = [], []
    for lang, text, prior in zip(langs, texts, priors):
        if prior is not None:
            ids_out.append(None)
            reasons.append(prior)
        elif lang not in entries:
            ids_out.append(None)
            reasons.append(validation.NO_METADATA_LANGUAGE)
        else:
            ids = columnar.get_matcher(fingerprint, lang, entries[lang]).match(text)
            ids_out.append(ids or None)
            reasons.append(None if ids else validation.UNMATCHED)
    return ids_out, reasons


def rows_sampling_keys(seed, epoch, uids, texts, langs, entry_ids, probs_by_lang):
    n = len(uids)
    keys, keep_p, coins = np.empty(n, np.int64), np.empty(n, np.float64), np.empty(n, np.float64)
    for i in range(n):
        keys[i] = choice_key(seed, epoch, uids[i], texts[i])
        keep_p[i] = keep_probability(probs_by_lang[langs[i]][np.asarray(entry_ids[i], dtype=np.int64)])
        coins[i] = keep_uniform(seed, epoch, uids[i])
    return {"choice_key": keys, "keep_prob": keep_p, "keep_uniform": coins}


def rows_count_entries(langs, entry_ids, n_entries):
    grouped: dict[str, list[np.ndarray]] = {}
    for lang, ids in zip(langs, entry_ids):
        grouped.setdefault(lang, []).append(np.asarray(ids, dtype=np.int64))
    return {lang: np.bincount(np.concatenate(parts), minlength=n_entries[lang]).astype(np.int64)
            for lang, parts in grouped.items()}


# --- harness ------------------------------------------------------------------------------------

def _timed(fn, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def _same_floats(a, b) -> bool:
    return np.array_equal(np.asarray(a, np.float64).view(np.int64), np.asarray(b, np.float64).view(np.int64))


def load(rows: int, path: str = CORPUS) -> pa.Table:
    if not os.path.isdir(path):
        subprocess.run([sys.executable, "-m", "benchmarks.corpus", "--rows", "1000000", "--output", path], check=True)
    return ds.dataset(path, format="parquet").head(rows, columns=["url", "text"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per measurement")
    parser.add_argument("--corpus", default=CORPUS)
    args = parser.parse_args(argv)

    table = load(args.rows, args.corpus)
    url_arr, text_arr = table.column("url").combine_chunks(), table.column("text").combine_chunks()
    urls, texts = url_arr.to_pylist(), text_arr.to_pylist()
    n = len(texts)
    md = read_metadata(None)
    entries = {k: list(v) for k, v in md.entries.items()}
    fp = md.fingerprint()
    lid.get_model()
    for lang in entries:  # build automata outside the timings
        columnar.get_matcher(fp, lang, entries[lang])
    results: list[tuple[str, str, float, bool]] = []

    def report(name, timings, same, rows=n):
        line = "  ".join(f"{k} {1e6 * t / rows:6.2f}" for k, t in timings.items())
        print(f"{name:<14} µs/row: {line}   identical: {same}   ({rows} rows)", flush=True)

    t_rows, ref = _timed(lambda: rows_annotate_lid(urls, texts, None, DEFAULT_MAX_TEXT_CHARS, 0.0), args.repeat)
    t_arrow, got = _timed(lambda: columnar.annotate_lid_arrow(url_arr, text_arr, None, DEFAULT_MAX_TEXT_CHARS, 0.0),
                          args.repeat)
    same = all(ref[k] == got[k].to_pylist() for k in ref)
    report("annotate_lid", {"rows": t_rows, "arrow": t_arrow}, same)

    langs, reasons0 = ref["lang"], ref["reject_reason"]
    t_rows, (ids_ref, reasons_ref) = _timed(lambda: rows_match_texts(langs, texts, reasons0, entries, fp), args.repeat)
    lang_arr, reason_arr = got["lang"], got["reject_reason"]
    t_arrow, (ids_arr, reasons_arr) = _timed(lambda: columnar.match_arrow(lang_arr, text_arr, reason_arr, entries, fp),
                                             args.repeat)
    same = ids_ref == ids_arr.to_pylist() and reasons_ref == reasons_arr.to_pylist()
    report("match", {"rows": t_rows, "arrow": t_arrow}, same)

    keep = [i for i, r in enumerate(reasons_ref) if r is None]
    m_uids = [ref["uid"][i] for i in keep]
    m_texts = [texts[i] for i in keep]
    m_langs = [langs[i] for i in keep]
    m_ids = [ids_ref[i] for i in keep]
    n_entries = {k: len(v) for k, v in entries.items()}
    rng = np.random.default_rng(0)
    probs = {k: rng.random(len(v)).astype(np.float32) for k, v in entries.items()}
    sel = pa.array(keep, pa.int64())
    a_uids, a_texts, a_langs, a_ids = got["uid"].take(sel), text_arr.take(sel), lang_arr.take(sel), ids_arr.take(sel)

    t_rows, c_ref = _timed(lambda: rows_count_entries(m_langs, m_ids, n_entries), args.repeat)
    t_arrow, c_arr = _timed(lambda: columnar.count_entries_arrow(a_langs, a_ids, n_entries), args.repeat)
    same = list(c_ref) == list(c_arr) and all(np.array_equal(c_ref[k], c_arr[k]) for k in c_ref)
    report("count_entries", {"rows": t_rows, "arrow": t_arrow}, same, len(keep))

    t_rows, s_ref = _timed(lambda: rows_sampling_keys(7, 1, m_uids, m_texts, m_langs, m_ids, probs), args.repeat)
    t_arrow, s_arr = _timed(lambda: columnar.sampling_keys_arrow(7, 1, a_uids, a_texts, a_langs, a_ids, probs),
                            args.repeat)
    same = (np.array_equal(s_ref["choice_key"], s_arr["choice_key"].to_numpy())
            and all(_same_floats(s_ref[k], s_arr[k].to_numpy()) for k in ("keep_prob", "keep_uniform")))
    report("sampling_keys", {"rows": t_rows, "arrow": t_arrow}, same, len(keep))


if __name__ == "__main__":
    main()
