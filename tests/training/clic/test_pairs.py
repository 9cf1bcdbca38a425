"""The CLIC image join: wide pairs stacked vertically at 112×224, tall pairs side by side at 224×112."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from training.clic.pairs import join_pair, orientation

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def solid(w: int, h: int, colour) -> Image.Image:
    return Image.new("RGB", (w, h), colour)


def split_left_right(w: int, h: int, left, right) -> Image.Image:
    img = solid(w, h, right)
    img.paste(solid(w // 2, h, left), (0, 0))
    return img


def px(img: Image.Image, x: int, y: int):
    return tuple(int(v) for v in np.asarray(img)[y, x])


def test_orientation():
    assert orientation(200, 100) == "wide" and orientation(100, 100) == "wide" and orientation(99, 100) == "tall"
    with pytest.raises(ValueError):
        orientation(0, 10)


@pytest.mark.parametrize("a_first", [True, False])
def test_wide_pairs_are_stacked_vertically(a_first):
    a, b = solid(300, 120, RED), solid(64, 64, BLUE)  # both wide (a square counts as wide)
    out = join_pair(a, b, a_first)
    assert out.size == (224, 224) and out.mode == "RGB"
    top, bottom = (RED, BLUE) if a_first else (BLUE, RED)
    for x in (0, 50, 111, 112, 223):
        for y in (0, 55, 111):
            assert px(out, x, y) == top
        for y in (112, 170, 223):
            assert px(out, x, y) == bottom


@pytest.mark.parametrize("a_first", [True, False])
def test_tall_pairs_are_side_by_side(a_first):
    a, b = solid(50, 200, RED), solid(10, 11, BLUE)
    out = join_pair(a, b, a_first)
    left, right = (RED, BLUE) if a_first else (BLUE, RED)
    for y in (0, 100, 223):
        for x in (0, 60, 111):
            assert px(out, x, y) == left
        for x in (112, 180, 223):
            assert px(out, x, y) == right


def test_resized_not_cropped():
    # a wide image whose left half is green: after the join its green part spans the left half of the top band
    a = split_left_right(400, 100, GREEN, RED)
    out = join_pair(a, solid(80, 40, BLUE), a_first=True)
    assert px(out, 10, 50) == GREEN and px(out, 100, 50) == GREEN
    assert px(out, 124, 50) == RED and px(out, 220, 50) == RED
    assert px(out, 10, 200) == BLUE
    # tall: each image squeezed into a 112-wide column
    t = join_pair(split_left_right(60, 300, GREEN, RED), solid(20, 30, BLUE), a_first=False, size=64)
    assert t.size == (64, 64)
    assert px(t, 10, 30) == BLUE and px(t, 34, 30) == GREEN and px(t, 60, 30) == RED


def test_orientations_must_match_and_size_checked():
    with pytest.raises(ValueError, match="share an orientation"):
        join_pair(solid(100, 50, RED), solid(50, 100, BLUE), True)
    with pytest.raises(ValueError, match="even"):
        join_pair(solid(10, 10, RED), solid(10, 10, BLUE), True, size=33)


def test_non_rgb_inputs_are_converted():
    a = Image.new("L", (40, 20), 255)
    b = Image.new("RGBA", (40, 20), (0, 0, 255, 0))
    out = join_pair(a, b, True, size=32)
    assert px(out, 5, 5) == (255, 255, 255) and px(out, 5, 25) == BLUE
