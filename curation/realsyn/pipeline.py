"""The RealSyn run: five stages, each reading the tables of the one before and writing its own.

=========  ==================================================================================
stage      tables written under ``--output``
=========  ==================================================================================
extract    ``realsyn_rejects`` (bad documents and elements, with a reason),
           ``realsyn_image_refs`` (one row per image position), ``realsyn_sentence_refs``
           (one row per sentence, with its lid.176 label, word count and length reason)
sentences  ``realsyn_sentences`` (one row per distinct sentence: entropy, perplexity, reason),
           ``realsyn_token_counts`` (corpus counts per language, for the entropy)
embed      ``realsyn_sentence_emb`` (kept sentences, embedding, cluster),
           ``realsyn_sentence_centroids``
images     ``realsyn_images`` (one row per distinct image: size, dHash, reason, cluster,
           ``dup_of``), ``realsyn_image_emb`` (kept images), ``realsyn_image_centroids``
pairs      ``realsyn_pairs`` (uid, url, text1..textk, scores, sentence_ids, syn_text,
           syn_score, image_cluster, sentence_cluster [, jpg])
=========  ==================================================================================

``_stats.json`` gets a ``realsyn`` section: per stage, rows in and out and every reject reason
with its count, the k-means sizes, the perplexity step (run, or skipped and why), the
synthetic-caption step, t and the cluster-size histograms before and after balancing.
Every table is hash-partitioned and sorted by its key, with a file count fixed by the input
size, so the same input and seed give the same tables whatever the Spark partitioning.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

import numpy as np

from curation import __version__
from curation.layout import REALSYN_SECTION, REALSYN_STAGE_TABLES, STATS_FILE, table_path
from curation.realsyn import clustering
from curation.realsyn.balance import cap_for_target, capped_total
from curation.realsyn.config import IMAGES_PER_CLUSTER, SENTENCES_PER_CLUSTER, STAGES, RealSynConfig
from curation.realsyn.embedding import EmbedParams, assign_clusters, embed_images, embed_texts
from curation.realsyn.extract import ExtractParams, extract
from curation.realsyn.images import NEAR_DUPLICATE, near_duplicates
from curation.realsyn.pairs import (BALANCED_OUT, NO_SENTENCES, SYNTHETIC_OUT_OF_BAND, cap_clusters, retrieve,
                                    size_histogram, synthetic_scores)
from curation.realsyn.sentences import SentenceParams, filter_sentences
from curation.realsyn.spark_io import read_captions, read_documents, read_images
from curation.spark.aggregates import grouped_counts

log = logging.getLogger("curation.realsyn")

T_REJECTS, T_IMAGE_REFS, T_SENTENCE_REFS = REALSYN_STAGE_TABLES["extract"]
T_TOKEN_COUNTS, T_SENTENCES = REALSYN_STAGE_TABLES["sentences"]
T_SENTENCE_CENTROIDS, T_SENTENCE_EMB = REALSYN_STAGE_TABLES["embed"]
T_IMAGE_CENTROIDS, T_IMAGES, T_IMAGE_EMB = REALSYN_STAGE_TABLES["images"]
(T_PAIRS,) = REALSYN_STAGE_TABLES["pairs"]
STATS_SECTION = REALSYN_SECTION


class Run:
    """What every stage needs: the session, the config, the output layout."""

    def __init__(self, spark, cfg: RealSynConfig):
        from curation.spark.tables import auto_partitions

        self.spark, self.cfg = spark, cfg
        self.n = cfg.output_partitions or auto_partitions(spark, cfg.documents)

    def write(self, df, name: str, key: str, sort: list[str]):
        from curation.spark.tables import arrange, write_table

        write_table(arrange(df, self.n, key, sort), self.cfg.output, name, self.cfg.format)

    def read(self, name: str):
        from curation.spark.tables import read_table

        return read_table(self.spark, self.cfg.output, name, self.cfg.format)

    def embed_params(self) -> EmbedParams:
        c = self.cfg
        return EmbedParams(c.clip_model, c.device, c.embed_batch_size, c.min_side, c.max_aspect)


def _counts(df, column: str) -> dict[str, int]:
    """Rows per value of ``column`` (null -> ``"kept"``: a null reason is a kept row), sorted."""
    return dict(sorted((value if value is not None else "kept", n) for value, n in grouped_counts(df, column)))


def _distinct_summary(refs, table, repeats: str) -> dict:
    """In/out of a stage that keeps one row per distinct key: references in, distinct rows
    (``repeats`` = the difference), rows per final reason, kept rows."""
    n_refs, n_distinct = refs.count(), table.count()
    reasons = _counts(table, "reason")
    return {"references_in": n_refs, "distinct": n_distinct, repeats: n_refs - n_distinct, "reasons": reasons,
            "kept": reasons.get("kept", 0)}


def _centroid_table(spark, centroids: np.ndarray):
    rows = [(i, row) for i, row in enumerate(centroids.astype(np.float32).tolist())]
    return spark.createDataFrame(rows, "cluster int, centroid array<float>")


def _read_centroids(run: Run, name: str) -> np.ndarray:
    from curation.realsyn.arrow import emb_matrix

    table = run.read(name).orderBy("cluster").toArrow()
    return emb_matrix(table.column("centroid"))


def _kmeans(run: Run, df, id_column: str, n_rows: int, wanted: int, per_cluster: int) -> tuple[np.ndarray, dict]:
    k = wanted or clustering.auto_clusters(n_rows, per_cluster)
    sample = clustering.sample_for_kmeans(df, id_column, "emb", run.cfg.kmeans_sample, run.cfg.seed)
    centroids = clustering.train_kmeans(sample, k, run.cfg.seed, run.cfg.kmeans_iter)
    return centroids, {"clusters_asked": k, "clusters": int(len(centroids)), "sample": int(len(sample)),
                       "auto": not wanted, "rows_per_cluster_rule": per_cluster if not wanted else None,
                       "iterations": run.cfg.kmeans_iter}


# ---------------------------------------------------------------- stages

def stage_extract(run: Run) -> dict:
    c = run.cfg
    documents = read_documents(run.spark, c.documents, c.input_format, c.doc_id_column)
    n_docs = documents.count()
    out, rejects, image_refs, sentence_refs = extract(documents, ExtractParams(c.min_side, c.max_aspect,
                                                                               c.min_words, c.max_words))
    try:
        run.write(rejects, T_REJECTS, "doc_id", ["doc_id", "position"])
        run.write(image_refs, T_IMAGE_REFS, "doc_id", ["doc_id", "position"])
        run.write(sentence_refs, T_SENTENCE_REFS, "doc_id", ["doc_id", "position", "sent_index"])
    finally:
        out.unpersist()
    rej = run.read(T_REJECTS)
    from pyspark.sql import functions as F

    doc_rejects = _counts(rej.where(F.col("position").isNull()), "reason")
    sentences = run.read(T_SENTENCE_REFS)
    langs = _counts(sentences.where(F.col("reason").isNull()), "lang")
    return {"documents_in": n_docs, "documents_rejected": doc_rejects,
            "documents_used": n_docs - sum(doc_rejects.values()),
            "element_rejects": _counts(rej.where(F.col("position").isNotNull()), "reason"),
            "image_refs": _counts(run.read(T_IMAGE_REFS), "reason"),
            "sentence_refs": _counts(sentences, "reason"),
            "sentence_languages": dict(sorted(langs.items(), key=lambda kv: -kv[1])[:50])}


def stage_sentences(run: Run) -> dict:
    from pyspark.sql import functions as F

    c = run.cfg
    refs = run.read(T_SENTENCE_REFS).where(F.col("reason").isNull())
    params = SentenceParams(c.min_entropy, c.perplexity_model, c.perplexity_languages, c.ppl_min, c.ppl_max,
                            c.near_dup_jaccard, c.minhash_perm, c.minhash_bands, c.shingle, c.seed,
                            "cpu" if c.device == "auto" else c.device)
    final, token_counts, stats, cleanup = filter_sentences(refs, params, run.n)
    try:
        run.write(token_counts, T_TOKEN_COUNTS, "token", ["lang", "token"])
        run.write(final, T_SENTENCES, "sid", ["sid"])
    finally:
        for df in cleanup:
            df.unpersist()
    return {**_distinct_summary(refs, run.read(T_SENTENCES), "exact_duplicates"), **stats}


def stage_embed(run: Run) -> dict:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    kept = run.read(T_SENTENCES).where(F.col("reason").isNull()).select("sid", "text", "lang")
    emb = embed_texts(kept.repartition(run.n, "sid"), run.embed_params()).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        n = emb.count()
        if n == 0:
            raise RuntimeError("no sentence survived the filters: nothing to link images to (see _stats.json)")
        centroids, km = _kmeans(run, emb, "sid", n, run.cfg.sentence_clusters, SENTENCES_PER_CLUSTER)
        run.write(_centroid_table(run.spark, centroids), T_SENTENCE_CENTROIDS, "cluster", ["cluster"])
        assigned = assign_clusters(emb, centroids).drop("probe_clusters")
        run.write(assigned, T_SENTENCE_EMB, "sid", ["sid"])
    finally:
        emb.unpersist()
    sizes = [n for _, n in grouped_counts(run.read(T_SENTENCE_EMB), "cluster")]
    return {"sentences": n, "kmeans": km, "cluster_sizes": size_histogram(sizes),
            "empty_clusters": int(len(centroids) - len(sizes)), "clip_model": run.cfg.clip_model}


def stage_images(run: Run) -> dict:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    c = run.cfg
    refs = run.read(T_IMAGE_REFS).where(F.col("reason").isNull())
    first = F.min(F.struct("doc_id", "position", "url"))
    unique = (refs.groupBy("uid").agg(F.count(F.lit(1)).alias("n_occurrences"), first.alias("first"))
              .select("uid", F.col("first.url").alias("url"), F.col("first.doc_id").alias("doc_id"),
                      F.col("first.position").alias("position"), "n_occurrences"))
    downloaded = read_images(run.spark, c.images, c.image_column, c.images_format)
    joined = unique.join(downloaded, "uid", "left").repartition(run.n, "uid")
    decoded = embed_images(joined, run.embed_params()).persist(StorageLevel.MEMORY_AND_DISK)
    assigned = dups = None
    try:
        kept = decoded.where(F.col("reason").isNull())
        n_kept = kept.count()
        if n_kept == 0:
            raise RuntimeError("no image survived download, decoding and size filters (see _stats.json)")
        centroids, km = _kmeans(run, kept, "uid", n_kept, c.image_clusters, IMAGES_PER_CLUSTER)
        run.write(_centroid_table(run.spark, centroids), T_IMAGE_CENTROIDS, "cluster", ["cluster"])
        assigned = assign_clusters(kept, centroids, c.dedup_probe).persist(StorageLevel.MEMORY_AND_DISK)
        dups = near_duplicates(assigned, c.image_dup_cosine, run.n, c.perceptual_dedup)
        dups = dups.persist(StorageLevel.MEMORY_AND_DISK)
        clusters = assigned.select("uid", F.col("cluster").alias("image_cluster"))
        final = (decoded.drop("emb").join(clusters, "uid", "left")
                 .join(dups, "uid", "left")
                 .withColumn("reason", F.when(F.col("reason").isNull() & F.col("dup_of").isNotNull(),
                                              F.lit(NEAR_DUPLICATE)).otherwise(F.col("reason"))))
        run.write(final, T_IMAGES, "uid", ["uid"])
        emb_out = (assigned.join(dups, "uid", "left_anti")
                   .select("uid", F.col("cluster").alias("image_cluster"), "emb"))
        run.write(emb_out, T_IMAGE_EMB, "uid", ["uid"])
    finally:
        for df in (decoded, assigned, dups):
            if df is not None:
                df.unpersist()
    return {**_distinct_summary(refs, run.read(T_IMAGES), "repeated_urls"), "kmeans": km,
            "near_duplicates": {"cosine": c.image_dup_cosine, "probe": c.dedup_probe,
                                "perceptual": "dhash" if c.perceptual_dedup else None}}


def _choose_t(cfg: RealSynConfig, sizes: list[int]) -> tuple[int | None, str]:
    if cfg.cap is not None:
        return cfg.cap, "given"
    if cfg.target_pairs is not None:
        return cap_for_target(np.array(sizes), cfg.target_pairs), f"target {cfg.target_pairs}"
    return None, "no --cap or --target-pairs: every cluster kept whole"


def stage_pairs(run: Run) -> dict:
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    c = run.cfg
    images = run.read(T_IMAGE_EMB)
    sentence_centroids = _read_centroids(run, T_SENTENCE_CENTROIDS)
    images = assign_clusters(images, sentence_centroids).select(
        "uid", "image_cluster", "emb", F.col("cluster").alias("sentence_cluster"))
    images = images.persist(StorageLevel.MEMORY_AND_DISK)
    stats: dict = {"images_in": images.count(), "k": c.k}
    found = retrieve(images, run.read(T_SENTENCE_EMB), c.k, run.n)
    n_texts = F.size(F.filter("sentence_ids", lambda x: x.isNotNull()))
    found = (found.join(images.select("uid", "image_cluster"), "uid").withColumn("n_texts", n_texts)
             .persist(StorageLevel.MEMORY_AND_DISK))
    stats["texts_per_image"] = {str(k): v for k, v in _counts(found, "n_texts").items()}
    candidates = found.withColumn("reason", F.when(F.col("n_texts") == 0, F.lit(NO_SENTENCES)))

    if c.synthetic_captions:
        captions = read_captions(run.spark, c.synthetic_captions, c.synthetic_column).join(
            candidates.select("uid"), "uid")
        syn = embed_texts(captions.repartition(run.n, "uid"), run.embed_params(), "syn_text") \
            .withColumnRenamed("emb", "syn_emb")
        scored = synthetic_scores(syn.join(images.select("uid", "emb"), "uid"), c.syn_low, c.syn_high)
        candidates = (candidates.join(captions, "uid", "left").join(scored, "uid", "left")
                      .withColumn("reason", F.when(F.col("reason").isNull() & (F.col("syn_in_band") == F.lit(False)),
                                                   F.lit(SYNTHETIC_OUT_OF_BAND)).otherwise(F.col("reason"))))
        candidates = candidates.persist(StorageLevel.MEMORY_AND_DISK)
        stats["synthetic"] = {"skipped": False, "table": c.synthetic_captions,
                              "with_caption": candidates.where(F.col("syn_text").isNotNull()).count(),
                              "band": [c.syn_low, c.syn_high]}
    else:
        candidates = (candidates.withColumn("syn_text", F.lit(None).cast("string"))
                      .withColumn("syn_score", F.lit(None).cast("float")))
        stats["synthetic"] = {"skipped": True, "reason": "no --synthetic-captions given"}

    eligible = candidates.where(F.col("reason").isNull()).persist(StorageLevel.MEMORY_AND_DISK)
    sizes = [n for _, n in grouped_counts(eligible, "image_cluster")]
    t, how = _choose_t(c, sizes)
    if t is not None:
        keep = cap_clusters(eligible, t, c.seed, run.n)
        eligible = eligible.join(keep, "uid")
    else:
        eligible = eligible.withColumn("balanced_keep", F.lit(True))
    kept = eligible.where("balanced_keep")
    urls = run.read(T_IMAGES).select("uid", "url")
    text_cols = [F.col("texts")[i].alias(f"text{i + 1}") for i in range(c.k)]
    pairs = kept.join(urls, "uid").select("uid", "url", *text_cols, "scores", "sentence_ids", "syn_text",
                                          "syn_score", "image_cluster", "sentence_cluster")
    if c.carry_images:
        pairs = pairs.join(read_images(run.spark, c.images, c.image_column, c.images_format)
                           .withColumnRenamed("image", "jpg"), "uid", "left")
    run.write(pairs, T_PAIRS, "uid", ["uid"])
    n_pairs = run.read(T_PAIRS).count()
    after = [min(s, t) for s in sizes] if t is not None else sizes
    rejected = _counts(candidates.where(F.col("reason").isNotNull()), "reason")
    if t is not None:
        rejected[BALANCED_OUT] = int(sum(sizes) - capped_total(np.array(sizes), t))
    for df in (images, found, eligible, candidates):
        df.unpersist()
    stats.update({"balance": {"t": t, "how": how, "seed": c.seed, "clusters": len(sizes),
                              "eligible": int(sum(sizes)), "sizes_before": size_histogram(sizes),
                              "sizes_after": size_histogram(after)},
                  "rejected": rejected, "pairs": n_pairs})
    return stats


STAGE_FUNCTIONS = {"extract": stage_extract, "sentences": stage_sentences, "embed": stage_embed,
                   "images": stage_images, "pairs": stage_pairs}


def _versions() -> dict:
    import pyspark

    out = {"worldwide_clip": __version__, "pyspark": pyspark.__version__}
    for name in ("faiss", "torch", "open_clip"):
        try:
            out[name] = __import__(name).__version__
        except Exception:  # noqa: BLE001 - optional packages
            out[name] = None
    return out


def run_realsyn(spark, cfg: RealSynConfig) -> dict:
    """Run the stages from ``cfg.start_at`` on; returns the ``realsyn`` stats section."""
    from curation.spark.fs import read_json, write_json
    from curation.spark.lock import OutputLock

    cfg.validate()
    with OutputLock(spark, cfg.output, job="realsyn"):
        run = Run(spark, cfg)
        stats_path = table_path(cfg.output, STATS_FILE)
        all_stats = read_json(spark, stats_path)
        section = dict(all_stats.get(STATS_SECTION, {})) if cfg.start_at != "extract" else {}
        for name in STAGES[STAGES.index(cfg.start_at):STAGES.index(cfg.stop_after) + 1]:
            t0 = time.time()
            log.info("realsyn stage %s", name)
            section[name] = STAGE_FUNCTIONS[name](run)
            section[name]["seconds"] = round(time.time() - t0, 2)
            section.update({"config": cfg.to_dict(), "versions": _versions(), "output_partitions": run.n,
                            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            all_stats[STATS_SECTION] = section
            write_json(spark, stats_path, all_stats)  # after every stage: a crash keeps the finished ones
        return section
