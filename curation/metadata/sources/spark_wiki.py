"""Spark glue of the metadata builder: DataFrames in, DataFrames (or small collected lists) out.

Data flow (nothing per page ever reaches the driver):

0. the driver probes every dump from its two ends (``dumpio.probe_dump`` on bytes read through
   Hadoop's FileSystem, the same function the local engine runs): not MediaWiki XML, bad
   encodings and cut files fail here, before any work; the decoded head gives ``<siteinfo>``;
1. complete UTF-8 dumps are read with Spark's text source split on ``</page>`` (Hadoop splits
   bzip2 dumps, multistream or not, across tasks), as bytes decoded strictly in the task;
   gzip files (not splittable anyway), UTF-16 files and, with ``--allow-truncated``, cut files
   are read in one Python task each by ``dumpio.DumpReader`` (through ``pyarrow.fs`` for
   non-local URIs), which gives the same records and keeps the complete pages of a cut file;
   plain-text inputs are read by line;
2. ``mapInArrow`` runs ``counting.count_record`` on every record and pre-aggregates in a
   bounded buffer per task; one ``groupBy(lang, kind, a, b).sum(n)`` gives all count tables.
   Errors raised in tasks (a missing package, undecodable bytes) reach the caller as the same
   ``DumpError``/``MissingDependencyError`` the local engine raises;
3. selection needs per-language quotas (small, collected), then a window per language keeps
   only the top ``limit`` candidates, which are collected and ranked by the same pure
   functions as the local engine (``selection.rank_*``).

Bigram PMI is computed by a pandas UDF calling ``selection.bigram_pmi``; words too frequent
to reach the PMI threshold are pruned before the joins (``max_word_count_for_pmi``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from urllib.parse import urlparse

import pandas as pd
import pyarrow as pa

from curation.metadata.sources import counting as C
from curation.metadata.sources.deps import MissingDependencyError
from curation.metadata.sources.dumpio import (
    PAGE_END,
    DumpError,
    DumpProbe,
    DumpReader,
    TruncatedDumpError,
    end_ranges,
    iter_text_lines,
    open_raw,
    probe_dump,
    text_file_cut,
    truncated_error,
)
from curation.metadata.sources.pageviews import parse_pageview_line
from curation.metadata.sources.selection import (
    bigram_pmi,
    max_word_count_for_pmi,
    rank_bigrams,
    rank_titles,
    rank_unigrams,
)
from curation.metadata.sources.tokenize import is_no_space, segmenter_name
from curation.metadata.sources.wikitext import SiteInfo, parse_siteinfo
from curation.metadata.table import MAX_ENTRY_CHARS
from curation.spark import fs

COUNT_SCHEMA = "lang string, kind string, a string, b string, n long"
VIEW_SCHEMA = "lang string, title string, n long"
XML, TEXT = "xml", "text"
_ARROW_COUNT_SCHEMA = pa.schema([("lang", pa.string()), ("kind", pa.string()), ("a", pa.string()),
                                 ("b", pa.string()), ("n", pa.int64())])
_ARROW_VIEW_SCHEMA = pa.schema([("lang", pa.string()), ("title", pa.string()), ("n", pa.int64())])
_BATCH_ROWS = 100_000


# ---------------------------------------------------------------- files through Hadoop

def read_ends(spark, path: str) -> tuple[bytes, bytes, int]:
    """(first HEAD_BYTES, last TAIL_BYTES, size) of a file on any Hadoop file system: the bytes
    ``dumpio.read_ends`` gives the local engine (``dumpio.end_ranges``)."""
    size = fs.path_bytes(spark, path)
    head, tail = fs.read_ranges(spark, path, end_ranges(size))
    return head, tail, size


def probe_file(spark, path: str) -> DumpProbe:
    """``dumpio.probe_dump`` on a file read through Hadoop (the local engine's probe, same bytes)."""
    return probe_dump(path, *read_ends(spark, path))


_TASK_ERROR = re.compile(r"(TruncatedDumpError|DumpError|MissingDependencyError): ([^\n]+)")
_ERRORS = {"TruncatedDumpError": TruncatedDumpError, "DumpError": DumpError,
           "MissingDependencyError": MissingDependencyError}
_UNDECODABLE = "undecodable bytes in a record of "


def locate_error(spark, path: str, mode: str) -> None:
    """Re-read one file on the driver with the local reader, which raises the exact error
    (byte offset included) that a task could only report per record."""
    with fs.open_input(spark, path) as raw:
        if mode == XML:
            for _ in DumpReader(raw, path).records():
                pass
        else:
            for _ in iter_text_lines(raw, path):
                pass


@contextmanager
def task_errors(spark, modes: Mapping[str, str] | None = None) -> Iterator[None]:
    """Turn a Spark job failure caused by one of the builder's errors back into that error."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - re-raised unchanged unless it carries a builder error
        found = _TASK_ERROR.findall(str(exc))
        if not found:
            raise
        name, message = found[-1]
        if message.startswith(_UNDECODABLE) and modes:
            where = urlparse(message[len(_UNDECODABLE):].split(" (", 1)[0]).path
            for path, mode in modes.items():
                if urlparse(path).path == where:  # Spark names files as file:///..., users as /...
                    locate_error(spark, path, mode)
        raise _ERRORS[name](message) from None


# ---------------------------------------------------------------- counting

def read_inputs(spark, dumps: Mapping[str, Sequence[str]], plain_text: Mapping[str, Sequence[str]]):
    """One DataFrame ``(lang, mode, value, path)`` of the files Hadoop reads: dump records
    (``mode='xml'``) and text lines, ``value`` as the raw bytes (decoded in the task)."""
    from pyspark.sql import functions as F

    frames = []
    for lang, paths in sorted(dumps.items()):
        if paths:
            frames.append(spark.read.option("lineSep", PAGE_END).text(list(paths))
                          .select(F.lit(lang).alias("lang"), F.lit(XML).alias("mode"),
                                  F.col("value").cast("binary").alias("value"), F.input_file_name().alias("path")))
    for lang, paths in sorted(plain_text.items()):
        if paths:
            frames.append(spark.read.text(list(paths))
                          .select(F.lit(lang).alias("lang"), F.lit(TEXT).alias("mode"),
                                  F.col("value").cast("binary").alias("value"), F.input_file_name().alias("path")))
    if not frames:
        return None
    out = frames[0]
    for frame in frames[1:]:
        out = out.unionByName(frame)
    return out


def _rows_to_batches(rows, schema: pa.Schema):
    columns = [[] for _ in schema.names]
    for row in rows:
        for column, value in zip(columns, row):
            column.append(value)
        if len(columns[0]) >= _BATCH_ROWS:
            yield pa.RecordBatch.from_arrays([pa.array(c, f.type) for c, f in zip(columns, schema)], schema=schema)
            columns = [[] for _ in schema.names]
    if columns[0]:
        yield pa.RecordBatch.from_arrays([pa.array(c, f.type) for c, f in zip(columns, schema)], schema=schema)


def _decode(value: bytes, path: str) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DumpError(f"{_UNDECODABLE}{path} (byte {exc.start:,} of a record: {exc.reason})") from None


def count_inputs(records, sites: Mapping[str, SiteInfo], no_space: Mapping[str, bool],
                 max_keys: int = 1_000_000, python_files=None, allow_truncated: bool = False,
                 segmenters: Mapping[str, str] | None = None):
    """Aggregated count rows ``(lang, kind, a, b, n)`` (COUNT_SCHEMA) of the Hadoop-read
    ``records`` (``read_inputs``) and of ``python_files`` (a DataFrame ``(lang, mode, path)``
    of files each read in one task by ``dumpio``)."""
    from pyspark.sql import functions as F

    sites = dict(sites)
    no_space = dict(no_space)
    segmenters = dict(segmenters or {})

    def count_partition(batches):
        buf = C.CountBuffer(max_keys)
        for batch in batches:
            data = batch.to_pydict()
            for lang, mode, value, path in zip(data["lang"], data["mode"], data["value"], data["path"]):
                if value is None:
                    continue
                text = _decode(value, path)
                if mode == XML:
                    C.count_record(text, lang, buf, sites.get(lang, SiteInfo()), no_space.get(lang),
                                   segmenters.get(lang))
                else:
                    C.count_text_line(text, lang, buf, no_space.get(lang), segmenters.get(lang))
                if buf.full():
                    yield from _rows_to_batches(buf.drain(), _ARROW_COUNT_SCHEMA)
        yield from _rows_to_batches(buf.drain(), _ARROW_COUNT_SCHEMA)

    def read_files(batches):
        buf = C.CountBuffer(max_keys)
        for batch in batches:
            data = batch.to_pydict()
            for lang, mode, path in zip(data["lang"], data["mode"], data["path"]):
                with open_raw(path) as raw:
                    if mode == XML:
                        reader = DumpReader(raw, path, allow_truncated=allow_truncated)
                        for record in reader.records():
                            C.count_record(record, lang, buf, sites.get(lang, SiteInfo()), no_space.get(lang),
                                           segmenters.get(lang))
                            if buf.full():
                                yield from _rows_to_batches(buf.drain(), _ARROW_COUNT_SCHEMA)
                        C.count_file_report(reader.report, lang, buf)
                    else:
                        for line in iter_text_lines(raw, path):
                            C.count_text_line(line, lang, buf, no_space.get(lang), segmenters.get(lang))
                            if buf.full():
                                yield from _rows_to_batches(buf.drain(), _ARROW_COUNT_SCHEMA)
        yield from _rows_to_batches(buf.drain(), _ARROW_COUNT_SCHEMA)

    parts = []
    if records is not None:
        parts.append(records.mapInArrow(count_partition, COUNT_SCHEMA))
    if python_files is not None:
        parts.append(python_files.mapInArrow(read_files, COUNT_SCHEMA))
    if not parts:
        raise ValueError("no dump or plain-text input")
    rows = parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
    return rows.groupBy("lang", "kind", "a", "b").agg(F.sum("n").alias("n"))


def read_page_views(spark, paths: Sequence[str], langs: Sequence[str], max_keys: int = 1_000_000):
    """Page-view files -> ``(lang, title, n)`` summed, for the given languages only."""
    from pyspark.sql import functions as F

    wanted = frozenset(langs)

    def parse_partition(batches):
        views: dict[tuple[str, str], int] = {}
        for batch in batches:
            for line in batch.column(0).to_pylist():
                parsed = parse_pageview_line(line) if line else None
                if parsed is not None and parsed[0] in wanted:
                    key = (parsed[0], parsed[1])
                    views[key] = views.get(key, 0) + parsed[2]
            if len(views) >= max_keys:
                yield from _rows_to_batches(((k[0], k[1], n) for k, n in views.items()), _ARROW_VIEW_SCHEMA)
                views = {}
        yield from _rows_to_batches(((k[0], k[1], n) for k, n in views.items()), _ARROW_VIEW_SCHEMA)

    return (spark.read.text(list(paths)).mapInArrow(parse_partition, VIEW_SCHEMA)
            .groupBy("lang", "title").agg(F.sum("n").alias("n")))


# ---------------------------------------------------------------- selection inputs

def _pmi_series(n_ab: pd.Series, n_a: pd.Series, n_b: pd.Series, n: pd.Series) -> pd.Series:
    return pd.Series(bigram_pmi(n_ab.to_numpy(), n_a.to_numpy(), n_b.to_numpy(), n.to_numpy()))


def _pmi_udf():
    """``selection.bigram_pmi`` as a vectorised (pandas) UDF."""
    from pyspark.sql.functions import pandas_udf

    return pandas_udf(_pmi_series, "double")


def _limits_frame(spark, limits: Mapping[str, int]):
    return spark.createDataFrame([(k, int(v)) for k, v in limits.items() if v > 0], "lang string, limit long")


def _top_per_lang(df, limits_df, order_cols):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    window = Window.partitionBy("lang").orderBy(*order_cols)
    return (df.join(F.broadcast(limits_df), "lang").withColumn("_rank", F.row_number().over(window))
            .filter(F.col("_rank") <= F.col("limit")).drop("_rank", "limit"))


class SparkCounts:
    """The count-source interface of the builder on a persisted count DataFrame."""

    def __init__(self, spark, counts, views=None, no_space_extra: frozenset[str] = frozenset(),
                 segmenters: Mapping[str, str] | None = None, modes: Mapping[str, str] | None = None):
        from pyspark import StorageLevel

        self.spark = spark
        self.segmenters = dict(segmenters or {})
        self.modes = dict(modes or {})  # path -> xml/text, to locate errors raised in tasks
        self.counts = counts.persist(StorageLevel.MEMORY_AND_DISK)
        self.views = views.persist(StorageLevel.MEMORY_AND_DISK) if views is not None else None
        self.no_space_extra = no_space_extra
        self._summaries: dict[str, C.LanguageSummary] | None = None
        self._views_langs: set[str] = set()

    @classmethod
    def from_inputs(cls, spark, dumps: Mapping[str, Sequence[str]], plain_text: Mapping[str, Sequence[str]],
                    page_views: Sequence[str] = (), no_space_extra: frozenset[str] = frozenset(),
                    max_keys: int = 1_000_000, allow_truncated: bool = False,
                    segmenters: Mapping[str, str] | None = None) -> SparkCounts:
        """Probe every file on the driver (bad or cut files fail here), then set up the counts.

        ``dumps``/``plain_text`` hold file paths (globs already expanded)."""
        langs = sorted(set(dumps) | set(plain_text))
        sites: dict[str, SiteInfo] = {}
        hadoop_dumps: dict[str, list[str]] = {}
        hadoop_text: dict[str, list[str]] = {}
        python_rows: list[tuple[str, str, str]] = []
        modes: dict[str, str] = {}
        for lang, paths in sorted(dumps.items()):
            for path in paths:
                probe = probe_file(spark, path)
                if probe.truncated and not allow_truncated:
                    raise truncated_error(probe)
                sites.setdefault(lang, parse_siteinfo(probe.head, lang))
                modes[path] = XML
                if probe.hadoop_readable:
                    hadoop_dumps.setdefault(lang, []).append(path)
                else:
                    python_rows.append((lang, XML, path))
        for lang, paths in sorted(plain_text.items()):
            for path in paths:
                _, tail, size = read_ends(spark, path)
                cut = text_file_cut(path, tail, size)
                if cut:
                    raise TruncatedDumpError(f"{path}: truncated: {cut}")
                modes[path] = TEXT
                if path.lower().endswith(".gz"):
                    python_rows.append((lang, TEXT, path))
                else:
                    hadoop_text.setdefault(lang, []).append(path)
        no_space = {lang: is_no_space(lang, no_space_extra) for lang in langs}
        python_files = None
        if python_rows:
            python_files = spark.createDataFrame(
                spark.sparkContext.parallelize(python_rows, len(python_rows)), "lang string, mode string, path string")
        counts = count_inputs(read_inputs(spark, hadoop_dumps, hadoop_text), sites, no_space, max_keys,
                              python_files, allow_truncated, segmenters)
        views = read_page_views(spark, page_views, langs, max_keys) if page_views else None
        return cls(spark, counts, views, no_space_extra, segmenters, modes)

    def close(self) -> None:
        self.counts.unpersist()
        if self.views is not None:
            self.views.unpersist()

    def _kind(self, kind: str):
        from pyspark.sql import functions as F

        return self.counts.filter(F.col("kind") == kind)

    def _title_scores(self):
        """(lang, title, score) for candidate titles (score > 0), redirects resolved."""
        from pyspark.sql import functions as F

        redirects = self._kind(C.REDIRECT).select("lang", F.col("a").alias("title"), F.col("b").alias("target"))
        links = self._kind(C.LINK).select("lang", F.col("a").alias("title"), "n")
        if self.views is not None and self._views_langs:
            in_views = F.col("lang").isin(sorted(self._views_langs))
            raw = self.views.filter(in_views).unionByName(links.filter(~in_views))
        else:
            raw = links
        scores = (raw.join(redirects, ["lang", "title"], "left")
                  .select("lang", F.coalesce("target", "title").alias("title"), "n")
                  .groupBy("lang", "title").agg(F.sum("n").alias("score")))
        titles = self._kind(C.TITLE).select("lang", F.col("a").alias("title"))
        return titles.join(scores, ["lang", "title"]).filter(F.col("score") > 0)

    def summaries(self) -> dict[str, C.LanguageSummary]:
        """Per-language totals in one Spark action (this also materialises the persisted counts).

        ``title_candidates`` is filled in by :meth:`title_candidates`, which counts them."""
        from pyspark.sql import functions as F

        if self._summaries is not None:
            return self._summaries
        # One aggregation over one scan of the counts (a union of two scans would compute the
        # persisted counts twice, once per concurrent branch): stat rows keep their name.
        keep = F.col("kind").isin(C.STAT, C.FILE)
        key = F.when(keep, F.col("a")).otherwise(F.lit("")).alias("a")
        field = F.when(F.col("kind") == C.FILE, F.col("b")).otherwise(F.lit("")).alias("b")
        with task_errors(self.spark, self.modes):
            parts = (self.counts.groupBy("lang", "kind", key, field)
                     .agg(F.count(F.lit(1)).alias("rows"), F.sum("n").alias("total")).collect())
        if self.views is not None:
            self._views_langs = {r["lang"] for r in self.views.select("lang").distinct().collect()}
        per_lang: dict[str, dict] = {}
        stat_rows: dict[str, dict[str, int]] = {}
        file_rows: dict[str, dict[str, dict[str, int]]] = {}
        for r in parts:
            if r["kind"] == C.STAT:
                stat_rows.setdefault(r["lang"], {})[r["a"]] = int(r["total"])
                per_lang.setdefault(r["lang"], {})
            elif r["kind"] == C.FILE:
                file_rows.setdefault(r["lang"], {}).setdefault(r["a"], {})[r["b"]] = int(r["total"])
                per_lang.setdefault(r["lang"], {})
            else:
                per_lang.setdefault(r["lang"], {})[r["kind"]] = (int(r["rows"]), int(r["total"]))
        out = {}
        for lang, kinds in per_lang.items():
            no_space = is_no_space(lang, self.no_space_extra)
            ranking = None
            if C.TITLE in kinds:
                ranking = C.TITLE_RANKING_VIEWS if lang in self._views_langs else C.TITLE_RANKING_LINKS
            out[lang] = C.LanguageSummary(
                lang, no_space, segmenter_name(lang, no_space, self.segmenters.get(lang)),
                tokens=kinds.get(C.UNIGRAM, (0, 0))[1], unigram_types=kinds.get(C.UNIGRAM, (0, 0))[0],
                bigram_types=kinds.get(C.BIGRAM, (0, 0))[0], title_ranking=ranking,
                stats=stat_rows.get(lang, {}), truncated_files=file_rows.get(lang, {}))
        self._summaries = out
        return out

    def unigram_candidates(self, limits: Mapping[str, int]) -> dict[str, list[str]]:
        from pyspark.sql import functions as F

        limits = {k: v for k, v in limits.items() if v > 0}
        if not limits:
            return {}
        rows = (_top_per_lang(self._kind(C.UNIGRAM).select("lang", "a", "n"), _limits_frame(self.spark, limits),
                              [F.col("n").desc(), F.col("a").asc()]).collect())
        grouped: dict[str, list[tuple[str, int]]] = {}
        for r in rows:
            grouped.setdefault(r["lang"], []).append((r["a"], int(r["n"])))
        return {lang: rank_unigrams(items) for lang, items in grouped.items()}

    def bigram_candidates(self, limits: Mapping[str, int], min_pmi: float,
                          min_count: int) -> tuple[dict[str, list[str]], dict[str, int]]:
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        limits = {k: v for k, v in limits.items() if v > 0}
        summaries = self.summaries()
        if not limits:
            return {}, {}
        spark = self.spark
        tokens = spark.createDataFrame(
            [(lang, summaries[lang].tokens, float(max_word_count_for_pmi(summaries[lang].tokens, min_pmi)))
             for lang in limits if lang in summaries and summaries[lang].tokens > 0],
            "lang string, n_tokens long, bound double")
        words = (self._kind(C.UNIGRAM).join(F.broadcast(tokens), "lang")
                 .filter(F.col("n") <= F.col("bound")).select("lang", "a", "n"))
        first = words.select("lang", "a", F.col("n").alias("n_a"))
        second = words.select("lang", F.col("a").alias("b"), F.col("n").alias("n_b"))

        no_space_langs = sorted(lang for lang in limits if is_no_space(lang, self.no_space_extra))
        no_space = F.col("lang").isin(no_space_langs) if no_space_langs else F.lit(False)
        joined = F.when(no_space, F.concat("a", "b")).otherwise(F.concat_ws(" ", "a", "b"))
        passing = (self._kind(C.BIGRAM).filter(F.col("n") >= min_count).select("lang", "a", "b", "n")
                   .join(first, ["lang", "a"]).join(second, ["lang", "b"])
                   .join(F.broadcast(tokens.select("lang", "n_tokens")), "lang")
                   .withColumn("pmi", _pmi_udf()("n", "n_a", "n_b", "n_tokens"))
                   .filter(F.col("pmi") > F.lit(float(min_pmi)))
                   .withColumn("entry", joined)
                   .filter(F.length("entry") <= MAX_ENTRY_CHARS))
        best = Window.partitionBy("lang", "entry").orderBy(F.col("pmi").desc(), F.col("n").desc(),
                                                          F.col("a").asc())
        unique = (passing.withColumn("_best", F.row_number().over(best)).filter(F.col("_best") == 1)
                  .drop("_best").withColumn("_passing", F.count(F.lit(1)).over(Window.partitionBy("lang"))))
        rows = _top_per_lang(unique, _limits_frame(spark, limits),
                             [F.col("pmi").desc(), F.col("n").desc(), F.col("entry").asc()]).collect()
        counts = {r["lang"]: int(r["_passing"]) for r in rows}
        grouped: dict[str, list[tuple[str, str, int, int, int]]] = {}
        for r in rows:
            grouped.setdefault(r["lang"], []).append((r["a"], r["b"], int(r["n"]), int(r["n_a"]), int(r["n_b"])))
        ranked = {lang: rank_bigrams(items, summaries[lang].tokens, is_no_space(lang, self.no_space_extra),
                                     min_pmi, min_count)
                  for lang, items in grouped.items()}
        return ranked, counts

    def title_candidates(self, limits: Mapping[str, int]) -> tuple[dict[str, list[str]], dict[str, int]]:
        """Top ``limit`` titles per language and the number of candidates (score > 0)."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        limits = {k: v for k, v in limits.items() if v > 0}
        summaries = self.summaries()
        if not limits:
            return {}, {}
        scored = self._title_scores().withColumn("_candidates", F.count(F.lit(1)).over(Window.partitionBy("lang")))
        rows = _top_per_lang(scored, _limits_frame(self.spark, limits),
                             [F.col("score").desc(), F.col("title").asc()]).collect()
        grouped: dict[str, list[tuple[str, int]]] = {}
        n_candidates: dict[str, int] = {}
        for r in rows:
            grouped.setdefault(r["lang"], []).append((r["title"], int(r["score"])))
            n_candidates[r["lang"]] = int(r["_candidates"])
        for lang, n in n_candidates.items():
            summaries[lang].title_candidates = n
        return {lang: rank_titles(items) for lang, items in grouped.items()}, n_candidates
