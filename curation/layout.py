"""Names of the files under an output root (placeholder in this branch: the lead merges the full
module, which also names the tables, ``_LOCK`` and ``batch_id``)."""

STATS_FILE = "_stats.json"  # run statistics: one section per stage (and the metadata builder's report)
