"""Perceptual hash of an image (paper: "perceptual and semantic duplicates" are removed).

dHash: the image in grey, resized to 9×8 (Pillow's antialiased bilinear, so each cell is an
area average), one bit per horizontally adjacent pair: set when the left cell is brighter by
more than ``MARGIN`` grey levels. Plain dHash (margin 0) flips bits on flat areas, where JPEG
noise decides which of two equal cells is brighter; the margin keeps re-encodes and rescales
on one hash. Images with equal hashes are linked as perceptual duplicates (exact equality is
what Spark can group on; embedding neighbours catch the rest).
"""

from __future__ import annotations

import numpy as np

MARGIN = 4


def dhash(image) -> int:
    """64-bit dHash of a PIL image, as a signed int64 (a Spark LongType)."""
    from PIL import Image

    grey = np.asarray(image.convert("L").resize((9, 8), Image.Resampling.BILINEAR), dtype=np.int16)
    bits = (grey[:, :-1] - grey[:, 1:] > MARGIN).flatten()
    value = int(np.packbits(bits).view(">u8")[0])
    return value - (1 << 64) if value >= 1 << 63 else value
