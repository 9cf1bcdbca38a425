"""The commit marker of a Parquet table: what it holds and how every reader checks it (pure).

A Parquet table is complete when its directory holds ``_SUCCESS`` (``layout.SUCCESS_FILE``).
The writer (``curation.spark.tables``) stages a table without any marker, deletes the old
table's marker *before* touching its files, moves the new files into place, and writes the
marker **last**, holding a manifest: every data file (path relative to the table directory)
and its size in bytes. So:

- on a file system whose directory rename is atomic (local disks, HDFS, ADLS Gen2 with a
  hierarchical namespace) a reader sees the old table, briefly no table, or the new table;
- where rename is copy-then-delete (S3, GCS, DBFS), a crash in the middle of the move leaves
  files but no marker: every reader refuses the table (it is "not committed"), and re-running
  the stage replaces it. A reader never accepts a partial table.

A marker with a manifest is checked against the directory listing: a missing, resized or extra
data file makes the table refused too. An empty marker (Spark's own ``_SUCCESS``, tables
written by older versions or other tools) is accepted as it always was.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

COMMIT_KEY = "wwclip_commit"
COMMIT_VERSION = 1


def is_hidden(relative_path: str) -> bool:
    """True for paths Spark and pyarrow skip when reading a table: any part starting with ``_``
    or ``.`` (``_SUCCESS``, ``_delta_log``, ``.crc`` files, staging files of the marker)."""
    return any(part.startswith(("_", ".")) for part in relative_path.split("/") if part)


def manifest_text(files: Mapping[str, int]) -> str:
    """The marker's content for data files ``{relative path: size in bytes}`` (sorted JSON)."""
    return json.dumps({COMMIT_KEY: COMMIT_VERSION, "files": {k: int(v) for k, v in sorted(files.items())}},
                      sort_keys=True) + "\n"


def parse_manifest(text: str) -> dict[str, int] | None:
    """The manifest of a marker's content; None for an empty or foreign marker (accepted as is)."""
    if not text.strip():
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    if not isinstance(doc, dict) or doc.get(COMMIT_KEY) != COMMIT_VERSION or not isinstance(doc.get("files"), dict):
        return None
    return {str(k): int(v) for k, v in doc["files"].items()}


def manifest_problem(manifest: Mapping[str, int], listing: Mapping[str, int], limit: int = 3) -> str | None:
    """What differs between a committed ``manifest`` and the data files now ``listing``ed
    (both ``{relative path: size}``, hidden paths left out); None when they are the same."""
    missing = sorted(set(manifest) - set(listing))
    extra = sorted(set(listing) - set(manifest))
    resized = sorted(p for p in set(manifest) & set(listing) if manifest[p] != listing[p])
    parts = []
    for label, paths in (("missing", missing), ("not committed", extra), ("changed size", resized)):
        if paths:
            shown = ", ".join(paths[:limit]) + (f" and {len(paths) - limit} more" if len(paths) > limit else "")
            parts.append(f"{len(paths)} file(s) {label} ({shown})")
    return "; ".join(parts) or None


def uncommitted_message(path: str) -> str:
    """Why a table without its marker is refused (same words for every reader)."""
    return (f"table at {path} is not committed (no _SUCCESS marker): its last write did not finish "
            "(e.g. a crash while its files were moved into place). Re-run the stage that writes it")
