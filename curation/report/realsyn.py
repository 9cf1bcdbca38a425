"""The RealSyn part of the report: what ``wwclip-realsyn`` wrote under an output root.

Numbers come from two places, never from re-running a stage:

- the ``realsyn`` section of ``_stats.json`` (``curation.realsyn.pipeline``): each stage's rows in
  and out with every reject reason, and the image-cluster size histograms before and after
  balancing (``curation.realsyn.pairs.size_histogram``: clusters per power-of-two size bin, the
  "after" sizes being ``min(size, t)``, what ``cluster_cap_mask`` keeps);
- the ``realsyn_pairs`` table, streamed (columns ``text1..textk``, ``syn_text`` only): real
  sentences per written pair, and how many pairs carry a synthetic caption.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pyarrow.compute as pc
import pyarrow.dataset as ds

from curation.layout import REALSYN_SECTION, REALSYN_STAGE_TABLES

PAIRS_TABLE = REALSYN_STAGE_TABLES["pairs"][0]
_TEXT_COLUMN = re.compile(r"text([1-9][0-9]*)$")


@dataclass
class StageRow:
    """One RealSyn stage in the report's table: what went in, what came out, why rows left."""

    stage: str
    unit: str            # what is counted (documents, sentence references, images, ...)
    rows_in: int | None
    rows_out: int | None
    reasons: dict[str, int] = field(default_factory=dict)  # reject reason -> rows (kept excluded)
    seconds: float | None = None


@dataclass
class RealSynData:
    section: dict                       # the ``realsyn`` section of ``_stats.json``
    stages: list[StageRow]
    texts_per_pair: dict[int, int]      # real sentences in a written pair -> pairs (empty: no table)
    pairs: int                          # rows of realsyn_pairs (from the table, else the stats)
    with_synthetic: int | None          # pairs with a syn_text (None: no table)
    sizes_before: dict[str, int]        # image clusters per size bin, eligible images
    sizes_after: dict[str, int]         # the same after balancing (min(size, t))
    t: int | None
    balance_how: str
    perplexity: dict
    synthetic: dict


def _reasons(counts: dict) -> dict[str, int]:
    return {k: int(v) for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if k != "kept"}


def stage_rows(section: dict) -> list[StageRow]:
    """Per stage: rows in, rows out and the reject reasons, read from the stats section."""
    rows: list[StageRow] = []
    ex = section.get("extract")
    if ex:
        rows.append(StageRow("extract: documents", "documents", ex.get("documents_in"), ex.get("documents_used"),
                             _reasons(ex.get("documents_rejected", {})), ex.get("seconds")))
        for name, key in (("extract: image references", "image_refs"),
                          ("extract: sentence references", "sentence_refs")):
            refs = ex.get(key, {})
            rows.append(StageRow(name, "references", sum(refs.values()) if refs else None, refs.get("kept"),
                                 _reasons(refs)))
        if ex.get("element_rejects"):
            rows.append(StageRow("extract: elements", "positions", None, None, _reasons(ex["element_rejects"])))
    se = section.get("sentences")
    if se:
        reasons = _reasons(se.get("reasons", {}))
        if se.get("exact_duplicates"):
            reasons = {"exact_duplicate": int(se["exact_duplicates"]), **reasons}
        rows.append(StageRow("sentences", "sentence references", se.get("references_in"), se.get("kept"), reasons,
                             se.get("seconds")))
    em = section.get("embed")
    if em:
        rows.append(StageRow("embed", "sentences", em.get("sentences"), em.get("sentences"), {}, em.get("seconds")))
    im = section.get("images")
    if im:
        reasons = _reasons(im.get("reasons", {}))
        if im.get("repeated_urls"):
            reasons = {"repeated_url": int(im["repeated_urls"]), **reasons}
        rows.append(StageRow("images", "image references", im.get("references_in"), im.get("kept"), reasons,
                             im.get("seconds")))
    pa_ = section.get("pairs")
    if pa_:
        rows.append(StageRow("pairs", "images", pa_.get("images_in"), pa_.get("pairs"),
                             _reasons(pa_.get("rejected", {})), pa_.get("seconds")))
    return rows


def texts_per_pair(dataset: ds.Dataset) -> tuple[dict[int, int], int, int]:
    """``({real sentences: pairs}, pairs with a synthetic caption, pairs)`` of a realsyn_pairs
    dataset, streamed batch by batch; a text counts when it is a non-blank string."""
    names = dataset.schema.names
    text_columns = sorted((c for c in names if _TEXT_COLUMN.match(c)), key=lambda c: int(c[4:]))
    columns = text_columns + (["syn_text"] if "syn_text" in names else [])
    per: Counter = Counter()
    with_syn = total = 0
    for batch in dataset.to_batches(columns=columns):
        n = batch.num_rows
        if not n:
            continue
        present = [pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(batch.column(c))), 0), False)
                   for c in text_columns]
        counts = sum(p.to_numpy(zero_copy_only=False).astype(int) for p in present) if present else [0] * n
        per.update(int(c) for c in counts)
        if "syn_text" in names:
            syn = batch.column("syn_text")
            with_syn += int(pc.sum(pc.fill_null(pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(syn)), 0),
                                                False)).as_py() or 0)
        total += n
    return dict(sorted(per.items())), with_syn, total


def collect_realsyn(stats: dict, pairs: ds.Dataset | None) -> RealSynData | None:
    """The report's RealSyn data, or None when the root has no RealSyn section."""
    section = stats.get(REALSYN_SECTION)
    if not section:
        return None
    p = section.get("pairs", {})
    balance = p.get("balance", {})
    if pairs is not None:
        per, with_syn, n_pairs = texts_per_pair(pairs)
        syn: int | None = with_syn
    else:
        per, syn, n_pairs = {}, None, int(p.get("pairs", 0))
    return RealSynData(section=section, stages=stage_rows(section), texts_per_pair=per, pairs=n_pairs,
                       with_synthetic=syn, sizes_before=dict(balance.get("sizes_before", {})),
                       sizes_after=dict(balance.get("sizes_after", {})), t=balance.get("t"),
                       balance_how=str(balance.get("how", "–")),
                       perplexity=dict(section.get("sentences", {}).get("perplexity", {})),
                       synthetic=dict(p.get("synthetic", {})))
