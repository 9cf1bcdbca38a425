"""Merging sources into one language's metadata (SPEC §4), and counting entries per source.

Full metadata for one language is the union of several sources (SPEC §4). They are merged in
a fixed priority order: an entry keeps the id and the source of the first part that has it,
later copies are dropped and counted. Quotas (the paper's caps) count *newly added* entries,
as in MetaCLIP 2's merge, so a unigram that WordNet already gave does not use up the
unigram cap. Invalid candidates are dropped, counted per reason and reported, never fixed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from curation.metadata.table import Metadata, validate_entry

# Imported MetaCLIP lists first (their ids stay the reference's), then MetaCLIP 2's own order.
SOURCE_PRIORITY = ("metaclip", "numbers", "wordnet", "wiki_unigram", "wiki_bigram", "wiki_title")
NUMBERS = tuple(str(i) for i in range(100))
_REPORT_EXAMPLES = 5


@dataclass(frozen=True)
class SourcePart:
    """One source's ranked candidates for one language.

    ``quota``: at most this many *new* entries are taken (None: all). ``labels``: per-entry
    source names (imported MetaCLIP dicts carry their own); default ``source`` for all.
    """

    source: str
    entries: Sequence[str]
    quota: int | None = None
    labels: Sequence[str] | None = None


@dataclass
class MergeReport:
    """What a merge kept and dropped, per source: the builder's report is made of these."""

    added: dict[str, int]
    duplicates: dict[str, int]
    rejected: dict[str, dict[str, int]]
    examples: dict[str, list[tuple[str, str]]]

    def to_dict(self) -> dict:
        return {"added": dict(self.added), "duplicates": dict(self.duplicates),
                "rejected": {s: dict(r) for s, r in self.rejected.items()},
                "rejected_examples": {s: [[e, r] for e, r in ex] for s, ex in self.examples.items()}}


def merge_sources(parts: Sequence[SourcePart]) -> tuple[list[str], list[str], MergeReport]:
    """Merge ranked source parts of one language into (entries, sources, report).

    Entry ids follow the part order, then each part's rank order. The result always passes
    :func:`validate_metadata`.
    """
    entries: list[str] = []
    sources: list[str] = []
    seen: set[str] = set()
    report = MergeReport({}, {}, {}, {})
    for part in parts:
        labels = part.labels if part.labels is not None else [part.source] * len(part.entries)
        if len(labels) != len(part.entries):
            raise ValueError(f"source {part.source!r}: {len(part.entries)} entries but {len(labels)} labels")
        added = 0
        report.added.setdefault(part.source, 0)
        for entry, label in zip(part.entries, labels):
            if part.quota is not None and added >= part.quota:
                break
            reason = validate_entry(entry)
            if reason:
                bucket = report.rejected.setdefault(part.source, {})
                bucket[reason] = bucket.get(reason, 0) + 1
                examples = report.examples.setdefault(part.source, [])
                if len(examples) < _REPORT_EXAMPLES:
                    examples.append((str(entry), reason))
                continue
            if entry in seen:
                report.duplicates[part.source] = report.duplicates.get(part.source, 0) + 1
                continue
            seen.add(entry)
            entries.append(entry)
            sources.append(label or part.source)
            added += 1
        report.added[part.source] += added
    return entries, sources, report


def merge_languages(parts: Mapping[str, Sequence[SourcePart]]) -> tuple[Metadata, dict[str, MergeReport]]:
    """Merge ``{lang: [SourcePart, ...]}``; languages left with no entry are omitted."""
    entries: dict[str, tuple[str, ...]] = {}
    sources: dict[str, tuple[str, ...]] = {}
    reports: dict[str, MergeReport] = {}
    for lang in sorted(parts):
        items, labels, report = merge_sources(parts[lang])
        reports[lang] = report
        if items:
            entries[lang] = tuple(items)
            sources[lang] = tuple(labels)
    return Metadata(entries, sources), reports


def source_counts(metadata: Metadata) -> dict[str, dict[str, int]]:
    """``{lang: {source: number of entries}}``."""
    out: dict[str, dict[str, int]] = {}
    for lang in metadata.languages:
        counts: dict[str, int] = {}
        for source in metadata.sources[lang]:
            counts[source] = counts.get(source, 0) + 1
        out[lang] = counts
    return out


def format_source_table(counts: Mapping[str, Mapping[str, int]], max_rows: int | None = None) -> str:
    """Plain-text table: one row per language, one column per source, totals last."""
    known = [s for s in SOURCE_PRIORITY if any(s in c for c in counts.values())]
    other = sorted({s for c in counts.values() for s in c} - set(known))
    columns = known + other
    header = ["lang", *columns, "total"]
    rows = []
    langs = sorted(counts)
    shown = langs if max_rows is None else langs[:max_rows]
    for lang in shown:
        c = counts[lang]
        rows.append([lang, *(str(c.get(s, 0)) for s in columns), str(sum(c.values()))])
    totals = [sum(counts[lang].get(s, 0) for lang in langs) for s in columns]
    rows.append([f"all ({len(langs)})", *map(str, totals), str(sum(totals))])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    for r in rows:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(r, widths))))
    if max_rows is not None and len(langs) > max_rows:
        lines.insert(-1, f"... {len(langs) - max_rows} more languages")
    return "\n".join(lines)

