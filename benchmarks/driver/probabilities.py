"""Driver-side cost of reading ``entry_probs`` into per-language arrays (issue 16 item 1).

``curation.balancing.probabilities_by_lang`` runs on the Spark driver in ``sample`` and on every
training rank at start-up. MetaCLIP 2 scale is 300+ languages with up to ~400k entries each, so
it must be one pass over the table, not one scan per language. This measures time and peak
traced memory for L languages x E entries against the per-language scan it replaced.

    python -m benchmarks.driver.probabilities --languages 300 --entries 30000
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
import pyarrow as pa

from curation.balancing import probabilities_by_lang


def entry_probs_table(languages: int, entries: int, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    n = languages * entries
    return pa.table({"lang": pa.array(np.repeat([f"l{i:03d}" for i in range(languages)], entries)),
                     "entry_id": pa.array(np.tile(np.arange(entries, dtype=np.int32), languages)),
                     "prob": pa.array(rng.random(n, dtype=np.float32))})


def per_language_scan(table: pa.Table) -> dict[str, np.ndarray]:
    """The replaced form: one boolean scan of a Python object array per language (L x N)."""
    langs = np.asarray(table.column("lang").to_pylist(), dtype=object)
    ids = table.column("entry_id").to_numpy().astype(np.int64)
    probs = table.column("prob").to_numpy().astype(np.float32)
    out = {}
    for lang in sorted(set(langs.tolist())):
        sel = langs == lang
        arr = np.zeros(int(ids[sel].max()) + 1, dtype=np.float32)
        arr[ids[sel]] = probs[sel]
        out[lang] = arr
    return out


def measure(fn, table) -> tuple[float, float, dict]:
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn(table)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--languages", type=int, default=300)
    p.add_argument("--entries", type=int, default=30000)
    p.add_argument("--skip-scan", action="store_true", help="do not time the replaced per-language scan")
    args = p.parse_args(argv)
    table = entry_probs_table(args.languages, args.entries)
    mb = table.nbytes / 2**20
    s, peak, new = measure(probabilities_by_lang, table)
    print(f"{args.languages} languages x {args.entries} entries ({table.num_rows:,} rows, {mb:.0f} MB Arrow)")
    print(f"probabilities_by_lang (one pass): {s:8.2f} s, peak traced {peak:7.0f} MB")
    if not args.skip_scan:
        s0, peak0, old = measure(per_language_scan, table)
        assert all(np.array_equal(old[k], new[k]) for k in old) and old.keys() == new.keys()
        print(f"per-language scan (replaced):     {s0:8.2f} s, peak traced {peak0:7.0f} MB  ({s0 / s:.0f}x slower)")


if __name__ == "__main__":
    main()
