"""Wikimedia page-view dumps -> views per (language, article title), to rank titles.

Two line formats are read (space-separated):

- hourly ``pageviews-YYYYMMDD-HH0000.gz``: ``domain_code page_title count_views total_bytes``
  (what MetaCLIP 2 used: 25+ sampled days);
- daily/monthly ``pageview_complete``: ``wiki_code page_title page_id access_type views hourly``.

Only Wikipedia domains count: ``xx``, ``xx.m`` (mobile), ``xx.wikipedia``, ``xx.m.wikipedia``;
other projects (``xx.b`` Wikibooks, ``xx.d`` Wiktionary, …) are ignored. Titles use ``_`` for
spaces in these files; they are turned into spaces to match dump titles.
"""

from __future__ import annotations

from curation.metadata.sources.tokenize import normalize_lang

_WIKIPEDIA_SUFFIXES = ((), ("m",), ("wikipedia",), ("m", "wikipedia"))


def pageview_lang(domain: str) -> str | None:
    """Metadata language of a Wikipedia page-view domain code, or None for other projects."""
    parts = domain.split(".")
    if not parts[0] or tuple(parts[1:]) not in _WIKIPEDIA_SUFFIXES:
        return None
    return normalize_lang(parts[0])


def parse_pageview_line(line: str) -> tuple[str, str, int] | None:
    """(lang, title, views) of one line, or None (other project, malformed, zero views)."""
    fields = line.rstrip("\n").split(" ")
    if len(fields) == 4:
        domain, title, views = fields[0], fields[1], fields[2]
    elif len(fields) == 6:
        domain, title, views = fields[0], fields[1], fields[4]
    else:
        return None
    lang = pageview_lang(domain)
    if lang is None or not title:
        return None
    try:
        count = int(views)
    except ValueError:
        return None
    if count <= 0:
        return None
    return lang, title.replace("_", " "), count
