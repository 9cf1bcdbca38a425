"""Single-process baseline: the same curation rules, one process, no Spark (issue #6).

The "naive" pipeline of SPEC §7: text by text, the way MetaCLIP's own scripts loop over
alt-texts, calling the scalar reference rules (``validation.reject_reason``, ``image_uid``,
``lid.detect``, ``Matcher.match``, ``sampling.choice_key``/``keep_uniform``,
``balancing.keep_probability``, ``plan_thresholds``). Spark runs the same rules through
the Arrow forms of ``curation.columnar``, which tests prove equal to these row by row.
It writes matched and curated Parquet files.

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

from curation import lid
from curation.balancing import entry_probabilities, keep_probability, plan_thresholds
from curation.ids import image_uid
from curation.matching import Matcher
from curation.metadata import read_metadata
from curation.sampling import choice_key, keep_uniform
from curation.validation import DEFAULT_MAX_TEXT_CHARS, DUPLICATE, reject_reason


def run_baseline(input_path: str, output: str, metadata_path: str | None = None, seed: int = 0,
                 t_en: int | None = None) -> dict:
    metadata = read_metadata(metadata_path)
    matchers = {lang: Matcher(entries) for lang, entries in metadata.entries.items()}
    n_entries = {k: len(v) for k, v in metadata.entries.items()}
    os.makedirs(output, exist_ok=True)
    timings = defaultdict(float)
    counts = {lang: np.zeros(n, np.int64) for lang, n in n_entries.items()}
    matched_cols = defaultdict(list)
    rows_in = n_rejects = 0
    seen: set[tuple[str, str]] = set()
    cpu0, t_all = time.process_time(), time.perf_counter()
    clock = time.perf_counter
    for rb in ds.dataset(input_path, format="parquet").to_batches(columns=["url", "text"], batch_size=10_000):
        for url, text in zip(rb.column("url").to_pylist(), rb.column("text").to_pylist()):
            rows_in += 1
            t = clock()
            reason = reject_reason(url, text, DEFAULT_MAX_TEXT_CHARS)
            uid = image_uid(url) if isinstance(url, str) else None
            lang = None
            if reason is None:
                labels, _ = lid.detect([text])
                lang = lid.to_metadata_lang(labels[0])
                if (uid, text) in seen:  # the same alt-text for the same image again: a duplicate
                    reason = DUPLICATE
                seen.add((uid, text))
            t2 = clock()
            timings["lid"] += t2 - t
            ids = matchers[lang].match(text) if reason is None and lang in matchers else []
            t3 = clock()
            timings["match"] += t3 - t2
            if not ids:
                n_rejects += 1
                continue
            counts[lang][ids] += 1
            matched_cols["uid"].append(uid)
            matched_cols["url"].append(url)
            matched_cols["text"].append(text)
            matched_cols["lang"].append(lang)
            matched_cols["entry_ids"].append(ids)
            timings["count"] += clock() - t3
    t = clock()
    plan = plan_thresholds(counts, t_en=t_en)
    t_en, p, ts = plan.t_en, plan.p, plan.t
    probs = {lang: entry_probabilities(c, ts[lang]) for lang, c in counts.items()}
    timings["thresholds"] += clock() - t
    t = clock()
    matched = pa.table({k: v for k, v in matched_cols.items()})
    pq.write_table(matched, os.path.join(output, "matched.parquet"))
    best: dict[str, tuple[int, int]] = {}
    m_uid, m_text, m_lang, m_ids = (matched_cols[k] for k in ("uid", "text", "lang", "entry_ids"))
    for i in range(len(m_uid)):
        key = choice_key(seed, 0, m_uid[i], m_text[i])
        if m_uid[i] not in best or key < best[m_uid[i]][0]:
            best[m_uid[i]] = (key, i)
    kept = []
    for uid, (_, i) in best.items():
        if keep_uniform(seed, 0, uid) < keep_probability(probs[m_lang[i]][m_ids[i]]):
            kept.append(i)
    pq.write_table(matched.take(pa.array(sorted(kept), pa.int64())), os.path.join(output, "curated.parquet"))
    timings["sample"] += clock() - t
    return {"rows_in": rows_in, "matched": len(m_uid), "rejects": n_rejects, "kept": len(kept),
            "t_en": int(t_en), "p": p, "stage_seconds": {k: round(v, 3) for k, v in timings.items()},
            **process_figures(t_all, cpu0)}


def process_figures(t_all: float, cpu0: float) -> dict:
    """Wall and CPU seconds since ``t_all`` (``perf_counter``) / ``cpu0`` (``process_time``) and
    this process's peak RSS: the figures every one-process engine reports."""
    return {"wall_seconds": round(time.perf_counter() - t_all, 3),
            "cpu_seconds": round(time.process_time() - cpu0, 3),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def engine_main(run, description: str | None, argv: list[str] | None = None) -> None:
    """The command line of a one-process engine: ``run(input, output, metadata)``'s result as JSON."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--metadata", default=None)
    parser.add_argument("--json", default=None, help="write the result here")
    args = parser.parse_args(argv)
    os.makedirs(args.output, exist_ok=True)
    text = json.dumps(run(args.input, args.output, args.metadata), indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    print(text)


def main(argv: list[str] | None = None) -> None:
    engine_main(run_baseline, __doc__, argv)


if __name__ == "__main__":
    main()
