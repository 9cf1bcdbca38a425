"""``wwclip-report``: one command from a curation output root to a self-contained HTML report."""

from __future__ import annotations

import argparse
import logging
import sys
import time


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="wwclip-report",
        description="Render a self-contained HTML report (static plots) from the tables and _stats.json "
                    "of a curation run. Reads the tables; never re-runs curation.")
    p.add_argument("--output", required=True,
                   help="the curation run's output root (the --output of wwclip-curate / jobs/curate.py)")
    p.add_argument("--report", default=None, help="HTML file to write [<output>/report.html]")
    p.add_argument("--format", default="auto", choices=("auto", "parquet", "delta"),
                   help="table format [auto: from _stats.json]")
    p.add_argument("--top-k", type=int, default=15, help="top entries shown per language [%(default)s]")
    p.add_argument("--top-languages", type=int, default=12,
                   help="languages with a top-entries table [%(default)s]")
    p.add_argument("--max-languages", type=int, default=40, help="languages in the bar charts [%(default)s]")
    p.add_argument("--curve-languages", type=int, default=8,
                   help="languages drawn in the head/tail and before/after plots [%(default)s]")
    p.add_argument("--title", default=None)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    for flag in ("top_k", "top_languages", "max_languages", "curve_languages"):
        if getattr(args, flag) < 1:
            print(f"error: --{flag.replace('_', '-')} must be >= 1", file=sys.stderr)
            return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("error: the report needs matplotlib: pip install 'worldwide-clip[report]'", file=sys.stderr)
        return 2
    from curation.report import ReportError, build_report

    t0 = time.time()
    try:
        path = build_report(args.output, args.report, fmt=args.format, top_k=args.top_k,
                            top_languages=args.top_languages, max_languages=args.max_languages,
                            curve_languages=args.curve_languages, title=args.title)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} in {time.time() - t0:.1f}s")
    return 0

