"""One input file -> its part rows (rows, rejects, then one ``file`` row), streaming, no Spark.

This is what one Spark task runs (:mod:`.job`) and what the benchmark times. The file is read
once, record by record; rows are yielded as they are made, so memory is bounded by one record
(``max_record_bytes``) whatever the file size.

A file that cannot be opened is ``unreadable``; a stream that breaks (truncated or corrupt
gzip, bytes that are not WARC) is ``truncated`` when some records were read before the break
(their rows are kept: each was complete) or ``corrupt`` when none was; a stream with no record
at all is ``corrupt`` too. None of these fails the task: the status, the error and the number
of records read go into the file row, and from there into ``extract_files`` and ``_stats.json``.
A record that cannot be parsed is one ``bad_record`` reject; a bug in the extraction code
itself is not caught (the task fails loudly rather than hiding rows).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

from curation.commoncrawl.gzipstream import GzipMembers, InputError
from curation.commoncrawl.html import parse_html_page
from curation.commoncrawl.inputs import crawl_id, open_input
from curation.commoncrawl.rows import Counters, RecordContext, bad_record, page_rows
from curation.commoncrawl.schema import CORRUPT, FILE, OK, TRUNCATED, UNREADABLE, empty_row
from curation.commoncrawl.settings import ExtractSettings
from curation.commoncrawl.warcfile import Record, iter_records
from curation.commoncrawl.wat import BadRecord, parse_wat_record


def record_rows(rec: Record, ctx: RecordContext, settings: ExtractSettings, counters: Counters,
                warc_filename: str) -> Iterator[dict]:
    """Rows and rejects of one record (nothing for records that are not HTML pages)."""
    if rec.body is None:
        return
    too_large = len(rec.body) > settings.max_record_bytes
    if settings.source == "wat":
        if too_large:
            yield bad_record(ctx, counters, f"WAT record larger than {settings.max_record_bytes} bytes",
                             rec.target_uri)
            return
        try:
            page = parse_wat_record(rec.body, rec.target_uri)
        except BadRecord as exc:
            yield bad_record(ctx, counters, str(exc), rec.target_uri)
            return
        if page is not None:
            yield from page_rows(page, ctx, settings, counters)
        return
    if not rec.target_uri or not rec.target_uri.strip():
        yield bad_record(ctx, counters, "HTML response without WARC-Target-URI")
        return
    body = rec.body[:settings.max_record_bytes] if too_large else rec.body
    page = parse_html_page(body, rec.target_uri.strip(), rec.http_charset, rec.http_content_language)
    page.warc_filename, page.warc_offset, page.warc_record_id = warc_filename, rec.offset, rec.record_id
    if too_large:
        counters.pages_truncated += 1
    yield from page_rows(page, ctx, settings, counters)


def file_row(path: str, crawl: str | None, settings: ExtractSettings, counters: Counters, status: str,
             error: str | None, nbytes: int, seconds: float) -> dict:
    """The completion record of one file (kind ``file``)."""
    row = empty_row(FILE)
    row.update(source_file=path, crawl=crawl, status=status, error=error[:1000] if error else None,
               fingerprint=settings.fingerprint(), bytes=nbytes, seconds=round(seconds, 3))
    row.update({name: getattr(counters, name) for name in counters.__dataclass_fields__})
    return row


def extract_file(path: str, settings: ExtractSettings, crawl: str | None = None) -> Iterator[dict]:
    """Part rows of ``path``: its rows and rejects in file order, then its ``file`` row.

    ``crawl``: the snapshot id for the rows (``settings.crawl`` wins; else the one in the path).
    """
    t0 = time.perf_counter()
    crawl = settings.crawl or crawl or crawl_id(path)
    counters = Counters()
    try:
        raw = open_input(path)
    except Exception as exc:  # noqa: BLE001 - any failure to open is recorded, never fatal
        yield file_row(path, crawl, settings, counters, UNREADABLE, f"{type(exc).__name__}: {exc}", 0,
                       time.perf_counter() - t0)
        return
    status, error, stream = OK, None, None
    warc_filename = os.path.basename(path.rstrip("/"))
    try:
        stream = GzipMembers(raw)
        records = iter_records(stream, settings.source, settings.max_record_bytes, settings.reader)
        while True:
            try:
                rec = next(records)
            except StopIteration:
                break
            except BaseException as exc:  # noqa: BLE001 - PanicException is a BaseException
                if not is_stream_error(exc):
                    raise
                status = TRUNCATED if counters.records else CORRUPT
                error = f"{type(exc).__name__}: {exc}"
                break
            counters.records += 1
            ctx = RecordContext(path, rec.offset, crawl)
            yield from record_rows(rec, ctx, settings, counters, warc_filename)
        if status == OK and counters.records == 0:
            status, error = CORRUPT, "no WARC record in the file"
    finally:
        nbytes = stream.compressed_bytes_read if stream is not None else 0
        raw.close()
    yield file_row(path, crawl, settings, counters, status, error, nbytes, time.perf_counter() - t0)


def is_stream_error(exc: BaseException) -> bool:
    """True for errors that mean "this byte stream is not a complete WARC file": our gzip
    checks, I/O errors, fastwarc's OSError ("Invalid WARC header") and Rust panics surfaced as
    ``PanicException``, warcio's ``ArchiveLoadFailed``. Anything else is a bug and propagates."""
    return isinstance(exc, (InputError, OSError, EOFError)) or \
        type(exc).__name__ in ("ArchiveLoadFailed", "PanicException")
