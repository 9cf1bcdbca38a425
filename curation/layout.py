"""The names inside a curation output root (SPEC §3), and nothing else: no Spark, no I/O.

An output root holds one directory per table, ``_stats.json`` (one section per stage: the
completion marker ``--resume`` trusts, and what the report reads), ``_LOCK`` while a run
writes, and ``_tmp/`` for Parquet swaps. Per-row tables are partitioned by ``batch_id``; a full
run writes the one batch ``base``. Writers (``curation.spark``), the Spark-free readers and the
report all take these names from here.
"""

from __future__ import annotations

STATS_FILE = "_stats.json"
LOCK_FILE = "_LOCK"
TMP_DIR = "_tmp"
SUCCESS_FILE = "_SUCCESS"  # Parquet tables: written last, so its presence means "complete"
BATCH_COLUMN = "batch_id"
FULL_RUN_BATCH = "base"

# The tables each stage writes (its completion needs all of them), in pipeline order.
STAGE_TABLES: dict[str, tuple[str, ...]] = {
    "lid": ("texts_lid",),
    "match": ("matched", "rejects"),
    "count": ("batch_counts", "entry_counts"),
    "thresholds": ("thresholds", "entry_probs"),
    "sample": ("curated",),
}
STAGES = tuple(STAGE_TABLES)
TABLES = tuple(name for names in STAGE_TABLES.values() for name in names)

# RealSyn (``curation.realsyn``, ``wwclip-realsyn``): its stages' tables, in pipeline order, and
# its ``_stats.json`` section. Its own root or a curation root: no name is shared.
REALSYN_STAGE_TABLES: dict[str, tuple[str, ...]] = {
    "extract": ("realsyn_rejects", "realsyn_image_refs", "realsyn_sentence_refs"),
    "sentences": ("realsyn_token_counts", "realsyn_sentences"),
    "embed": ("realsyn_sentence_centroids", "realsyn_sentence_emb"),
    "images": ("realsyn_image_centroids", "realsyn_images", "realsyn_image_emb"),
    "pairs": ("realsyn_pairs",),
}
REALSYN_TABLES = tuple(name for names in REALSYN_STAGE_TABLES.values() for name in names)
REALSYN_SECTION = "realsyn"


def table_path(root: str, name: str) -> str:
    """``<root>/<name>`` for a local path or a URI (no normalisation: Hadoop and pyarrow parse it)."""
    return f"{root.rstrip('/')}/{name}"
