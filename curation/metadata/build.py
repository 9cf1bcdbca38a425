"""Metadata builder job (SPEC §4): full per-language metadata from the paper's sources.

Sources, merged per language in this order (an entry keeps the first source that has it):
imported MetaCLIP JSON files, numbers 0–99, Open Multilingual WordNet lemmas, Wikipedia
unigrams (top share by frequency), bigrams (PMI threshold) and article titles (top share by
page views or in-links). All thresholds are flags whose defaults are the MetaCLIP 2 paper's
values; the rules are in ``curation.metadata.sources.selection``.

Output: one metadata Parquet file (``curation.metadata`` table format) and ``_stats.json``
beside it (entries per language and source, candidates, quotas, rejected entries, pages).

On a cluster::

    spark-submit jobs/build_metadata.py \\
        --dump en='hdfs:///wiki/enwiki-20250101-pages-articles*.xml*.bz2' \\
        --dump ja=hdfs:///wiki/jawiki-20250101-pages-articles-multistream.xml.bz2 \\
        --page-views 'hdfs:///wiki/pageviews/pageviews-2024*.gz' \\
        --wordnet /data/omw-2.0.xml.gz --metaclip-json en=/data/metaclip/metadata.json \\
        --output hdfs:///metadata/worldwide.parquet

Locally (``--engine local`` needs no Spark; fine for small wikis)::

    python -m curation.build_metadata --engine local --dump th=thwiki-pages-articles.xml.bz2 \\
        --output out/metadata.parquet
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone

from curation import localfs
from curation.layout import STATS_FILE
from curation.metadata.io import write_metadata_atomic
from curation.metadata.merge import (
    NUMBERS,
    SOURCE_PRIORITY,
    SourcePart,
    format_source_table,
    merge_languages,
    source_counts,
)
from curation.metadata.metaclip import export_metaclip, read_metaclip_json
from curation.metadata.sources.deps import MissingDependencyError, check_modules
from curation.metadata.sources.dumpio import DumpError, is_local, local_path
from curation.metadata.sources.selection import SelectionRules, top_share_size
from curation.metadata.sources.tokenize import (
    SEGMENTERS,
    is_no_space,
    normalize_lang,
    segmenter_for,
    segmenter_modules,
)
from curation.metadata.table import Metadata, MetadataError

log = logging.getLogger("curation.metadata.build")
BUILDER_VERSION = "metadata-builder-2"  # 2: segmenters for km/lo/my/bo, ja IPAdic, cleaner text
ENGINES = ("spark", "local")
EXPORT_FORMATS = ("dict", "list")


class BuildError(ValueError):
    """A bad flag, a missing input or (with --strict) rejected entries: reported before output."""


@dataclass
class BuildConfig:
    output: str = "metadata/metadata.parquet"
    dumps: dict[str, list[str]] = field(default_factory=dict)
    plain_text: dict[str, list[str]] = field(default_factory=dict)
    page_views: list[str] = field(default_factory=list)
    wordnet: list[str] = field(default_factory=list)
    wordnet_data_dir: str | None = None
    metaclip_json: dict[str, str] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)  # empty: every language found
    numbers: bool = True
    no_space: list[str] = field(default_factory=list)  # extra languages joined without spaces
    rules: SelectionRules = field(default_factory=SelectionRules)
    engine: str = "spark"
    export_metaclip: str | None = None
    export_format: str = "dict"
    strict: bool = False
    allow_truncated: bool = False  # keep the complete pages of cut dumps (stats marked partial)
    segmenters: dict[str, str] = field(default_factory=dict)  # lang -> segmenter name (default per language)
    max_buffer_keys: int = 1_000_000
    master: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    quiet: bool = False

    def validate(self) -> BuildConfig:
        problems = list(self.rules.problems())
        if not (self.dumps or self.plain_text or self.wordnet or self.wordnet_data_dir or self.metaclip_json):
            problems.append("no source given: pass --dump, --plain-text, --wordnet or --metaclip-json")
        if self.page_views and not self.dumps:
            problems.append("--page-views ranks article titles, which come from --dump inputs")
        if self.engine not in ENGINES:
            problems.append(f"--engine must be one of {ENGINES}, got {self.engine!r}")
        if self.export_format not in EXPORT_FORMATS:
            problems.append(f"--export-format must be one of {EXPORT_FORMATS}")
        if self.max_buffer_keys < 1000:
            problems.append("--max-buffer-keys must be >= 1000")
        for lang, name in self.segmenters.items():
            if name not in SEGMENTERS:
                problems.append(f"--segmenter {lang}={name}: unknown segmenter; known: {', '.join(sorted(SEGMENTERS))}")
        if not self.output:
            problems.append("--output is required")
        for path in [*self.wordnet, *self.metaclip_json.values()]:
            if not os.path.exists(path):
                problems.append(f"input not found: {path}")
        if self.engine == "local":
            for path in [p for ps in (*self.dumps.values(), *self.plain_text.values()) for p in ps] + self.page_views:
                if not any(c in path for c in "*?[") and not os.path.exists(path):
                    problems.append(f"input not found: {path}")
        if problems:
            raise BuildError("invalid configuration:\n  " + "\n  ".join(problems))
        return self

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "rules"}
        out["rules"] = self.rules.to_dict()
        return out

    def required_modules(self) -> list[tuple[str, str, str]]:
        """``(module, package, purpose)`` of the optional packages this build will import."""
        needed = []
        if self.dumps:
            needed.append(("mwparserfromhell", "mwparserfromhell", "wikitext parsing"))
        extra = frozenset(self.no_space)
        names = [segmenter_for(lang, self.segmenters.get(lang))
                 for lang in set(self.dumps) | set(self.plain_text) if is_no_space(lang, extra)]
        needed += segmenter_modules(names)
        if self.wordnet or self.wordnet_data_dir:
            needed.append(("wn", "wn", "reading WordNet"))
        return needed


# ---------------------------------------------------------------- CLI parsing

def _lang_paths(values: Sequence[str] | None, flag: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for value in values or ():
        lang, sep, path = value.partition("=")
        if not sep or not lang.strip() or not path:
            raise BuildError(f"{flag} expects LANG=PATH, got {value!r}")
        out.setdefault(normalize_lang(lang), []).append(path)
    return out


def build_parser() -> argparse.ArgumentParser:
    r = SelectionRules()
    p = argparse.ArgumentParser(
        prog="python -m curation.build_metadata",
        description="Build per-language metadata (MetaCLIP 2 rules) from Wikipedia dumps, WordNet "
                    "and MetaCLIP files. Threshold defaults are the paper's values.")
    src = p.add_argument_group("sources")
    src.add_argument("--dump", action="append", metavar="LANG=PATH",
                     help="MediaWiki XML dump (pages-articles*.xml[.bz2|.gz]; globs and any Hadoop URI); repeatable")
    src.add_argument("--plain-text", action="append", metavar="LANG=PATH",
                     help="pre-extracted plain text, one paragraph per line (WikiExtractor <doc> lines skipped)")
    src.add_argument("--page-views", action="append", metavar="PATH",
                     help="Wikimedia pageviews / pageview_complete file(s) to rank titles; without them, "
                          "titles are ranked by in-links")
    src.add_argument("--wordnet", action="append", metavar="PATH",
                     help="WN-LMF file (Open Multilingual WordNet), read with the `wn` package; repeatable")
    src.add_argument("--wordnet-data-dir", default=None,
                     help="existing `wn` data directory to use (its lexicons are read too) instead of a temporary one")
    src.add_argument("--metaclip-json", action="append", metavar="LANG=PATH",
                     help="MetaCLIP metadata.json (list) or per-language {entry: source} JSON to import")
    sel = p.add_argument_group("selection (defaults: MetaCLIP 2 paper)")
    sel.add_argument("--unigram-top-share", type=float, default=r.unigram_top_share,
                     help="keep this share of distinct words, most frequent first [%(default)s]")
    sel.add_argument("--unigram-cap", type=int, default=r.unigram_cap, help="at most this many unigrams [%(default)s]")
    sel.add_argument("--bigram-min-pmi", type=float, default=r.bigram_min_pmi,
                     help="keep bigrams with PMI = log2(c(ab)·N/(c(a)·c(b))) above this [%(default)s]")
    sel.add_argument("--bigram-min-count", type=int, default=r.bigram_min_count,
                     help="and at least this many occurrences [%(default)s]")
    sel.add_argument("--bigram-cap", type=int, default=r.bigram_cap, help="at most this many bigrams [%(default)s]")
    sel.add_argument("--title-top-share", type=float, default=r.title_top_share,
                     help="keep this share of titles with views (or in-links) [%(default)s]")
    sel.add_argument("--title-cap", type=int, default=r.title_cap, help="at most this many titles [%(default)s]")
    sel.add_argument("--no-numbers", dest="numbers", action="store_false",
                     help="do not add the numbers 0–99 to every language")
    sel.add_argument("--no-space-lang", action="append", metavar="LANG",
                     help="treat LANG as written without spaces (joined bigrams), besides the built-in list")
    sel.add_argument("--languages", default="", help="comma-separated languages to keep (default: all found)")
    sel.add_argument("--segmenter", action="append", metavar="LANG=NAME",
                     help="word segmenter of a language without spaces, instead of its default; one of "
                          + ", ".join(sorted(SEGMENTERS)) + " (e.g. ja=mecab-unidic-lite)")
    out = p.add_argument_group("output")
    out.add_argument("--output", default=BuildConfig.output, help="metadata Parquet file [%(default)s]")
    out.add_argument("--export-metaclip", metavar="DIR", default=None,
                     help="also write <DIR>/<lang>.json in MetaCLIP format")
    out.add_argument("--export-format", choices=EXPORT_FORMATS, default="dict",
                     help="dict: {entry: source} (MetaCLIP 2); list: metadata.json style [%(default)s]")
    out.add_argument("--strict", action="store_true",
                     help="fail (instead of dropping and reporting) when imported entries are invalid")
    out.add_argument("--allow-truncated", action="store_true",
                     help="read cut dumps (interrupted downloads) up to the last complete page, as bzcat does, "
                          "and mark _stats.json as partial; without it a cut dump is an error")
    run = p.add_argument_group("execution")
    run.add_argument("--engine", choices=ENGINES, default="spark",
                     help="spark: distributed job; local: one process, no Spark [%(default)s]")
    run.add_argument("--master", default=None, help="Spark master when this process starts Spark")
    run.add_argument("--conf", action="append", metavar="KEY=VALUE", help="extra Spark configuration")
    run.add_argument("--max-buffer-keys", type=int, default=BuildConfig.max_buffer_keys,
                     help="per-task count buffer size before it is flushed to the shuffle [%(default)s]")
    run.add_argument("--quiet", action="store_true")
    return p


def parse_args(argv: Sequence[str] | None = None) -> BuildConfig:
    args = build_parser().parse_args(argv)
    conf = {}
    for item in args.conf or ():
        key, sep, value = item.partition("=")
        if not sep:
            raise BuildError(f"--conf expects KEY=VALUE, got {item!r}")
        conf[key] = value
    metaclip: dict[str, str] = {}
    for lang, paths in _lang_paths(args.metaclip_json, "--metaclip-json").items():
        if len(paths) > 1:
            raise BuildError(f"--metaclip-json given twice for {lang}")
        metaclip[lang] = paths[0]
    segmenters: dict[str, str] = {}
    for lang, names in _lang_paths(args.segmenter, "--segmenter").items():
        segmenters[lang] = names[-1]
    rules = SelectionRules(args.unigram_top_share, args.unigram_cap, args.bigram_min_pmi,
                           args.bigram_min_count, args.bigram_cap, args.title_top_share, args.title_cap)
    return BuildConfig(
        output=args.output, dumps=_lang_paths(args.dump, "--dump"),
        plain_text=_lang_paths(args.plain_text, "--plain-text"), page_views=list(args.page_views or ()),
        wordnet=list(args.wordnet or ()), wordnet_data_dir=args.wordnet_data_dir, metaclip_json=metaclip,
        languages=[normalize_lang(x) for x in args.languages.split(",") if x.strip()],
        numbers=args.numbers, no_space=[normalize_lang(x) for x in args.no_space_lang or ()], rules=rules,
        engine=args.engine, export_metaclip=args.export_metaclip, export_format=args.export_format,
        strict=args.strict, allow_truncated=args.allow_truncated, segmenters=segmenters,
        max_buffer_keys=args.max_buffer_keys, master=args.master, spark_conf=conf,
        quiet=args.quiet,
    ).validate()


# ---------------------------------------------------------------- the build

@dataclass
class BuildResult:
    metadata: Metadata
    stats: dict


def _wiki_counts(config: BuildConfig, spark):
    extra = frozenset(config.no_space)
    if config.engine == "local":
        from curation.metadata.sources.local import LocalCounts

        return LocalCounts.from_files(config.dumps, config.plain_text, config.page_views, extra,
                                      config.allow_truncated, config.segmenters)
    from curation.metadata.sources.spark_wiki import SparkCounts
    from curation.spark.fs import glob_files

    if spark is None:
        raise BuildError("the Spark engine needs a SparkSession (or use --engine local)")
    missing = [p for ps in (*config.dumps.values(), *config.plain_text.values()) for p in ps] + config.page_views
    missing = [p for p in missing if not glob_files(spark, p)]
    if missing:
        raise BuildError("input not found: " + ", ".join(missing))

    def files(pattern: str) -> list[str]:
        """Files of a path or glob, named as the user wrote them when local (as the local engine
        names them in errors and in _stats.json), fully qualified otherwise."""
        if not any(c in pattern for c in "*?["):
            return [pattern]
        found = glob_files(spark, pattern)
        return [local_path(f) for f in found] if is_local(pattern) else found

    dumps = {lang: [f for p in paths for f in files(p)] for lang, paths in config.dumps.items()}
    texts = {lang: [f for p in paths for f in files(p)] for lang, paths in config.plain_text.items()}
    return SparkCounts.from_inputs(spark, dumps, texts, config.page_views, extra, config.max_buffer_keys,
                                   config.allow_truncated, config.segmenters)


def build_metadata(config: BuildConfig, spark=None) -> BuildResult:
    """Run the whole build (no output written); ``spark`` is needed for the Spark engine."""
    timings: dict[str, float] = {}
    start = time.time()
    rules = config.rules
    check_modules(config.required_modules())  # a missing package fails here, before any work

    metaclip = {lang: read_metaclip_json(path) for lang, path in config.metaclip_json.items()}
    wordnet: dict[str, list[str]] = {}
    if config.wordnet or config.wordnet_data_dir:
        from curation.metadata.sources.wordnet import wordnet_entries

        wordnet = wordnet_entries(config.wordnet, config.wordnet_data_dir)
    timings["imports"] = time.time() - start

    if config.languages:  # do not count what will not be kept
        keep = set(config.languages)
        config = BuildConfig(**{**config.__dict__, "dumps": {k: v for k, v in config.dumps.items() if k in keep},
                                "plain_text": {k: v for k, v in config.plain_text.items() if k in keep}})
    source, summaries = None, {}
    if config.dumps or config.plain_text:
        t = time.time()
        source = _wiki_counts(config, spark)
        summaries = source.summaries()
        timings["count"] = time.time() - t

    langs = sorted(set(metaclip) | set(wordnet) | set(summaries))
    if config.languages:
        langs = [lang for lang in langs if lang in set(config.languages)]
    prior = {lang: len(metaclip.get(lang, ((), ()))[0]) + (len(NUMBERS) if config.numbers else 0)
             + len(wordnet.get(lang, ())) for lang in langs}
    wiki_langs = [lang for lang in langs if lang in summaries]
    quota_u = {lang: top_share_size(summaries[lang].unigram_types, rules.unigram_top_share, rules.unigram_cap)
               for lang in wiki_langs}
    quota_t = {lang: 0 for lang in wiki_langs}
    unigrams, bigrams, titles, bigram_pass, n_titles = {}, {}, {}, {}, {}
    if source is not None:
        # Candidates are fetched with room for entries that earlier sources already hold:
        # quotas count new entries only. The title quota depends on the number of candidates,
        # which comes back with them (title_cap bounds it from above).
        t = time.time()
        unigrams = source.unigram_candidates({lang: quota_u[lang] + prior[lang] for lang in wiki_langs
                                              if quota_u[lang]})
        bigrams, bigram_pass = source.bigram_candidates(
            {lang: rules.bigram_cap + prior[lang] + quota_u[lang] for lang in wiki_langs if rules.bigram_cap},
            rules.bigram_min_pmi, rules.bigram_min_count)
        titles, n_titles = source.title_candidates(
            {lang: max(1, rules.title_cap + prior[lang] + quota_u[lang] + rules.bigram_cap) for lang in wiki_langs})
        quota_t = {lang: top_share_size(n_titles.get(lang, 0), rules.title_top_share, rules.title_cap)
                   for lang in wiki_langs}
        timings["select"] = time.time() - t
        close = getattr(source, "close", None)
        if close:
            close()

    parts: dict[str, list[SourcePart]] = {}
    for lang in langs:
        lang_parts = []
        if lang in metaclip:
            entries, labels = metaclip[lang]
            lang_parts.append(SourcePart("metaclip", entries, labels=labels))
        if config.numbers:
            lang_parts.append(SourcePart("numbers", NUMBERS))
        if lang in wordnet:
            lang_parts.append(SourcePart("wordnet", wordnet[lang]))
        if lang in summaries:
            lang_parts.append(SourcePart("wiki_unigram", unigrams.get(lang, []), quota_u[lang]))
            lang_parts.append(SourcePart("wiki_bigram", bigrams.get(lang, []), rules.bigram_cap))
            lang_parts.append(SourcePart("wiki_title", titles.get(lang, []), quota_t[lang]))
        parts[lang] = lang_parts
    metadata, reports = merge_languages(parts)

    rejected = {lang: r.rejected for lang, r in reports.items() if r.rejected}
    if config.strict:
        imported = {lang: {s: v for s, v in r.items() if s in ("metaclip", "wordnet")} for lang, r in rejected.items()}
        imported = {lang: r for lang, r in imported.items() if r}
        if imported:
            raise BuildError(f"--strict: invalid imported entries: {json.dumps(imported, ensure_ascii=False)}; "
                             f"examples: {json.dumps({k: reports[k].examples for k in imported}, ensure_ascii=False)}")

    by_source = source_counts(metadata)
    languages = {}
    for lang in langs:
        item = {"entries": metadata.n_entries(lang), "by_source": by_source.get(lang, {}),
                "merge": reports[lang].to_dict()}
        if lang in summaries:
            item["quota"] = {"wiki_unigram": quota_u[lang], "wiki_bigram": rules.bigram_cap,
                             "wiki_title": quota_t[lang]}
            item["candidates"] = {"wiki_unigram": summaries[lang].unigram_types,
                                  "wiki_bigram": bigram_pass.get(lang, 0),
                                  "wiki_title": n_titles.get(lang, 0)}
            item["wikipedia"] = summaries[lang].to_dict()
        languages[lang] = item
    totals_by_source: dict[str, int] = {}
    for counts in by_source.values():
        for s, n in counts.items():
            totals_by_source[s] = totals_by_source.get(s, 0) + n
    timings["total"] = time.time() - start
    truncated = {lang: summaries[lang].truncated_files for lang in summaries if summaries[lang].truncated_files}
    stats = {
        "partial": bool(truncated),
        "builder": {"version": BUILDER_VERSION, "engine": config.engine,
                    "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                    "seconds": {k: round(v, 3) for k, v in timings.items()}},
        "config": config.to_dict(),
        "source_priority": list(SOURCE_PRIORITY),
        "fingerprint": metadata.fingerprint(),
        "totals": {"languages": len(metadata.entries), "entries": sum(len(v) for v in metadata.entries.values()),
                   "by_source": dict(sorted(totals_by_source.items()))},
        "languages": languages,
    }
    return BuildResult(metadata, stats)


# ---------------------------------------------------------------- output

def stats_path(output: str) -> str:
    """``_stats.json`` in the directory of the metadata file."""
    head, _, _ = output.rstrip("/").rpartition("/")
    return f"{head}/{STATS_FILE}" if head else STATS_FILE


def write_outputs(result: BuildResult, config: BuildConfig, spark=None) -> None:
    """Write the metadata file (atomically) and ``_stats.json`` beside it."""
    text = json.dumps(result.stats, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if is_local(config.output):
        write_metadata_atomic(result.metadata, local_path(config.output), BUILDER_VERSION)
        localfs.write_text(local_path(stats_path(config.output)), text)
    else:
        if spark is None:
            raise BuildError(f"--output {config.output} is not a local path: use the Spark engine")
        from curation.spark import fs

        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "metadata.parquet")
            write_metadata_atomic(result.metadata, local, BUILDER_VERSION)
            fs.put_file(spark, local, config.output)
        fs.write_text(spark, stats_path(config.output), text)
    if config.export_metaclip:
        export_metaclip(result.metadata, config.export_metaclip, config.export_format)


def report(result: BuildResult) -> str:
    """The per-language x source table the CLI prints, plus dropped-entry lines."""
    lines = [format_source_table(source_counts(result.metadata))]
    for lang, item in sorted(result.stats["languages"].items()):
        merge = item["merge"]
        for source, reasons in sorted(merge["rejected"].items()):
            lines.append(f"{lang}: dropped {sum(reasons.values())} invalid {source} entr(y/ies): "
                         + ", ".join(f"{r} x{n}" for r, n in sorted(reasons.items())))
        bad = item.get("wikipedia", {}).get("pages", {}).get("bad_records")
        if bad:
            lines.append(f"{lang}: {bad} malformed dump record(s) skipped")
        for path, kept in sorted(item.get("wikipedia", {}).get("truncated_files", {}).items()):
            lines.append(f"{lang}: WARNING {path} is truncated: kept its {kept['pages']:,} complete pages "
                         f"({kept['xml_bytes']:,} bytes of XML, {kept['compressed_bytes']:,} bytes of the file read); "
                         "the metadata is partial (_stats.json: \"partial\": true)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = parse_args(argv)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    spark, created = None, False
    try:
        if config.engine == "spark" and (config.dumps or config.plain_text or not is_local(config.output)):
            from pyspark.sql import SparkSession

            from curation.spark.session import get_spark

            created = SparkSession.getActiveSession() is None
            spark = get_spark("build-metadata", config.master, config.spark_conf)
        result = build_metadata(config, spark)
        write_outputs(result, config, spark)
    except (BuildError, MetadataError, FileNotFoundError, DumpError, MissingDependencyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        if spark is not None and created:
            spark.stop()
    if not config.quiet:
        print(report(result))
        print(f"wrote {config.output} ({result.stats['totals']['entries']} entries, "
              f"{result.stats['totals']['languages']} languages) and {stats_path(config.output)}")
    return 0
