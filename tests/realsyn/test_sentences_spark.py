"""The sentence stage in Spark: corpus counts + word_entropy, perplexity through a KenLM file, near dups."""

from __future__ import annotations

import collections
import math

import pytest

from curation.realsyn import rules
from curation.realsyn.sentences import (LOW_ENTROPY, NEAR_DUPLICATE, PERPLEXITY, SentenceParams, filter_sentences,
                                        sentence_id)
from curation.realsyn.text import entropy_tokens

pytestmark = pytest.mark.spark

REFS = [  # (doc_id, position, sent_index, text, lang)
    ("d1", 0, 0, "the cat sat on the mat", "en"),
    ("d2", 0, 0, "the cat sat on the mat", "en"),                       # exact duplicate
    ("d1", 0, 1, "the dog sat on the mat", "en"),
    ("d3", 0, 0, "Subscribe to our newsletter to get weekly updates on all new articles.", "en"),
    ("d4", 0, 0, "subscribe to our newsletter to get weekly updates on all new articles!", "en"),  # near dup
    ("d5", 0, 0, "zq-1 xv-2 kj-3 unusual catalogue codes follow", "en"),
    ("d6", 0, 0, "die Katze sitzt auf der Matte", "de"),
    ("d6", 0, 1, "der Hund sitzt auf der Matte im Haus", "de"),
]


def _refs(spark):
    rows = [(d, p, i, t, lang, 0.9, len(t.split()), None) for d, p, i, t, lang in REFS]
    return spark.createDataFrame(rows, "doc_id string, position int, sent_index int, text string, lang string, "
                                       "lang_score float, n_words int, reason string")


def _expected_entropy() -> dict[str, float]:
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for _, _, _, text, lang in REFS:            # every occurrence counts, per language
        counts[lang].update(entropy_tokens(text, lang))
    out = {}
    for _, _, _, text, lang in REFS:
        out[text] = rules.word_entropy(entropy_tokens(text, lang), counts[lang], sum(counts[lang].values()))
    return out


def test_entropy_and_near_duplicates_without_perplexity(spark):
    # a toy corpus makes every word frequent (high θ): put the threshold between the sentences' values
    values = sorted(set(_expected_entropy().values()))
    threshold = (values[2] + values[3]) / 2
    final, counts, stats, cleanup = filter_sentences(_refs(spark), SentenceParams(min_entropy=threshold), 3)
    rows = {r["text"]: r for r in final.collect()}
    assert len(rows) == 7 and rows["the cat sat on the mat"]["n_occurrences"] == 2
    assert rows["the cat sat on the mat"]["doc_id"] == "d1"                       # first occurrence kept
    assert rows["the cat sat on the mat"]["sid"] == sentence_id("the cat sat on the mat")
    for text, theta in _expected_entropy().items():
        assert rows[text]["entropy"] == pytest.approx(theta, rel=1e-12), text
    assert {r["lang"]: r["count"] for r in counts.where("token = 'the'").collect()} == {"en": 6}
    reasons = {t: r["reason"] for t, r in rows.items()}
    expected_low = {t for t, theta in _expected_entropy().items() if theta < threshold}
    assert 0 < len(expected_low) < len(rows)
    assert {t for t, r in reasons.items() if r == LOW_ENTROPY} == expected_low
    news = [t for t in rows if t.lower().startswith("subscribe")]
    assert not set(news) & expected_low
    dup = [t for t in news if reasons[t] == NEAR_DUPLICATE]
    assert len(dup) == 1 and rows[dup[0]]["dup_of"] == min(rows[t]["sid"] for t in news)
    assert stats["perplexity"] == {"skipped": True, "reason": "no --perplexity-model given"}
    for df in cleanup:
        df.unpersist()


def test_perplexity_band_with_a_kenlm_file(spark, tiny_arpa):
    pytest.importorskip("kenlm")
    # every word is <unk> (log10 p = -1), then </s> (-0.5): PPL(n words) = 10 ** ((n + 0.5) / (n + 1))
    ppl = {n: 10 ** ((n + 0.5) / (n + 1)) for n in range(1, 20)}
    params = SentenceParams(min_entropy=0.0, perplexity_model=tiny_arpa, perplexity_languages=("en",),
                            ppl_min=ppl[6] - 1e-9, ppl_max=ppl[6] + 1e-9, near_dup_jaccard=1.0)
    final, _, stats, cleanup = filter_sentences(_refs(spark), params, 2)
    rows = {r["text"]: r for r in final.collect()}
    for text, r in rows.items():
        if r["lang"] == "de":
            assert r["ppl"] is None and r["reason"] is None                  # not scored, not rejected
        else:
            n = len(text.split())
            assert r["ppl"] == pytest.approx(ppl[n], rel=1e-5), text
            assert (r["reason"] == PERPLEXITY) == (n != 6), text
    assert stats["perplexity"]["skipped"] is False and stats["perplexity"]["languages"] == ["en"]
    assert math.isclose(rows["the cat sat on the mat"]["ppl"], ppl[6], rel_tol=1e-5)
    for df in cleanup:
        df.unpersist()
