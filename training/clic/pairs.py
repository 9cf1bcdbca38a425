"""Joining two images into one CLIC training image (METHODS.md §1.2).

Image A is *wide* when width ≥ height, else *tall*; image B is drawn with the same orientation
(``training.clic.data``). Both are resized — aspect ratio not kept, as in the reference — and
joined into one ``size × size`` image (224 by default):

- wide: each resized to ``size/2 × size`` (h × w) and stacked vertically;
- tall: each resized to ``size × size/2`` (h × w) and placed side by side;

the first of the two (``a_first``: A, else B) on top / on the left. The reference draws the
order at random; the caller draws it from its seeded generator. (The reference's comments name
the stacking direction the wrong way round; its code does what is written here.)
"""

from __future__ import annotations

from PIL import Image

JOIN_SIZE = 224
WIDE, TALL = "wide", "tall"


def orientation(width: int, height: int) -> str:
    """``"wide"`` when ``width >= height`` (squares are wide, as in the reference), else ``"tall"``."""
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}×{height}")
    return WIDE if width >= height else TALL


def join_pair(image_a: Image.Image, image_b: Image.Image, a_first: bool, size: int = JOIN_SIZE) -> Image.Image:
    """One RGB ``size × size`` image of A and B (wide: stacked vertically; tall: side by side)."""
    if size < 2 or size % 2:
        raise ValueError(f"size must be an even number >= 2, got {size}")
    kind = orientation(*image_a.size)
    if orientation(*image_b.size) != kind:
        raise ValueError(f"image B is {orientation(*image_b.size)} but image A is {kind}: pairs share an orientation")
    half = size // 2
    box = (size, half) if kind == WIDE else (half, size)  # PIL sizes are (w, h)
    first, second = (image_a, image_b) if a_first else (image_b, image_a)
    out = Image.new("RGB", (size, size))
    out.paste(first.convert("RGB").resize(box, Image.BICUBIC), (0, 0))
    out.paste(second.convert("RGB").resize(box, Image.BICUBIC), (0, half) if kind == WIDE else (half, 0))
    return out
