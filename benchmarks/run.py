"""Benchmark runner (issues #6, #22): curation on local Spark vs two one-process pipelines, same
input, same run, alternating: the naive baseline (``benchmarks.baseline``: the rules text by text)
and the MetaCLIP-2-style reference (``benchmarks.metaclip_reference``: fastText per text,
pyahocorasick per language, NumPy counts and sampling, Parquet in and out). Measures per-stage and
end-to-end rows/s, both speed-ups, **CPU seconds per row** of each engine (Spark: driver + JVM +
Python workers, read from /proc; the one-process engines: their process time), CPU of the JVM's
threads by kind (JIT, GC, tasks), peak memory of the JVM and of each Python worker, and the load
average before and after; cold (a fresh CLI process) and, for ``--warm-sizes``, warm (a second
curation in the same JVM, ``benchmarks.warm_run``).

On a shared machine wall-clock ratios depend on the other processes; the CPU seconds per row do
much less, so ``cpu ratio`` (reference CPU per row / Spark CPU per row: Spark's efficiency per
core against one plain process) is the figure to compare across loads.

    python -m benchmarks.run --sizes 100k,1m          # realistic corpus; writes benchmarks/RESULTS.md + results.json
    python -m benchmarks.run --sizes 100k,1m,10m --repeat 2
    python -m benchmarks.run --corpus synthetic --engines baseline,spark   # the issue-6 setting
    python -m benchmarks.run --spark-args="--lid improved"                 # an opt-in mode
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import date

import psutil

from benchmarks import corpus as synthetic_corpus
from benchmarks import realistic

HERE = os.path.dirname(os.path.abspath(__file__))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
SIZES = {"100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}
STAGES = ("lid", "match", "count", "thresholds", "sample")


class TreeMonitor(threading.Thread):
    """Polls a process tree: peak RSS of the JVM and of Python workers, Python-worker CPU."""

    def __init__(self, root_pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.root = psutil.Process(root_pid)
        self.interval = interval
        self.stop_flag = threading.Event()
        self.peak_jvm_mb = 0.0
        self.peak_worker_mb = 0.0
        self.peak_workers_total_mb = 0.0
        self.worker_cpu: dict[int, float] = {}
        self.other_cpu: dict[int, float] = {}  # the driver and any other process of the tree
        self.jvm_threads: dict[tuple[int, str], tuple[str, float]] = {}

    def run(self) -> None:
        while not self.stop_flag.is_set():
            try:
                procs = self.root.children(recursive=True)
                t = self.root.cpu_times()
                self.other_cpu[self.root.pid] = t.user + t.system
            except psutil.NoSuchProcess:
                break
            workers_total = 0.0
            for p in procs:
                try:
                    name, cmd = p.name(), " ".join(p.cmdline())
                    rss = p.memory_info().rss / 2**20
                    if name == "java":
                        self.peak_jvm_mb = max(self.peak_jvm_mb, rss)
                        self._sample_jvm_threads(p.pid)
                    elif "pyspark.daemon" in cmd or "pyspark/daemon" in cmd or "pyspark.worker" in cmd:
                        self.peak_worker_mb = max(self.peak_worker_mb, rss)
                        workers_total += rss
                        t = p.cpu_times()
                        self.worker_cpu[p.pid] = t.user + t.system
                    else:
                        t = p.cpu_times()
                        self.other_cpu[p.pid] = t.user + t.system
                except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                    continue
            self.peak_workers_total_mb = max(self.peak_workers_total_mb, workers_total)
            time.sleep(self.interval)

    def _sample_jvm_threads(self, pid: int) -> None:
        """CPU seconds of each JVM thread so far, from /proc (Linux; nothing elsewhere)."""
        task_dir = f"/proc/{pid}/task"
        if not os.path.isdir(task_dir):
            return
        for tid in os.listdir(task_dir):
            try:
                with open(f"{task_dir}/{tid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            self.jvm_threads[(pid, tid)] = (name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)

    def jvm_cpu_by_kind(self) -> dict[str, float]:
        """JVM CPU seconds split into JIT compiler threads, GC threads, task threads and the rest:
        in a fresh JVM the JIT is a large share, a fixed cost that long runs amortise."""
        out = {"jit": 0.0, "gc": 0.0, "tasks": 0.0, "other": 0.0}
        for name, cpu in self.jvm_threads.values():
            kind = ("jit" if "CompilerThre" in name else "gc" if name.startswith("GC Thread") or name == "VM Thread"
                    else "tasks" if name.startswith("Executor task") else "other")
            out[kind] += cpu
        return {k: round(v, 1) for k, v in out.items()}

    def total_cpu(self) -> float:
        """CPU seconds of the whole tree: driver, JVM (all threads) and Python workers."""
        jvm = sum(cpu for _, cpu in self.jvm_threads.values())
        return jvm + sum(self.worker_cpu.values()) + sum(self.other_cpu.values())


def _dir_bytes(path: str) -> int:
    """Bytes of the data files under ``path`` (Delta logs and markers excluded)."""
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                     if f.endswith(".parquet") and not f.startswith((".", "_")))
    return total


def curate_args(corpus: str, out: str, cores: int, metadata: str | None = None,
                extra: list[str] | None = None) -> list[str]:
    """The ``curate`` flags of every Spark measurement, cold (CLI) and warm (``warm_run``)."""
    return ["--input", corpus, "--output", out, "--master", f"local[{cores}]", "--quiet",
            "--conf", "spark.ui.enabled=false", "--conf", f"spark.sql.shuffle.partitions={max(4, 2 * cores)}",
            *(["--metadata", metadata] if metadata else []), *(extra or [])]


def run_spark(corpus: str, out: str, cores: int, metadata: str | None = None, extra: list[str] | None = None) -> dict:
    cmd = [sys.executable, "-m", "curation", "curate", *curate_args(corpus, out, cores, metadata, extra)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    mon = TreeMonitor(proc.pid)
    mon.start()
    log = proc.communicate()[0]
    wall = time.perf_counter() - t0
    mon.stop_flag.set()
    mon.join()
    if proc.returncode != 0:
        raise RuntimeError(f"spark run failed:\n{log[-4000:]}")
    with open(os.path.join(out, "_stats.json")) as f:
        stats = json.load(f)
    st = stats["stages"]
    tables = ("texts_lid", "matched", "rejects", "curated", "entry_counts", "entry_probs", "thresholds")
    return {"table_bytes": {t: _dir_bytes(os.path.join(out, t)) for t in tables},
            "wall_seconds_with_startup": round(wall, 2), "pipeline_seconds": stats["run"]["total_seconds"],
            "stage_seconds": {s: st[s]["seconds"] for s in STAGES}, "rows_in": st["match"]["rows_in"],
            "matched": st["match"]["matched"], "kept": st["sample"]["kept"], "t_en": st["thresholds"]["t_en"],
            "python_worker_cpu_seconds": round(sum(mon.worker_cpu.values()), 2),
            "jvm_cpu_seconds": mon.jvm_cpu_by_kind(), "total_cpu_seconds": round(mon.total_cpu(), 2),
            "driver_cpu_seconds": round(sum(mon.other_cpu.values()), 2),
            "peak_jvm_rss_mb": round(mon.peak_jvm_mb, 1), "peak_python_worker_rss_mb": round(mon.peak_worker_mb, 1),
            "peak_python_workers_total_rss_mb": round(mon.peak_workers_total_mb, 1)}


def run_one_process(module: str, corpus: str, out: str, metadata: str | None = None) -> dict:
    """``benchmarks.baseline`` or ``benchmarks.metaclip_reference`` in a fresh process."""
    result_json = out + ".json"
    subprocess.run([sys.executable, "-m", module, "--input", corpus, "--output", out, "--json", result_json,
                    *(["--metadata", metadata] if metadata else [])], check=True, stdout=subprocess.DEVNULL)
    with open(result_json) as f:
        return json.load(f)


def run_baseline(corpus: str, out: str, metadata: str | None = None) -> dict:
    return run_one_process("benchmarks.baseline", corpus, out, metadata)


def run_reference(corpus: str, out: str, metadata: str | None = None) -> dict:
    return run_one_process("benchmarks.metaclip_reference", corpus, out, metadata)


def run_warm(corpus: str, out: str, cores: int, runs: int = 2, metadata: str | None = None,
             extra: list[str] | None = None) -> list[float]:
    """Pipeline seconds of ``runs`` curations in one driver/JVM (``benchmarks.warm_run``)."""
    passthrough = [*(["--metadata", metadata] if metadata else []),
                   *([f"--curate-args={' '.join(extra)}"] if extra else [])]
    proc = subprocess.run([sys.executable, "-m", "benchmarks.warm_run", "--input", corpus, "--output", out,
                           "--runs", str(runs), "--cores", str(cores), *passthrough],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"warm run failed:\n{proc.stderr[-4000:]}")
    return [json.loads(line)["pipeline_seconds"] for line in proc.stdout.splitlines() if line.startswith("{")]


def _median_run(runs: list[dict], key: str) -> dict:
    """The run with the median ``key`` (the lower middle one for an even count)."""
    return sorted(runs, key=lambda r: r[key])[(len(runs) - 1) // 2]


def _per_row_us(seconds: float | None, rows: int) -> float | None:
    return round(1e6 * seconds / rows, 2) if seconds is not None else None


def summarise(size: str, rows: int, base: dict | None, spark: dict, cores: int, load: tuple,
              warm: list[float] | None = None, ref: dict | None = None) -> dict:
    """One size's figures. Speed-ups are wall-clock (pipeline seconds, JVM start excluded);
    ``cpu_ratio_vs_*`` = the one-process engine's CPU per row / Spark's total CPU per row
    (> 1: Spark does a row with less CPU; times ``cores`` it bounds the wall speed-up)."""
    s_rate = rows / spark["pipeline_seconds"]
    warm_rate = rows / warm[-1] if warm else None
    spark_cpu = spark.get("total_cpu_seconds")
    out = {
        "size": size, "rows": rows, "cores": cores, "load_avg_1m_before_after": load,
        "spark_rows_per_s": round(s_rate), "spark_rows_per_s_per_core": round(s_rate / cores),
        "spark_python_worker_cpu_us_per_row": round(1e6 * spark["python_worker_cpu_seconds"] / rows, 2),
        "spark_total_cpu_us_per_row": _per_row_us(spark_cpu, rows),
        "warm_pipeline_seconds": warm, "warm_spark_rows_per_s": round(warm_rate) if warm_rate else None,
        "spark": spark,
    }
    for name, one in (("baseline", base), ("reference", ref)):
        if one is None:
            continue
        rate = rows / one["wall_seconds"]
        out[f"{name}_rows_per_s"] = round(rate)
        out[f"speedup_vs_{name}"] = round(s_rate / rate, 2)
        out[f"warm_speedup_vs_{name}"] = round(warm_rate / rate, 2) if warm_rate else None
        out[f"{name}_cpu_us_per_row"] = round(1e6 * one["cpu_seconds"] / rows, 2)
        out[f"cpu_ratio_vs_{name}"] = round(one["cpu_seconds"] / spark_cpu, 2) if spark_cpu else None
        out[f"same_counts_{name}"] = (one["matched"], one["kept"], one["t_en"]) == (
            spark["matched"], spark["kept"], spark["t_en"])
        out[name] = one
    out["same_counts"] = all(out.get(f"same_counts_{n}", True) for n in ("baseline", "reference"))
    return out


def _fmt(value, suffix: str = "", pattern: str = "{:,}") -> str:
    return "–" if value is None else pattern.format(value) + suffix


def write_results(results: list[dict], path_md: str, path_json: str, description: str = "") -> None:
    machine = f"{platform.node() or 'host'}: {psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB, {platform.python_implementation()} {platform.python_version()}"
    with open(path_json, "w") as f:
        json.dump({"date": date.today().isoformat(), "machine": machine, "corpus": description,
                   "results": results}, f, indent=2)
    cores = results[0]["cores"] if results else 2
    lines = ["# Curation benchmark results", "", f"Date: {date.today().isoformat()}. Machine: {machine}.",
             "Command: `python -m benchmarks.run " + " ".join(sys.argv[1:]) + "`.", "", description, "",
             "Engines, same input, alternating: **Spark** (`python -m curation curate`, cold: a fresh process,",
             "JVM warm-up included, JVM start excluded from its seconds), the **reference** (one process,",
             "MetaCLIP-2-style: `benchmarks.metaclip_reference`) and the naive **baseline** (one process, the",
             "rules text by text: `benchmarks.baseline`). Warm: the same curation again in the same JVM",
             "(`benchmarks.warm_run`). With `--repeat N` each figure is the median of N runs.", "",
             "**CPU per row** is the primary figure on a shared machine: Spark's is the driver, the JVM (all",
             "threads) and the Python workers together, read from /proc; a one-process engine's is its process",
             "time. `cpu ratio` = reference CPU per row / Spark CPU per row (Spark's per-core efficiency against",
             f"one plain process; on {cores} otherwise idle cores the wall speed-up approaches `cpu ratio` × {cores}).",
             "Wall-clock speed-ups are only meaningful at a low load average (recorded per size).", "",
             "| size | load before/after | reference CPU µs/row | Spark CPU µs/row | cpu ratio vs reference | "
             "baseline CPU µs/row | cpu ratio vs baseline | speed-up vs reference (wall) | speed-up vs baseline (wall) | "
             "warm speed-up vs reference | same result |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['size']} | {r['load_avg_1m_before_after'][0]} / {r['load_avg_1m_before_after'][1]} | "
                     f"{_fmt(r.get('reference_cpu_us_per_row'))} | {_fmt(r.get('spark_total_cpu_us_per_row'))} | "
                     f"{_fmt(r.get('cpu_ratio_vs_reference'), '×')} | {_fmt(r.get('baseline_cpu_us_per_row'))} | "
                     f"{_fmt(r.get('cpu_ratio_vs_baseline'), '×')} | {_fmt(r.get('speedup_vs_reference'), '×')} | "
                     f"{_fmt(r.get('speedup_vs_baseline'), '×')} | {_fmt(r.get('warm_speedup_vs_reference'), '×')} | "
                     f"{'yes' if r['same_counts'] else 'NO'} |")
    lines += ["", f"Throughput and memory (Spark local[{cores}]):", "",
              "| size | reference rows/s | baseline rows/s | Spark rows/s cold | rows/s/core | Spark rows/s warm | "
              "Spark Python-worker CPU µs/row | peak JVM MB | peak Python worker MB | reference peak MB |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        s = r["spark"]
        lines.append(f"| {r['size']} | {_fmt(r.get('reference_rows_per_s'))} | {_fmt(r.get('baseline_rows_per_s'))} | "
                     f"{r['spark_rows_per_s']:,} | {r['spark_rows_per_s_per_core']:,} | "
                     f"{_fmt(r.get('warm_spark_rows_per_s'))} | {r['spark_python_worker_cpu_us_per_row']} | "
                     f"{s['peak_jvm_rss_mb']:.0f} | {s['peak_python_worker_rss_mb']:.0f} | "
                     f"{_fmt((r.get('reference') or {}).get('peak_rss_mb'), pattern='{:.0f}')} |")
    lines += ["", "Per-stage seconds (reference / Spark; wall):", "",
              "| size | " + " | ".join(STAGES) + " | reference setup | Spark JVM start + stats |",
              "|---|" + "---|" * (len(STAGES) + 2)]
    for r in results:
        b = (r.get("reference") or r.get("baseline") or {}).get("stage_seconds", {})
        s = r["spark"]["stage_seconds"]
        extra = r["spark"]["wall_seconds_with_startup"] - r["spark"]["pipeline_seconds"]
        lines.append(f"| {r['size']} | " + " | ".join(f"{b.get(k, 0):.1f} / {s[k]:.1f}" for k in STAGES)
                     + f" | {b.get('setup', 0):.1f} | {extra:.1f} |")
    lines += ["", "CPU seconds of the whole Spark run, JVM start included (JVM threads read from /proc):", "",
              "| size | total | driver | Python workers | JVM task threads | JVM JIT compiler | JVM GC | JVM other |",
              "|---|---|---|---|---|---|---|---|"]
    for r in results:
        s = r["spark"]
        cpu = s.get("jvm_cpu_seconds") or {}
        lines.append(f"| {r['size']} | {_fmt(s.get('total_cpu_seconds'), pattern='{:.1f}')} | "
                     f"{_fmt(s.get('driver_cpu_seconds'), pattern='{:.1f}')} | {s['python_worker_cpu_seconds']:.1f} | "
                     f"{cpu.get('tasks', 0):.1f} | {cpu.get('jit', 0):.1f} | {cpu.get('gc', 0):.1f} | "
                     f"{cpu.get('other', 0):.1f} |")
    lines += ["", "Table bytes written by Spark (MB):", "",
              "| size | input | " + " | ".join(TABLES) + " |", "|---|---|" + "---|" * len(TABLES)]
    for r in results:
        tb = r["spark"].get("table_bytes") or {}
        lines.append(f"| {r['size']} | {r.get('input_bytes', 0) / 1e6:.1f} | "
                     + " | ".join(f"{tb.get(t, 0) / 1e6:.1f}" for t in TABLES) + " |")
    with open(path_md, "w") as f:
        f.write("\n".join(lines) + "\n")


TABLES = ("texts_lid", "matched", "rejects", "curated")
ENGINES = ("baseline", "reference", "spark")


def prepare_corpus(kind: str, size: str, data_dir: str) -> tuple[str, str | None, str]:
    """(corpus path, metadata path or None for the embedded set, description) of ``kind``."""
    rows = SIZES[size]
    if kind == "synthetic":
        path = synthetic_corpus.generate_corpus(rows, os.path.join(data_dir, f"corpus_{size}"))
        return path, None, ("Corpus: synthetic (`benchmarks.corpus`: metadata words strung together, "
                            "short texts), embedded metadata.")
    path = realistic.generate_corpus(rows, os.path.join(data_dir, f"realistic_{size}"))
    metadata = realistic.build_metadata(os.path.join(data_dir, "realistic_metadata.parquet"))
    with open(os.path.join(path, "_COMPLETE")) as f:
        shape = f.read().strip()
    return path, metadata, ("Corpus: realistic (`benchmarks.realistic`: windows of real treebank sentences, "
                            f"web-like language mix; {shape}); metadata: `benchmarks/data/realistic_metadata.parquet` "
                            "(wordfreq words + treebank bigrams, `python -m benchmarks.realistic metadata`).")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--corpus", choices=("realistic", "synthetic"), default="realistic")
    parser.add_argument("--engines", default=",".join(ENGINES), help="which of baseline,reference,spark to run")
    parser.add_argument("--spark-args", default="", help="extra curate flags, e.g. '--lid improved'")
    parser.add_argument("--data-dir", default=os.path.join(HERE, "data"))
    parser.add_argument("--work-dir", default="/tmp/wwclip-bench")
    parser.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of every engine per size, alternating; the median is reported")
    parser.add_argument("--warm-sizes", default="",
                        help="sizes also measured warm (a second curation in the same JVM), e.g. 100k,1m")
    args = parser.parse_args(argv)
    engines = set(args.engines.split(","))
    if "spark" not in engines or not engines <= set(ENGINES):
        raise SystemExit(f"--engines: spark and any of baseline, reference (got {args.engines!r})")
    extra = args.spark_args.split()
    results, description = [], ""
    for size in args.sizes.split(","):
        rows = SIZES[size]
        corpus, metadata, description = prepare_corpus(args.corpus, size, args.data_dir)
        work = os.path.join(args.work_dir, size)
        subprocess.run(["rm", "-rf", work], check=True)
        os.makedirs(work)
        load_before = os.getloadavg()[0]
        runs: dict[str, list[dict]] = {e: [] for e in ENGINES}
        for _ in range(args.repeat):
            if "baseline" in engines:
                runs["baseline"].append(run_baseline(corpus, os.path.join(work, "baseline"), metadata))
            if "reference" in engines:
                runs["reference"].append(run_reference(corpus, os.path.join(work, "reference"), metadata))
            subprocess.run(["rm", "-rf", os.path.join(work, "spark")], check=True)
            runs["spark"].append(run_spark(corpus, os.path.join(work, "spark"), args.cores, metadata, extra))
        warm = (run_warm(corpus, os.path.join(work, "warm"), args.cores, metadata=metadata, extra=extra)
                if size in args.warm_sizes.split(",") else None)
        load = (round(load_before, 2), round(os.getloadavg()[0], 2))
        pick = {e: _median_run(r, "wall_seconds" if e != "spark" else "pipeline_seconds") if r else None
                for e, r in runs.items()}
        results.append(summarise(size, rows, pick["baseline"], pick["spark"], args.cores, load, warm,
                                 pick["reference"]))
        results[-1]["input_bytes"] = _dir_bytes(corpus)
        results[-1]["spark_args"] = extra
        results[-1]["all_runs_seconds"] = {e: [x["wall_seconds" if e != "spark" else "pipeline_seconds"] for x in r]
                                           for e, r in runs.items() if r}
        results[-1]["all_runs_cpu_seconds"] = {e: [x["cpu_seconds" if e != "spark" else "total_cpu_seconds"]
                                                   for x in r] for e, r in runs.items() if r}
        print(json.dumps({k: v for k, v in results[-1].items() if k not in ("baseline", "spark", "reference")}),
              flush=True)
    write_results(results, args.results, os.path.splitext(args.results)[0].replace("RESULTS", "results") + ".json",
                  description)


if __name__ == "__main__":
    main()
