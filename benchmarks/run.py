"""Benchmark runner (issue #6): curation on local Spark vs the single-process baseline, same
input, same run. Measures per-stage and end-to-end rows/s and rows/s/core, CPU seconds of the
Python workers per row and of the JVM's threads by kind (JIT, GC, tasks), peak memory of the JVM
and of each Python worker; cold (a fresh CLI process) and, for ``--warm-sizes``, warm (a second
curation in the same JVM, ``benchmarks.warm_run``).

    python -m benchmarks.run --sizes 100k,1m          # writes benchmarks/RESULTS.md + results.json
    python -m benchmarks.run --sizes 100k,1m,10m --repeat 2   # what RESULTS.md holds (about 30 minutes)
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

from benchmarks.corpus import generate_corpus

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
        self.jvm_threads: dict[tuple[int, str], tuple[str, float]] = {}

    def run(self) -> None:
        while not self.stop_flag.is_set():
            try:
                procs = self.root.children(recursive=True)
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


def _dir_bytes(path: str) -> int:
    """Bytes of the data files under ``path`` (Delta logs and markers excluded)."""
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                     if f.endswith(".parquet") and not f.startswith((".", "_")))
    return total


def curate_args(corpus: str, out: str, cores: int) -> list[str]:
    """The ``curate`` flags of every Spark measurement, cold (CLI) and warm (``warm_run``)."""
    return ["--input", corpus, "--output", out, "--master", f"local[{cores}]", "--quiet",
            "--conf", "spark.ui.enabled=false", "--conf", f"spark.sql.shuffle.partitions={max(4, 2 * cores)}"]


def run_spark(corpus: str, out: str, cores: int) -> dict:
    cmd = [sys.executable, "-m", "curation", "curate", *curate_args(corpus, out, cores)]
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
            "jvm_cpu_seconds": mon.jvm_cpu_by_kind(),
            "peak_jvm_rss_mb": round(mon.peak_jvm_mb, 1), "peak_python_worker_rss_mb": round(mon.peak_worker_mb, 1),
            "peak_python_workers_total_rss_mb": round(mon.peak_workers_total_mb, 1)}


def run_baseline(corpus: str, out: str) -> dict:
    result_json = out + ".json"
    subprocess.run([sys.executable, "-m", "benchmarks.baseline", "--input", corpus, "--output", out,
                    "--json", result_json], check=True, stdout=subprocess.DEVNULL)
    with open(result_json) as f:
        return json.load(f)


def run_warm(corpus: str, out: str, cores: int, runs: int = 2) -> list[float]:
    """Pipeline seconds of ``runs`` curations in one driver/JVM (``benchmarks.warm_run``)."""
    proc = subprocess.run([sys.executable, "-m", "benchmarks.warm_run", "--input", corpus, "--output", out,
                           "--runs", str(runs), "--cores", str(cores)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"warm run failed:\n{proc.stderr[-4000:]}")
    return [json.loads(line)["pipeline_seconds"] for line in proc.stdout.splitlines() if line.startswith("{")]


def _median_run(runs: list[dict], key: str) -> dict:
    """The run with the median ``key`` (the lower middle one for an even count)."""
    return sorted(runs, key=lambda r: r[key])[(len(runs) - 1) // 2]


def summarise(size: str, rows: int, base: dict, spark: dict, cores: int, load: tuple,
              warm: list[float] | None = None) -> dict:
    b_rate = rows / base["wall_seconds"]
    s_rate = rows / spark["pipeline_seconds"]
    warm_rate = rows / warm[-1] if warm else None
    return {
        "warm_pipeline_seconds": warm, "warm_spark_rows_per_s": round(warm_rate) if warm_rate else None,
        "warm_speedup_vs_baseline": round(warm_rate / b_rate, 2) if warm_rate else None,
        "size": size, "rows": rows, "cores": cores, "load_avg_1m_before_after": load,
        "baseline_rows_per_s": round(b_rate), "spark_rows_per_s": round(s_rate),
        "spark_rows_per_s_per_core": round(s_rate / cores),
        "speedup_vs_baseline": round(s_rate / b_rate, 2),
        "baseline_cpu_us_per_row": round(1e6 * base["cpu_seconds"] / rows, 2),
        "spark_python_worker_cpu_us_per_row": round(1e6 * spark["python_worker_cpu_seconds"] / rows, 2),
        "same_counts": (base["matched"], base["kept"], base["t_en"]) == (spark["matched"], spark["kept"], spark["t_en"]),
        "baseline": base, "spark": spark,
    }


def write_results(results: list[dict], path_md: str, path_json: str) -> None:
    machine = f"{platform.node() or 'host'}: {psutil.cpu_count()} cores, {round(psutil.virtual_memory().total / 2**30)} GiB, {platform.python_implementation()} {platform.python_version()}"
    with open(path_json, "w") as f:
        json.dump({"date": date.today().isoformat(), "machine": machine, "results": results}, f, indent=2)
    lines = ["# Curation benchmark results", "", f"Date: {date.today().isoformat()}. Machine: {machine}.",
             "Command: `python -m benchmarks.run " + " ".join(sys.argv[1:]) + "`.", "",
             "Load average (1 min) before/after each size is recorded: other processes on this 2-core machine",
             "slow the 2-core Spark run more than the 1-core baseline, so compare ratios only at low load.", "",
             "Cold: a fresh `python -m curation curate` process (what spark-submit pays: JVM warm-up included).",
             "Warm: the same curation run again in the same driver and JVM (`benchmarks.warm_run`: a notebook,",
             "an all-purpose cluster or a long-lived driver). With `--repeat N` each figure is the median of N runs.", "",
             "| size | baseline rows/s | Spark rows/s cold (local[{c}]) | rows/s/core | speed-up cold | Spark rows/s warm | speed-up warm | baseline CPU µs/row | Spark Python-worker CPU µs/row | peak JVM MB | peak Python worker MB | same result | load before/after |".format(c=results[0]["cores"] if results else 2),
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        s = r["spark"]
        warm_rate = f"{r['warm_spark_rows_per_s']:,}" if r.get("warm_spark_rows_per_s") else "–"
        warm_x = f"{r['warm_speedup_vs_baseline']}×" if r.get("warm_speedup_vs_baseline") else "–"
        lines.append(f"| {r['size']} | {r['baseline_rows_per_s']:,} | {r['spark_rows_per_s']:,} | {r['spark_rows_per_s_per_core']:,} | "
                     f"{r['speedup_vs_baseline']}× | {warm_rate} | {warm_x} | {r['baseline_cpu_us_per_row']} | {r['spark_python_worker_cpu_us_per_row']} | "
                     f"{s['peak_jvm_rss_mb']:.0f} | {s['peak_python_worker_rss_mb']:.0f} | {'yes' if r['same_counts'] else 'NO'} | "
                     f"{r['load_avg_1m_before_after'][0]} / {r['load_avg_1m_before_after'][1]} |")
    lines += ["", "Per-stage seconds (baseline / Spark):", "",
              "| size | " + " | ".join(STAGES) + " | JVM start + stats |", "|---|" + "---|" * (len(STAGES) + 1)]
    for r in results:
        b, s = r["baseline"]["stage_seconds"], r["spark"]["stage_seconds"]
        extra = r["spark"]["wall_seconds_with_startup"] - r["spark"]["pipeline_seconds"]
        lines.append(f"| {r['size']} | " + " | ".join(f"{b.get(k, 0):.1f} / {s[k]:.1f}" for k in STAGES) + f" | {extra:.1f} |")
    lines += ["", "CPU seconds of the whole Spark run, JVM start included (JVM threads read from /proc):", "",
              "| size | Python workers | JVM task threads | JVM JIT compiler | JVM GC | JVM other |", "|---|---|---|---|---|---|"]
    for r in results:
        cpu = r["spark"].get("jvm_cpu_seconds") or {}
        lines.append(f"| {r['size']} | {r['spark']['python_worker_cpu_seconds']:.1f} | {cpu.get('tasks', 0):.1f} | "
                     f"{cpu.get('jit', 0):.1f} | {cpu.get('gc', 0):.1f} | {cpu.get('other', 0):.1f} |")
    with open(path_md, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100k,1m")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--data-dir", default=os.path.join(HERE, "data"))
    parser.add_argument("--work-dir", default="/tmp/wwclip-bench")
    parser.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of baseline and Spark per size, alternating; the median is reported")
    parser.add_argument("--warm-sizes", default="100k,1m",
                        help="sizes also measured warm (a second curation in the same JVM); '' for none")
    args = parser.parse_args(argv)
    results = []
    for size in args.sizes.split(","):
        rows = SIZES[size]
        corpus = generate_corpus(rows, os.path.join(args.data_dir, f"corpus_{size}"))
        work = os.path.join(args.work_dir, size)
        subprocess.run(["rm", "-rf", work], check=True)
        os.makedirs(work)
        load_before = os.getloadavg()[0]
        bases, sparks = [], []
        for _ in range(args.repeat):
            bases.append(run_baseline(corpus, os.path.join(work, "baseline")))
            subprocess.run(["rm", "-rf", os.path.join(work, "spark")], check=True)
            sparks.append(run_spark(corpus, os.path.join(work, "spark"), args.cores))
        warm = (run_warm(corpus, os.path.join(work, "warm"), args.cores)
                if size in args.warm_sizes.split(",") else None)
        load = (round(load_before, 2), round(os.getloadavg()[0], 2))
        base, spark = _median_run(bases, "wall_seconds"), _median_run(sparks, "pipeline_seconds")
        results.append(summarise(size, rows, base, spark, args.cores, load, warm))
        results[-1]["input_bytes"] = _dir_bytes(corpus)
        results[-1]["all_runs_seconds"] = {"baseline": [b["wall_seconds"] for b in bases],
                                           "spark_cold": [s["pipeline_seconds"] for s in sparks]}
        print(json.dumps({k: v for k, v in results[-1].items() if k not in ("baseline", "spark")}), flush=True)
    write_results(results, args.results, os.path.splitext(args.results)[0].replace("RESULTS", "results") + ".json")


if __name__ == "__main__":
    main()
