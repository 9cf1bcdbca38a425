"""HTML curation report rendered from a finished run's output root (``_stats.json`` + tables).

    wwclip-report --output out/demo             # writes out/demo/report.html
    python -m curation.report --output out/demo --report /tmp/report.html

Needs the ``report`` extra (matplotlib; deltalake for Delta tables). No Spark: the report reads
the tables with pyarrow/deltalake and never re-runs a stage. ``collect`` gathers the numbers
(``ReportData``), ``render`` turns them into one self-contained HTML string.
"""

from __future__ import annotations

from curation.report.data import ReportData, collect
from curation.report.tables import ReportError


def build_report(output: str, report: str | None = None, *, fmt: str = "auto", top_k: int = 15,
                 top_languages: int = 12, max_languages: int = 40, curve_languages: int = 8,
                 title: str | None = None) -> str:
    """Render the report of the run under ``output`` to ``report`` (default ``<output>/report.html``);
    returns the report's path."""
    from curation.report.html import render
    from curation.report.tables import join, write_text

    data = collect(output, fmt=fmt, top_k=top_k, top_languages=top_languages)
    path = report or join(output, "report.html")
    write_text(path, render(data, title=title, max_languages=max_languages, curve_languages=curve_languages))
    return path


__all__ = ["ReportData", "ReportError", "build_report", "collect"]
