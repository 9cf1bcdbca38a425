"""Sentence filters in Spark (paper §3.1): exact dedup, word entropy, perplexity, near dedup.

Input: the sentence references that passed cleaning and length. Output: one row per distinct
sentence text (``sid = sha224(text)[:24]``, the text's identity as ``uid`` is an image's),
with its entropy, perplexity and the first failing reason (``low_entropy``,
``perplexity_out_of_band``, ``near_duplicate``; null = kept).

- Corpus token counts (for p(w) of the entropy) are computed in Spark over every reference,
  per lid.176 label: ``count[lang, token]`` = occurrences of the token in that language's
  sentences, ``total[lang]`` their sum (a multilingual pool would make every non-English
  word rare). Each distinct sentence gets its tokens' counts by a join and
  ``rules.word_entropy`` is called on it.
- Perplexity runs only with a scorer (``perplexity.load_scorer``) and only on the languages
  asked for; without one the step is skipped and the stats say so.
- Near duplicates: MinHash signatures and LSH band keys (``minhash``); every LSH bucket links
  its members to its smallest sid, a link is kept when the estimated Jaccard is >= the
  threshold, and connected components (``spark_graph``) keep each group's smallest sid.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from curation.ids import content_id
from curation.realsyn import minhash, rules
from curation.realsyn.text import entropy_tokens

LOW_ENTROPY = "low_entropy"
PERPLEXITY = "perplexity_out_of_band"
NEAR_DUPLICATE = "near_duplicate"


@dataclass(frozen=True)
class SentenceParams:
    min_entropy: float = rules.MIN_ENTROPY
    perplexity_model: str | None = None
    perplexity_languages: tuple[str, ...] = ()
    ppl_min: float = rules.PPL_MIN
    ppl_max: float = rules.PPL_MAX
    near_dup_jaccard: float = 0.8
    minhash_perm: int = minhash.NUM_PERM
    minhash_bands: int = minhash.BANDS
    shingle: int = minhash.SHINGLE
    seed: int = 0
    device: str = "cpu"


def sentence_id(text: str) -> str:
    """``curation.ids.content_id`` of the cleaned sentence: exact duplicates share one id."""
    return content_id(text)


# ---------------------------------------------------------------- Arrow batch functions

def _with_tokens(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        texts, langs = batch.column("text").to_pylist(), batch.column("lang").to_pylist()
        sids = [sentence_id(t) for t in texts]
        tokens = [entropy_tokens(t, lang) for t, lang in zip(texts, langs)]
        batch = batch.append_column("sid", pa.array(sids, pa.string()))
        yield batch.append_column("tokens", pa.array(tokens, pa.list_(pa.string())))


def _entropy(min_entropy: float):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            theta = [rules.word_entropy(tokens, dict(zip(keys or [], values or [])), total)
                     for tokens, keys, values, total in zip(
                         batch.column("tokens").to_pylist(), batch.column("keys").to_pylist(),
                         batch.column("values").to_pylist(), batch.column("total").to_pylist())]
            ok = [rules.entropy_ok(t, min_entropy) for t in theta]
            yield pa.RecordBatch.from_arrays([batch.column("sid"), pa.array(theta, pa.float64()), pa.array(ok)],
                                             ["sid", "entropy", "entropy_ok"])
    return run


def _perplexity(spec: str, languages: tuple[str, ...], device: str, low: float, high: float):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from curation.realsyn.perplexity import get_scorer

        scorer = get_scorer(spec, device)
        for batch in batches:
            texts, langs = batch.column("text").to_pylist(), batch.column("lang").to_pylist()
            todo = [i for i, lang in enumerate(langs) if not languages or lang in languages]
            ppl = np.full(len(texts), np.nan)
            if todo:
                ppl[todo] = scorer.score([texts[i] for i in todo])
            scored = np.zeros(len(texts), bool)
            scored[todo] = True
            ok = [bool(not s or rules.perplexity_ok(p, low, high)) for s, p in zip(scored, ppl.tolist())]
            yield pa.RecordBatch.from_arrays(
                [batch.column("sid"), pa.array(np.where(scored, ppl, None).tolist(), pa.float64()),
                 pa.array(scored), pa.array(ok)], ["sid", "ppl", "ppl_scored", "ppl_ok"])
    return run


def _signatures(num_perm: int, bands: int, shingle: int, seed: int):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            sigs = minhash.signatures(batch.column("text").to_pylist(), num_perm, seed, shingle)
            keys = minhash.band_keys(sigs, bands)
            n = batch.num_rows
            sig_col = pa.ListArray.from_arrays(pa.array(np.arange(0, (n + 1) * num_perm, num_perm, dtype=np.int32)),
                                               pa.array(sigs.view(np.int32).reshape(-1)))
            key_col = pa.ListArray.from_arrays(pa.array(np.arange(0, (n + 1) * bands, bands, dtype=np.int32)),
                                               pa.array(keys.reshape(-1)))
            yield pa.RecordBatch.from_arrays([batch.column("sid"), sig_col, key_col], ["sid", "sig", "band_keys"])
    return run


def _verify(threshold: float):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            n = batch.num_rows
            a = batch.column("sig_src").flatten().to_numpy().reshape(n, -1) if n else np.zeros((0, 1))
            b = batch.column("sig_dst").flatten().to_numpy().reshape(n, -1) if n else np.zeros((0, 1))
            keep = minhash.estimated_jaccard(a, b) >= threshold if n else np.zeros(0, bool)
            yield batch.select(["src", "dst"]).filter(pa.array(keep))
    return run


# ---------------------------------------------------------------- the stage

def filter_sentences(refs, params: SentenceParams, n_partitions: int):
    """``refs`` (kept sentence references) -> ``(sentences, token_counts, stats)``."""
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from curation.realsyn.spark_graph import connected_components

    first = F.min(F.struct("doc_id", "position", "sent_index"))
    unique = (refs.groupBy("text")
              .agg(F.count(F.lit(1)).alias("n_occurrences"), F.min("lang").alias("lang"),
                   F.max("lang_score").alias("lang_score"), F.min("n_words").alias("n_words"), first.alias("first"))
              .select("text", "lang", "lang_score", "n_words", "n_occurrences",
                      F.col("first.doc_id").alias("doc_id"), F.col("first.position").alias("position"),
                      F.col("first.sent_index").alias("sent_index")))
    schema = ("text string, lang string, lang_score float, n_words int, n_occurrences bigint, doc_id string, "
              "position int, sent_index int, sid string, tokens array<string>")
    unique = unique.repartition(n_partitions, "text").mapInArrow(_with_tokens, schema)
    unique = unique.persist(StorageLevel.MEMORY_AND_DISK)

    # corpus counts per language, every occurrence counted (token repeats included)
    token_counts = (unique.select("lang", F.explode("tokens").alias("token"), "n_occurrences")
                    .groupBy("lang", "token").agg(F.sum("n_occurrences").alias("count")))
    token_counts = token_counts.persist(StorageLevel.MEMORY_AND_DISK)
    totals = token_counts.groupBy("lang").agg(F.sum("count").alias("total"))
    looked_up = (unique.select("sid", "lang", F.explode(F.array_distinct("tokens")).alias("token"))
                 .join(token_counts, ["lang", "token"])
                 .groupBy("sid").agg(F.collect_list("token").alias("keys"), F.collect_list("count").alias("values")))
    entropy_in = (unique.select("sid", "lang", "tokens").join(looked_up, "sid", "left").join(totals, "lang", "left")
                  .select("sid", "tokens", "keys", "values", F.coalesce("total", F.lit(1)).alias("total")))
    entropy = entropy_in.mapInArrow(_entropy(params.min_entropy), "sid string, entropy double, entropy_ok boolean")
    scored = unique.drop("tokens").join(entropy, "sid")
    scored = scored.withColumn("reason", F.when(~F.col("entropy_ok"), F.lit(LOW_ENTROPY))).drop("entropy_ok")
    stats: dict = {}
    if params.perplexity_model:
        todo = scored.where(F.col("reason").isNull()).select("sid", "text", "lang")
        ppl = todo.mapInArrow(_perplexity(params.perplexity_model, params.perplexity_languages, params.device,
                                          params.ppl_min, params.ppl_max),
                              "sid string, ppl double, ppl_scored boolean, ppl_ok boolean")
        scored = scored.join(ppl, "sid", "left")
        out_of_band = F.coalesce(~F.col("ppl_ok"), F.lit(False))
        scored = scored.withColumn("reason", F.when(F.col("reason").isNull() & out_of_band,
                                                    F.lit(PERPLEXITY)).otherwise(F.col("reason"))).drop("ppl_ok")
        stats["perplexity"] = {"skipped": False, "model": params.perplexity_model,
                               "languages": list(params.perplexity_languages) or "all",
                               "band": [params.ppl_min, params.ppl_max]}
    else:
        scored = scored.withColumn("ppl", F.lit(None).cast("double")).withColumn("ppl_scored", F.lit(False))
        stats["perplexity"] = {"skipped": True, "reason": "no --perplexity-model given"}
    scored = scored.persist(StorageLevel.MEMORY_AND_DISK)

    # near duplicates among the survivors
    survivors = scored.where(F.col("reason").isNull()).select("sid", "text")
    sigs = survivors.mapInArrow(_signatures(params.minhash_perm, params.minhash_bands, params.shingle, params.seed),
                                "sid string, sig array<int>, band_keys array<bigint>")
    sigs = sigs.persist(StorageLevel.MEMORY_AND_DISK)
    buckets = sigs.select("sid", F.posexplode("band_keys").alias("band", "key"))
    root = F.min("sid").over(Window.partitionBy("band", "key"))
    candidates = (buckets.withColumn("src", root).where(F.col("src") != F.col("sid"))
                  .select("src", F.col("sid").alias("dst")).distinct())
    sig_of = sigs.select("sid", "sig")
    pairs = (candidates.join(sig_of.withColumnRenamed("sid", "src").withColumnRenamed("sig", "sig_src"), "src")
             .join(sig_of.withColumnRenamed("sid", "dst").withColumnRenamed("sig", "sig_dst"), "dst"))
    edges = pairs.mapInArrow(_verify(params.near_dup_jaccard), "src string, dst string")
    comps = connected_components(edges)
    dups = comps.where(F.col("component") != F.col("node")).select(F.col("node").alias("sid"),
                                                                  F.col("component").alias("dup_of"))
    final = (scored.join(dups, "sid", "left")
             .withColumn("reason", F.when(F.col("reason").isNull() & F.col("dup_of").isNotNull(),
                                          F.lit(NEAR_DUPLICATE)).otherwise(F.col("reason")))
             .select("sid", "text", "lang", "lang_score", "n_words", "n_occurrences", "doc_id", "position",
                     "sent_index", "entropy", "ppl", "reason", "dup_of"))
    stats["entropy"] = {"min_entropy": params.min_entropy, "scope": "per lid.176 label"}
    stats["near_duplicates"] = {"method": "minhash-lsh", "num_perm": params.minhash_perm,
                                "bands": params.minhash_bands, "shingle": params.shingle,
                                "jaccard": params.near_dup_jaccard}
    cleanup = [unique, token_counts, scored, sigs]
    return final, token_counts, stats, cleanup
