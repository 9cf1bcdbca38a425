"""Augmented cache keys: seeded by (seed, pass, image content), averaged over passes, normalised."""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from training.coder.features import SeededAugment, augmented_features, image_features


def _preprocess(image):
    return torch.from_numpy(np.asarray(image.resize((8, 8)), dtype=np.float32) / 255).permute(2, 0, 1)


class MeanModel(torch.nn.Module):
    """Image embedding: the mean colour of each image half (6-D), enough to see crops and flips."""

    def encode_image(self, x):
        return torch.cat([x[..., :4].mean(dim=(2, 3)), x[..., 4:].mean(dim=(2, 3))], dim=1) + 1e-3


def _png(seed: int) -> bytes:
    arr = (np.random.default_rng(seed).random((16, 16, 3)) * 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


def test_augment_is_seeded_by_content_not_order():
    img_a, img_b = (Image.open(io.BytesIO(_png(i))).convert("RGB") for i in (1, 2))
    aug = SeededAugment(_preprocess, 8, seed=0, pass_index=0)
    first = aug(img_a)
    aug(img_b)
    assert torch.equal(aug(img_a), first)  # same image, same pass: same crop whatever came before
    assert not torch.equal(SeededAugment(_preprocess, 8, seed=0, pass_index=1)(img_a), first)
    assert not torch.equal(SeededAugment(_preprocess, 8, seed=1, pass_index=0)(img_a), first)
    state = torch.get_rng_state()
    aug(img_a)
    assert torch.equal(torch.get_rng_state(), state)  # the global RNG is left alone


def test_augmented_features_average_and_normalise():
    pays = [_png(i) for i in range(3)]
    plain, _, _ = image_features(MeanModel(), _preprocess, pays)
    np.testing.assert_allclose(augmented_features(MeanModel(), _preprocess, pays, 8, passes=0), plain, atol=1e-6)
    keys = augmented_features(MeanModel(), _preprocess, pays, 8, passes=3, seed=0)
    np.testing.assert_allclose(np.linalg.norm(keys, axis=1), 1.0, atol=1e-6)
    assert not np.allclose(keys, plain)
    reversed_keys = augmented_features(MeanModel(), _preprocess, pays[::-1], 8, passes=3, seed=0)
    np.testing.assert_allclose(reversed_keys[::-1], keys, atol=1e-6)  # order-free
