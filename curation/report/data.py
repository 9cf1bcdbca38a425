"""Everything the curation report shows, gathered from an output root (never re-running curation).

Per-language numbers come from ``_stats.json``; per-entry numbers from the tables, streamed
batch by batch and reduced to one array per language indexed by entry id, so memory grows
with the metadata size, not with the number of rows:

- *before balancing*: ``entry_counts.count`` (texts in ``matched`` per entry);
- *after balancing*: texts in ``curated`` per entry (its ``entry_ids`` exploded);
- rejects by reason and language from ``rejects`` (``_stats.json`` when the table is absent).

Probabilities shown next to top entries are ``curation.balancing.entry_probabilities``, the
function the ``thresholds`` stage itself uses.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from curation.balancing import entry_probabilities
from curation.layout import REALSYN_SECTION
from curation.report.realsyn import PAIRS_TABLE, RealSynData, collect_realsyn
from curation.report.tables import ReportError, detect_format, open_table, read_stats

log = logging.getLogger("curation.report")

NO_LANG = "(none)"  # rejects of rows that never got a language (bad url/text)


@dataclass
class LanguageRow:
    lang: str
    texts: int  # valid input texts whose LID maps to this language
    matched: int  # texts with at least one matched entry
    kept: int  # images kept in ``curated``
    t: int | None  # None: no threshold (no matches)
    total_count: int  # sum of entry counts (matches)
    n_entries: int  # metadata entries of the language
    entries_matched: int  # entries with count > 0
    head_entries: int  # entries with count > t (down-sampled)


@dataclass
class TopEntry:
    entry_id: int
    entry: str
    count: int
    prob: float
    after: int | None  # texts in ``curated`` with this entry; None without ``curated``


@dataclass
class ReportData:
    root: str
    format: str
    stats: dict
    languages: list[LanguageRow]
    counts_before: dict[str, np.ndarray]
    counts_after: dict[str, np.ndarray]
    thresholds: dict[str, int]
    rejects: dict[str, dict[str, int]]  # reason -> lang (or NO_LANG) -> rows
    top_entries: dict[str, list[TopEntry]]
    missing: list[str] = field(default_factory=list)  # tables not found (stage not run)
    seconds: float = 0.0
    realsyn: RealSynData | None = None  # the root's wwclip-realsyn run (curation.report.realsyn)

    @property
    def curation(self) -> bool:
        """Whether the root holds a MetaCLIP 2 curation run (a RealSyn-only root does not)."""
        return bool(self.stats.get("stages"))

    @property
    def t_en(self) -> int | None:
        return self.stats.get("stages", {}).get("thresholds", {}).get("t_en")

    @property
    def p(self) -> float | None:
        return self.stats.get("stages", {}).get("thresholds", {}).get("p")


# ---------------------------------------------------------------- streaming reductions

# Rows per scanned batch and how far the scan reads ahead: the report's memory is a few batches
# of the columns it reads plus the per-language arrays, whatever the size of the tables.
# pyarrow's defaults read up to 16 batches of 4 files ahead, threaded scans decode several row
# groups at once, and Parquet "pre-buffering" fetches the wanted columns of *every* row group of
# a file before the first batch (the whole file: peak RSS 570 MB at 10M curated rows in one
# file vs 246 MB at 100k). Single-threaded, short readahead, no pre-buffering: one row group at
# a time, measured flat from 1M to 10M rows (benchmarks/driver/RESULTS.md).
SCAN_BATCH_ROWS = 65_536
SCAN_BATCH_READAHEAD = 2
SCAN_FRAGMENT_READAHEAD = 1


def scan(dataset: ds.Dataset, columns: list[str]):
    """Record batches of ``columns``, one row group at a time (see ``SCAN_BATCH_ROWS``)."""
    options = {}
    if isinstance(getattr(dataset, "format", None), ds.ParquetFileFormat):
        options["fragment_scan_options"] = ds.ParquetFragmentScanOptions(pre_buffer=False)
    return dataset.to_batches(columns=columns, batch_size=SCAN_BATCH_ROWS, batch_readahead=SCAN_BATCH_READAHEAD,
                              fragment_readahead=SCAN_FRAGMENT_READAHEAD, use_threads=False, **options)


def _grow(store: dict[str, np.ndarray], lang: str, size: int) -> np.ndarray:
    arr = store.get(lang)
    if arr is None or arr.size < size:
        new = np.zeros(size, dtype=np.int64)
        if arr is not None:
            new[:arr.size] = arr
        store[lang] = arr = new
    return arr


def _by_lang(langs: pa.Array):
    """(lang, boolean mask) for every distinct non-null language of one batch."""
    encoded = pc.dictionary_encode(langs)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    valid = encoded.indices.is_valid().to_numpy(zero_copy_only=False)
    for code, lang in enumerate(encoded.dictionary.to_pylist()):
        mask = valid & (codes == code)
        if mask.any():
            yield lang, mask


def entry_counts_by_lang(dataset: ds.Dataset) -> dict[str, np.ndarray]:
    """``{lang: count[entry_id]}`` from ``entry_counts`` (one row per language and entry)."""
    store: dict[str, np.ndarray] = {}
    for batch in scan(dataset, ["lang", "entry_id", "count"]):
        ids = batch.column("entry_id").to_numpy(zero_copy_only=False).astype(np.int64)
        counts = batch.column("count").to_numpy(zero_copy_only=False).astype(np.int64)
        for lang, mask in _by_lang(batch.column("lang")):
            arr = _grow(store, lang, int(ids[mask].max()) + 1)
            arr[ids[mask]] = counts[mask]
    return store


def texts_per_entry(dataset: ds.Dataset) -> dict[str, np.ndarray]:
    """``{lang: texts[entry_id]}``: rows of a matched-like table (``curated``) per matched entry."""
    store: dict[str, np.ndarray] = {}
    for batch in scan(dataset, ["lang", "entry_ids"]):
        lists = batch.column("entry_ids")
        if len(lists) == 0:
            continue
        flat = pc.list_flatten(lists).to_numpy(zero_copy_only=False).astype(np.int64)
        if flat.size == 0:
            continue
        parents = pc.list_parent_indices(lists)
        langs = pc.take(batch.column("lang"), parents)
        for lang, mask in _by_lang(langs):
            ids = flat[mask]
            arr = _grow(store, lang, int(ids.max()) + 1)
            arr += np.bincount(ids, minlength=arr.size)
    return store


def rejects_by_reason(dataset: ds.Dataset) -> dict[str, dict[str, int]]:
    columns = [c for c in ("reason", "lang") if c in dataset.schema.names]
    counter: Counter = Counter()
    for batch in scan(dataset, columns):
        if batch.num_rows == 0:
            continue
        groups = pa.Table.from_batches([batch]).group_by(columns).aggregate([([], "count_all")])
        reasons = groups.column("reason").to_pylist()
        langs = groups.column("lang").to_pylist() if "lang" in columns else [None] * len(reasons)
        counter.update(dict(zip(zip(reasons, langs), groups.column("count_all").to_pylist())))
    out: dict[str, dict[str, int]] = {}
    for (reason, lang), n in counter.items():
        out.setdefault(str(reason), {})[lang or NO_LANG] = int(n)
    return out


def entry_strings(dataset: ds.Dataset, wanted: dict[str, list[int]]) -> dict[tuple[str, int], str]:
    """The entry text of each wanted (lang, entry_id), read with a filter (not the whole table)."""
    if not wanted:
        return {}
    ids = sorted({i for v in wanted.values() for i in v})
    table = dataset.to_table(columns=["lang", "entry_id", "entry"],
                             filter=ds.field("lang").isin(sorted(wanted)) & ds.field("entry_id").isin(ids))
    pairs = {(lang, i) for lang, v in wanted.items() for i in v}
    out = {}
    for lang, i, entry in zip(table.column("lang").to_pylist(), table.column("entry_id").to_pylist(),
                              table.column("entry").to_pylist()):
        if (lang, i) in pairs:
            out[(lang, int(i))] = entry
    return out


# ---------------------------------------------------------------- assembling

def _thresholds(stats: dict) -> dict[str, int]:
    per = stats.get("stages", {}).get("thresholds", {}).get("per_language", {})
    return {lang: int(v["t"]) for lang, v in per.items()}


def _language_rows(stats: dict, before: dict[str, np.ndarray], thresholds: dict[str, int]) -> list[LanguageRow]:
    st = stats.get("stages", {})
    texts = st.get("lid", {}).get("per_language", {})
    matched = st.get("match", {}).get("per_language", {})
    kept = st.get("sample", {}).get("per_language", {})
    thr = st.get("thresholds", {}).get("per_language", {})
    langs = set(texts) | set(matched) | set(kept) | {k for k, v in before.items() if v.sum() > 0}
    rows = []
    for lang in langs:
        counts = before.get(lang, np.zeros(0, dtype=np.int64))
        t = thresholds.get(lang) or None
        rows.append(LanguageRow(
            lang=lang, texts=int(texts.get(lang, 0)), matched=int(matched.get(lang, 0)),
            kept=int(kept.get(lang, 0)), t=t, total_count=int(counts.sum()),
            n_entries=int(thr.get(lang, {}).get("n_entries", counts.size)),
            entries_matched=int((counts > 0).sum()),
            head_entries=int((counts > t).sum()) if t else 0))
    rows.sort(key=lambda r: (-r.texts, -r.matched, r.lang))
    return rows


def _top_entries(before: dict[str, np.ndarray], after: dict[str, np.ndarray] | None,
                 thresholds: dict[str, int], entry_table: ds.Dataset, langs: list[str],
                 top_k: int) -> dict[str, list[TopEntry]]:
    chosen: dict[str, list[int]] = {}
    for lang in langs:
        counts = before.get(lang)
        if counts is None or counts.sum() == 0:
            continue
        order = np.lexsort((np.arange(counts.size), -counts))  # count desc, then entry id
        chosen[lang] = [int(i) for i in order[:top_k] if counts[i] > 0]
    strings = entry_strings(entry_table, chosen)
    out: dict[str, list[TopEntry]] = {}
    for lang, ids in chosen.items():
        counts = before[lang]
        probs = entry_probabilities(counts, thresholds.get(lang, 0))
        aft = after.get(lang) if after is not None else None
        out[lang] = [TopEntry(i, strings.get((lang, i), "?"), int(counts[i]), float(probs[i]),
                              None if after is None else int(aft[i]) if aft is not None and i < aft.size else 0)
                     for i in ids]
    return out


def collect(root: str, fmt: str = "auto", top_k: int = 15, top_languages: int = 12) -> ReportData:
    """Read ``_stats.json`` and the tables under ``root`` into a ReportData (no Spark)."""
    t0 = time.time()
    stats = read_stats(root)
    if not stats.get("stages") and not stats.get(REALSYN_SECTION):
        raise ReportError(f"{root}/_stats.json has no stage sections: no stage has finished there")
    fmt = detect_format(root, stats) if fmt == "auto" else fmt
    realsyn = None
    if stats.get(REALSYN_SECTION):
        pairs = open_table(root, PAIRS_TABLE, fmt)
        realsyn = collect_realsyn(stats, pairs)
        log.info("report: RealSyn section read (%s)", "with realsyn_pairs" if pairs is not None else "stats only")
        if not stats.get("stages"):  # a RealSyn-only root: no curation tables to look for
            return ReportData(root=root, format=fmt, stats=stats, languages=[], counts_before={}, counts_after={},
                              thresholds={}, rejects={}, top_entries={},
                              missing=[] if pairs is not None else [PAIRS_TABLE],
                              seconds=round(time.time() - t0, 2), realsyn=realsyn)
    missing = []

    counts_table = open_table(root, "entry_counts", fmt)
    if counts_table is None:
        missing.append("entry_counts")
        before: dict[str, np.ndarray] = {}
    else:
        before = entry_counts_by_lang(counts_table)
        log.info("report: entry_counts read (%d languages)", len(before))

    curated = open_table(root, "curated", fmt)
    if curated is None:
        missing.append("curated")
        after = None
    else:
        after = texts_per_entry(curated)
        log.info("report: curated read")

    rejects_table = open_table(root, "rejects", fmt)
    if rejects_table is None:
        missing.append("rejects")
        by_reason = stats.get("stages", {}).get("match", {}).get("rejects_by_reason") or \
            stats.get("stages", {}).get("lid", {}).get("rejected", {})
        rejects = {reason: {NO_LANG: int(n)} for reason, n in by_reason.items()}
    else:
        rejects = rejects_by_reason(rejects_table)
        log.info("report: rejects read")

    thresholds = _thresholds(stats)
    languages = _language_rows(stats, before, thresholds)
    by_matches = [r.lang for r in sorted(languages, key=lambda r: (-r.total_count, r.lang)) if r.total_count]
    top = (_top_entries(before, after, thresholds, counts_table, by_matches[:top_languages], top_k)
           if counts_table is not None else {})
    return ReportData(root=root, format=fmt, stats=stats, languages=languages, counts_before=before,
                      counts_after=after or {}, thresholds=thresholds, rejects=rejects, top_entries=top,
                      missing=missing, seconds=round(time.time() - t0, 2), realsyn=realsyn)
