"""One page's image links -> output rows and reject rows (the extraction rule, source-agnostic).

WAT and WARC parsing (:mod:`.wat`, :mod:`.html`) both reduce a record to a :class:`Page`; this
module alone decides what becomes of each link, so both sources give the same rows for the
same page:

1. the URL: ``src`` resolved against the document base (:func:`.urls.resolve_image_url`); if
   that fails and the link has a ``srcset``, its best candidate is tried instead (lazy-loading
   pages put a ``data:`` placeholder in ``src``). Still no URL: one reject with the reason of
   ``src`` (or of ``srcset`` when ``src`` was empty). URL problems are checked first, so a link
   with a bad URL is never silently dropped for lacking text;
2. the texts (:func:`.texts.select_texts`): one row per selected attribute. No text: a
   ``no_text`` reject, a null-text row or a counter only, per ``settings.empty_text``.

Per link exactly one of: >= 1 rows, one reject, one ``no_text_dropped`` count. Hence the
per-file accounting identity checked in tests and stats:
``links == link_rows + link_rejects + no_text_dropped``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from curation.commoncrawl.schema import REJECT, ROW, empty_row
from curation.commoncrawl.settings import ExtractSettings
from curation.commoncrawl.texts import clean_text, select_texts
from curation.commoncrawl.urls import NO_SRC, PageResolver, best_srcset_url, document_base

NO_TEXT = "no_text"  # a valid image URL without any text attribute (settings.empty_text="reject")
BAD_RECORD = "bad_record"  # a record that could not be parsed (invalid JSON, missing target URI, too large)


class ImageLink(NamedTuple):
    """An ``<img>`` as found: attribute values with HTML entities decoded, not yet cleaned."""

    src: str | None
    srcset: str | None = None
    alt: str | None = None
    title: str | None = None
    data_image_title: str | None = None


@dataclass
class Page:
    """One HTML response: its URL, document base, declared language, WARC trace and image links."""

    page_url: str
    links: list[ImageLink] = field(default_factory=list)
    base_href: str | None = None
    lang: str | None = None
    warc_filename: str | None = None
    warc_offset: int | None = None
    warc_record_id: str | None = None


@dataclass
class Counters:
    """Per-file counters (names = :data:`curation.commoncrawl.schema.COUNTERS`)."""

    records: int = 0
    pages: int = 0
    pages_truncated: int = 0
    bad_records: int = 0
    links: int = 0
    link_rows: int = 0
    rows: int = 0
    rejects: int = 0
    no_text_dropped: int = 0

    @property
    def link_rejects(self) -> int:
        return self.rejects - self.bad_records

    def accounting_ok(self) -> bool:
        return self.links == self.link_rows + self.link_rejects + self.no_text_dropped


@dataclass(frozen=True)
class RecordContext:
    """Where a record comes from: the input file, its offset there, the crawl."""

    source_file: str
    source_offset: int | None
    crawl: str | None


def _base(kind: str, page: Page | None, ctx: RecordContext) -> dict:
    row = empty_row(kind)
    row["source_file"], row["source_offset"], row["crawl"] = ctx.source_file, ctx.source_offset, ctx.crawl
    if page is not None:
        row.update(page_url=page.page_url, page_lang=page.lang, warc_filename=page.warc_filename,
                   warc_offset=page.warc_offset, warc_record_id=page.warc_record_id)
    return row


def bad_record(ctx: RecordContext, counters: Counters, detail: str, page_url: str | None = None) -> dict:
    """The reject row of a record that could not be parsed (one per record)."""
    counters.bad_records += 1
    counters.rejects += 1
    row = _base(REJECT, None, ctx)
    row.update(reason=BAD_RECORD, detail=detail[:500], page_url=page_url)
    return row


def link_url(link: ImageLink, resolve: PageResolver) -> tuple[str | None, str | None, str | None]:
    """``(url, url_attr, reason)``: the image URL and the attribute it came from, or the reject
    reason (see the module docstring for the src -> srcset fallback)."""
    url, reason = resolve(link.src)
    if url is not None:
        return url, "src", None
    candidate = best_srcset_url(link.srcset)
    if candidate is not None:
        alt_url, alt_reason = resolve(candidate)
        if alt_url is not None:
            return alt_url, "srcset", None
        if reason == NO_SRC:
            reason = alt_reason
    return None, None, reason


def page_rows(page: Page, ctx: RecordContext, settings: ExtractSettings, counters: Counters) -> Iterator[dict]:
    """Rows and rejects of one page, in link order; updates ``counters``."""
    counters.pages += 1
    resolve = PageResolver(document_base(page.page_url, page.base_href))
    reject_template, row_template = _base(REJECT, page, ctx), _base(ROW, page, ctx)
    attrs, mode, empty_text = settings.text_attrs, settings.text_mode, settings.empty_text
    for index, link in enumerate(page.links):
        counters.links += 1
        alt, title, data_title = clean_text(link.alt), clean_text(link.title), clean_text(link.data_image_title)
        cleaned = {"alt": alt, "title": title, "data-image-title": data_title}
        url, url_attr, reason = link_url(link, resolve)
        texts = select_texts(cleaned, attrs, mode)
        if url is None or (not texts and empty_text == "reject"):
            counters.rejects += 1
            row = reject_template.copy()
            row.update(reason=reason or NO_TEXT, raw_url=link.src if link.src or not link.srcset else link.srcset,
                       url=url, link_index=index, text=texts[0][1] if texts else None, alt=alt, title=title,
                       data_image_title=data_title)
            yield row
            continue
        if not texts:
            if empty_text == "drop":
                counters.no_text_dropped += 1
                continue
            texts = [(None, None)]  # empty_text == "keep": one row with a null text
        counters.link_rows += 1
        for attr, text in texts:
            counters.rows += 1
            row = row_template.copy()
            row.update(url=url, url_attr=url_attr, link_index=index, text=text, text_source=attr, alt=alt, title=title,
                       data_image_title=data_title)
            yield row
