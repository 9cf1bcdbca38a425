"""A Common Crawl WAT record (JSON metadata of one HTML response) -> :class:`~.rows.Page`.

WAT files are written by webarchive-commons (``ExtractingParseObserver``). For an HTML
response the JSON holds, under ``Envelope.Payload-Metadata.HTTP-Response-Metadata``:
``Headers`` (HTTP headers; since CC-MAIN-2024-51 a repeated header is a list),
``HTML-Metadata.Head`` (``Base`` from ``<base href>``, ``Metas``, ``Title``, ...) and
``HTML-Metadata.Links``: one object per link, ``{"path": "IMG@/src", "url": ..., "alt": ...,
"title": ...}`` for an image. ``Container`` gives the WARC file and offset of the response
record, ``WARC-Header-Metadata`` its record id. Request records and the WARC ``metadata``
records have WAT records too; they carry no HTML and are skipped (counted as records only).

Attribute values in WAT are the raw HTML attribute text: webarchive-commons does not decode
character references, so ``&amp;`` and ``&eacute;`` are decoded here as a browser would
(MetaCLIP keeps them raw; the decoded text is what matching and training should see).
Like MetaCLIP's ``WATParser``, image links are those whose path starts with ``IMG@/src``; a
``data-image-title`` key is read when present (webarchive-commons itself only records ``alt``
and ``title``, WATs from other extractors may have more).
"""

from __future__ import annotations

import html
import json

from curation.commoncrawl.rows import ImageLink, Page
from curation.commoncrawl.texts import declared_language

IMAGE_PATH_PREFIX = "IMG@/src"


class BadRecord(ValueError):
    """The record is not a readable WAT JSON record (the message says why)."""


def _str(value: object) -> str | None:
    if isinstance(value, str):
        return html.unescape(value) if "&" in value else value
    return None


def _header(headers: object, name: str) -> object:
    """A header value by case-insensitive name (str, or list for a repeated header)."""
    if not isinstance(headers, dict):
        return None
    lower = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == lower:
            return value
    return None


def _meta_content_language(head: dict) -> object:
    metas = head.get("Metas")
    if not isinstance(metas, list):
        return None
    for meta in metas:
        if isinstance(meta, dict) and str(meta.get("http-equiv", "")).strip().lower() == "content-language":
            return meta.get("content")
    return None


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def parse_wat_record(payload: bytes | str, target_uri: str | None = None) -> Page | None:
    """The page of a WAT record, or None when the record is not an HTML response.

    ``target_uri``: the WAT record's ``WARC-Target-URI`` header (the JSON's own copy is used
    when it is missing). Raises :class:`BadRecord` for invalid JSON, a JSON value that is not a
    WAT envelope, or an HTML response without a target URI.
    """
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRecord(f"invalid JSON: {exc}") from None
    envelope = data.get("Envelope") if isinstance(data, dict) else None
    if not isinstance(envelope, dict):
        raise BadRecord("no Envelope object")
    warc = envelope.get("WARC-Header-Metadata")
    warc = warc if isinstance(warc, dict) else {}
    if warc.get("WARC-Type", "response") != "response":
        return None
    payload_md = envelope.get("Payload-Metadata")
    http = payload_md.get("HTTP-Response-Metadata") if isinstance(payload_md, dict) else None
    html_md = http.get("HTML-Metadata") if isinstance(http, dict) else None
    if not isinstance(html_md, dict):
        return None
    page_url = target_uri or warc.get("WARC-Target-URI")
    if not isinstance(page_url, str) or not page_url.strip():
        raise BadRecord("HTML response without WARC-Target-URI")
    head = html_md.get("Head")
    head = head if isinstance(head, dict) else {}
    links = []
    raw_links = html_md.get("Links")
    for link in raw_links if isinstance(raw_links, list) else ():
        if not isinstance(link, dict):
            continue
        path = link.get("path")
        if not isinstance(path, str) or not path.startswith(IMAGE_PATH_PREFIX):
            continue
        links.append(ImageLink(src=_str(link.get("url")), srcset=None, alt=_str(link.get("alt")),
                               title=_str(link.get("title")), data_image_title=_str(link.get("data-image-title"))))
    container = data.get("Container")
    container = container if isinstance(container, dict) else {}
    lang = declared_language(None, _meta_content_language(head), _header(http.get("Headers"), "Content-Language"))
    return Page(page_url=page_url.strip(), links=links, base_href=_str(head.get("Base")), lang=lang,
                warc_filename=_str(container.get("Filename")), warc_offset=_int(container.get("Offset")),
                warc_record_id=_str(warc.get("WARC-Record-ID")))
