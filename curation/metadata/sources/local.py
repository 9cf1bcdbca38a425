"""Single-process engine: the builder's counts in Python dicts (small wikis, tests, baseline).

It reads files with the same record splitting and runs the same per-record function as the
Spark job (``counting.count_record``), so both engines give the same metadata; only the
aggregation differs. Memory grows with the vocabulary: use the Spark engine for big wikis.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping, Sequence

from curation.metadata.sources import counting as C
from curation.metadata.sources.dumpio import (
    DumpReader,
    TruncatedDumpError,
    iter_text_lines,
    open_raw,
    probe_local,
    read_ends,
    text_file_cut,
    truncated_error,
)
from curation.metadata.sources.pageviews import parse_pageview_line
from curation.metadata.sources.selection import (
    max_word_count_for_pmi,
    rank_bigrams,
    rank_titles,
    rank_unigrams,
    resolve_redirects,
    title_scores,
)
from curation.metadata.sources.tokenize import is_no_space, segmenter_name
from curation.metadata.sources.wikitext import parse_siteinfo


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Local paths with glob patterns expanded (sorted); a pattern matching nothing is an error."""
    out = []
    for path in paths:
        matches = sorted(glob.glob(path)) if any(c in path for c in "*?[") else [path]
        if not matches:
            raise FileNotFoundError(f"no file matches {path}")
        out.extend(matches)
    return out


class LanguageCounts:
    """Aggregated count tables of one language."""

    def __init__(self):
        self.unigrams: dict[str, int] = {}
        self.bigrams: dict[tuple[str, str], int] = {}
        self.titles: set[str] = set()
        self.links: dict[str, int] = {}
        self.redirects: dict[str, str] = {}
        self.stats: dict[str, int] = {}
        self.truncated_files: dict[str, dict[str, int]] = {}

    def add_rows(self, rows) -> None:
        for _, kind, a, b, n in rows:
            if kind == C.UNIGRAM:
                self.unigrams[a] = self.unigrams.get(a, 0) + n
            elif kind == C.BIGRAM:
                self.bigrams[(a, b)] = self.bigrams.get((a, b), 0) + n
            elif kind == C.TITLE:
                self.titles.add(a)
            elif kind == C.LINK:
                self.links[a] = self.links.get(a, 0) + n
            elif kind == C.REDIRECT:
                self.redirects[a] = b
            elif kind == C.STAT:
                self.stats[a] = self.stats.get(a, 0) + n
            elif kind == C.FILE:
                self.truncated_files.setdefault(a, {})[b] = n


def count_dump_file(path: str, lang: str, no_space: bool, buf: C.CountBuffer, allow_truncated: bool = False,
                    segmenter: str | None = None, site=None) -> None:
    """Count one dump: probe its ends (a cut file fails here unless allowed), read its
    ``<siteinfo>`` (unless ``site`` is given), then every record, with the Spark job's functions."""
    probe = probe_local(path)
    if probe.truncated and not allow_truncated:
        raise truncated_error(probe)
    if site is None:
        site = parse_siteinfo(probe.head, lang)
    with open_raw(path) as raw:
        reader = DumpReader(raw, path, probe.compression, allow_truncated)
        for record in reader.records():
            C.count_record(record, lang, buf, site, no_space, segmenter)
    C.count_file_report(reader.report, lang, buf)


def count_text_file(path: str, lang: str, no_space: bool, buf: C.CountBuffer, segmenter: str | None = None) -> None:
    _, tail, size = read_ends(path)
    cut = text_file_cut(path, tail, size)
    if cut:
        raise TruncatedDumpError(f"{path}: truncated: {cut}")
    with open_raw(path) as raw:
        for line in iter_text_lines(raw, path):
            C.count_text_line(line, lang, buf, no_space, segmenter)


def read_page_views(paths: Sequence[str], langs: set[str]) -> dict[str, dict[str, int]]:
    views: dict[str, dict[str, int]] = {}
    for path in expand_paths(paths):
        with open_raw(path) as raw:
            for line in iter_text_lines(raw, path):
                parsed = parse_pageview_line(line)
                if parsed is not None and parsed[0] in langs:
                    lang, title, n = parsed
                    bucket = views.setdefault(lang, {})
                    bucket[title] = bucket.get(title, 0) + n
    return views


class LocalCounts:
    """The count-source interface of the builder, computed in this process."""

    def __init__(self, counts: Mapping[str, LanguageCounts], views: Mapping[str, Mapping[str, int]],
                 no_space_extra: frozenset[str] = frozenset(), segmenters: Mapping[str, str] | None = None):
        self.counts = dict(counts)
        self.views = dict(views)
        self.no_space = {lang: is_no_space(lang, no_space_extra) for lang in self.counts}
        self.segmenters = dict(segmenters or {})

    @classmethod
    def from_files(cls, dumps: Mapping[str, Sequence[str]], plain_text: Mapping[str, Sequence[str]],
                   page_views: Sequence[str] = (), no_space_extra: frozenset[str] = frozenset(),
                   allow_truncated: bool = False, segmenters: Mapping[str, str] | None = None) -> LocalCounts:
        """Count every file (dumps are probed first, so a bad file fails before any counting)."""
        segmenters = dict(segmenters or {})
        dump_files = {lang: expand_paths(paths) for lang, paths in dumps.items()}
        sites = {}
        for lang, paths in sorted(dump_files.items()):
            for path in paths:
                probe = probe_local(path)
                if probe.truncated and not allow_truncated:
                    raise truncated_error(probe)
                sites.setdefault(lang, parse_siteinfo(probe.head, lang))  # the first file's, as the Spark job
        counts: dict[str, LanguageCounts] = {}
        for lang in sorted(set(dumps) | set(plain_text)):
            no_space = is_no_space(lang, no_space_extra)
            buf = C.CountBuffer()
            for path in dump_files.get(lang, ()):
                count_dump_file(path, lang, no_space, buf, allow_truncated, segmenters.get(lang), sites[lang])
            for path in expand_paths(plain_text.get(lang, ())):
                count_text_file(path, lang, no_space, buf, segmenters.get(lang))
            counts[lang] = LanguageCounts()
            counts[lang].add_rows(buf.drain())
        views = read_page_views(page_views, set(counts)) if page_views else {}
        return cls(counts, views, no_space_extra, segmenters)

    def languages(self) -> list[str]:
        return sorted(self.counts)

    def _title_scores(self, lang: str) -> tuple[list[tuple[str, int]], str]:
        c = self.counts[lang]
        if self.views.get(lang):
            scores, ranking = resolve_redirects(self.views[lang].items(), c.redirects), C.TITLE_RANKING_VIEWS
        else:
            scores, ranking = resolve_redirects(c.links.items(), c.redirects), C.TITLE_RANKING_LINKS
        return title_scores(sorted(c.titles), scores), ranking

    def summaries(self) -> dict[str, C.LanguageSummary]:
        out = {}
        for lang, c in self.counts.items():
            scored, ranking = self._title_scores(lang)
            out[lang] = C.LanguageSummary(
                lang, self.no_space[lang], segmenter_name(lang, self.no_space[lang], self.segmenters.get(lang)),
                tokens=sum(c.unigrams.values()), unigram_types=len(c.unigrams),
                bigram_types=len(c.bigrams), title_candidates=sum(1 for _, s in scored if s > 0),
                title_ranking=ranking if c.titles else None, stats=c.stats, truncated_files=c.truncated_files)
        return out

    def unigram_candidates(self, limits: Mapping[str, int]) -> dict[str, list[str]]:
        return {lang: rank_unigrams(self.counts[lang].unigrams.items())[:limit]
                for lang, limit in limits.items() if lang in self.counts}

    def bigram_candidates(self, limits: Mapping[str, int], min_pmi: float,
                          min_count: int) -> tuple[dict[str, list[str]], dict[str, int]]:
        ranked, passing = {}, {}
        for lang, limit in limits.items():
            if lang not in self.counts:
                continue
            c = self.counts[lang]
            n = sum(c.unigrams.values())
            bound = max_word_count_for_pmi(n, min_pmi)
            rows = [(a, b, n_ab, c.unigrams[a], c.unigrams[b]) for (a, b), n_ab in c.bigrams.items()
                    if c.unigrams[a] <= bound and c.unigrams[b] <= bound]
            entries = rank_bigrams(rows, n, self.no_space[lang], min_pmi, min_count)
            passing[lang] = len(entries)
            ranked[lang] = entries[:limit]
        return ranked, passing

    def title_candidates(self, limits: Mapping[str, int]) -> tuple[dict[str, list[str]], dict[str, int]]:
        ranked, n_candidates = {}, {}
        for lang, limit in limits.items():
            if lang in self.counts:
                titles = rank_titles(self._title_scores(lang)[0])
                ranked[lang], n_candidates[lang] = titles[:limit], len(titles)
        return ranked, n_candidates
