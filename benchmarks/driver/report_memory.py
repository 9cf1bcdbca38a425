"""Time and peak memory of the curation report as the tables grow (issue 16 item 1).

The report (``curation.report``) reads ``entry_counts``, ``curated`` and ``rejects`` without
Spark, streaming Arrow record batches and reducing each to per-language arrays indexed by entry
id, so its memory is bounded by the metadata and the scan's batch readahead, not by the rows.
This writes a synthetic output root per size (embedded metadata; ``curated`` rows with uid,
url, text, lang, 1-3 entry ids; rejects 5 % of the rows; Parquet row groups of 128k rows) and
runs ``build_report`` ``--repeat`` times per size, each in a fresh process, reporting wall time
and the process's peak RSS (``ru_maxrss``; median and max of the runs) next to the same
process's RSS after importing the report's modules.

    python -m benchmarks.driver.report_memory --sizes 100k,1m,10m --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
CHUNK = 500_000
ROW_GROUP = 131_072


def _write_table(path: str, chunks) -> None:
    os.makedirs(path, exist_ok=True)
    writer = None
    for chunk in chunks:
        if writer is None:
            writer = pq.ParquetWriter(os.path.join(path, "part-00000.parquet"), chunk.schema, compression="snappy")
        writer.write_table(chunk, row_group_size=ROW_GROUP)
    writer.close()
    open(os.path.join(path, "_SUCCESS"), "w").close()


def write_root(root: str, rows: int, seed: int = 0) -> None:
    from curation.metadata import read_metadata

    metadata = read_metadata()
    langs = sorted(metadata.entries)
    sizes = np.array([len(metadata.entries[lang]) for lang in langs])
    weights = sizes / sizes.sum()
    rng = np.random.default_rng(seed)
    counts = {lang: np.zeros(n, np.int64) for lang, n in zip(langs, sizes)}

    def curated_chunks():
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            lang_idx = rng.choice(len(langs), n, p=weights)
            k = rng.integers(1, 4, n)
            ids = (rng.random(int(k.sum())) * np.repeat(sizes[lang_idx], k)).astype(np.int32)
            for j, lang in enumerate(langs):  # what entry_counts will say
                sel = np.repeat(lang_idx == j, k)
                np.add.at(counts[lang], ids[sel], 1)
            uid = np.char.mod("%024x", np.arange(start, start + n))
            yield pa.table({
                "uid": pa.array(uid), "url": pa.array(np.char.add("https://img.example.org/", uid)),
                "text": pa.array(np.char.add("a synthetic alt-text number ", uid.astype("U8"))),
                "lang": pa.array(np.asarray(langs)[lang_idx]),
                "entry_ids": pa.ListArray.from_arrays(np.concatenate([[0], np.cumsum(k)]).astype(np.int32), ids),
                "keep_prob": pa.array(rng.random(n)), "batch_id": pa.array(["base"] * n)})

    def reject_chunks():
        reasons = np.array(["unmatched", "bad_url", "empty_text", "no_metadata_language"])
        n_rejects = rows // 20
        for start in range(0, n_rejects, CHUNK):
            n = min(CHUNK, n_rejects - start)
            yield pa.table({"uid": pa.array(np.char.mod("r%023x", np.arange(start, start + n))),
                            "text": pa.array(["some rejected text"] * n),
                            "lang": pa.array(np.asarray(langs)[rng.integers(0, len(langs), n)]),
                            "reason": pa.array(reasons[rng.integers(0, 4, n)])})

    _write_table(os.path.join(root, "curated"), curated_chunks())
    _write_table(os.path.join(root, "rejects"), reject_chunks())
    _write_table(os.path.join(root, "entry_counts"), [pa.table({
        "lang": pa.array([lang for lang in langs for _ in metadata.entries[lang]]),
        "entry_id": pa.array(np.concatenate([np.arange(len(metadata.entries[lang])) for lang in langs]), pa.int32()),
        "entry": pa.array([e for lang in langs for e in metadata.entries[lang]]),
        "count": pa.array(np.concatenate([counts[lang] for lang in langs]))})])
    per_lang = {lang: int(c.sum()) for lang, c in counts.items()}
    stats = {"run": {"format": "parquet"}, "stages": {
        "lid": {"per_language": per_lang}, "match": {"per_language": per_lang, "rejects_by_reason": {}},
        "thresholds": {"t_en": 1000, "p": 0.5, "per_language": {
            lang: {"t": 100, "n_entries": int(n)} for lang, n in zip(langs, sizes)}},
        "sample": {"per_language": per_lang}}}
    with open(os.path.join(root, "_stats.json"), "w") as f:
        json.dump(stats, f)


def _child(root: str) -> None:
    """In a fresh process: import, note RSS, build the report, print the numbers as JSON."""
    from curation.report import build_report  # noqa: F401 - imports counted in the baseline
    import curation.report.html  # noqa: F401
    import matplotlib.pyplot  # noqa: F401

    import psutil

    base = psutil.Process().memory_info().rss / 2**20
    t0 = time.perf_counter()
    build_report(root, os.path.join(root, "report.html"))
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": round(seconds, 2), "rss_after_imports_mb": round(base, 1),
                      "peak_rss_mb": round(peak, 1)}))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="100k,1m,10m")
    p.add_argument("--tmp", default=None)
    p.add_argument("--repeat", type=int, default=3, help="report runs per size (fresh process each)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.child)
        return
    tmp = args.tmp or tempfile.mkdtemp(prefix="wwclip-report-bench-")
    results = []
    for size in args.sizes.split(","):
        root = os.path.join(tmp, f"root_{size}")
        if not os.path.exists(os.path.join(root, "_stats.json")):
            t0 = time.perf_counter()
            write_root(root, SIZES[size])
            print(f"wrote {size} in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        runs = []
        for _ in range(args.repeat):  # peak RSS varies run to run (allocator, readahead timing)
            proc = subprocess.run([sys.executable, "-m", "benchmarks.driver.report_memory", "--child", root],
                                  capture_output=True, text=True, check=True)
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        curated_mb = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(os.path.join(root, "curated"))
                         for f in fs) / 2**20
        peaks = sorted(r["peak_rss_mb"] for r in runs)
        results.append({"size": size, "rows": SIZES[size], "curated_parquet_mb": round(curated_mb, 1),
                        "seconds_median": float(np.median([r["seconds"] for r in runs])),
                        "rss_after_imports_mb": runs[0]["rss_after_imports_mb"],
                        "peak_rss_mb_median": float(np.median(peaks)), "peak_rss_mb_max": peaks[-1],
                        "peak_rss_mb_runs": [r["peak_rss_mb"] for r in runs]})
        print(json.dumps(results[-1]), file=sys.stderr)
    print(json.dumps({"results": results}, indent=2))


if __name__ == "__main__":
    main()
