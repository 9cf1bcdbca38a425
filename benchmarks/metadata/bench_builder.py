"""Metadata builder throughput (issue #4): pages/s on a generated MediaWiki dump.

Generates a synthetic ``pages-articles`` export in the real format (multistream bzip2) with
article-like wikitext: Zipf-distributed words, links to other pages, templates, references,
headings, a category and redirects; then measures, on the same files, in one run:

1. ``records``: the per-page work alone (XML parse, wikitext -> text, tokenise, count), in
   one Python process: the baseline every engine pays per page;
2. ``local``: the whole build with ``--engine local`` (one process);
3. ``spark``: the whole build with ``--engine spark`` on ``local[N]`` (session start excluded).

    python -m benchmarks.metadata.bench_builder                   # 20k en + 2k zh pages, local[2]
    python -m benchmarks.metadata.bench_builder --pages 2000 --zh-pages 200 --no-write   # quick check

Results are appended to ``benchmarks/metadata/RESULTS.md`` (and printed).
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date

import numpy as np

from curation.metadata.sources.counting import CountBuffer, count_record
from curation.metadata.sources.dumpio import DumpReader, probe_local
from curation.metadata.sources.export_xml import DumpPage, write_dump
from curation.metadata.sources.wikitext import parse_siteinfo

HERE = os.path.dirname(os.path.abspath(__file__))
_SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "an", "er", "in", "on", "us", "ba", "de", "fu",
              "ga", "hi", "jo", "ki", "ma", "no", "pe", "qu", "ri", "si", "ta", "un", "ve", "wo", "xa", "ze"]
_HAN = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
        "同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自"
        "二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日"
        "那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变"
        "条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总"
        "次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指"
        "几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器"
        "压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安"
        "场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集"
        "温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连"
        "断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精"
        "值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属"
        "圆包火住调满县局照参红细引听该铁价严龙飞")


def _words(rng: np.random.Generator, n_vocab: int) -> list[str]:
    words, seen = [], set()
    while len(words) < n_vocab:
        w = "".join(rng.choice(_SYLLABLES, size=int(rng.integers(1, 5))))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def generate_pages(n_pages: int, seed: int = 0, han: bool = False, n_vocab: int = 50_000,
                   words_per_page: int = 350) -> list[DumpPage]:
    """Article-like pages (about 2.5 kB of wikitext each for the Latin-script default)."""
    rng = np.random.default_rng(seed)
    if han:
        vocab = ["".join(rng.choice(list(_HAN), size=int(rng.integers(1, 4)))) for _ in range(n_vocab)]
        vocab = list(dict.fromkeys(vocab))
        sep, stop = "", "。"
    else:
        vocab = _words(rng, n_vocab)
        sep, stop = " ", ". "
    n_titles = max(10, n_pages - n_pages // 20)
    titles = list(dict.fromkeys(f"{vocab[i].capitalize()}{sep}{vocab[j]}".strip()
                                for i, j in rng.integers(0, len(vocab), size=(n_titles * 2, 2))))[:n_titles]
    pages = []
    for p in range(n_pages):
        if p >= len(titles):  # the last 5 %: redirects
            pages.append(DumpPage(f"{titles[p % len(titles)]} (redirect {p})", redirect=titles[p % len(titles)]))
            continue
        ranks = np.minimum(rng.zipf(1.15, size=words_per_page), len(vocab)) - 1
        words = [vocab[r] for r in ranks]
        parts = ["{{Infobox thing|name=" + titles[p] + "|size=12}}\n'''" + titles[p] + "''' "]
        for i in range(0, len(words), 12):
            sentence = sep.join(words[i:i + 12])
            if rng.random() < 0.3:
                sentence += f" [[{titles[int(rng.integers(0, len(titles)))]}]]"
            if rng.random() < 0.1:
                sentence += "<ref>{{cite web|url=http://example.org|title=Source}}</ref>"
            parts.append(sentence + stop)
            if i and i % 120 == 0:
                parts.append(f"\n\n== {vocab[int(rng.integers(0, 100))]} ==\n")
        parts.append("\n[[Category:Things]]\n")
        pages.append(DumpPage(titles[p], "".join(parts)))
    return pages


def time_records(path: str, lang: str) -> tuple[int, float]:
    """Per-page work only, one process: (pages, seconds)."""
    site = parse_siteinfo(probe_local(path).head, lang)
    buf = CountBuffer(1_000_000)
    start = time.perf_counter()
    n = 0
    with open(path, "rb") as raw:
        for record in DumpReader(raw, path).records():
            count_record(record, lang, buf, site)
            n += "<page>" in record
            if buf.full():
                list(buf.drain())
    return n, time.perf_counter() - start


def time_build(dumps: dict[str, str], engine: str, out_dir: str, spark=None) -> tuple[float, dict]:
    from curation.metadata.build import BuildConfig, build_metadata, write_outputs
    from curation.metadata.sources.selection import SelectionRules

    config = BuildConfig(dumps={k: [v] for k, v in dumps.items()}, engine=engine,
                         output=os.path.join(out_dir, f"{engine}.parquet"),
                         rules=SelectionRules(bigram_min_pmi=10.0)).validate()
    start = time.perf_counter()
    result = build_metadata(config, spark)
    write_outputs(result, config, spark)
    return time.perf_counter() - start, result.stats


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pages", type=int, default=20_000, help="English-like pages [%(default)s]")
    p.add_argument("--zh-pages", type=int, default=2_000, help="Chinese-like pages (jieba) [%(default)s]")
    p.add_argument("--cores", type=int, default=2, help="Spark local[N] [%(default)s]")
    p.add_argument("--no-spark", action="store_true")
    p.add_argument("--no-write", action="store_true", help="print only, do not append to RESULTS.md")
    args = p.parse_args(argv)

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-metadata-") as tmp:
        t = time.perf_counter()
        dumps = {"en": os.path.join(tmp, "enwiki-bench-pages-articles-multistream.xml.bz2")}
        write_dump(dumps["en"], generate_pages(args.pages, 0), "en")
        if args.zh_pages:
            dumps["zh"] = os.path.join(tmp, "zhwiki-bench-pages-articles-multistream.xml.bz2")
            write_dump(dumps["zh"], generate_pages(args.zh_pages, 1, han=True), "zh")
        gen_s = time.perf_counter() - t
        sizes = {lang: os.path.getsize(path) for lang, path in dumps.items()}
        rows = []
        total_pages = 0
        for lang, path in dumps.items():
            n, secs = time_records(path, lang)
            total_pages += n
            rows.append((f"records ({lang}), 1 process", n, secs))
        local_s, local_stats = time_build(dumps, "local", tmp)
        rows.append(("build --engine local, 1 process", total_pages, local_s))
        if not args.no_spark:
            from curation.spark.session import get_spark

            spark = get_spark("bench-metadata", f"local[{args.cores}]",
                              {"spark.sql.shuffle.partitions": str(args.cores * 2), "spark.ui.enabled": "false",
                               "spark.sql.files.maxPartitionBytes": str(4 << 20)})
            spark_s, spark_stats = time_build(dumps, "spark", tmp, spark)
            spark.stop()
            rows.append((f"build --engine spark, local[{args.cores}]", total_pages, spark_s))
            assert spark_stats["fingerprint"] == local_stats["fingerprint"], "engines disagree"

    today = date.today().isoformat()
    machine = (f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}; load average "
               f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after (other jobs share the machine)")
    lines = [f"## {today} — {args.pages:,} en-like + {args.zh_pages:,} zh-like pages",
             "",
             f"Machine: {machine}. Dumps: " + ", ".join(f"{k} {v / 1e6:.1f} MB bz2" for k, v in sizes.items())
             + f" (generated in {gen_s:.0f} s). Entries built: {local_stats['totals']['entries']:,}.",
             "",
             "| measurement | pages | seconds | pages/s |",
             "|---|---:|---:|---:|"]
    lines += [f"| {name} | {n:,} | {secs:.1f} | {n / secs:,.0f} |" for name, n, secs in rows]
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_write:
        path = os.path.join(HERE, "RESULTS.md")
        header = ("# Metadata builder throughput\n\nWritten by `python -m benchmarks.metadata.bench_builder` "
                  "(newest last). `records` is the per-page work alone (XML + wikitext + tokenise + count); "
                  "`build` adds aggregation, selection, merge and output. The Spark time excludes session "
                  "start-up; after timing, both engines are checked to have built the same metadata. The bigram "
                  "PMI threshold is 10: the synthetic dumps are too small for the paper's 30 to keep anything, "
                  "which would skip the PMI joins.\n\n")
        append_results(path, header, text)


def append_results(path: str, header: str, text: str) -> None:
    """Add ``text`` as the newest section of the results file ``path`` (``header`` first if new)."""
    exists = os.path.exists(path)
    with open(path, "a", encoding="utf-8") as f:
        if not exists:
            f.write(header)
        f.write("\n" + text)


if __name__ == "__main__":
    main()
