"""Single-process baseline: the same curation rules, one process, no Spark (issue #6).

It calls the very functions Spark workers call (``curation.batch``), batch by batch from
pyarrow, and writes matched / rejects / curated Parquet files, so a benchmark ratio measures
Spark's cost and parallelism, not a different algorithm.

    python -m benchmarks.baseline --input benchmarks/data/corpus_1m --output /tmp/baseline
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from curation import batch
from curation.balancing import (auto_t_en, entry_probabilities, keep_probability, tail_proportion,
                                threshold_for_proportion)
from curation.metadata import read_metadata
from curation.sampling import choice_key, keep_uniform
from curation.validation import DEFAULT_MAX_TEXT_CHARS


def run_baseline(input_path: str, output: str, metadata_path: str | None = None, seed: int = 0,
                 t_en: int | None = None) -> dict:
    metadata = read_metadata(metadata_path)
    entries = {k: list(v) for k, v in metadata.entries.items()}
    fingerprint = metadata.fingerprint()
    n_entries = {k: len(v) for k, v in entries.items()}
    os.makedirs(output, exist_ok=True)
    timings = defaultdict(float)
    counts = {lang: np.zeros(n, np.int64) for lang, n in n_entries.items()}
    matched_cols = defaultdict(list)
    rows_in = n_rejects = 0
    cpu0, t_all = time.process_time(), time.perf_counter()
    for rb in ds.dataset(input_path, format="parquet").to_batches(columns=["url", "text"], batch_size=10_000):
        urls, texts = rb.column("url").to_pylist(), rb.column("text").to_pylist()
        rows_in += len(texts)
        t = time.perf_counter()
        lid = batch.annotate_lid(urls, texts, None, DEFAULT_MAX_TEXT_CHARS, 0.0)
        timings["lid"] += time.perf_counter() - t
        t = time.perf_counter()
        ids, reasons = batch.match_texts(lid["lang"], texts, lid["reject_reason"], entries, fingerprint)
        timings["match"] += time.perf_counter() - t
        t = time.perf_counter()
        keep = [i for i, r in enumerate(reasons) if r is None]
        n_rejects += len(texts) - len(keep)
        part = batch.count_entries([lid["lang"][i] for i in keep], [ids[i] for i in keep], n_entries)
        for lang, c in part.items():
            counts[lang] += c
        for i in keep:
            matched_cols["uid"].append(lid["uid"][i])
            matched_cols["url"].append(urls[i])
            matched_cols["text"].append(texts[i])
            matched_cols["lang"].append(lid["lang"][i])
            matched_cols["entry_ids"].append(ids[i])
        timings["count"] += time.perf_counter() - t
    t = time.perf_counter()
    en = counts["en"]
    t_en = t_en or auto_t_en(en)
    p = tail_proportion(en, t_en)
    probs = {}
    for lang, c in counts.items():
        t_lang = t_en if lang == "en" else threshold_for_proportion(c, p)
        probs[lang] = entry_probabilities(c, 0 if c.sum() == 0 else t_lang)
    timings["thresholds"] += time.perf_counter() - t
    t = time.perf_counter()
    matched = pa.table({k: v for k, v in matched_cols.items()})
    pq.write_table(matched, os.path.join(output, "matched.parquet"))
    best: dict[str, tuple[int, int, float]] = {}
    m_uid, m_text, m_lang, m_ids = (matched_cols[k] for k in ("uid", "text", "lang", "entry_ids"))
    for i in range(len(m_uid)):
        key = choice_key(seed, 0, m_uid[i], m_text[i])
        if m_uid[i] not in best or key < best[m_uid[i]][0]:
            best[m_uid[i]] = (key, i)
    kept = []
    for uid, (_, i) in best.items():
        keep_p = keep_probability(probs[m_lang[i]][np.asarray(m_ids[i], dtype=np.int64)])
        if keep_uniform(seed, 0, uid) < keep_p:
            kept.append(i)
    pq.write_table(matched.take(pa.array(sorted(kept), pa.int64())), os.path.join(output, "curated.parquet"))
    timings["sample"] += time.perf_counter() - t
    return {"rows_in": rows_in, "matched": len(m_uid), "rejects": n_rejects, "kept": len(kept),
            "t_en": int(t_en), "p": p, "stage_seconds": {k: round(v, 3) for k, v in timings.items()},
            "wall_seconds": round(time.perf_counter() - t_all, 3),
            "cpu_seconds": round(time.process_time() - cpu0, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--metadata", default=None)
    parser.add_argument("--json", default=None, help="write the result here")
    args = parser.parse_args(argv)
    result = run_baseline(args.input, args.output, args.metadata)
    text = json.dumps(result, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    print(text)


if __name__ == "__main__":
    main()
