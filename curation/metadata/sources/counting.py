"""One dump record (or plain-text line) -> count rows; the only per-page logic of the builder.

Both engines run exactly this: the local engine over a whole file, the Spark job inside
each task (``mapInArrow``), with a bounded buffer so a task's memory does not grow with
its input. Rows are ``(lang, kind, a, b, n)``:

====  ==========================  =========================================
kind  a, b                        n
====  ==========================  =========================================
u     word, ""                    occurrences (word tokens)
b     first word, second word     occurrences of the adjacent pair
t     article title, ""           1 per article (main namespace, not redirect)
l     linked article title, ""    number of articles linking to it
r     redirect title, target      1
s     statistic name, ""          count (records, pages, articles, ...)
f     file path, field            a truncated file's report (pages, bytes kept)
====  ==========================  =========================================

Summing ``n`` over equal ``(lang, kind, a, b)`` gives the language's count tables.
"""

from __future__ import annotations

from collections.abc import Iterator

from curation.metadata.table import validate_entry
from curation.metadata.sources.tokenize import tokenize
from curation.metadata.sources.wikitext import (
    DEFAULT_SITEINFO,
    PageParseError,
    SiteInfo,
    WikitextParseError,
    normalize_title,
    page_from_record,
    parse_article,
)

UNIGRAM, BIGRAM, TITLE, LINK, REDIRECT, STAT, FILE = "u", "b", "t", "l", "r", "s", "f"
KINDS = (UNIGRAM, BIGRAM, TITLE, LINK, REDIRECT, STAT, FILE)
# Fields of a truncated file's report (kind "f"), as in dumpio.FileReport
FILE_FIELDS = ("pages", "xml_bytes", "compressed_bytes")
# Statistics (kind "s")
RECORDS_WITHOUT_PAGE = "records_without_page"  # dump header/footer
PAGES, ARTICLES, REDIRECTS, OTHER_NAMESPACES = "pages", "articles", "redirects", "other_namespaces"
BAD_RECORDS, INVALID_TITLES, TEXT_LINES = "bad_records", "invalid_titles", "text_lines"

Key = tuple[str, str, str, str]


class CountBuffer:
    """``{(lang, kind, a, b): n}`` with an optional size bound (the caller drains when full)."""

    def __init__(self, max_keys: int | None = None):
        self.counts: dict[Key, int] = {}
        self.max_keys = max_keys

    def add(self, lang: str, kind: str, a: str, b: str = "", n: int = 1) -> None:
        key = (lang, kind, a, b)
        self.counts[key] = self.counts.get(key, 0) + n

    def full(self) -> bool:
        return self.max_keys is not None and len(self.counts) >= self.max_keys

    def drain(self) -> Iterator[tuple[str, str, str, str, int]]:
        counts, self.counts = self.counts, {}
        for (lang, kind, a, b), n in counts.items():
            yield lang, kind, a, b, n


def count_segments(segments: list[list[str]], lang: str, buf: CountBuffer) -> None:
    for segment in segments:
        previous = None
        for word in segment:
            buf.add(lang, UNIGRAM, word)
            if previous is not None:
                buf.add(lang, BIGRAM, previous, word)
            previous = word


def count_record(record: str, lang: str, buf: CountBuffer, site: SiteInfo = DEFAULT_SITEINFO,
                 no_space: bool | None = None, segmenter: str | None = None) -> None:
    """Count one ``</page>``-delimited record of a MediaWiki XML dump.

    Only a malformed record (XML or wikitext that its parser rejects) is counted as
    ``bad_records`` and skipped; anything else (a missing package, a bug) propagates."""
    try:
        page = page_from_record(record)
    except PageParseError:
        buf.add(lang, STAT, BAD_RECORDS)
        return
    if page is None:
        buf.add(lang, STAT, RECORDS_WITHOUT_PAGE)
        return
    buf.add(lang, STAT, PAGES)
    if page.ns != 0:
        buf.add(lang, STAT, OTHER_NAMESPACES)
        return
    if page.redirect is not None:
        buf.add(lang, STAT, REDIRECTS)
        target = normalize_title(page.redirect, site)
        if target is not None and target != page.title:
            buf.add(lang, REDIRECT, page.title, target)
        return
    try:
        article = parse_article(page, site)
    except WikitextParseError:
        buf.add(lang, STAT, BAD_RECORDS)
        return
    segments = tokenize(article.text, lang, no_space, segmenter)
    buf.add(lang, STAT, ARTICLES)
    if validate_entry(page.title) is None:
        buf.add(lang, TITLE, page.title)
    else:
        buf.add(lang, STAT, INVALID_TITLES)
    for target in article.links:
        buf.add(lang, LINK, target)
    count_segments(segments, lang, buf)


def count_file_report(report, lang: str, buf: CountBuffer) -> None:
    """Rows (kind ``f``) telling what was kept of a truncated file (``dumpio.FileReport``)."""
    if report.truncated:
        for name in FILE_FIELDS:
            buf.add(lang, FILE, report.path, name, int(getattr(report, name)))


def count_text_line(line: str, lang: str, buf: CountBuffer, no_space: bool | None = None,
                    segmenter: str | None = None) -> None:
    """Count one line of pre-extracted plain text (WikiExtractor ``<doc>`` markers skipped)."""
    stripped = line.strip()
    if not stripped or stripped.startswith("<doc ") or stripped == "</doc>":
        return
    buf.add(lang, STAT, TEXT_LINES)
    count_segments(tokenize(stripped, lang, no_space, segmenter), lang, buf)


TITLE_RANKING_VIEWS, TITLE_RANKING_LINKS = "page_views", "in_links"


class LanguageSummary:
    """Per-language totals an engine reports before selection (they fix the quotas)."""

    def __init__(self, lang: str, no_space: bool, segmenter: str, tokens: int = 0,
                 unigram_types: int = 0, bigram_types: int = 0, title_candidates: int = 0,
                 title_ranking: str | None = None, stats: dict[str, int] | None = None,
                 truncated_files: dict[str, dict[str, int]] | None = None):
        self.lang = lang
        self.no_space = no_space
        self.segmenter = segmenter
        self.tokens = tokens
        self.unigram_types = unigram_types
        self.bigram_types = bigram_types
        self.title_candidates = title_candidates
        self.title_ranking = title_ranking
        self.stats = dict(stats or {})
        self.truncated_files = {k: dict(sorted(v.items())) for k, v in sorted((truncated_files or {}).items())}

    def to_dict(self) -> dict:
        out = {"no_space": self.no_space, "segmenter": self.segmenter, "tokens": self.tokens,
               "unigram_types": self.unigram_types, "bigram_types": self.bigram_types,
               "title_candidates": self.title_candidates, "title_ranking": self.title_ranking,
               "pages": dict(sorted(self.stats.items()))}
        if self.truncated_files:
            out["truncated_files"] = self.truncated_files
        return out
