"""CLIP embeddings on Spark workers: image bytes or sentences in, float32 L2-normalised rows out.

The paper embeds images and sentences with EVA02-CLIP E/14+. Any open_clip model works here,
from a *local* checkpoint only (``spec``):

- a directory written by ``training.model.export_model`` (``open_clip_config.json`` +
  ``open_clip_model.safetensors`` + its tokenizer): what ``wwclip-train`` produces;
- ``open_clip:<architecture>@<weights file>``: an open_clip architecture (``ViT-B-32``,
  ``EVA02-E-14-plus``, ...) with its weights from a local file and open_clip's own tokenizer
  (the BPE vocabulary ships inside open_clip, so no download).

The model is loaded once per worker process (``get_embedder``; reloaded after a fork), on
the GPU when one is present and ``device='auto'``. Each forward pass has a fixed shape: rows
go in micro-batches of exactly ``batch_size`` (the last one padded), so a row's embedding does
not depend on how Spark split the data (CPU kernels pick different blockings for different
batch sizes; a fixed shape gives bit-identical rows, tested).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from curation.realsyn.phash import dhash

DEFAULT_BATCH = 32


@dataclass(frozen=True)
class DecodedImages:
    ok: np.ndarray        # bool[N]: decodable
    width: np.ndarray     # int32[N] (0 when not decodable)
    height: np.ndarray
    phash: np.ndarray     # int64[N] dHash (0 when not decodable)
    pixels: list          # preprocessed tensors of the decodable images, in order


def resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class ClipEmbedder:
    def __init__(self, spec: str, device: str = "auto", batch_size: int = DEFAULT_BATCH, threads: int | None = 1):
        import torch

        if threads:
            torch.set_num_threads(threads)  # Spark runs one task per core: no oversubscription
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.spec = spec
        if spec.startswith("open_clip:"):
            import open_clip

            name, _, weights = spec[len("open_clip:"):].partition("@")
            if not weights or not os.path.isfile(weights):
                raise FileNotFoundError(f"{spec!r}: give a local weights file as open_clip:<arch>@<path>")
            model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=weights, device="cpu")
            self.tokenize = open_clip.get_tokenizer(name)
        elif os.path.isdir(spec):
            from training.model import image_transforms, load_exported

            model, cfg, tokenizer = load_exported(spec, device="cpu")
            preprocess = image_transforms(cfg)[1]
            self.tokenize = tokenizer
        else:
            raise FileNotFoundError(f"CLIP model {spec!r}: expected an exported model directory or "
                                    "open_clip:<architecture>@<local weights file>")
        self.model = model.to(self.device).eval()
        self.preprocess = preprocess
        self.dim = int(self._forward_text(["probe"]).shape[1])

    # ------------------------------------------------------------ forward passes (fixed shapes)

    def _run(self, encode, batch) -> np.ndarray:
        import torch

        n = len(batch)
        if n < self.batch_size:
            pad = torch.zeros((self.batch_size - n, *batch.shape[1:]), dtype=batch.dtype)
            batch = torch.cat([batch, pad])
        with torch.no_grad():
            out = encode(batch.to(self.device)).float()
            out = torch.nn.functional.normalize(out, dim=-1)
        return out[:n].cpu().numpy().astype(np.float32)

    def _forward_text(self, texts: Sequence[str]) -> np.ndarray:
        tokens = self.tokenize(list(texts))
        return self._run(self.model.encode_text, tokens)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """float32[N, D], rows L2-normalised."""
        parts = [self._forward_text(texts[i:i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)

    def decode(self, blobs: Sequence[bytes | None]) -> DecodedImages:
        """Decode (Pillow), measure, hash and preprocess image bytes; ``None``/broken -> not ok."""
        from PIL import Image

        n = len(blobs)
        ok = np.zeros(n, bool)
        width, height = np.zeros(n, np.int32), np.zeros(n, np.int32)
        phash = np.zeros(n, np.int64)
        pixels = []
        for i, blob in enumerate(blobs):
            if not blob:
                continue
            try:
                with Image.open(io.BytesIO(blob)) as im:
                    im.load()
                    rgb = im.convert("RGB")
            except Exception:  # noqa: BLE001 - any decoder failure is an undecodable image
                continue
            ok[i] = True
            width[i], height[i] = rgb.size
            phash[i] = dhash(rgb)
            pixels.append(self.preprocess(rgb))
        return DecodedImages(ok, width, height, phash, pixels)

    def embed_pixels(self, pixels: list) -> np.ndarray:
        """float32[N, D] of preprocessed image tensors, rows L2-normalised."""
        import torch

        parts = [self._run(self.model.encode_image, torch.stack(pixels[i:i + self.batch_size]))
                 for i in range(0, len(pixels), self.batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)


_CACHE: dict[tuple, ClipEmbedder] = {}


def get_embedder(spec: str, device: str = "auto", batch_size: int = DEFAULT_BATCH) -> ClipEmbedder:
    """The process-wide embedder for ``spec`` (loaded once per Spark worker process)."""
    key = (spec, device, batch_size, os.getpid())
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = ClipEmbedder(spec, device, batch_size)
    return _CACHE[key]
