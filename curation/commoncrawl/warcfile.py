"""WARC records of one file as plain values, read with fastwarc (default) or warcio.

Both readers get the *decompressed* stream of :class:`.gzipstream.GzipMembers` (which detects
truncation and maps offsets back to the compressed file) and yield the same
:class:`Record` values, so the extraction rule never sees a reader type and both readers give
identical rows (tested). Only what extraction needs is read: the payload of WAT ``metadata``
records (``source="wat"``) or the HTTP body of HTML ``response`` records (``source="warc"``),
each bounded to ``max_bytes + 1`` bytes (one more than the bound tells "larger than").

Why fastwarc by default: it parses WARC headers and HTTP in Rust and streams payloads without
Python per-line work; warcio (the reference implementation, pure Python) is kept as a fallback
and as the writer of the test files. Measured side by side in benchmarks/commoncrawl.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from curation.commoncrawl.gzipstream import GzipMembers, InputError


class NotWarcRecord(InputError):
    """The stream holds something other than WARC records (warcio also accepts ARC files and
    reads some plain text as ARC headers: both are refused)."""


class Record(NamedTuple):
    """One WARC record: ``offset`` is its compressed byte offset in the file; ``body`` is set only
    for the records extraction parses (else None)."""

    offset: int
    rec_type: str
    target_uri: str | None
    record_id: str | None
    body: bytes | None = None
    http_charset: str | None = None
    http_content_language: str | None = None


def read_up_to(stream, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``stream``: readers may return short reads before the end
    (warcio returns one buffer per call), so read until ``limit`` or EOF."""
    chunks, left = [], limit
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type value."""
    if not content_type:
        return None
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip("\"'") or None
    return None


def _is_html(http_content_type: str | None, identified_type: str | None) -> bool:
    declared = http_content_type or identified_type or ""
    return "html" in declared.lower()


def iter_records(stream: GzipMembers, source: str, max_bytes: int, reader: str = "fastwarc") -> Iterator[Record]:
    """Records of ``stream`` in file order. Errors of the underlying stream (truncated or corrupt
    gzip, read failures) and of the reader (not a WARC file) propagate to the caller."""
    if reader == "fastwarc":
        return _fastwarc_records(stream, source, max_bytes)
    if reader == "warcio":
        return _warcio_records(stream, source, max_bytes)
    raise ValueError(f"unknown reader {reader!r}")


def _fastwarc_records(stream: GzipMembers, source: str, max_bytes: int) -> Iterator[Record]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    parse_http = source == "warc"
    for rec in ArchiveIterator(stream, parse_http=parse_http, auto_decode="all" if parse_http else "none",
                               stream_detect=False):
        kind = rec.record_type
        headers = rec.headers
        offset = stream.compressed_offset(rec.stream_pos)
        target, record_id = headers.get("WARC-Target-URI"), rec.record_id
        if source == "wat":
            if kind == WarcRecordType.metadata:
                yield Record(offset, "metadata", target, record_id, read_up_to(rec.reader, max_bytes + 1))
            else:
                yield Record(offset, str(kind), target, record_id)
            continue
        if kind != WarcRecordType.response or not rec.is_http or \
                not _is_html(rec.http_content_type, headers.get("WARC-Identified-Payload-Type")):
            yield Record(offset, str(kind), target, record_id)
            continue
        http_headers = rec.http_headers
        yield Record(offset, "response", target, record_id, read_up_to(rec.reader, max_bytes + 1),
                     rec.http_charset or _charset(http_headers.get("Content-Type")),
                     http_headers.get("Content-Language"))


def _warcio_records(stream: GzipMembers, source: str, max_bytes: int) -> Iterator[Record]:
    from warcio.archiveiterator import ArchiveIterator

    it = ArchiveIterator(stream, no_record_parse=source == "wat", ensure_http_headers=False)
    for rec in it:
        if rec.format != "warc":
            raise NotWarcRecord(f"a {rec.format!r} record where a WARC record was expected")
        # warcio's get_record_offset() reads the record to its end: read the body first.
        headers = rec.rec_headers
        target, record_id = headers.get_header("WARC-Target-URI"), headers.get_header("WARC-Record-ID")
        kind = rec.rec_type
        body = charset = language = None
        if source == "wat":
            if kind == "metadata":
                body = read_up_to(rec.content_stream(), max_bytes + 1)
        elif kind == "response" and rec.http_headers is not None:
            content_type = rec.http_headers.get_header("Content-Type")
            if _is_html(content_type, headers.get_header("WARC-Identified-Payload-Type")):
                body = read_up_to(rec.content_stream(), max_bytes + 1)
                charset, language = _charset(content_type), rec.http_headers.get_header("Content-Language")
        yield Record(stream.compressed_offset(it.get_record_offset()), kind, target, record_id, body, charset,
                     language)
