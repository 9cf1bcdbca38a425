"""hierarchical_topk (SPEC §6.1): tie rule, padding, and a brute-force comparison."""

from __future__ import annotations

import numpy as np
import pytest

from curation.realsyn.retrieval import (hierarchical_topk, nearest_centroid, recall_at_k, top_centroids,
                                        topk_inner_product)


def _normalise(x):
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _reference_topk(q, keys, k):
    """Full sort per row by (-score, index): the definition of the tie rule."""
    s = q.astype(np.float32) @ keys.astype(np.float32).T
    ids = np.full((len(q), k), -1)
    scores = np.full((len(q), k), -np.inf, dtype=np.float32)
    for r in range(len(q)):
        order = np.lexsort((np.arange(len(keys)), -s[r]))[:k]
        ids[r, :len(order)] = order
        scores[r, :len(order)] = s[r, order]
    return ids, scores


def test_topk_ties_go_to_lower_index():
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    keys = np.array([[0, 1], [1, 0], [1, 0], [0, 1], [1, 0]], dtype=np.float32)
    ids, scores = topk_inner_product(q, keys, 2)
    assert ids.tolist() == [[1, 2]] and scores.tolist() == [[1.0, 1.0]]
    ids, scores = topk_inner_product(q, keys, 4)
    assert ids.tolist() == [[1, 2, 4, 0]] and scores.tolist() == [[1.0, 1.0, 1.0, 0.0]]


def test_topk_pads_when_fewer_keys_than_k():
    q = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    keys = np.array([[0.6, 0.8]], dtype=np.float32)
    ids, scores = topk_inner_product(q, keys, 3)
    assert ids.tolist() == [[0, -1, -1], [0, -1, -1]]
    assert scores[:, 0] == pytest.approx([0.6, 0.8]) and np.isneginf(scores[:, 1:]).all()
    ids, scores = topk_inner_product(q, np.zeros((0, 2), np.float32), 2)
    assert (ids == -1).all() and np.isneginf(scores).all()


def test_topk_matches_full_sort_on_tie_heavy_data():
    rng = np.random.default_rng(0)
    q = rng.integers(0, 3, (50, 4)).astype(np.float32)   # small integers: many equal scores
    keys = rng.integers(0, 3, (40, 4)).astype(np.float32)
    for k in (1, 3, 7, 40, 45):
        ids, scores = topk_inner_product(q, keys, k)
        ref_ids, ref_scores = _reference_topk(q, keys, k)
        assert (ids == ref_ids).all(), k
        assert np.array_equal(scores, ref_scores), k


def test_nearest_centroid_tie_and_top_centroids():
    c = np.array([[1, 0], [0, 1], [1, 0]], dtype=np.float32)
    x = np.array([[1, 0], [0, 1], [0.6, 0.6]], dtype=np.float32)
    assert nearest_centroid(x, c).tolist() == [0, 1, 0]  # [0.6, 0.6]: three equal scores -> 0
    assert top_centroids(x, c, 2).tolist() == [[0, 2], [1, 0], [0, 1]]


def test_hierarchical_topk_hand_case():
    centroids = np.array([[1, 0], [0, 1]], dtype=np.float32)
    sentences = _normalise([[1, 0.1], [1, 0.3], [0.1, 1], [1, 0.2], [1, 0.2]])
    cluster = np.array([0, 0, 1, 0, 0])
    images = _normalise([[1, 0], [0, 1]])
    ids, scores = hierarchical_topk(images, centroids, cluster, sentences, 3)
    # image 0 -> cluster 0 {0, 1, 3, 4}: 0 (x=0.995), then 3 and 4 tie (0.98) -> 3 before 4
    assert ids.tolist() == [[0, 3, 4], [2, -1, -1]]
    assert scores[0] == pytest.approx(sentences[[0, 3, 4], 0])
    assert scores[1, 0] == pytest.approx(sentences[2, 1]) and np.isneginf(scores[1, 1:]).all()


def test_hierarchical_topk_equals_brute_force_when_cluster_holds_the_neighbours():
    rng = np.random.default_rng(1)
    d, n_clusters, k = 16, 12, 3
    centroids = _normalise(rng.normal(size=(n_clusters, d)))
    sentences = _normalise(np.repeat(centroids, 30, axis=0) + 0.25 * rng.normal(size=(n_clusters * 30, d)))
    cluster = nearest_centroid(sentences, centroids)
    images = _normalise(centroids[rng.integers(0, n_clusters, 200)] + 0.25 * rng.normal(size=(200, d)))
    ids, scores = hierarchical_topk(images, centroids, cluster, sentences, k)
    exact_ids, exact_scores = topk_inner_product(images, sentences, k)
    image_cluster = nearest_centroid(images, centroids)
    inside = (cluster[exact_ids] == image_cluster[:, None]).all(axis=1)
    assert inside.sum() > 100  # the case must exercise the claim on most images
    assert (ids[inside] == exact_ids[inside]).all()
    np.testing.assert_allclose(scores[inside], exact_scores[inside], rtol=0, atol=1e-6)
    # Elsewhere the hierarchical search can only do worse, never better.
    assert (scores[:, 0] <= exact_scores[:, 0] + 1e-6).all()
    recall = recall_at_k(ids, exact_ids)
    print(f"recall@{k} of hierarchical vs brute-force top-{k} (clustered case): {recall:.3f}")
    assert inside.mean() <= recall < 1.0  # some images' true neighbours lie in another cluster


def test_recall_on_small_random_case_is_reported():
    """Unclustered random data is the hard case for a two-level search; report its recall@k."""
    rng = np.random.default_rng(2)
    d, k = 8, 3
    sentences = _normalise(rng.normal(size=(400, d)))
    centroids = sentences[rng.choice(400, 10, replace=False)]
    cluster = nearest_centroid(sentences, centroids)
    images = _normalise(rng.normal(size=(100, d)))
    ids, _ = hierarchical_topk(images, centroids, cluster, sentences, k)
    exact, _ = topk_inner_product(images, sentences, k)
    recall = recall_at_k(ids, exact)
    print(f"recall@{k} on a random case (400 sentences, 10 clusters, d={d}): {recall:.3f}")
    assert 0.2 < recall < 1.0
    assert recall_at_k(exact, exact) == 1.0
    assert recall_at_k(np.array([[0, -1]]), np.array([[0, 1]])) == 0.5


def test_hierarchical_topk_rejects_bad_input():
    c = np.eye(2, dtype=np.float32)
    s = np.eye(2, dtype=np.float32)
    with pytest.raises(ValueError, match="dimension"):
        hierarchical_topk(np.ones((1, 3), np.float32), c, np.array([0, 1]), s, 1)
    with pytest.raises(ValueError, match="sentence_cluster"):
        hierarchical_topk(s, c, np.array([0, 2]), s, 1)
    with pytest.raises(ValueError, match="NaN"):
        hierarchical_topk(np.array([[np.nan, 0]], np.float32), c, np.array([0, 1]), s, 1)
    with pytest.raises(ValueError, match="k must"):
        hierarchical_topk(s, c, np.array([0, 1]), s, 0)
