"""The loader's epoch sample as a list, to check it against Spark's ``curated`` (tests, tools).

``online_sample(matched, entry_probs, seed, epoch)`` is what the training loader would train on
in epoch ``epoch`` under online balancing; with the same seed and epoch it must equal the
offline ``curated`` table of a curation run. It reads a table URI exactly as the loader does
(``training.reader``) or samples an in-memory table with the same ``training.online`` code.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa

from curation.readers import TableSnapshot
from training.online import MATCHED_COLUMNS, load_entry_probs, sample_rows
from training.reader import iter_epoch_records


def online_sample_table(matched: pa.Table, probs_by_lang: Mapping[str, np.ndarray], seed: int,
                        epoch: int) -> list[tuple[str, int, str]]:
    """Epoch sample of an in-memory ``matched`` table, in any row order: ``(uid, text index, text)``
    per kept image, images in order of first appearance.

    An image's texts are taken in table order (a stable sort by uid groups them); ``text index``
    is the position among them. Two equal texts of one image are interchangeable, so compare
    samples on ``(uid, text)``.
    """
    uids = np.asarray(matched.column("uid").to_pylist(), dtype=object)
    order = np.argsort(uids, kind="stable")
    grouped = matched.select(list(MATCHED_COLUMNS)).take(pa.array(order, pa.int64()))
    firsts, chosen = sample_rows(grouped, probs_by_lang, seed, epoch)
    texts = grouped.column("text").take(pa.array(chosen, pa.int64())).to_pylist()
    picks = zip(order[firsts].tolist(), uids[order[firsts]].tolist(), (chosen - firsts).tolist(), texts)
    return [(uid, index, text) for _, uid, index, text in sorted(picks)]


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
    records = iter_epoch_records(matched, mode="online", probs_by_lang=probs_by_lang, seed=seed, epoch=epoch,
                                 load_images=False)
    return sorted((r.uid, r.text_index, r.text) for r in records)
