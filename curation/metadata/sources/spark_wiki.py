"""Spark glue of the metadata builder: DataFrames in, DataFrames (or small collected lists) out.

Data flow (nothing per page ever reaches the driver):

1. dump files are read with Spark's text source split on ``</page>`` (Hadoop splits
   bzip2 dumps, multistream or not, across tasks; plain-text inputs are read by line);
2. ``mapInArrow`` runs ``counting.count_record`` on every record and pre-aggregates in a
   bounded buffer per task; one ``groupBy(lang, kind, a, b).sum(n)`` gives all count tables;
3. selection needs per-language quotas (small, collected), then a window per language keeps
   only the top ``limit`` candidates, which are collected and ranked by the same pure
   functions as the local engine (``selection.rank_*``).

Bigram PMI is computed by a pandas UDF calling ``selection.bigram_pmi``; words too frequent
to reach the PMI threshold are pruned before the joins (``max_word_count_for_pmi``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import pyarrow as pa

from curation.metadata.sources import counting as C
from curation.metadata.sources.pageviews import parse_pageview_line
from curation.metadata.sources.selection import (
    bigram_pmi,
    max_word_count_for_pmi,
    rank_bigrams,
    rank_titles,
    rank_unigrams,
)
from curation.metadata.sources.tokenize import is_no_space, segmenter_name
from curation.metadata.sources.wikitext import PAGE_END, SiteInfo, parse_siteinfo
from curation.metadata.table import MAX_ENTRY_CHARS
from curation.spark.fs import read_head

COUNT_SCHEMA = "lang string, kind string, a string, b string, n long"
VIEW_SCHEMA = "lang string, title string, n long"
XML, TEXT = "xml", "text"
HEAD_BYTES = 1 << 16  # enough for <siteinfo>
_ARROW_COUNT_SCHEMA = pa.schema([("lang", pa.string()), ("kind", pa.string()), ("a", pa.string()),
                                 ("b", pa.string()), ("n", pa.int64())])
_ARROW_VIEW_SCHEMA = pa.schema([("lang", pa.string()), ("title", pa.string()), ("n", pa.int64())])
_BATCH_ROWS = 100_000


# ---------------------------------------------------------------- counting

def read_siteinfo(spark, paths: Sequence[str]) -> SiteInfo:
    """``<siteinfo>`` of a dump, from the head of its first file (through Hadoop: any file system)."""
    return parse_siteinfo(read_head(spark, paths[0], HEAD_BYTES, decompress=True).decode("utf-8", errors="ignore"))


def read_inputs(spark, dumps: Mapping[str, Sequence[str]], plain_text: Mapping[str, Sequence[str]]):
    """One DataFrame ``(lang, mode, value)``: dump records (``mode='xml'``) and text lines."""
    from pyspark.sql import functions as F

    frames = []
    for lang, paths in sorted(dumps.items()):
        frames.append(spark.read.option("lineSep", PAGE_END).text(list(paths))
                      .select(F.lit(lang).alias("lang"), F.lit(XML).alias("mode"), "value"))
    for lang, paths in sorted(plain_text.items()):
        frames.append(spark.read.text(list(paths))
                      .select(F.lit(lang).alias("lang"), F.lit(TEXT).alias("mode"), "value"))
    if not frames:
        raise ValueError("no dump or plain-text input")
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


def count_inputs(records, sites: Mapping[str, SiteInfo], no_space: Mapping[str, bool],
                 max_keys: int = 1_000_000):
    """``(lang, mode, value)`` -> aggregated count rows ``(lang, kind, a, b, n)`` (COUNT_SCHEMA)."""
    from pyspark.sql import functions as F

    sites = dict(sites)
    no_space = dict(no_space)

    def count_partition(batches):
        buf = C.CountBuffer(max_keys)
        for batch in batches:
            data = batch.to_pydict()
            for lang, mode, value in zip(data["lang"], data["mode"], data["value"]):
                if value is None:
                    continue
                if mode == XML:
                    C.count_record(value, lang, buf, sites.get(lang, SiteInfo()), no_space.get(lang))
                else:
                    C.count_text_line(value, lang, buf, no_space.get(lang))
                if buf.full():
                    yield from _rows_to_batches(buf.drain(), _ARROW_COUNT_SCHEMA)
        yield from _rows_to_batches(buf.drain(), _ARROW_COUNT_SCHEMA)

    return (records.mapInArrow(count_partition, COUNT_SCHEMA)
            .groupBy("lang", "kind", "a", "b").agg(F.sum("n").alias("n")))


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

    def __init__(self, spark, counts, views=None, no_space_extra: frozenset[str] = frozenset()):
        from pyspark import StorageLevel

        self.spark = spark
        self.counts = counts.persist(StorageLevel.MEMORY_AND_DISK)
        self.views = views.persist(StorageLevel.MEMORY_AND_DISK) if views is not None else None
        self.no_space_extra = no_space_extra
        self._summaries: dict[str, C.LanguageSummary] | None = None
        self._views_langs: set[str] = set()

    @classmethod
    def from_inputs(cls, spark, dumps: Mapping[str, Sequence[str]], plain_text: Mapping[str, Sequence[str]],
                    page_views: Sequence[str] = (), no_space_extra: frozenset[str] = frozenset(),
                    max_keys: int = 1_000_000) -> SparkCounts:
        langs = sorted(set(dumps) | set(plain_text))
        sites = {lang: read_siteinfo(spark, paths) for lang, paths in dumps.items()}
        no_space = {lang: is_no_space(lang, no_space_extra) for lang in langs}
        counts = count_inputs(read_inputs(spark, dumps, plain_text), sites, no_space, max_keys)
        views = read_page_views(spark, page_views, langs, max_keys) if page_views else None
        return cls(spark, counts, views, no_space_extra)

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
        key = F.when(F.col("kind") == C.STAT, F.col("a")).otherwise(F.lit("")).alias("a")
        parts = (self.counts.groupBy("lang", "kind", key)
                 .agg(F.count(F.lit(1)).alias("rows"), F.sum("n").alias("total")).collect())
        if self.views is not None:
            self._views_langs = {r["lang"] for r in self.views.select("lang").distinct().collect()}
        per_lang: dict[str, dict] = {}
        stat_rows: dict[str, dict[str, int]] = {}
        for r in parts:
            if r["kind"] == C.STAT:
                stat_rows.setdefault(r["lang"], {})[r["a"]] = int(r["total"])
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
                lang, no_space, segmenter_name(lang, no_space),
                tokens=kinds.get(C.UNIGRAM, (0, 0))[1], unigram_types=kinds.get(C.UNIGRAM, (0, 0))[0],
                bigram_types=kinds.get(C.BIGRAM, (0, 0))[0], title_ranking=ranking,
                stats=stat_rows.get(lang, {}))
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
