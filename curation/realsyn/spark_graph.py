"""Connected components of a duplicate graph in Spark (no driver collect of edges).

Edges come from per-partition union-find (faiss range search inside an image cluster, LSH
buckets of sentences, equal perceptual hashes), so one duplicate group can span partitions;
this joins them. Algorithm: min-label propagation, each node's label = the smallest node id
it can reach; one join + one aggregation per round, until no label changes. The per-partition
steps emit star-shaped edges (member -> its group's smallest member), so the number of rounds
is small (the diameter of the merged graph); lineage is cut every round.
"""

from __future__ import annotations

MAX_ROUNDS = 50


def connected_components(edges, max_rounds: int = MAX_ROUNDS):
    """``edges(src, dst)`` (strings) -> ``(node, component)``: every node on an edge with the
    smallest node of its component. Raises if not converged in ``max_rounds`` rounds."""
    from pyspark.sql import functions as F

    both = edges.select("src", "dst").union(edges.select(F.col("dst").alias("src"), F.col("src").alias("dst")))
    both = both.where(F.col("src") != F.col("dst")).distinct().localCheckpoint()
    labels = both.groupBy(F.col("src").alias("node")).agg(F.least(F.min("dst"), F.first("src")).alias("label"))
    labels = labels.localCheckpoint()
    for _ in range(max_rounds):
        proposed = (both.join(labels.withColumnRenamed("node", "src"), "src")
                    .groupBy(F.col("dst").alias("node")).agg(F.min("label").alias("offer")))
        new = (labels.join(proposed, "node", "left")
               .select("node", F.least("label", F.coalesce("offer", "label")).alias("label"),
                       (F.col("offer") < F.col("label")).alias("changed")))
        new = new.localCheckpoint()
        if new.where("changed").limit(1).count() == 0:
            return new.select("node", F.col("label").alias("component"))
        labels = new.select("node", "label")
    raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
