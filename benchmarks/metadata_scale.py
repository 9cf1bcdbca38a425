"""Python-worker memory and automaton build time with MetaCLIP-2-size metadata (issue 22, item 3).

A Spark Python worker of the match pass gets the metadata as broadcasts and builds one
Aho-Corasick automaton per language it meets (``curation.columnar.MatcherCache``). This
benchmark replays that worker, one fresh process per policy, on the same rows:

- ``single-broadcast`` (before issue 22): the whole ``{lang: [entry, ...]}`` dict is one
  broadcast; the worker unpickles all of it (every entry of every language as a Python
  string), then builds the automata of the languages its rows have, never dropping one;
- ``per-language`` (now): one broadcast per language, an Arrow string array
  (``curation.spark.transforms.broadcast_entries``), read only when its language is first
  met; automata kept without bound (``--matcher-cache-entries 0``, the default);
- ``per-language, bound N``: the same, the automata bounded to N entries (LRU,
  ``--matcher-cache-entries N``): less memory, paid with rebuilds when the rows' languages
  need more than N entries;
- ``single-broadcast, bound N`` (``--single-bounds``): the old broadcast with the new bound,
  to show what the unpickled lists of all entries cost on their own when building every
  automaton would not fit the machine.

A broadcast value is what PySpark's worker does with it: ``pickle.load`` of the file the JVM
wrote. Rows: languages drawn with a power law over the metadata's languages (share of the
language of rank r ∝ r^-1.05, rank by entry count), each text 4 random entries of its language,
in batches of ``--batch-rows`` (Spark's Arrow batch). Reported per policy: peak RSS of the
process, its RSS before any metadata, entries read from broadcasts, automata built and
evicted, seconds building automata, seconds in total.

    python -m benchmarks.realistic metaclip2 --entries 20000000 --output benchmarks/data/metaclip2_metadata.parquet
    python -m benchmarks.metadata_scale --metadata benchmarks/data/metaclip2_metadata.parquet \\
        --rows 60000 --bounds 0,6000000,2000000 --output benchmarks/metadata/SCALE.md
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

FINGERPRINT = "metadata-scale-benchmark"


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_rss_mb() -> float:
    """VmHWM: this process's peak RSS (``ru_maxrss`` would carry the parent's over fork + exec)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def split_by_language(table: pa.Table) -> dict[str, pa.Array]:
    """Entries per language in entry_id order, from a metadata table sorted by (lang, entry_id)."""
    langs = table.column("lang").combine_chunks()
    entries = table.column("entry").combine_chunks()
    encoded = pc.dictionary_encode(langs)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    ends = np.append(starts[1:], len(codes))
    names = encoded.dictionary.to_pylist()
    # take() copies: a slice would pickle the buffers of every language (as a broadcast must not)
    return {names[codes[a]]: entries.take(pa.array(np.arange(a, b))) for a, b in zip(starts.tolist(), ends.tolist())}


def make_rows(per_lang: dict[str, pa.Array], n_rows: int, seed: int = 0) -> pa.Table:
    """``n_rows`` (lang, text) rows: language of rank r with share ∝ r^-1.05 (rank by entries),
    text = 4 random entries of that language joined by a space."""
    rng = np.random.default_rng(seed)
    langs = sorted(per_lang, key=lambda lang: -len(per_lang[lang]))
    share = 1.0 / np.arange(1, len(langs) + 1) ** 1.05
    which = rng.choice(len(langs), size=n_rows, p=share / share.sum())
    texts = []
    for i in which.tolist():
        arr = per_lang[langs[i]]
        picks = rng.integers(len(arr), size=4).tolist()
        texts.append(" ".join(arr[j].as_py() for j in picks))
    return pa.table({"lang": pa.array([langs[i] for i in which.tolist()], pa.string()),
                     "text": pa.array(texts, pa.string())})


def prepare(metadata: str, n_rows: int, work: str) -> dict:
    """Broadcast files (one per language, and the old single dict) and the rows, under ``work``."""
    per_lang = split_by_language(pq.read_table(metadata, columns=["lang", "entry"]))
    os.makedirs(os.path.join(work, "per_lang"), exist_ok=True)
    index = {}
    for i, (lang, arr) in enumerate(sorted(per_lang.items())):
        path = os.path.join(work, "per_lang", f"{i}.pkl")
        with open(path, "wb") as f:
            pickle.dump(arr, f, protocol=pickle.HIGHEST_PROTOCOL)
        index[lang] = path
    with open(os.path.join(work, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(work, "all_lists.pkl"), "wb") as f:
        pickle.dump({lang: arr.to_pylist() for lang, arr in per_lang.items()}, f, protocol=pickle.HIGHEST_PROTOCOL)
    rows = make_rows(per_lang, n_rows)
    with ipc.new_file(os.path.join(work, "rows.arrow"), rows.schema) as writer:
        writer.write_table(rows)
    present = set(rows.column("lang").to_pylist())
    return {"languages": len(per_lang), "entries": sum(len(a) for a in per_lang.values()),
            "languages_in_rows": len(present), "entries_of_languages_in_rows": sum(len(per_lang[x]) for x in present),
            "largest_language": max(len(a) for a in per_lang.values())}


class _Files(dict):
    """{lang: path} read like PySpark broadcasts: unpickled on first access, then kept."""

    def __init__(self, index: dict[str, str]):
        super().__init__(index)
        self.loaded: dict[str, pa.Array] = {}

    def __getitem__(self, lang):
        if lang not in self.loaded:
            with open(dict.__getitem__(self, lang), "rb") as f:
                self.loaded[lang] = pickle.load(f)
        return self.loaded[lang]


def worker(work: str, policy: str, bound: int, batch_rows: int) -> dict:
    """Replay the match pass of one Python worker (a fresh process) under ``policy``."""
    from curation import columnar

    base_rss = _rss_mb()
    t0 = time.perf_counter()
    if policy == "single-broadcast":
        with open(os.path.join(work, "all_lists.pkl"), "rb") as f:
            entries = pickle.load(f)
        loaded = lambda: sum(map(len, entries.values()))  # noqa: E731
    else:
        with open(os.path.join(work, "index.json")) as f:
            entries = _Files(json.load(f))
        loaded = lambda: sum(map(len, entries.loaded.values()))  # noqa: E731
    with ipc.open_file(os.path.join(work, "rows.arrow")) as reader:
        rows = reader.read_all().combine_chunks()
    matched = 0
    for start in range(0, rows.num_rows, batch_rows):
        batch = rows.slice(start, batch_rows)
        ids, _ = columnar.match_arrow(batch.column("lang"), batch.column("text"),
                                      pa.nulls(batch.num_rows, pa.string()), entries, FINGERPRINT, "reference", bound)
        matched += batch.num_rows - ids.null_count
    cache = columnar.matcher_cache(bound)
    return {"policy": policy, "bound": bound, "rows": rows.num_rows, "matched": matched,
            "base_rss_mb": round(base_rss), "peak_rss_mb": round(_peak_rss_mb()),
            "entries_read": loaded(), "builds": cache.builds, "evictions": cache.evictions,
            "build_seconds": round(cache.build_seconds, 1), "seconds": round(time.perf_counter() - t0, 1),
            "entries_held_at_end": cache.entries_held}


def run_policy(work: str, policy: str, bound: int, batch_rows: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.metadata_scale", "--worker", policy, "--work", work,
                          "--bound", str(bound), "--batch-rows", str(batch_rows)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(meta: dict, results: list[dict], command: str) -> str:
    lines = ["# Python-worker memory and automaton builds with MetaCLIP-2-size metadata", "",
             f"Command: `{command}` (`benchmarks/metadata_scale.py`; load average {os.getloadavg()[0]:.1f}).", "",
             f"Metadata: {meta['languages']} languages, {meta['entries']:,} entries (largest language "
             f"{meta['largest_language']:,}); rows: {results[0]['rows']:,} in {meta['languages_in_rows']} languages "
             f"holding {meta['entries_of_languages_in_rows']:,} entries.", "",
             "| policy | automata bound (entries) | peak RSS MB | RSS before metadata MB | entries read from broadcasts | "
             "automata built | evicted | build s | total s | same matches |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    first = results[0]["matched"]
    for r in results:
        lines.append(f"| {r['policy']} | {r['bound'] or 'none'} | {r['peak_rss_mb']:,} | {r['base_rss_mb']} | "
                     f"{r['entries_read']:,} | {r['builds']} | {r['evictions']} | {r['build_seconds']} | "
                     f"{r['seconds']} | {'yes' if r['matched'] == first else 'NO'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--metadata")
    parser.add_argument("--rows", type=int, default=60_000)
    parser.add_argument("--batch-rows", type=int, default=10_000)
    parser.add_argument("--bounds", default="0", help="automata bounds of the per-language policy (0: none)")
    parser.add_argument("--single-bounds", default="0",
                        help="automata bounds to run the single-broadcast policy with (0: none, as before)")
    parser.add_argument("--no-single", action="store_true", help="skip the single-broadcast policy (memory)")
    parser.add_argument("--work", default=None)
    parser.add_argument("--output", default=None, help="write the Markdown table here")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--bound", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.work, args.worker, args.bound, args.batch_rows)))
        return
    work = args.work or tempfile.mkdtemp(prefix="wwclip-metadata-scale-")
    meta = prepare(args.metadata, args.rows, work)
    print(json.dumps(meta), flush=True)
    results = []
    if not args.no_single and "0" in args.single_bounds.split(","):
        results.append(run_policy(work, "single-broadcast", 0, args.batch_rows))
        print(json.dumps(results[-1]), flush=True)
    for bound in (int(b) for b in args.single_bounds.split(",") if b) if not args.no_single else ():
        if bound:
            results.append(run_policy(work, "single-broadcast", bound, args.batch_rows))
            print(json.dumps(results[-1]), flush=True)
    for bound in (int(b) for b in args.bounds.split(",")):
        results.append(run_policy(work, "per-language", bound, args.batch_rows))
        print(json.dumps(results[-1]), flush=True)
    text = report(meta, results, "python -m benchmarks.metadata_scale " + " ".join(argv or sys.argv[1:]))
    print(text)
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
