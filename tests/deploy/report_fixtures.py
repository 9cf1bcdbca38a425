"""A curation output root written without Spark, from the pure reference of the algorithm
(``tests/pipeline_fixtures.reference``): the report's numbers can be checked against it."""

from __future__ import annotations

import json
import os
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curation.ids import image_uid
from curation.lid import detect, to_metadata_lang
from curation.validation import reject_reason

from ..pipeline_fixtures import METADATA, make_rows, reference


def _write(root: str, name: str, table: pa.Table) -> None:
    os.makedirs(os.path.join(root, name), exist_ok=True)
    pq.write_table(table, os.path.join(root, name, "part-00000.parquet"))
    open(os.path.join(root, name, "_SUCCESS"), "w").close()


def write_reference_output(root: str, n_images: int = 240) -> dict:
    rows = make_rows(n_images)
    ref = reference(rows)
    by_row = {r["row_no"]: r for r in rows}
    # LID language of every valid row (the lid stage's per-language counts)
    valid = [r for r in rows if reject_reason(r["url"], r["text"]) is None]
    labels, _ = detect([r["text"] for r in valid])
    lang_of = {r["row_no"]: to_metadata_lang(label) for r, label in zip(valid, labels)}

    counts = ref["counts"]
    entry_counts = pa.table({
        "lang": [lang for lang, c in counts.items() for _ in range(c.size)],
        "entry_id": pa.array([i for c in counts.values() for i in range(c.size)], pa.int32()),
        "entry": [e for lang in counts for e in METADATA[lang]],
        "count": pa.array([int(x) for c in counts.values() for x in c], pa.int64())})
    _write(root, "entry_counts", entry_counts)
    thresholds = ref["thresholds"]
    _write(root, "thresholds", pa.table({
        "lang": list(thresholds), "t": pa.array([int(t) for t in thresholds.values()], pa.int64()),
        "p": [ref["p"]] * len(thresholds), "total_count": [int(counts[k].sum()) for k in thresholds],
        "n_entries": [int(counts[k].size) for k in thresholds],
        "n_texts": [sum(1 for m in ref["matched"] if m["lang"] == k) for k in thresholds]}))

    kept = {}
    for m in ref["matched"]:
        if ref["curated"].get(m["uid"]) == m["text"] and m["uid"] not in kept:
            kept[m["uid"]] = m
    curated = list(kept.values())
    _write(root, "curated", pa.table({
        "uid": [m["uid"] for m in curated], "text": [m["text"] for m in curated],
        "lang": [m["lang"] for m in curated],
        "entry_ids": pa.array([m["entry_ids"] for m in curated], pa.list_(pa.int32()))}))
    rejects = ref["rejects"]
    _write(root, "rejects", pa.table({
        "uid": [image_uid(by_row[n]["url"]) if by_row[n]["url"] else None for n in rejects],
        "text": [by_row[n]["text"] for n in rejects], "lang": [lang_of.get(n) for n in rejects],
        "reason": list(rejects.values())}))

    after = {lang: np.zeros(c.size, np.int64) for lang, c in counts.items()}
    for m in curated:
        after[m["lang"]][m["entry_ids"]] += 1
    per_t = {k: {"t": int(t), "total_count": int(counts[k].sum()), "n_entries": int(counts[k].size),
                 "n_texts": sum(1 for m in ref["matched"] if m["lang"] == k)} for k, t in thresholds.items()}
    stats = {"run": {"format": "parquet", "output": root, "versions": {"worldwide_clip": "test"}},
             "stages": {
                 "lid": {"rows_in": len(rows), "per_language": dict(Counter(lang_of.values())), "seconds": 0.0},
                 "match": {"rows_in": len(rows), "matched": len(ref["matched"]), "rejects": len(rejects),
                           "rejects_by_reason": dict(Counter(rejects.values())),
                           "per_language": dict(Counter(m["lang"] for m in ref["matched"])),
                           "images": len({m["uid"] for m in ref["matched"]}), "seconds": 0.0},
                 "thresholds": {"t_en": int(ref["t_en"]), "t_en_mode": "auto", "p": ref["p"],
                                "per_language": per_t, "seconds": 0.0},
                 "sample": {"seed": 0, "epoch": 0, "images_in": len({m["uid"] for m in ref["matched"]}),
                            "kept": len(curated), "per_language": dict(Counter(m["lang"] for m in curated)),
                            "seconds": 0.0}}}
    with open(os.path.join(root, "_stats.json"), "w", encoding="utf-8") as f:
        json.dump(stats, f)
    return {"ref": ref, "counts_after": after, "curated": curated, "rejects": rejects, "lang_of": lang_of,
            "stats": stats}
