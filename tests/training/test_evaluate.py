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
