"""``python -m curation.metadata {validate,clean,stats,import-metaclip,export-metaclip} ...``"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from curation import localfs
from curation.metadata.clean import changes_jsonl, clean_table, format_summary
from curation.metadata.io import (
    column_problems,
    default_metadata_path,
    read_metadata,
    read_metadata_table,
    read_metadata_version,
    validate_metadata_file,
    write_metadata_atomic,
)
from curation.metadata.merge import format_source_table, source_counts
from curation.metadata.metaclip import export_metaclip, metadata_from_metaclip, read_metaclip_json
from curation.metadata.table import MetadataError, metadata_table


def _lang_path(value: str) -> tuple[str, str]:
    lang, sep, path = value.partition("=")
    if not sep or not lang or not path:
        raise ValueError(f"expected LANG=PATH, got {value!r}")
    return lang, path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m curation.metadata {validate,clean,stats,import-metaclip,export-metaclip} ...``"""
    parser = argparse.ArgumentParser(prog="python -m curation.metadata",
                                     description="Check, inspect and convert metadata tables (SPEC §4).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="report every problem of a metadata Parquet file; exit 1 if any")
    p.add_argument("path", nargs="?", default=None, help="metadata Parquet file (default: the embedded one)")
    p.add_argument("--max-problems", type=int, default=50)
    p = sub.add_parser("clean", help="metadata Parquet -> a valid one: strip whitespace, drop punctuation-only, "
                                     "non-NFC, over-long and repeated entries (the last one is kept), renumber ids; "
                                     "every change written to a report")
    p.add_argument("input", help="metadata Parquet file or directory (lang, entry_id, entry[, source])")
    p.add_argument("output", help="cleaned metadata Parquet file")
    p.add_argument("--report", default=None, help="change report, JSON Lines [<output>.changes.jsonl]")
    p = sub.add_parser("stats", help="entries per language and source")
    p.add_argument("path", nargs="?", default=None)
    p = sub.add_parser("import-metaclip", help="MetaCLIP JSON files -> metadata Parquet (strict)")
    p.add_argument("files", nargs="+", metavar="LANG=PATH")
    p.add_argument("--output", required=True)
    p.add_argument("--clean", action="store_true",
                   help="clean instead of refusing (as the clean command; report at <output>.changes.jsonl)")
    p = sub.add_parser("export-metaclip", help="metadata Parquet -> <out_dir>/<lang>.json")
    p.add_argument("path")
    p.add_argument("out_dir")
    p.add_argument("--format", choices=("dict", "list"), default="dict",
                   help="dict: MetaCLIP 2 {entry: source}; list: metadata.json style [%(default)s]")
    args = parser.parse_args(argv)

    if args.command == "validate":
        path = args.path or default_metadata_path()
        problems = validate_metadata_file(path)
        if problems:
            print(f"INVALID {path}: {len(problems)} problem(s)")
            for line in problems[:args.max_problems]:
                print(f"  {line}")
            if len(problems) > args.max_problems:
                print(f"  ... and {len(problems) - args.max_problems} more")
            return 1
        metadata = read_metadata(path)
        total = sum(len(v) for v in metadata.entries.values())
        version = read_metadata_version(path)
        print(f"OK {path}: {len(metadata.entries)} languages, {total} entries"
              + (f", version {version}" if version else ""))
        return 0
    try:
        if args.command == "clean":
            table = read_metadata_table(args.input)
            problems = [p for p in column_problems(table) if "null" not in p and "UTF-8" not in p]
            if problems:  # nulls and invalid UTF-8 are dropped entry by entry; wrong types are not guessed
                raise MetadataError("; ".join(problems))
            _clean_and_write(table, args.output, args.report)
        elif args.command == "stats":
            print(format_source_table(source_counts(read_metadata(args.path))))
        elif args.command == "import-metaclip":
            files = dict(_lang_path(v) for v in args.files)
            if args.clean:
                _clean_and_write(metadata_table((lang, *read_metaclip_json(path)) for lang, path in files.items()),
                                 args.output, None)
                return 0
            metadata = metadata_from_metaclip(files)
            write_metadata_atomic(metadata, args.output)
            print(format_source_table(source_counts(metadata)))
            print(f"wrote {args.output}")
        else:
            paths = export_metaclip(read_metadata(args.path), args.out_dir, args.format)
            print(f"wrote {len(paths)} file(s) to {args.out_dir}")
    except (MetadataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _clean_and_write(table, output: str, report: str | None) -> None:
    metadata, changes = clean_table(table)
    report = report or f"{output}.changes.jsonl"
    write_metadata_atomic(metadata, output)
    localfs.write_text(report, changes_jsonl(changes))
    print(format_summary(changes, metadata))
    print(f"wrote {output} and the change report {report}")
