"""Online MetaCLIP 2 balancing in the data loader: re-pick and re-flip every epoch.

Nothing here re-implements a rule. Rows are grouped into images by
``curation.sampling.image_runs``; each text's keep probability is
``curation.balancing.text_keep_probabilities``; the choice of one text and the keep coin are
``curation.sampling.sample_images`` (min-hash choice, hash-based uniform of ``(seed, epoch, uid)``)
— the rules behind the offline Spark job — so the loader's epoch-``e`` sample equals the
offline ``curated`` table written with epoch ``e``.

The ``matched`` table has one row per matched text; all texts of an image are contiguous
within one file (the curation job hash-partitions and sorts by uid), possibly across a
row-group boundary: ``training.reader`` makes sure such a run is seen whole by exactly one
reader and hands it here.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from curation.balancing import ENTRY_PROBS_COLUMNS, probabilities_by_lang, text_keep_probabilities
from curation.readers import RowGroupReader, TableSnapshot, open_table
from curation.sampling import image_runs, sample_images

MATCHED_COLUMNS = ("uid", "text", "lang", "entry_ids")


class BalancingError(ValueError):
    """``matched`` and ``entry_probs`` do not belong together (unknown language or entry id)."""


def probs_by_lang_from_table(table: pa.Table) -> dict[str, np.ndarray]:
    """``{lang: prob[entry_id]}`` dense float32 arrays from an ``entry_probs`` table (the same
    function the offline Spark sample uses), with problems reported as BalancingError."""
    try:
        return probabilities_by_lang(table)
    except ValueError as exc:
        raise BalancingError(str(exc)) from exc


def probs_from_snapshot(snap: TableSnapshot) -> dict[str, np.ndarray]:
    """Per-language probability arrays of a pinned ``entry_probs`` snapshot."""
    reader = RowGroupReader(snap)
    parts = [reader.read(fi, rg, ENTRY_PROBS_COLUMNS)
             for fi, f in enumerate(snap.files) for rg in range(len(f.row_group_rows))]
    return probs_by_lang_from_table(pa.concat_tables(parts))


def load_entry_probs(uri: str, *, format: str = "auto", version: int | None = None,
                     storage_options: dict[str, str] | None = None) -> dict[str, np.ndarray]:
    """Read a whole ``entry_probs`` table (small: one row per metadata entry) into per-language arrays."""
    return probs_from_snapshot(open_table(uri, format=format, version=version, storage_options=storage_options))


def keep_probabilities_of_rows(rows: pa.Table, probs_by_lang: Mapping[str, np.ndarray]) -> np.ndarray:
    """Keep probability of each ``matched`` row's text (columns ``lang``, ``entry_ids``); tables of
    different runs are a BalancingError."""
    try:
        return text_keep_probabilities(probs_by_lang, rows.column("lang").to_pylist(),
                                       rows.column("entry_ids").to_pylist())
    except (KeyError, IndexError) as exc:
        raise BalancingError(f"matched and entry_probs do not belong together (tables from different curation "
                             f"runs?): {exc.args[0]}") from exc


def sample_rows(rows: pa.Table, probs_by_lang: Mapping[str, np.ndarray], seed: int,
                epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """Balanced sampling of ``matched`` rows grouped by uid (``MATCHED_COLUMNS``): for each kept
    image, its first row and its chosen row (two int64 arrays, images in table order)."""
    uids = rows.column("uid").to_pylist()
    bounds = image_runs(uids)
    chosen = sample_images(seed, epoch, uids, rows.column("text").to_pylist(), bounds,
                           keep_probabilities_of_rows(rows, probs_by_lang))
    kept = chosen >= 0
    return bounds[:-1][kept], chosen[kept]
