"""Downloaded bytes -> bytes img2dataset's resizer reads right: 8-bit pixels, upright.

img2dataset decodes with ``cv2.imdecode(..., IMREAD_UNCHANGED)``, which keeps a 16-bit PNG's
``uint16`` pixels (OpenCV's JPEG encoder then saturates them: a mid-grey 16-bit image is stored
almost white) and ignores the EXIF orientation (a phone photo is stored sideways). Palette, LA,
CMYK, bilevel and RGBA images decode right and are left to it (RGBA is composited on white there).

``normalise`` fixes the two cases before img2dataset sees the bytes, and returns the input
unchanged (no second decode) for the common case, which it recognises from the header alone:
8-bit formats (JPEG, WebP, GIF, BMP) without an orientation other than 1, and PNGs whose IHDR
bit depth is at most 8. Other images are decoded once with OpenCV, converted by ``to_uint8``,
turned upright by ``orient`` and re-encoded losslessly (PNG) for the resizer.
"""

from __future__ import annotations

import io
from typing import NamedTuple

import numpy as np

ORIENTATION_TAG = 0x0112  # EXIF "Orientation"
EIGHT_BIT_FORMATS = frozenset({"JPEG", "MPO", "WEBP", "GIF", "BMP", "ICO"})
HIGH_DEPTH_MODES = frozenset({"I", "F", "I;16", "I;16L", "I;16B", "I;16N", "I;16S", "I;32", "I;32S"})
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DECLARED_TOO_LARGE = 2**62  # Header.pixels of an image Pillow refuses to open as a decompression bomb


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """8-bit pixels of a decoded image of any depth (channels untouched).

    * ``uint16``: ``round(x / 257)``, computed exactly as ``(255 x + 32767) // 65535``, so
      0 -> 0, 65535 -> 255 and the mean is kept (a plain cast saturates, ``x >> 8`` darkens);
    * other integers (TIFF ``I`` mode): clipped to ``[0, 65535]``, then as ``uint16``;
    * floats: ``round(255 clip(x, 0, 1))`` (linear [0, 1] data, as TIFF/EXR store it);
    * ``bool``: 0 / 255; ``uint8`` is returned as is.
    """
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.bool_:
        return pixels.astype(np.uint8) * 255
    if np.issubdtype(pixels.dtype, np.floating):
        return np.rint(np.clip(np.nan_to_num(pixels), 0.0, 1.0) * 255.0).astype(np.uint8)
    if np.issubdtype(pixels.dtype, np.integer):
        wide = np.clip(pixels, 0, 65535).astype(np.uint32)
        return ((wide * 255 + 32767) // 65535).astype(np.uint8)
    raise ValueError(f"unsupported pixel type {pixels.dtype}")


def orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The upright image for EXIF orientation 1-8 (rows, columns first; channels untouched).

    EXIF 2 mirror left-right, 3 rotate 180, 4 mirror top-bottom, 5 transpose, 6 rotate 90
    clockwise, 7 transverse, 8 rotate 90 counter-clockwise (as Pillow's ``exif_transpose``);
    any other value (1, missing, invalid) leaves the image as it is."""
    if orientation == 2:
        return pixels[:, ::-1]
    if orientation == 3:
        return pixels[::-1, ::-1]
    if orientation == 4:
        return pixels[::-1, :]
    if orientation == 5:
        return pixels.swapaxes(0, 1)
    if orientation == 6:
        return pixels.swapaxes(0, 1)[:, ::-1]
    if orientation == 7:
        return pixels.swapaxes(0, 1)[::-1, ::-1]
    if orientation == 8:
        return pixels.swapaxes(0, 1)[::-1, :]
    return pixels


def _png_bit_depth(data: bytes) -> int | None:
    """Bit depth from a PNG's IHDR (byte 24), None if ``data`` is not a PNG."""
    if len(data) > 24 and data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR":
        return data[24]
    return None


class Header(NamedTuple):
    """What the header says: must the pixels be decoded to be made 8-bit, EXIF orientation, area."""

    must_decode: bool
    orientation: int
    pixels: int  # width x height as declared (0 when unknown)


def inspect_header(data: bytes) -> Header:
    """The ``Header`` of ``data``, read without decoding pixels (Pillow opens lazily).

    ``must_decode`` is False only when the image is known to be 8-bit per channel; a header
    Pillow cannot read gives ``Header(False, 1, 0)``: the bytes go to img2dataset as they are,
    which decodes or reports them as before."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt, mode, (width, height) = im.format, im.mode, im.size
            # a PNG's EXIF after IDAT would need a full decode to find: only read the one before
            has_exif = fmt != "PNG" or "exif" in im.info
            orientation = int(im.getexif().get(ORIENTATION_TAG, 1) or 1) if has_exif else 1
    except Image.DecompressionBombError:  # over twice Pillow's MAX_IMAGE_PIXELS: never decode it
        return Header(False, 1, DECLARED_TOO_LARGE)
    except Exception:  # noqa: BLE001 - any header Pillow cannot read is img2dataset's to judge
        return Header(False, 1, 0)
    if orientation not in range(1, 9):
        orientation = 1
    if mode in HIGH_DEPTH_MODES:
        must_decode = True
    elif fmt == "PNG":
        depth = _png_bit_depth(data)
        must_decode = depth is not None and depth > 8
    else:
        must_decode = fmt not in EIGHT_BIT_FORMATS
    return Header(must_decode, orientation, width * height)


def normalise(data: bytes, apply_orientation: bool = True, header: Header | None = None) -> bytes:
    """Bytes whose ``cv2.imdecode(IMREAD_UNCHANGED)`` gives 8-bit, upright pixels.

    ``data`` itself when nothing changes (the common case: no decode here); otherwise the
    converted pixels as a fast lossless PNG. Undecodable bytes are returned unchanged.
    ``header``: ``inspect_header(data)`` when the caller already has it."""
    must_decode, orientation, _ = header or inspect_header(data)
    turn = apply_orientation and orientation != 1
    if not must_decode and not turn:
        return data
    import cv2

    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        return data
    fixed = to_uint8(pixels)
    if turn:
        fixed = orient(fixed, orientation)
    if fixed is pixels:
        return data
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(fixed), [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:  # pragma: no cover - PNG encoding of uint8 pixels does not fail
        raise ValueError("could not re-encode the normalised image")
    return encoded.tobytes()
