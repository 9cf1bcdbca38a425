"""Online MetaCLIP 2 balancing in the data loader: re-pick and re-flip every epoch.

Nothing here re-implements a rule. The choice of one text per image and the keep coin are
``curation.sampling.sample_image`` (min-hash choice, hash-based uniform of ``(seed, epoch, uid)``)
over ``curation.balancing.keep_probability`` — the very functions the offline Spark job calls —
so the loader's epoch-``e`` sample equals the offline ``curated`` table written with epoch ``e``.

The ``matched`` table has one row per matched text; all texts of an image are contiguous
within one file (the curation job hash-partitions and sorts by uid), possibly across a
row-group boundary. This module groups contiguous runs of equal uid; the data module makes
sure a run split across row groups is seen whole by exactly one reader.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np
import pyarrow as pa

from curation.balancing import ENTRY_PROBS_COLUMNS, probabilities_by_lang
from curation.readers import RowGroupReader, TableSnapshot, open_table
from curation.sampling import sample_image

MATCHED_COLUMNS = ("uid", "text", "lang", "entry_ids")
PROBS_COLUMNS = ENTRY_PROBS_COLUMNS


class BalancingError(ValueError):
    """``matched`` and ``entry_probs`` do not belong together (unknown language or entry id)."""


def probs_by_lang_from_table(table: pa.Table) -> dict[str, np.ndarray]:
    """``{lang: prob[entry_id]}`` dense float32 arrays from an ``entry_probs`` table (the same
    function the offline Spark sample uses), with problems reported as BalancingError."""
    try:
        return probabilities_by_lang(table)
    except ValueError as exc:
        raise BalancingError(str(exc)) from exc


def load_entry_probs(uri: str, *, format: str = "auto", version: int | None = None,
                     storage_options: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Read a whole ``entry_probs`` table (small: one row per metadata entry) into per-language arrays."""
    return probs_from_snapshot(open_table(uri, format=format, version=version, storage_options=storage_options))


def probs_from_snapshot(snap: TableSnapshot) -> dict[str, np.ndarray]:
    """Per-language probability arrays of a pinned ``entry_probs`` snapshot."""
    reader = RowGroupReader(snap)
    parts = [reader.read(fi, rg, PROBS_COLUMNS)
             for fi, f in enumerate(snap.files) for rg in range(len(f.row_group_rows))]
    return probs_by_lang_from_table(pa.concat_tables(parts))


def probs_of_text(probs_by_lang: Mapping[str, np.ndarray], lang: str, entry_ids: Sequence[int], uid: str = "?") -> np.ndarray:
    """Entry probabilities of one text's matched entries."""
    table = probs_by_lang.get(lang)
    if table is None:
        raise BalancingError(f"uid {uid}: language {lang!r} of a matched text is not in entry_probs "
                             "(tables from different curation runs?)")
    ids = np.asarray(entry_ids, dtype=np.int64)
    if ids.size and (ids.min() < 0 or ids.max() >= table.size):
        raise BalancingError(f"uid {uid}: entry id out of range for {lang!r} (n={table.size})")
    return table[ids]


def uid_runs(uids: Sequence[str], start: int = 0, stop: int | None = None) -> Iterator[tuple[int, int]]:
    """``(begin, end)`` of each run of equal consecutive uids within ``[start, stop)``."""
    stop = len(uids) if stop is None else stop
    i = start
    while i < stop:
        j = i + 1
        while j < stop and uids[j] == uids[i]:
            j += 1
        yield i, j
        i = j


def sample_run(seed: int, epoch: int, uids: Sequence[str], texts: Sequence[str], langs: Sequence[str],
               entry_ids: Sequence[Sequence[int]], probs_by_lang: Mapping[str, np.ndarray],
               begin: int, end: int) -> int | None:
    """Balanced sampling of one image (rows ``[begin, end)``): the chosen row, or None if dropped."""
    uid = uids[begin]
    run_probs = [probs_of_text(probs_by_lang, langs[r], entry_ids[r], uid) for r in range(begin, end)]
    i = sample_image(seed, epoch, uid, list(texts[begin:end]), run_probs)
    return None if i is None else begin + i


def online_sample_table(matched: pa.Table, probs_by_lang: Mapping[str, np.ndarray], seed: int,
                        epoch: int) -> list[tuple[str, int, str]]:
    """Epoch sample of an in-memory ``matched`` table, in any row order: ``(uid, text index, text)``.

    An image's texts are taken in table order; ``text index`` is the position among them. Two
    equal texts of one image are interchangeable, so compare samples on ``(uid, text)``.
    """
    cols = {c: matched.column(c).to_pylist() for c in MATCHED_COLUMNS}
    rows_of: dict[str, list[int]] = {}
    for r, uid in enumerate(cols["uid"]):
        rows_of.setdefault(uid, []).append(r)
    out = []
    for uid, rows in rows_of.items():
        run_probs = [probs_of_text(probs_by_lang, cols["lang"][r], cols["entry_ids"][r], uid) for r in rows]
        texts = [cols["text"][r] for r in rows]
        i = sample_image(seed, epoch, uid, texts, run_probs)
        if i is not None:
            out.append((uid, i, texts[i]))
    return out


def online_sample(matched: pa.Table | str | TableSnapshot, probs_by_lang: Mapping[str, np.ndarray] | str,
                  seed: int, epoch: int) -> list[tuple[str, int, str]]:
    """The loader's epoch-``epoch`` sample of a ``matched`` table: ``(uid, text index, text)`` per kept image.

    ``matched`` may be a table URI (read exactly as the loader reads it) or an in-memory table;
    ``probs_by_lang`` may be an ``entry_probs`` URI. Sorted by uid, for easy comparison with an
    offline ``curated`` table of the same seed and epoch.
    """
    if isinstance(probs_by_lang, str):
        probs_by_lang = load_entry_probs(probs_by_lang)
    if isinstance(matched, pa.Table):
        return sorted(online_sample_table(matched, probs_by_lang, seed, epoch))
    from training.records import iter_epoch_records  # the loader's own code path

    records = iter_epoch_records(matched, mode="online", probs_by_lang=probs_by_lang, seed=seed, epoch=epoch,
                                 load_images=False)
    return sorted((r.uid, r.text_index, r.text) for r in records)
