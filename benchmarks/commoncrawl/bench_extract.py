"""Benchmark of wwclip-extract (not a test): WAT records/s and rows/s per core, against a
one-process fastwarc loop over the same files in the same run, and a cost projection per
Common Crawl snapshot.

    python -m benchmarks.commoncrawl.bench_extract --pages 100000 --files 8 --cores 2
    python -m benchmarks.commoncrawl.bench_extract --pages 2000 --files 2 --cores 2 --skip-spark   # smoke

What is measured, all on the same generated WAT files (``curation.commoncrawl.sample``: web-like
pages, ~18 images each, written with warcio; cached under ``--data``):

- ``baseline``: the loop a user writes first, in one process: fastwarc ``ArchiveIterator`` on the
  gzip file (its native decompression), ``json.loads`` of every metadata record, and for every
  ``IMG@/src`` link MetaCLIP's ``WATParser`` steps (urljoin with the page URL, alt / title /
  data-image-title stripped of newlines, non-empty ones kept). No rejects, no Arrow, no output.
- ``extract_file``: this project's per-file function (verified gzip, fastwarc records, entity
  decoding, URL rules and reject reasons, one dict per row) in one process; and with ``warcio``
  as the reader on the first file (the reader comparison).
- ``spark``: ``python -m curation.commoncrawl`` on ``local[cores]``, a fresh process (JVM start
  included in ``wall_seconds``; ``job_seconds`` is the run itself): parts, dedup, three tables,
  stats. Per core = divided by ``cores``. Python-worker CPU is read from the process tree.

Results go to ``benchmarks/commoncrawl/results.json`` and ``RESULTS.md`` (with the machine, the
load average, and the projection). The machine may be shared: compare rates measured in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from urllib.parse import urljoin

import psutil

HERE = os.path.dirname(os.path.abspath(__file__))

# Public figures used by the projection (docs/commoncrawl.md gives the sources).
SNAPSHOT_PAGES = 2.7e9  # CC-MAIN-2024-22 (May 2024): 2.7 billion pages, 377 TiB uncompressed
SNAPSHOT_WAT_FILES = 100_000  # one WAT per WARC file; 100 segments x 1,000 files in recent crawls
WAT_BYTES_PER_PAGE_CC = 10.35 * 2**40 / 1.72e9  # CC-MAIN-2016-40: 10.35 TiB of WAT for 1.72 B pages
VCPU_HOUR_USD = (0.02, 0.05)  # assumed price range of one vCPU-hour (spot .. on-demand)


def generate(data: str, pages: int, files: int, seed: int) -> dict:
    from curation.commoncrawl.sample import write_sample

    manifest = os.path.join(data, "manifest.json")
    if os.path.exists(manifest):
        with open(manifest) as f:
            info = json.load(f)
        if info["pages"] == pages and info["files"] == files and info["seed"] == seed:
            return info
    t0 = time.perf_counter()
    paths = write_sample(data, n_pages=pages, n_files=files, seed=seed, formats=("wat",),
                         processes=min(files, os.cpu_count() or 1, 4))["wat"]
    info = {"pages": pages, "files": files, "seed": seed, "paths": paths,
            "bytes": sum(os.path.getsize(p) for p in paths), "generate_seconds": round(time.perf_counter() - t0, 1)}
    with open(manifest, "w") as f:
        json.dump(info, f, indent=2)
    return info


def _timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    out.update(wall_seconds=round(time.perf_counter() - wall, 2), cpu_seconds=round(time.process_time() - cpu, 2))
    return out


def baseline(paths: list[str]) -> dict:
    """One process, fastwarc + json + MetaCLIP's link handling (see module docstring)."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    def run():
        records = pages = rows = 0
        for path in paths:
            for rec in ArchiveIterator(open(path, "rb"), record_types=WarcRecordType.metadata, parse_http=False):
                records += 1
                target = rec.headers.get("WARC-Target-URI")
                try:
                    doc = json.loads(rec.reader.read())
                    md = doc["Envelope"]["Payload-Metadata"]["HTTP-Response-Metadata"]["HTML-Metadata"]
                    links = md["Links"]
                except (KeyError, TypeError, ValueError):
                    continue
                pages += 1
                for link in links:
                    if not str(link.get("path", "")).startswith("IMG@/src") or "url" not in link:
                        continue
                    try:
                        urljoin(target, link["url"])
                    except ValueError:
                        continue
                    for key in ("alt", "title", "data-image-title"):
                        text = link.get(key)
                        if text and text.replace("\n", " ").replace("\r", " ").strip():
                            rows += 1
        return {"records": records, "pages": pages, "rows": rows}
    return _timed(run)


def pure_extract(paths: list[str], reader: str = "fastwarc") -> dict:
    from curation.commoncrawl.extract import extract_file
    from curation.commoncrawl.settings import ExtractSettings

    settings = ExtractSettings(reader=reader).validate()

    def run():
        out = {"records": 0, "pages": 0, "rows": 0, "rejects": 0, "links": 0}
        for path in paths:
            for r in extract_file(path, settings):
                if r["kind"] == "file":
                    for k in out:
                        out[k] += r[k]
                    assert r["status"] == "ok", r["error"]
        return out
    return _timed(run)


def spark_run(paths_file: str, out: str, cores: int) -> dict:
    from benchmarks.run import TreeMonitor

    cmd = [sys.executable, "-m", "curation.commoncrawl", "--input", paths_file, "--output", out, "--reprocess",
           "--master", f"local[{cores}]", "--quiet", "--conf", "spark.ui.enabled=false",
           "--conf", f"spark.sql.shuffle.partitions={max(4, 2 * cores)}"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    mon = TreeMonitor(proc.pid)
    mon.start()
    log = proc.communicate()[0]
    wall = time.perf_counter() - t0
    mon.stop_flag.set()
    mon.join()
    if proc.returncode != 0:
        raise RuntimeError(f"extract failed:\n{log[-4000:]}")
    with open(os.path.join(out, "_stats.json")) as f:
        st = json.load(f)["stages"]["extract"]
    return {"records": st["records"], "pages": st["pages"], "rows": st["rows_extracted"], "rows_out": st["rows_out"],
            "rejects": st["rejects"], "links": st["links"], "wall_seconds": round(wall, 2),
            "job_seconds": st["seconds"], "task_seconds": st["task_seconds"],
            "python_worker_cpu_seconds": round(sum(mon.worker_cpu.values()), 2),
            "jvm_cpu_seconds": mon.jvm_cpu_by_kind(), "peak_python_worker_rss_mb": round(mon.peak_worker_mb, 1),
            "peak_jvm_rss_mb": round(mon.peak_jvm_mb, 1)}


def rates(r: dict, seconds: float, cores: int = 1) -> dict:
    return {"records_per_s_per_core": round(r["records"] / seconds / cores),
            "pages_per_s_per_core": round(r["pages"] / seconds / cores),
            "rows_per_s_per_core": round(r["rows"] / seconds / cores)}


def projection(pages_per_s_per_core: float, rows_per_page: float) -> dict:
    core_hours = SNAPSHOT_PAGES / pages_per_s_per_core / 3600
    return {"pages": SNAPSHOT_PAGES, "wat_files": SNAPSHOT_WAT_FILES,
            "wat_tib_estimate": round(SNAPSHOT_PAGES * WAT_BYTES_PER_PAGE_CC / 2**40, 1),
            "pages_per_wat_file": round(SNAPSHOT_PAGES / SNAPSHOT_WAT_FILES),
            "core_hours": round(core_hours), "wall_hours_on_256_cores": round(core_hours / 256, 1),
            "wall_hours_on_1024_cores": round(core_hours / 1024, 2),
            "usd_range": [round(core_hours * p) for p in VCPU_HOUR_USD],
            "rows_before_dedup_estimate": round(SNAPSHOT_PAGES * rows_per_page)}


def spark_cpu(s: dict) -> float:
    """CPU seconds of the Spark run: Python workers + every JVM thread (JIT and GC included)."""
    return s["python_worker_cpu_seconds"] + sum(s["jvm_cpu_seconds"].values())


def write_report(results: dict, path_md: str) -> None:
    g, b, p, s = results["data"], results["baseline"], results["extract_file"], results.get("spark")
    lines = ["# Common Crawl extraction benchmark", "",
             f"Date: {results['date']}. Machine: {results['machine']}. Load average (1 min) before/after: "
             f"{results['load'][0]} / {results['load'][1]}.",
             f"Command: `{results['command']}`.", "",
             f"Data: {g['pages']:,} generated pages in {g['files']} WAT files, {g['bytes'] / 1e6:.0f} MB gzip "
             f"({g['bytes'] / g['pages']:,.0f} B/page; Common Crawl 2016: {WAT_BYTES_PER_PAGE_CC:,.0f} B/page), "
             f"{b['records']:,} WAT records (3 per page + 1 per file).", "",
             "Per core = per CPU-second the run used (user + system, all its processes): on a shared machine "
             "wall-clock rates mostly measure the other tenants, CPU time does not. Wall-clock rates per core "
             "are given too; at low load the two agree.", "",
             "| run | cores | wall s | CPU s | records/CPU-s | pages/CPU-s | rows/CPU-s | records/s/core (wall) | rows |",
             "|---|---|---|---|---|---|---|---|---|"]
    runs = [("baseline: one-process fastwarc loop", b, 1, b["cpu_seconds"]),
            (f"extract_file, one process (fastwarc), {p['pages']:,} pages", p, 1, p["cpu_seconds"]),
            ("extract_file, first file (fastwarc)", results["extract_file_fastwarc_first"], 1,
             results["extract_file_fastwarc_first"]["cpu_seconds"]),
            ("extract_file, first file (warcio)", results["extract_file_warcio"], 1,
             results["extract_file_warcio"]["cpu_seconds"])]
    if results["extract_file_fastwarc_first"] == p:  # --single-process-files 1: the same run
        runs.pop(2)
    for name, r, cores, cpu in runs:
        rr, rw = rates(r, cpu), rates(r, r["wall_seconds"], cores)
        lines.append(f"| {name} | {cores} | {r['wall_seconds']} | {cpu} | {rr['records_per_s_per_core']:,} | "
                     f"{rr['pages_per_s_per_core']:,} | {rr['rows_per_s_per_core']:,} | "
                     f"{rw['records_per_s_per_core']:,} | {r['rows']:,} |")
    if s:
        cpu = round(spark_cpu(s), 1)
        rr, rw = rates(s, cpu), rates(s, s["job_seconds"], results["cores"])
        lines.append(f"| Spark `local[{results['cores']}]`, whole job (JVM start excluded from wall) | "
                     f"{results['cores']} | {s['job_seconds']} | {cpu} | {rr['records_per_s_per_core']:,} | "
                     f"{rr['pages_per_s_per_core']:,} | {rr['rows_per_s_per_core']:,} | {rw['records_per_s_per_core']:,} | "
                     f"{s['rows']:,} -> {s['rows_out']:,} after dedup |")
        lines += ["", f"Spark CPU seconds: Python workers {s['python_worker_cpu_seconds']}, JVM {s['jvm_cpu_seconds']} "
                      f"(JVM start included); peak Python worker RSS {s['peak_python_worker_rss_mb']} MB, "
                      f"peak JVM RSS {s['peak_jvm_rss_mb']} MB; task seconds (sum of per-file times) "
                      f"{s['task_seconds']}."]
    lines += ["", "Regenerate this file from results.json without re-running: `python -c \"import json; "
              "from benchmarks.commoncrawl.bench_extract import write_report; "
              "write_report(json.load(open('benchmarks/commoncrawl/results.json')), "
              "'benchmarks/commoncrawl/RESULTS.md')\"`."]
    lines += ["", "Rows: the baseline counts MetaCLIP's texts (non-empty alt/title/data-image-title of IMG@/src "
              "links, no URL checks); extract_file and Spark count output rows before dedup (data:, bad-scheme "
              "and malformed links are rejects, not rows; entities decoded; rejects written too).", ""]
    proj = results["projection"]
    lines += ["## Projection per Common Crawl snapshot", "",
              f"Rate used: {proj['rate_source']} = {proj['pages_per_s_per_core']:,} pages per CPU-second; "
              f"{proj['rows_per_page']} rows/page measured on the generated pages.", "",
              "| quantity | value |", "|---|---|",
              f"| pages (CC-MAIN-2024-22) | {proj['pages'] / 1e9:.1f} B |",
              f"| WAT files | {proj['wat_files']:,} (~{proj['pages_per_wat_file']:,} pages each) |",
              f"| WAT data, gzip (2016 bytes/page) | ~{proj['wat_tib_estimate']} TiB |",
              f"| core-hours | **{proj['core_hours']:,}** |",
              f"| wall time on 256 / 1,024 cores | {proj['wall_hours_on_256_cores']} h / "
              f"{proj['wall_hours_on_1024_cores']} h |",
              f"| compute cost at ${VCPU_HOUR_USD[0]}-{VCPU_HOUR_USD[1]} per vCPU-hour | "
              f"${proj['usd_range'][0]:,}-{proj['usd_range'][1]:,} |",
              f"| rows before dedup (generated-page ratio) | ~{proj['rows_before_dedup_estimate'] / 1e9:.0f} B |", "",
              "Linear scaling assumed (one task per file, no shuffle until the dedup); reading from S3 inside "
              "us-east-1 is free of transfer charges and not included; generated pages are smaller than real "
              "ones (bytes/page above), so real WAT records cost more JSON parsing per page."]
    with open(path_md, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.commoncrawl.bench_extract")
    p.add_argument("--pages", type=int, default=100_000)
    p.add_argument("--files", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--data", default="/tmp/wwclip-cc-bench", help="cache folder of the generated WAT files")
    p.add_argument("--skip-spark", action="store_true")
    p.add_argument("--single-process-files", type=int, default=0,
                   help="files for the one-process extract_file run [0: all]")
    p.add_argument("--results", default=os.path.join(HERE, "results.json"))
    args = p.parse_args(argv)
    load_before = round(os.getloadavg()[0], 2)
    data = generate(args.data, args.pages, args.files, args.seed)
    paths = data["paths"]
    results = {"date": date.today().isoformat(), "cores": args.cores,
               "machine": f"{platform.node() or 'host'}: {psutil.cpu_count()} cores, "
                          f"{round(psutil.virtual_memory().total / 2**30)} GiB, "
                          f"{platform.python_implementation()} {platform.python_version()}",
               "command": "python -m benchmarks.commoncrawl.bench_extract " + " ".join(argv or sys.argv[1:]),
               "data": data}
    results["baseline"] = baseline(paths)
    results["extract_file"] = pure_extract(paths[:args.single_process_files or len(paths)])
    results["extract_file_warcio"] = pure_extract(paths[:1], "warcio")
    results["extract_file_fastwarc_first"] = (results["extract_file"] if args.single_process_files == 1
                                              else pure_extract(paths[:1], "fastwarc"))
    if not args.skip_spark:
        paths_file = os.path.join(args.data, "bench.paths")
        with open(paths_file, "w") as f:
            f.writelines(x + "\n" for x in paths)
        results["spark"] = spark_run(paths_file, os.path.join(args.data, "out"), args.cores)
    s = results.get("spark")
    if s:
        source, rate = "Spark job, all CPU", rates(s, spark_cpu(s))["pages_per_s_per_core"]
    else:
        source = "extract_file one process, CPU"
        rate = rates(results["extract_file"], results["extract_file"]["cpu_seconds"])["pages_per_s_per_core"]
    rows_per_page = round(results["extract_file"]["rows"] / results["extract_file"]["pages"], 2)
    results["projection"] = {"rate_source": source, "pages_per_s_per_core": rate, "rows_per_page": rows_per_page,
                             **projection(rate, rows_per_page)}
    results["load"] = (load_before, round(os.getloadavg()[0], 2))
    with open(args.results, "w") as f:
        json.dump(results, f, indent=2)
    write_report(results, os.path.join(os.path.dirname(args.results), "RESULTS.md"))
    print(open(os.path.join(os.path.dirname(args.results), "RESULTS.md")).read())
    return 0


if __name__ == "__main__":
    sys.exit(main())
