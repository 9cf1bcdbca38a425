"""Model-side inputs of CODER: text embedder, image features (plain and augmented), name classifier.

Thin wrappers over :mod:`training.evaluate` (``encode_images``, ``encode_texts``,
``zero_shot_classifier``) that hand NumPy arrays to the pure CODER code. Augmented passes follow
the reference's cache construction (RandomResizedCrop with scale 0.5–1 to the model's input
size, horizontal flip, then the model's own eval preprocessing); each pass's randomness is
seeded by a hash of (seed, pass, image content), so keys do not depend on order or batching.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
import torch

from training.evaluate import encode_images, encode_texts, zero_shot_classifier

AUG_SCALE = (0.5, 1.0)


def model_embedder(model, tokenizer: Callable, device: torch.device | str = "cpu",
                   batch_size: int = 512) -> Callable[[Sequence[str]], np.ndarray]:
    """``texts -> float32 [n, D]`` L2-normalised text embeddings of ``model``."""
    device = torch.device(device)

    def embed(texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            raise ValueError("nothing to embed")
        return encode_texts(model, tokenizer, texts, device, batch_size).numpy().astype(np.float32)

    return embed


def name_classifier(model, tokenizer: Callable, classnames: Sequence[str], templates: Sequence[str],
                    device: torch.device | str = "cpu") -> np.ndarray:
    """``[D, C]``: plain CLIP zero-shot weights (normalised mean of each class's prompts)."""
    w = zero_shot_classifier(model, tokenizer, classnames, templates, torch.device(device))
    return w.numpy().astype(np.float64)


def image_features(model, preprocess: Callable, payloads: Sequence[object], device: torch.device | str = "cpu",
                   batch_size: int = 256) -> tuple[np.ndarray, np.ndarray, Counter]:
    """``(features [n, D] normalised, indices of the decodable payloads, bad-image counts)``."""
    feats, keep, bad = encode_images(model, preprocess, payloads, torch.device(device), batch_size)
    return feats.numpy().astype(np.float64), keep, bad


class SeededAugment:
    """One augmented pass: random resized crop + flip seeded by (seed, pass, image bytes), then ``preprocess``."""

    def __init__(self, preprocess: Callable, size: int, seed: int, pass_index: int,
                 scale: tuple[float, float] = AUG_SCALE):
        from torchvision import transforms

        self.preprocess, self.seed, self.pass_index = preprocess, seed, pass_index
        self.augment = transforms.Compose([
            transforms.RandomResizedCrop(size, scale=scale, interpolation=transforms.InterpolationMode.BICUBIC),
            transforms.RandomHorizontalFlip(p=0.5),
        ])

    def __call__(self, image):
        digest = hashlib.blake2b(f"{self.seed}\x1f{self.pass_index}\x1f{image.size}".encode() + image.tobytes(),
                                 digest_size=8).digest()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int.from_bytes(digest, "big") >> 1)
            return self.preprocess(self.augment(image))


def augmented_features(model, preprocess: Callable, payloads: Sequence[object], image_size: int, passes: int,
                       seed: int = 0, device: torch.device | str = "cpu",
                       scale: tuple[float, float] = AUG_SCALE) -> np.ndarray:
    """Cache-key features ``[n, D]``: the mean of the normalised features over ``passes`` augmented
    passes, re-normalised (``passes = 0``: the plain features). Payloads must all decode."""
    if passes < 0:
        raise ValueError("passes must be >= 0")
    runs = [preprocess] if passes == 0 else [SeededAugment(preprocess, image_size, seed, p, scale)
                                             for p in range(passes)]
    total = None
    for run in runs:
        feats, keep, _ = image_features(model, run, payloads, device)
        if len(keep) != len(payloads):
            raise ValueError("some shot images do not decode")
        total = feats if total is None else total + feats
    return total / np.linalg.norm(total, axis=1, keepdims=True)
