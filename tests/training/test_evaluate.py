"""Evaluation maths on hand-made embeddings, and the table / folder inputs."""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pytest
import torch
from PIL import Image

from training.evaluate import load_retrieval_data, load_zero_shot_data, recall_at_k, retrieval, zero_shot


def test_recall_at_k_exact():
    image = torch.eye(4)
    # captions 0,1 -> image 0; caption 2 -> image 1 (but closest to image 2); caption 3 -> image 3
    text = torch.tensor([[1.0, 0, 0, 0], [0.9, 0.1, 0, 0], [0, 0.2, 0.9, 0], [0, 0, 0, 1.0]])
    r = recall_at_k(image, text, np.array([0, 0, 1, 3]), ks=(1, 2))
    assert r["text_to_image_R@1"] == pytest.approx(3 / 4)
    assert r["text_to_image_R@2"] == pytest.approx(1.0)
    # image 1's best caption is its own (caption 2), although caption 2 prefers image 2; image 2 has none
    assert r["image_to_text_R@1"] == pytest.approx(1.0)
    r = recall_at_k(image, text, np.array([0, 0, 3, 1]), ks=(1, 2))
    assert r["image_to_text_R@1"] == pytest.approx(1 / 3)  # only image 0 finds its caption first
    assert r["text_to_image_R@1"] == pytest.approx(2 / 4)


def naive_recall(image: np.ndarray, text: np.ndarray, t2i: np.ndarray, ks) -> dict[str, float]:
    """Oracle: full score matrix, every query's candidates sorted by (score desc, index asc)."""
    s = image.astype(np.float64) @ text.astype(np.float64).T
    n_img, n_txt = s.shape
    t2i_rank = [sorted(range(n_img), key=lambda i: (-s[i, j], i)).index(t2i[j]) for j in range(n_txt)]
    i2t_rank = []
    for i in sorted(set(t2i.tolist())):
        order = sorted(range(n_txt), key=lambda j: (-s[i, j], j))
        i2t_rank.append(min(order.index(j) for j in range(n_txt) if t2i[j] == i))
    out = {}
    for k in ks:
        out[f"text_to_image_R@{k}"] = float(np.mean(np.asarray(t2i_rank) < k))
        out[f"image_to_text_R@{k}"] = float(np.mean(np.asarray(i2t_rank) < k))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_chunked_recall_equals_the_full_sort_with_ties(seed):
    """Small integer embeddings: many exact ties, and every score exact in float32, so the chunked
    counting must match the oracle bit for bit at every chunk size (one query row per chunk up to all)."""
    rng = np.random.default_rng(seed)
    for _ in range(12):
        n_img, n_txt, dim = int(rng.integers(1, 14)), int(rng.integers(1, 50)), int(rng.integers(1, 4))
        image = rng.integers(-2, 3, (n_img, dim)).astype(np.float32)
        text = rng.integers(-2, 3, (n_txt, dim)).astype(np.float32)
        t2i = rng.integers(0, n_img, n_txt)
        want = naive_recall(image, text, t2i, (1, 2, 5))
        for chunk_bytes in (1, 4 * 3, 4 * 17, 1 << 20):
            got = recall_at_k(torch.from_numpy(image), torch.from_numpy(text), t2i, (1, 2, 5), chunk_bytes=chunk_bytes)
            assert got == want, (n_img, n_txt, chunk_bytes)


def test_recall_tie_rule_lower_index_first():
    """All scores equal: a caption's image ranks at its own index; an image's best caption is its first."""
    image, text = torch.ones(3, 2), torch.ones(4, 2)
    r = recall_at_k(image, text, np.array([0, 1, 2, 2]), ks=(1, 2, 3), chunk_bytes=8)
    assert [r[f"text_to_image_R@{k}"] for k in (1, 2, 3)] == [0.25, 0.5, 1.0]
    assert [r[f"image_to_text_R@{k}"] for k in (1, 2, 3)] == pytest.approx([1 / 3, 2 / 3, 1.0])
    # the same scores with the captions listed in reverse: image 2's captions now come first
    r = recall_at_k(image, text, np.array([2, 2, 1, 0]), ks=(1,))
    assert r["image_to_text_R@1"] == pytest.approx(1 / 3) and r["text_to_image_R@1"] == 0.25  # only caption 3


def test_recall_random_floats_match_the_oracle():
    rng = np.random.default_rng(7)
    image = rng.standard_normal((40, 16)).astype(np.float32)
    text = rng.standard_normal((150, 16)).astype(np.float32)
    t2i = rng.integers(0, 37, 150)  # images 37-39 have no caption: left out of image->text
    got = recall_at_k(torch.from_numpy(image), torch.from_numpy(text), t2i, (1, 5, 10), chunk_bytes=4 * 150 * 3)
    assert got == naive_recall(image, text, t2i, (1, 5, 10))


def test_recall_rejects_bad_input():
    img, txt = torch.randn(3, 4), torch.randn(5, 4)
    with pytest.raises(ValueError, match="NaN"):
        recall_at_k(img, torch.full((5, 4), float("nan")), np.zeros(5, int))
    with pytest.raises(ValueError, match="image rows"):
        recall_at_k(img, txt, np.array([0, 1, 2, 3, 0]))
    with pytest.raises(ValueError, match="one image row per caption"):
        recall_at_k(img, txt, np.array([0, 1]))
    with pytest.raises(ValueError, match="feature sizes"):
        recall_at_k(img, torch.randn(5, 3), np.zeros(5, int))
    with pytest.raises(ValueError, match="positive"):
        recall_at_k(img, txt, np.zeros(5, int), ks=(0,))


class ColourModel(torch.nn.Module):
    """Image embedding = mean RGB; text embedding = a fixed colour per word. Exercises the plumbing."""

    COLOURS: ClassVar[dict[str, list[float]]] = {"red": [1.0, 0, 0], "green": [0, 1.0, 0], "blue": [0, 0, 1.0], "rouge": [1.0, 0, 0],
               "vert": [0, 1.0, 0], "bleu": [0, 0, 1.0]}

    def encode_image(self, x):
        return x.mean(dim=(2, 3))

    def encode_text(self, ids):
        return ids.float()


def _colour_tokenizer(texts):
    return torch.tensor([next(v for k, v in ColourModel.COLOURS.items() if k in t) for t in texts])


def _preprocess(image):
    return torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)


def test_zero_shot_per_language_from_folder(tmp_path):
    for c, rgb in enumerate([(250, 0, 0), (0, 250, 0), (0, 0, 250)]):
        (tmp_path / f"{c}_class").mkdir()
        for i in range(2):
            Image.new("RGB", (4, 4), rgb).save(tmp_path / f"{c}_class" / f"{i}.png")
    (tmp_path / "0_class" / "broken.jpg").write_bytes(b"nope")
    pays, labels = load_zero_shot_data(str(tmp_path))
    langs = {"en": {"classnames": ["red", "green", "blue"], "templates": ["a {} thing", "{}"]},
             "fr": {"classnames": ["rouge", "vert", "bleu"], "templates": ["un objet {}"]}}
    res = zero_shot(ColourModel(), _colour_tokenizer, _preprocess, pays, labels, langs)
    assert res["per_language"]["en"]["top1"] == res["per_language"]["fr"]["top1"] == 1.0
    assert res["images"] == 6 and res["bad_images"] == {"decode_error": 1}
    assert res["chance_top1"] == pytest.approx(1 / 3)


def test_retrieval_from_captions_jsonl(tmp_path):
    rows = []
    for name, rgb, words in [("r.png", (250, 0, 0), ["red", "rouge"]), ("g.png", (0, 250, 0), ["green", "vert"]),
                             ("b.png", (0, 0, 250), ["blue"])]:
        Image.new("RGB", (4, 4), rgb).save(tmp_path / name)
        rows += [{"image": name, "text": w, "lang": "fr" if w in ("rouge", "vert") else "en"} for w in words]
    (tmp_path / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    uids, texts, pays, langs = load_retrieval_data(str(tmp_path))
    res = retrieval(ColourModel(), _colour_tokenizer, _preprocess, uids, texts, pays, langs)
    assert res["images"] == 3 and res["texts"] == 5
    assert res["text_to_image_R@1"] == res["image_to_text_R@1"] == 1.0
    assert set(res["per_language"]) == {"en", "fr"}


def test_tables_as_evaluation_sources(demo_roots):
    pays, labels = load_zero_shot_data(f"{demo_roots['delta']}/eval/zeroshot")
    assert len(pays) == len(labels) == 36 and max(labels) < 12
    uids, _, pays, langs = load_retrieval_data(f"{demo_roots['parquet']}/eval/retrieval")
    assert len(set(uids)) == 36 and set(langs) >= {"zh", "ja", "en"}


def test_zero_shot_needs_a_name_for_every_label(tmp_path):
    langs = {"en": {"classnames": ["red", "green"], "templates": ["{}"]}}
    with pytest.raises(ValueError, match="2 class names but labels go up to 2"):
        zero_shot(ColourModel(), _colour_tokenizer, _preprocess, [None] * 3, [0, 1, 2], langs)
