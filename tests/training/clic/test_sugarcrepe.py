"""SugarCrepe / SugarCrepe++ scores, the public file formats (fixtures in tests/.../fixtures), languages."""

from __future__ import annotations

import json
import os
import re

import numpy as np
import pytest
import torch
from PIL import Image

from training.clic.sugarcrepe import (
    evaluate_benchmark,
    evaluate_folder,
    language_folders,
    load_subsets,
    sugarcrepe_correct,
    sugarcrepe_pp_correct,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")


def unit(*v) -> np.ndarray:
    a = np.asarray(v, dtype=np.float32)
    return a / np.linalg.norm(a)


def test_sugarcrepe_criterion_hand_cases():
    image = np.stack([unit(1, 0), unit(1, 0), unit(1, 1)])
    pos = np.stack([unit(1, 0.1), unit(0, 1), unit(1, 0)])
    neg = np.stack([unit(0, 1), unit(1, 0), unit(0, 1)])
    # item 0: cos .995 > 0 ; item 1: 0 < 1 ; item 2: .707 = .707 -> a tie is a failure
    assert sugarcrepe_correct(image, pos, neg).tolist() == [True, False, False]
    with pytest.raises(ValueError, match="same shape"):
        sugarcrepe_correct(image, pos[:2], neg)


def test_sugarcrepe_pp_itt_and_tot_hand_cases():
    i = np.stack([unit(1, 0, 0)] * 3)
    # item 0: p1 = p2 = e1, n = e2: both positives beat n for the image; p1·p2 = 1 > p·n = 0 -> ITT, TOT
    # item 1: p2 = e2 is orthogonal to the image while n = (0.1, -1, 0) is not (0.0995 > 0): ITT false;
    #         p1·p2 = .707 > p1·n = -.633 and > p2·n = -.995: TOT true
    # item 2: the image prefers both positives (.707 > 0): ITT true; p1·p2 = 0 < p1·n = .5: TOT false
    p1 = np.stack([unit(1, 0, 0), unit(1, 1, 0), unit(1, 1, 0)])
    p2 = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(1, -1, 0)])
    n = np.stack([unit(0, 1, 0), unit(0.1, -1, 0), unit(0, 1, 1)])
    itt, tot = sugarcrepe_pp_correct(i, p1, p2, n)
    assert itt.tolist() == [True, False, True]
    assert tot.tolist() == [True, True, False]


def test_reads_the_public_formats_and_the_old_subset_names():
    sc = load_subsets(os.path.join(FIXTURES, "sugarcrepe"))
    assert sorted(sc) == ["replace_obj", "swap_att"]  # replace_ent.json read as replace_obj
    assert sc["swap_att"][1].negative == "A red bench next to a green door." and sc["swap_att"][0].caption2 is None
    pp = load_subsets(os.path.join(FIXTURES, "sugarcrepe_pp"), plus=True)
    assert list(pp) == ["swap_att"] and pp["swap_att"][0].caption2 == "Above a blue boat flies a red kite."
    assert language_folders(os.path.join(FIXTURES, "sugarcrepe_pp"), plus=True) == {
        "": os.path.join(FIXTURES, "sugarcrepe_pp"), "de": os.path.join(FIXTURES, "sugarcrepe_pp", "de")}


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no SugarCrepe subset files"):
        load_subsets(str(tmp_path))
    (tmp_path / "swap_att.json").write_text(json.dumps({"0": {"filename": "x.jpg", "caption": "a"}}))
    with pytest.raises(ValueError, match="lacks"):
        load_subsets(str(tmp_path))
    with pytest.raises(ValueError, match="SugarCrepe\\+\\+ file"):  # a SugarCrepe file read as SugarCrepe++
        (tmp_path / "swap_att.json").write_text(json.dumps(
            {"0": {"filename": "x.jpg", "caption": "a", "negative_caption": "b"}}))
        load_subsets(str(tmp_path), plus=True)


# ---------------------------------------------------------------- with a model (a transparent stand-in)

WORDS = {"red": 0, "roter": 0, "roten": 0, "green": 1, "blue": 2, "blauen": 2, "blauer": 2}


class ColourModel(torch.nn.Module):
    """Image embedding = mean RGB; text embedding = bag of colour words: a model that is blind to
    word order, as CLIP largely is — so attribute swaps tie and count as failures."""

    def encode_image(self, x):
        return x.mean(dim=(2, 3))

    def encode_text(self, tokens):
        return tokens


def bag_tokenizer(texts):
    out = torch.zeros(len(texts), 3)
    for i, t in enumerate(texts):
        for w in re.findall(r"\w+", t.lower()):
            if w in WORDS:
                out[i, WORDS[w]] += 1
    return out


def preprocess(img):
    return torch.from_numpy(np.asarray(img.resize((4, 4)), dtype=np.float32) / 255).permute(2, 0, 1)


def write_images(root) -> str:
    os.makedirs(root, exist_ok=True)
    for name, (left, right) in {"000000000001.jpg": ((255, 0, 0), (0, 0, 255)),
                                "000000000002.jpg": ((0, 255, 0), (0, 0, 255))}.items():
        img = Image.new("RGB", (8, 8), right)
        img.paste(Image.new("RGB", (4, 8), left), (0, 0))
        img.save(os.path.join(root, name), quality=100)
    return str(root)


def test_evaluate_folder_sugarcrepe(tmp_path):
    images = write_images(tmp_path / "coco")
    res = evaluate_folder(ColourModel(), bag_tokenizer, preprocess, os.path.join(FIXTURES, "sugarcrepe"),
                          image_root=images)
    # swap_att: item 0 swaps red/blue of a red+blue image -> tie -> wrong; item 1: {green, blue} vs {red, green}
    assert res["subsets"]["swap_att"] == {"acc": 0.5, "n": 2}
    assert res["subsets"]["replace_obj"] == {"acc": 1.0, "n": 1}
    assert res["mean_acc"] == 0.75


def test_evaluate_benchmark_sugarcrepe_pp_per_language(tmp_path):
    images = write_images(tmp_path / "coco")
    res = evaluate_benchmark(ColourModel(), bag_tokenizer, preprocess, os.path.join(FIXTURES, "sugarcrepe_pp"),
                             plus=True, image_root=images)
    assert set(res) == {"default", "de"}
    assert res["default"]["subsets"]["swap_att"] == {"itt": 0.5, "tot": 0.5, "n": 2}
    assert res["de"]["subsets"]["swap_att"] == {"itt": 0.0, "tot": 0.0, "n": 1}  # the German swap ties too
    assert res["default"]["mean_itt"] == 0.5 and res["de"]["mean_tot"] == 0.0


def test_missing_images_are_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="unreadable"):
        evaluate_folder(ColourModel(), bag_tokenizer, preprocess, os.path.join(FIXTURES, "sugarcrepe"),
                        image_root=str(tmp_path))
