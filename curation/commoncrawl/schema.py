"""Columns of the extraction tables (one home for every name and type).

``PART`` is the schema of what one file's task emits (``kind`` = ``row``, ``reject`` or
``file``): rows and rejects of its pages plus one ``file`` row carrying the file's counters and
status. Parts are committed per group of files and are the per-file completion record the
resume logic trusts; the public tables are projections of them:

- ``alt_texts`` (:data:`ALT_TEXT_COLUMNS`): one row per distinct (crawl, url, text), the input
  of ``wwclip-curate`` (``url`` and ``text`` are the columns curate reads, the others are
  carried through curation);
- ``extract_rejects`` (:data:`REJECT_COLUMNS`): every image link or record that produced no
  row, with its ``reason``;
- ``extract_files`` (:data:`FILE_COLUMNS`): one row per input file with its status and counters.
"""

from __future__ import annotations

import pyarrow as pa

ROW, REJECT, FILE = "row", "reject", "file"

# File statuses: ok; truncated = a gzip member or record cut short after some records were read
# (those records are kept); corrupt = not a WARC/gzip stream, or broken before the first record;
# unreadable = could not be opened (missing, permissions, network): retried on the next run.
OK, TRUNCATED, CORRUPT, UNREADABLE = "ok", "truncated", "corrupt", "unreadable"
FILE_STATUSES = (OK, TRUNCATED, CORRUPT, UNREADABLE)
RETRIED_STATUSES = (UNREADABLE,)

# Counters of one file, in FILE_COLUMNS order after the identifying columns.
COUNTERS = ("records", "pages", "pages_truncated", "bad_records", "links", "link_rows", "rows", "rejects",
            "no_text_dropped")

PART = pa.schema([
    ("kind", pa.string()),
    ("source_file", pa.string()),      # the input file (WAT or WARC) as given
    ("source_offset", pa.int64()),     # byte offset of the record in that (compressed) file
    ("crawl", pa.string()),            # snapshot id, e.g. CC-MAIN-2024-22
    ("page_url", pa.string()),
    ("page_lang", pa.string()),        # declared language of the page (texts.declared_language)
    ("warc_filename", pa.string()),    # WARC file of the HTML response (WAT: Container.Filename)
    ("warc_offset", pa.int64()),       # offset of that response record in its WARC file
    ("warc_record_id", pa.string()),   # WARC-Record-ID of the response record
    ("link_index", pa.int32()),        # position of the image link in the page (0-based)
    ("url", pa.string()),              # resolved image URL
    ("url_attr", pa.string()),         # src or srcset
    ("text", pa.string()),
    ("text_source", pa.string()),      # alt, title or data-image-title
    ("alt", pa.string()),
    ("title", pa.string()),
    ("data_image_title", pa.string()),
    ("raw_url", pa.string()),          # rejects: the src (or srcset) value as found
    ("reason", pa.string()),
    ("detail", pa.string()),
    ("fingerprint", pa.string()),      # file rows: settings fingerprint the file was extracted with
    ("status", pa.string()),
    ("error", pa.string()),
    *((name, pa.int64()) for name in COUNTERS),
    ("bytes", pa.int64()),
    ("seconds", pa.float64()),
])

ALT_TEXT_COLUMNS = ("url", "text", "text_source", "page_count", "link_count", "alt", "title", "data_image_title",
                    "page_url", "page_lang", "crawl", "url_attr", "warc_filename", "warc_offset", "warc_record_id",
                    "source_file", "source_offset")
# The representative occurrence of a (crawl, url, text) group is the smallest of these tuples:
# deterministic whatever the order in which files were read or partitions were formed.
REPRESENTATIVE_ORDER = ("page_url", "warc_filename", "warc_offset", "link_index", "text_source", "source_file",
                        "source_offset", "url_attr", "alt", "title", "data_image_title", "page_lang",
                        "warc_record_id")
REJECT_COLUMNS = ("reason", "detail", "raw_url", "url", "text", "alt", "title", "data_image_title", "page_url",
                  "page_lang", "crawl", "warc_filename", "warc_offset", "warc_record_id", "source_file",
                  "source_offset", "link_index")
FILE_COLUMNS = ("source_file", "crawl", "status", "error", *COUNTERS, "bytes", "seconds", "fingerprint")


_EMPTY = dict.fromkeys(PART.names)


def empty_row(kind: str) -> dict:
    """A part row with every column null except ``kind``."""
    return {**_EMPTY, "kind": kind}
