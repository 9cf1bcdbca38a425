"""Names of the things under a curation output root."""

STATS_FILE = "_stats.json"  # run statistics, written by the pipeline at the output root
