"""Cleaning third-party metadata into a valid table (SPEC §4), reporting every change.

``validate`` refuses a table with any problem; real lists have some (MetaCLIP's own
``metadata.json`` has punctuation-only and repeated entries). ``clean_table`` makes such a list
usable with rules a user can predict, and says what it did to each entry:

- **stripped**: leading/trailing whitespace is removed (the matcher pads entries with single
  spaces itself, so an entry ``" cat"`` could never match; its trimmed form is what was meant);
- **dropped** (``reason`` says why): empty (also after stripping), not valid UTF-8 or a lone
  surrogate, longer than 256 characters, punctuation-only, not NFC-normalised (normalising
  would change what the entry matches: matching does not normalise texts), no language;
- **dropped as repeated**: of several equal entries of one language (after stripping) the
  **last** is kept, at its own position, as the reference matcher reports the last index;
- **renumbered**: the kept entries get ids 0..n-1 per language in their original order (by
  the old ``entry_id``, then file order).

Pure (pyarrow in, pyarrow out): the CLI (``python -m curation.metadata clean``) and
``wwclip-curate --clean-metadata`` call it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import json

import pyarrow as pa

from curation.metadata.table import Metadata, metadata_from_table, metadata_table, validate_entry

STRIPPED = "stripped"
DROPPED = "dropped"
RENUMBERED = "renumbered"
REPEATED = "repeated (an equal entry later in the list is kept)"


@dataclass(frozen=True)
class Change:
    """What cleaning did to one input row: ``action`` is dropped, stripped or renumbered."""

    lang: str | None
    old_entry_id: int | None
    new_entry_id: int | None  # None: dropped
    entry: str | None  # as it was in the input (None: not a string / not valid UTF-8)
    action: str
    reason: str = ""

    def to_dict(self) -> dict:
        return {"lang": self.lang, "old_entry_id": self.old_entry_id, "new_entry_id": self.new_entry_id,
                "entry": self.entry, "action": self.action, "reason": self.reason}


def _entries(column: pa.ChunkedArray) -> list[object]:
    """The entry strings; a value that is not valid UTF-8 becomes ``bytes`` (dropped later)."""
    out: list[object] = []
    for value in column.cast(pa.binary()).to_pylist():
        if value is None:
            out.append(None)
            continue
        try:
            out.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(bytes(value))
    return out


def clean_table(table: pa.Table) -> tuple[Metadata, list[Change]]:
    """A valid ``Metadata`` from a metadata-like table (``lang``, ``entry``, optional
    ``entry_id`` and ``source``), and one ``Change`` per input row that was not kept as it was
    (dropped with its reason, stripped, or only renumbered), per language in original order."""
    n = table.num_rows
    langs = table.column("lang").to_pylist() if "lang" in table.column_names else [None] * n
    entries = _entries(table.column("entry"))
    ids = table.column("entry_id").to_pylist() if "entry_id" in table.column_names else list(range(n))
    sources = table.column("source").to_pylist() if "source" in table.column_names else [""] * n
    changes: list[Change] = []
    rows_by_lang: dict[str, list[int]] = {}
    for row, lang in enumerate(langs):
        if not isinstance(lang, str) or not lang:
            changes.append(Change(None, ids[row], None, _shown(entries[row]), DROPPED, "no language"))
        else:
            rows_by_lang.setdefault(lang, []).append(row)
    parts = []
    for lang in sorted(rows_by_lang):
        # original order: by old id (rows without one last), then file order
        order = sorted(rows_by_lang[lang], key=lambda r: (ids[r] is None, ids[r] or 0, r))
        dropped: dict[int, str] = {}
        cleaned: dict[int, str] = {}
        for row in order:
            raw = entries[row]
            entry = raw.strip() if isinstance(raw, str) else raw
            reason = "not valid UTF-8" if isinstance(raw, bytes) else validate_entry(entry)
            if reason:
                dropped[row] = reason
            else:
                cleaned[row] = entry
        last = {entry: row for row, entry in cleaned.items()}  # dict order = original order
        for row, entry in cleaned.items():
            if last[entry] != row:
                dropped[row] = REPEATED
        kept = [row for row in cleaned if row not in dropped]
        new_id = {row: i for i, row in enumerate(kept)}
        for row in order:
            shown = _shown(entries[row])
            if row in dropped:
                changes.append(Change(lang, ids[row], None, shown, DROPPED, dropped[row]))
            elif cleaned[row] != entries[row]:
                changes.append(Change(lang, ids[row], new_id[row], shown, STRIPPED, f"now {cleaned[row]!r}"))
            elif ids[row] != new_id[row]:
                changes.append(Change(lang, ids[row], new_id[row], shown, RENUMBERED))
        if kept:
            parts.append((lang, [cleaned[r] for r in kept], [sources[r] or "" for r in kept]))
    return metadata_from_table(metadata_table(parts), "cleaned metadata"), changes


def _shown(value: object) -> str | None:
    return value if isinstance(value, str) else None


def summarize(changes: list[Change]) -> dict[str, dict[str, int]]:
    """``{lang: {action or 'dropped: reason': count}}`` (languages sorted)."""
    out: dict[str, Counter] = {}
    for c in changes:
        key = c.action if c.action != DROPPED else f"dropped: {c.reason}"
        out.setdefault(c.lang or "(none)", Counter())[key] += 1
    return {lang: dict(sorted(out[lang].items())) for lang in sorted(out)}


def changes_jsonl(changes: list[Change]) -> str:
    """The change report: one JSON object per line (``Change.to_dict``)."""
    return "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in changes)


def format_summary(changes: list[Change], kept: Metadata) -> str:
    """A few readable lines: entries kept per language, and what was changed, by kind."""
    total = sum(len(v) for v in kept.entries.values())
    lines = [f"kept {total} entries in {len(kept.entries)} languages; {len(changes)} change(s)"]
    for lang, counts in summarize(changes).items():
        lines.append(f"  {lang}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return "\n".join(lines)
