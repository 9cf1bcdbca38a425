"""Metadata builder on real Wikipedia dumps: pages/s and peak memory per engine (issue 17).

Each (dump, engine) pair runs ``python -m curation.build_metadata`` in a fresh process; peak
memory is the largest resident set size of that process tree (the JVM and the Python workers
included for Spark), sampled every 0.2 s with psutil. ``pages/s`` divides the dump's pages by
the builder's own time (``_stats.json`` ``seconds.total``: counting, selection, merge; the
Spark session start is not in it, the ``wall`` column has it). Both engines' metadata files
are compared byte for byte.

Inputs: any MediaWiki dumps. The results below used the real excerpts of
``ssvb/xztextfilter`` (``testfiles/<lang>wiki-truncated-100k.xml.xz``, commit 242abcf: the
first 100,000 lines of Wikimedia's May 2023 ``pages-articles-multistream`` files), cut after
their last complete page and closed, as ``prepare`` does::

    python -m benchmarks.metadata.bench_real_dumps prepare jawiki-truncated-100k.xml.xz /tmp/bench/jawiki.xml.bz2
    python -m benchmarks.metadata.bench_real_dumps run --dump ja=/tmp/bench/jawiki.xml.bz2 \\
        --dump uk=/tmp/bench/ukwiki.xml.bz2 --dump bn=/tmp/bench/bnwiki.xml.bz2

Results are appended to ``benchmarks/metadata/RESULTS_REAL.md`` (and printed).
"""

from __future__ import annotations

import argparse
import bz2
import json
import lzma
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date

from benchmarks.metadata.bench_builder import append_results

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def prepare(src: str, dst: str) -> int:
    """Cut an (.xz, .bz2 or plain) export after its last complete page, close it, write bz2."""
    opener = lzma.open if src.endswith(".xz") else bz2.open if src.endswith(".bz2") else open
    with opener(src, "rb") as f:
        data = f.read()
    end = data.rindex(b"</page>") + len(b"</page>\n")
    with open(dst, "wb") as out:
        out.write(bz2.compress(data[:end] + b"</mediawiki>\n"))
    return data[:end].count(b"<page>")


def _peak_rss(proc, stop: threading.Event, out: list[int]) -> None:
    import psutil

    root = psutil.Process(proc.pid)
    peak = 0
    while not stop.is_set():
        try:
            procs = [root] + root.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in procs if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.2)
    out.append(peak)


def run_one(lang: str, path: str, engine: str, out_dir: str, cores: int) -> dict:
    output = os.path.join(out_dir, f"{lang}-{engine}", "metadata.parquet")
    argv = [sys.executable, "-m", "curation.build_metadata", "--engine", engine, "--dump", f"{lang}={path}",
            "--output", output, "--quiet", "--bigram-min-pmi", "10"]
    if engine == "spark":
        argv += ["--master", f"local[{cores}]", "--conf", "spark.ui.enabled=false",
                 "--conf", f"spark.sql.shuffle.partitions={cores * 2}"]
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stop, peak = threading.Event(), []
    sampler = threading.Thread(target=_peak_rss, args=(proc, stop, peak))
    sampler.start()
    _, err = proc.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{engine} on {path} failed:\n{err.decode()[-3000:]}")
    stats = json.load(open(os.path.join(os.path.dirname(output), "_stats.json")))
    item = stats["languages"][lang]
    return {"lang": lang, "engine": engine, "pages": item["wikipedia"]["pages"]["pages"],
            "articles": item["wikipedia"]["pages"].get("articles", 0), "entries": item["entries"],
            "seconds": stats["builder"]["seconds"]["total"], "wall": wall, "peak_mb": peak[0] / 2**20,
            "output": output, "segmenter": item["wikipedia"]["segmenter"]}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    prep = sub.add_parser("prepare", help="make a complete bz2 dump from a cut excerpt")
    prep.add_argument("src")
    prep.add_argument("dst")
    run = sub.add_parser("run", help="time both engines on each dump")
    run.add_argument("--dump", action="append", required=True, metavar="LANG=PATH")
    run.add_argument("--cores", type=int, default=2)
    run.add_argument("--engines", default="local,spark")
    run.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    if args.cmd == "prepare":
        print(f"{args.dst}: {prepare(args.src, args.dst)} pages")
        return
    load_before = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-real-") as tmp:
        for item in args.dump:
            lang, _, path = item.partition("=")
            runs = [run_one(lang, path, engine, tmp, args.cores) for engine in args.engines.split(",")]
            files = {r["engine"]: open(r["output"], "rb").read() for r in runs}
            identical = len(set(files.values())) == 1
            for r in runs:
                r["identical"] = identical
                r["size_mb"] = os.path.getsize(path) / 1e6
                rows.append(r)
    machine = (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; load average "
               f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other jobs share the machine)")
    lines = [f"## {date.today().isoformat()} — real dumps: " + ", ".join(sorted({r['lang'] for r in rows})), "",
             f"Machine: {machine}. Spark: local[{args.cores}]. Bigram PMI threshold 10.", "",
             "| dump | MB bz2 | pages | segmenter | engine | builder s | pages/s | wall s | peak RSS MB | entries | identical |",
             "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|"]
    lines += [f"| {r['lang']} | {r['size_mb']:.1f} | {r['pages']:,} | {r['segmenter']} | {r['engine']} | "
              f"{r['seconds']:.1f} | {r['pages'] / r['seconds']:.1f} | {r['wall']:.1f} | {r['peak_mb']:,.0f} | "
              f"{r['entries']:,} | {'yes' if r['identical'] else 'NO'} |" for r in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        path = os.path.join(HERE, "RESULTS_REAL.md")
        header = ("# Metadata builder on real Wikipedia dumps\n\nWritten by "
                  "`python -m benchmarks.metadata.bench_real_dumps run ...` (newest last; see the module "
                  "docstring for the inputs and how they were prepared). `builder s` excludes the Spark session "
                  "start (in `wall s`); `peak RSS` is the whole process tree (JVM and Python workers included); "
                  "`identical`: both engines wrote the same metadata file, byte for byte.\n\n")
        append_results(path, header, text)


if __name__ == "__main__":
    main()
