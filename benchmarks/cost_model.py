"""Cost model of the curation pipeline, measured on the benchmark and extrapolated to 10B rows.

    python -m benchmarks.run --sizes 100k,1m,10m      # writes benchmarks/results.json
    python -m benchmarks.cost_model                   # rewrites the cost-model block of docs/scale.md
    python -m benchmarks.cost_model --print           # the same Markdown on stdout, no file written
    python -m benchmarks.cost_model --measure-automata [--metadata PATH]   # re-measure bytes/entry

Reads the *largest* measured size of ``results.json`` and derives rows/s/core (end to end and
per stage), core-hours per billion rows, bytes per row of the input and of each table, and
from these: core-hours, wall hours on clusters of several sizes, storage, shuffle volume and
per-process metadata memory for ``--target-rows`` (default 10B) alt-texts.

Assumption, stated in the output too: **linear scaling**. Throughput per core measured on a
small ``local[N]`` machine is applied to N cluster cores; shuffles over the network, object
store listing and commit latency, stragglers and executor start-up are not in that measurement.

Standard library only (``--measure-automata`` imports the project and pyahocorasick lazily).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_RESULTS = os.path.join(HERE, "results.json")
DEFAULT_DOC = os.path.join(ROOT, "docs", "scale.md")
BEGIN = "<!-- cost-model:begin -->"
END = "<!-- cost-model:end -->"

STAGES = ("lid", "match", "count", "thresholds", "sample")
PER_ROW_TABLES = ("texts_lid", "matched", "rejects", "curated")  # grow with the input
PER_ENTRY_TABLES = ("entry_counts", "entry_probs", "thresholds")  # bounded by the metadata
# Full shuffles of all columns per curate run: one, by uid, of the annotated rows (texts_lid's
# columns plus entry_ids and reason); count and sample reuse it. Stages run one by one shuffle
# texts_lid twice and matched once.
SHUFFLED_TABLES = {"texts_lid": 1}
DEFAULT_CLUSTERS = (64, 256, 1024)
DEFAULT_ENTRY_SCENARIOS = (1_000_000, 10_000_000, 50_000_000)
DEFAULT_EXECUTOR_CORES = 4
NOT_MEASURED = "not measured"

# Measured with ``--measure-automata`` on the embedded metadata (curation.metadata.read_metadata()),
# pyahocorasick 2.3.1, CPython 3.11, 2026-11-23. ``automaton_bytes`` = sum over languages of
# Automaton.get_stats()["total_size"]; ``automaton_rss_bytes`` = process RSS growth while building
# them; the entry lists are sized with sys.getsizeof; ``lid_model_rss_bytes`` = RSS growth when loading fastText lid.176.ftz (curation.lid.get_model).
AUTOMATA_MEASURED = {
    "source": "embedded metadata",
    "languages": 43,
    "entries": 133_300,
    "chars": 733_284,
    "automaton_bytes": 17_632_016,
    "automaton_rss_bytes": 12_820_480,
    "entry_list_bytes": 10_332_170,  # sys.getsizeof of the {lang: [entry, ...]} lists (the broadcast value)
    "pickled_bytes": 1_474_131,  # pickle of those lists: what a broadcast ships
    "lid_model_rss_bytes": 14_913_536,  # 9.7-14.9 MB over runs (depends on what was imported before)
}
BENCHMARK_METADATA_ENTRIES = 133_300  # benchmarks.run uses the embedded metadata


# ---------------------------------------------------------------- reading

def load_results(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if not data.get("results"):
        raise SystemExit(f"{path}: no results; run `python -m benchmarks.run` first")
    return data


def largest(results: list[dict]) -> dict:
    """The measured point with the most rows (ties: the last one)."""
    best = None
    for r in results:
        if r.get("spark", {}).get("pipeline_seconds") and (best is None or r["rows"] >= best["rows"]):
            best = r
    if best is None:
        raise SystemExit("results.json has no Spark measurement with pipeline_seconds")
    return best


def input_bytes(result: dict) -> int | None:
    value = result.get("input_bytes", result.get("spark", {}).get("input_bytes"))
    return int(value) if value is not None else None


def table_bytes(result: dict) -> dict[str, int]:
    return {k: int(v) for k, v in (result.get("spark", {}).get("table_bytes") or {}).items() if v is not None}


# ---------------------------------------------------------------- the model

def compute(result: dict, target_rows: float = 10e9, clusters=DEFAULT_CLUSTERS,
            entry_scenarios=DEFAULT_ENTRY_SCENARIOS, automata: dict | None = None,
            executor_cores: int = DEFAULT_EXECUTOR_CORES) -> dict:
    """All figures of the cost model as plain numbers (None where not measured)."""
    automata = automata or AUTOMATA_MEASURED
    spark = result["spark"]
    rows, cores = int(result["rows"]), int(result["cores"])
    secs = float(spark["pipeline_seconds"])
    core_s_per_row = secs * cores / rows
    m: dict = {
        "size": result.get("size", str(rows)), "rows": rows, "cores": cores, "pipeline_seconds": secs,
        "target_rows": target_rows,
        "rows_per_s_per_core": rows / (secs * cores),
        "core_seconds_per_row": core_s_per_row,
        "core_hours_per_billion": core_s_per_row * 1e9 / 3600,
        "target_core_hours": core_s_per_row * target_rows / 3600,
    }
    m["wall_hours"] = {n: m["target_core_hours"] / n for n in clusters}
    stage_s = spark.get("stage_seconds") or {}
    m["stages"] = {s: {"seconds": float(stage_s[s]),
                       "rows_per_s_per_core": rows / (float(stage_s[s]) * cores) if stage_s[s] else None,
                       "share": float(stage_s[s]) / secs,
                       "target_core_hours": float(stage_s[s]) * cores / rows * target_rows / 3600}
                   for s in STAGES if s in stage_s}
    py = spark.get("python_worker_cpu_seconds")
    m["python_cpu_us_per_row"] = 1e6 * py / rows if py is not None else None
    m["python_share_of_core_time"] = py / (secs * cores) if py is not None else None
    m["peak_python_worker_rss_mb"] = spark.get("peak_python_worker_rss_mb")
    m["peak_jvm_rss_mb"] = spark.get("peak_jvm_rss_mb")

    ib = input_bytes(result)
    m["input_bytes_per_row"] = ib / rows if ib is not None else None
    m["target_input_bytes"] = ib / rows * target_rows if ib is not None else None
    tb = table_bytes(result)
    m["tables"] = {}
    for name in PER_ROW_TABLES:
        b = tb.get(name)
        m["tables"][name] = {"kind": "per row", "bytes": b,
                             "bytes_per_row": b / rows if b is not None else None,
                             "target_bytes": b / rows * target_rows if b is not None else None}
    entries = int(result.get("metadata_entries") or BENCHMARK_METADATA_ENTRIES)
    m["metadata_entries"] = entries
    for name in PER_ENTRY_TABLES:
        b = tb.get(name)
        m["tables"][name] = {"kind": "per entry", "bytes": b,
                             "bytes_per_entry": b / entries if b is not None else None,
                             # does not grow with rows: same metadata, same size (counts are int64)
                             "target_bytes": b}
    per_row = [m["tables"][t]["target_bytes"] for t in PER_ROW_TABLES]
    m["target_storage_bytes"] = sum(per_row) if all(v is not None for v in per_row) else None
    shuffled = [(m["tables"][t]["bytes_per_row"], k) for t, k in SHUFFLED_TABLES.items()]
    m["shuffle_bytes_per_row"] = (sum(b * k for b, k in shuffled)
                                  if all(b is not None for b, _ in shuffled) else None)
    m["target_shuffle_bytes"] = (m["shuffle_bytes_per_row"] * target_rows
                                 if m["shuffle_bytes_per_row"] is not None else None)
    # One file per 64 MB of the source (curation.spark.tables.TARGET_FILE_BYTES) = tasks after the shuffle
    m["target_partitions"] = (math.ceil(m["target_input_bytes"] / (64 * 2**20))
                              if m["target_input_bytes"] is not None else None)

    a_bytes = automata["automaton_bytes"] / automata["entries"]
    l_bytes = automata["entry_list_bytes"] / automata["entries"]
    pk_bytes = automata["pickled_bytes"] / automata["entries"]
    w_bytes = a_bytes + l_bytes  # a Python worker holds the automata and the unpickled broadcast lists
    # driver: the metadata lists, the pickled broadcast, counts (int64) and probabilities (float64)
    d_bytes = l_bytes + pk_bytes + 8 + 8
    m["automata"] = dict(automata)
    m["automaton_bytes_per_entry"] = a_bytes
    m["entry_list_bytes_per_entry"] = l_bytes
    m["worker_bytes_per_entry"] = w_bytes
    m["driver_bytes_per_entry"] = d_bytes
    m["automaton_bytes_per_char"] = automata["automaton_bytes"] / automata["chars"]
    m["executor_cores"] = executor_cores
    base_mb = m["peak_python_worker_rss_mb"]
    m["entry_scenarios"] = []
    for n in (automata["entries"], *entry_scenarios):
        automaton = n * a_bytes
        worker = (base_mb * 2**20 + (n - entries) * w_bytes) if base_mb is not None else None
        m["entry_scenarios"].append({"entries": n, "automata_bytes": automaton, "driver_bytes": n * d_bytes,
                                     "python_worker_bytes": worker,
                                     "executor_python_bytes": worker * executor_cores if worker else None})
    return m


# ---------------------------------------------------------------- rendering

def _bytes(n: float | None) -> str:
    if n is None:
        return NOT_MEASURED
    for unit, scale in (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def _num(x: float | None, fmt: str = "{:,.0f}") -> str:
    return NOT_MEASURED if x is None else fmt.format(x)


def _per(x: float | None, unit: str, fmt: str = "{:.1f}") -> str:
    return NOT_MEASURED if x is None else f"{fmt.format(x)} {unit}"


def render(m: dict) -> str:
    t = m["target_rows"]
    tname = f"{t / 1e9:g}B" if t >= 1e9 else f"{t:,.0f}"
    a = m["automata"]
    out = [
        (f"Measured point: **{m['size']}** ({m['rows']:,} rows, `local[{m['cores']}]`, "
         f"pipeline {m['pipeline_seconds']:.1f} s, JVM start excluded). Target: **{tname} rows**. "
         "Generated by `python -m benchmarks.cost_model`; do not edit by hand."),
        "",
        "| quantity | measured | at " + tname + " rows |",
        "|---|---|---|",
        f"| end-to-end throughput | {m['rows_per_s_per_core']:,.0f} rows/s/core | — |",
        (f"| core time | {m['core_seconds_per_row'] * 1e6:,.1f} core-µs/row; "
         f"{m['core_hours_per_billion']:,.1f} core-h per 1B rows | **{m['target_core_hours']:,.0f} core-hours** |"),
    ]
    for n, h in m["wall_hours"].items():
        out.append(f"| wall time on {n:,} cores (linear) | — | {h:,.2f} h |")
    out += [
        (f"| Python-worker CPU | {_per(m['python_cpu_us_per_row'], 'µs/row')} "
         f"({_num(m['python_share_of_core_time'] and 100 * m['python_share_of_core_time'], '{:.0f}')} % of core time) | — |"),
        f"| input (corpus Parquet) | {_per(m['input_bytes_per_row'], 'B/row')} | {_bytes(m['target_input_bytes'])} |",
    ]
    for name in PER_ROW_TABLES:
        r = m["tables"][name]
        out.append(f"| table `{name}` | {_per(r['bytes_per_row'], 'B/row')} | {_bytes(r['target_bytes'])} |")
    out.append(f"| per-row tables, total | — | **{_bytes(m['target_storage_bytes'])}** |")
    for name in PER_ENTRY_TABLES:
        r = m["tables"][name]
        per = ("" if r["bytes_per_entry"] is None or name == "thresholds"
               else f" ({r['bytes_per_entry']:.1f} B/entry)")
        scope = "one row per language" if name == "thresholds" else f"{m['metadata_entries']:,} entries"
        out.append(f"| table `{name}` ({scope}) | {_bytes(r['bytes'])}{per} | "
                   f"{_bytes(r['target_bytes'])} (same metadata: does not grow with rows) |")
    out += [
        (f"| shuffle volume, estimate (1× `texts_lid`, on-disk bytes) | "
         f"{_per(m['shuffle_bytes_per_row'], 'B/row')} | {_bytes(m['target_shuffle_bytes'])} |"),
        f"| files / tasks of per-row stages (input ÷ 64 MB) | — | {_num(m['target_partitions'], '{:,}')} |",
        (f"| peak JVM RSS / peak Python worker RSS | {_num(m['peak_jvm_rss_mb'])} MB / "
         f"{_num(m['peak_python_worker_rss_mb'])} MB | — |"),
        "",
        "Sizes: 1 MB = 10^6 B, 1 GB = 10^9 B; the RSS figures from `results.json` are MiB.",
        "",
        "Per stage (share of pipeline time; core-hours at the target, linear):",
        "",
        "| stage | seconds | rows/s/core | share | core-hours at " + tname + " |",
        "|---|---|---|---|---|",
    ]
    for s, v in m["stages"].items():
        out.append(f"| {s} | {v['seconds']:.2f} | {_num(v['rows_per_s_per_core'])} | {100 * v['share']:.0f} % | "
                   f"{v['target_core_hours']:,.0f} |")
    out += [
        "",
        (f"Metadata memory. Aho–Corasick automata are built in every Python worker process (one per "
         f"executor core with `spark.python.worker.reuse=true`), next to the unpickled broadcast entry "
         f"lists. Measured on the {a['source']} ({a['entries']:,} entries, {a['languages']} languages, "
         f"{a['chars']:,} characters): automata {_bytes(a['automaton_bytes'])} (`get_stats()['total_size']`; "
         f"RSS growth {_bytes(a['automaton_rss_bytes'])}) = **{m['automaton_bytes_per_entry']:.0f} B/entry** "
         f"({m['automaton_bytes_per_char']:.0f} B per character of entry text: longer entries cost more); "
         f"entry lists {m['entry_list_bytes_per_entry']:.0f} B/entry; together "
         f"**{m['worker_bytes_per_entry']:.0f} B/entry per Python worker**. fastText LID model "
         f"{_bytes(a['lid_model_rss_bytes'])} RSS per worker. Worker estimate = measured peak worker RSS "
         f"+ extra entries × {m['worker_bytes_per_entry']:.0f} B. Driver estimate = entries × "
         f"{m['driver_bytes_per_entry']:.0f} B (entry lists, pickled broadcast, counts, probabilities). "
         f"Linear in entries: extrapolated, not measured beyond {a['entries']:,} entries."),
        "",
        (f"| metadata entries | automata per Python worker | Python worker estimate | "
         f"Python per executor ({m['executor_cores']} cores) | driver (metadata part) |"),
        "|---|---|---|---|---|",
    ]
    for e in m["entry_scenarios"]:
        out.append(f"| {e['entries']:,} | {_bytes(e['automata_bytes'])} | {_bytes(e['python_worker_bytes'])} | "
                   f"{_bytes(e['executor_python_bytes'])} | {_bytes(e['driver_bytes'])} |")
    out += [
        "",
        ("Assumptions: throughput per core scales linearly with cores (a 2-core `local` run has no "
         "network shuffle, no object-store listing or commit latency, no stragglers and no executor "
         "start-up; budget extra for those). The shuffle volume is estimated from Parquet bytes on disk; "
         "Spark's shuffle files (LZ4, row format) are usually larger: read the real figure in the Spark UI. "
         "Bytes per row are those of the synthetic benchmark corpus; real alt-texts with longer URLs and "
         "texts will be larger. Anything marked *not measured* is absent from `results.json`."),
    ]
    return "\n".join(out)


def rewrite_block(text: str, block: str) -> str:
    """Replace what lies between the markers (kept) with ``block``."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < 0 or end < start:
        raise ValueError(f"markers {BEGIN} … {END} not found (in this order)")
    return text[:start + len(BEGIN)] + "\n" + block.rstrip("\n") + "\n" + text[end:]


# ---------------------------------------------------------------- optional measurement

def measure_automata(metadata_path: str | None = None) -> dict:
    """Bytes of the per-language automata for a metadata table (imports the project lazily)."""
    import gc
    import pickle

    def rss() -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) * 1024
        return 0

    from curation import lid
    from curation.matching import Matcher
    from curation.metadata import read_metadata

    md = read_metadata(metadata_path)
    entries = {k: list(v) for k, v in md.entries.items()}
    list_bytes = sum(sys.getsizeof(v) + sum(sys.getsizeof(e) for e in v) for v in entries.values())
    pickled = len(pickle.dumps(entries))
    gc.collect()
    r0 = rss()
    matchers = [Matcher(v) for v in entries.values()]
    r1 = rss()
    total = sum(x._automaton.get_stats()["total_size"] for x in matchers if x.n_entries)
    r2 = rss()
    lid.get_model()
    return {"source": metadata_path or "embedded metadata", "languages": len(entries),
            "entries": sum(len(v) for v in entries.values()),
            "chars": sum(len(e) for v in entries.values() for e in v),
            "automaton_bytes": total, "automaton_rss_bytes": r1 - r0, "entry_list_bytes": list_bytes, "pickled_bytes": pickled,
            "lid_model_rss_bytes": rss() - r2}


# ---------------------------------------------------------------- CLI

def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(float(x)) for x in text.split(",") if x.strip())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", default=DEFAULT_RESULTS)
    p.add_argument("--doc", default=DEFAULT_DOC, help="Markdown file with the cost-model markers [%(default)s]")
    p.add_argument("--print", action="store_true", help="print the block to stdout; write nothing")
    p.add_argument("--target-rows", type=float, default=10e9)
    p.add_argument("--clusters", default=",".join(map(str, DEFAULT_CLUSTERS)), help="cluster core counts")
    p.add_argument("--entries", default=",".join(map(str, DEFAULT_ENTRY_SCENARIOS)),
                   help="metadata sizes (entries) to project worker memory for")
    p.add_argument("--executor-cores", type=int, default=DEFAULT_EXECUTOR_CORES)
    p.add_argument("--measure-automata", action="store_true",
                   help="re-measure automaton bytes/entry (needs the project and pyahocorasick)")
    p.add_argument("--metadata", default=None, help="metadata table for --measure-automata [embedded]")
    args = p.parse_args(argv)

    automata = measure_automata(args.metadata) if args.measure_automata else None
    data = load_results(args.results)
    m = compute(largest(data["results"]), args.target_rows, _ints(args.clusters), _ints(args.entries),
                automata, args.executor_cores)
    block = render(m)
    if data.get("machine") or data.get("date"):
        block = f"Benchmark machine: {data.get('machine', '?')}, {data.get('date', '?')}.\n\n" + block
    if args.print:
        print(block)
        return 0
    with open(args.doc, encoding="utf-8") as f:
        text = f.read()
    new = rewrite_block(text, block)
    with open(args.doc, "w", encoding="utf-8") as f:
        f.write(new)
    print(f"{args.doc}: cost-model block rewritten from {args.results} ({m['size']}, {m['rows']:,} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
