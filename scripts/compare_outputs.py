"""Compare two curation output roots: same tables, same files, same rows in the same order.

Used to show that a refactoring changed nothing (issue 14): run the same curation before and
after, then

    python scripts/compare_outputs.py /tmp/before/demo /tmp/after/demo

Per table it compares the data files' relative names with the write-specific part removed
(Spark puts a job uuid in ``part-00000-<uuid>-c000...``), the row count of each file and each
file's rows in order (``pyarrow.Table.equals``, schema included); for Delta tables the live files
of the latest version. ``_stats.json`` must be equal once the fields that record *when* and *how
long* are removed. Parquet footers written by different JVMs can differ in byte order of the
encoding lists (parquet-mr), so contents are compared, not checksums. Exit code 1 on any
difference, with every difference printed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys

import pyarrow.parquet as pq

VOLATILE_KEYS = {"seconds", "completed_at", "updated_at", "total_seconds", "since", "output", "input"}
_PART = re.compile(r"part-(\d+)-[0-9a-f-]{36}(-c\d+)?")


def _canonical(rel: str) -> str:
    return _PART.sub(lambda m: f"part-{m.group(1)}", rel)


def _strip(obj):
    if isinstance(obj, dict):
        return {k: _strip(v) for k, v in obj.items() if k not in VOLATILE_KEYS}
    if isinstance(obj, list):
        return [_strip(v) for v in obj]
    return obj


def _delta_files(path: str) -> list[str] | None:
    if not os.path.isdir(os.path.join(path, "_delta_log")):
        return None
    from deltalake import DeltaTable

    return sorted(os.path.relpath(u.replace("file://", ""), path) for u in DeltaTable(path).file_uris())


def _data_files(path: str) -> list[str]:
    delta = _delta_files(path)
    if delta is not None:
        return delta
    out = []
    for base, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(("_", ".")) or "=" in d)
        out.extend(os.path.relpath(os.path.join(base, f), path) for f in files
                   if f.endswith(".parquet") and not f.startswith(("_", ".")))
    return sorted(out)


def compare_table(a: str, b: str) -> list[str]:
    fa, fb = _data_files(a), _data_files(b)
    ca, cb = [_canonical(f) for f in fa], [_canonical(f) for f in fb]
    if ca != cb:
        return [f"{a}: files differ: {ca} vs {cb}"]
    problems = []
    for x, y, name in zip(fa, fb, ca):
        ta, tb = pq.read_table(os.path.join(a, x)), pq.read_table(os.path.join(b, y))
        if not ta.equals(tb):
            problems.append(f"{a}/{name}: rows differ ({ta.num_rows} vs {tb.num_rows} rows)")
    return problems


def table_digest(path: str) -> str:
    """SHA-256 (first 16 hex digits) of a table as written: its files' canonical names in
    order, each file's schema (names and types) and every row in file order (``to_pylist``,
    JSON with sorted keys). Equal digests mean equal tables in the sense of ``compare_table``
    (the Parquet bytes themselves may differ between JVMs); a test pins the digests of a run
    so that any change of rows, order, columns or file layout fails it."""
    h = hashlib.sha256()
    for rel in _data_files(path):
        table = pq.read_table(os.path.join(path, rel))
        h.update(_canonical(rel).encode())
        h.update(str([(f.name, str(f.type)) for f in table.schema]).encode())
        for row in table.to_pylist():
            h.update(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str).encode())
            h.update(b"\n")
    return h.hexdigest()[:16]


def compare_roots(a: str, b: str) -> list[str]:
    problems = []
    with open(os.path.join(a, "_stats.json")) as fa, open(os.path.join(b, "_stats.json")) as fb:
        sa, sb = _strip(json.load(fa)), _strip(json.load(fb))
    if sa != sb:
        problems.append(f"_stats.json differs:\n{json.dumps(sa, sort_keys=True)[:3000]}\n"
                        f"{json.dumps(sb, sort_keys=True)[:3000]}")
    tables_a = sorted(d for d in os.listdir(a) if os.path.isdir(os.path.join(a, d)) and not d.startswith(("_", ".")))
    tables_b = sorted(d for d in os.listdir(b) if os.path.isdir(os.path.join(b, d)) and not d.startswith(("_", ".")))
    if tables_a != tables_b:
        problems.append(f"tables differ: {tables_a} vs {tables_b}")
    for name in sorted(set(tables_a) & set(tables_b)):
        problems.extend(compare_table(os.path.join(a, name), os.path.join(b, name)))
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    problems = compare_roots(*args)
    for p in problems:
        print(p)
    print("identical" if not problems else f"{len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
