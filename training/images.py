"""Where a sample's image comes from, and decoding that never crashes a worker.

Two layouts: an image-bytes column carried through curation (``jpg``, ``png``, ``image`` …,
or a Hugging Face ``{bytes, path}`` struct), or files materialised by a download job with a
path column relative to an image root (img2dataset ``output_format=files``: ``00000/000000123.jpg``,
derivable from img2dataset's ``key`` column). Undecodable or missing images are reported with a
reason so the loader skips and counts them.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa
from PIL import Image

BYTES_COLUMN_CANDIDATES = ("jpg", "jpeg", "png", "webp", "image", "img", "image_bytes")
PATH_COLUMN_CANDIDATES = ("image_path", "path", "filepath", "file_path")
# img2dataset names files ``{key}.{ext}`` inside a folder named by the key's shard prefix.
IMG2DATASET_SHARD_DIGITS = 5


class ImageError(Exception):
    """An image could not be loaded; ``reason`` is the counter it is reported under."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass(frozen=True)
class ImageSpec:
    """How to find images: exactly one of ``bytes_column`` / ``path_column`` / ``key_column``."""

    bytes_column: str | None = None
    path_column: str | None = None
    key_column: str | None = None  # img2dataset key -> ``{key[:5]}/{key}{key_suffix}``
    root: str | None = None  # base folder of relative paths (default: see ``default_image_root``)
    key_suffix: str = ".jpg"

    @property
    def column(self) -> str:
        return self.bytes_column or self.path_column or self.key_column  # type: ignore[return-value]


def resolve_image_spec(schema: pa.Schema, table_uri: str, *, bytes_column: str | None = None,
                       path_column: str | None = None, key_column: str | None = None,
                       root: str | None = None) -> ImageSpec:
    """Pick the image column (explicit, else the first known name present); validate it up front."""
    given = [c for c in (bytes_column, path_column, key_column) if c]
    if len(given) > 1:
        raise ValueError("give only one of image bytes column, image path column, img2dataset key column")
    names = schema.names
    if not given:
        bytes_column = next((c for c in BYTES_COLUMN_CANDIDATES if c in names and _is_bytes(schema.field(c).type)), None)
        if bytes_column is None:
            path_column = next((c for c in PATH_COLUMN_CANDIDATES if c in names), None)
        if bytes_column is None and path_column is None:
            raise ValueError(f"no image column found in {table_uri} (columns {names}); pass an image bytes "
                             f"column, an image path column, or an img2dataset key column")
    for c in (bytes_column, path_column, key_column):
        if c and c not in names:
            raise ValueError(f"image column {c!r} not in {table_uri} (columns {names})")
    if bytes_column and not _is_bytes(schema.field(bytes_column).type):
        raise ValueError(f"image bytes column {bytes_column!r} has type {schema.field(bytes_column).type}")
    if (path_column or key_column) and root is None:
        root = default_image_root(table_uri)
    return ImageSpec(bytes_column, path_column, key_column, root)


def default_image_root(table_uri: str) -> str:
    """Where relative image paths start: ``<root>/images/<source>`` for the download job's
    ``<source>_images`` table (``curation.download``, ``output_format=files``), else the table's parent."""
    parent, name = os.path.split(table_uri.rstrip("/"))
    if name.endswith("_images"):
        candidate = os.path.join(parent, "images", name[: -len("_images")])
        if os.path.isdir(candidate):
            return candidate
    return parent


def _is_bytes(t: pa.DataType) -> bool:
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return True
    return pa.types.is_struct(t) and t.get_field_index("bytes") >= 0


def payloads(table: pa.Table, spec: ImageSpec, rows: Sequence[int]) -> list[object]:
    """The image payload (bytes or a path) of the given rows of a read row group."""
    col = table.column(spec.column).take(pa.array(rows, pa.int64())) if len(rows) else []
    values = col.to_pylist() if len(rows) else []
    if spec.bytes_column:
        return [v.get("bytes") if isinstance(v, dict) else v for v in values]
    out: list[object] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        rel = v if spec.path_column else f"{v[:IMG2DATASET_SHARD_DIGITS]}/{v}{spec.key_suffix}"
        out.append(rel if os.path.isabs(rel) or spec.root is None else os.path.join(spec.root, rel))
    return out


def load_image(payload: object) -> Image.Image:
    """Decode to RGB; raise ``ImageError`` with a counter name on any failure."""
    if payload is None:
        raise ImageError("null_image")
    try:
        if isinstance(payload, (bytes, bytearray, memoryview)):
            src: object = io.BytesIO(payload)
        else:
            if not os.path.exists(str(payload)):
                raise ImageError("missing_file", str(payload))
            src = str(payload)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(src) as img:  # type: ignore[arg-type]
                img.load()
                return img.convert("RGB")
    except ImageError:
        raise
    except Exception as exc:  # noqa: BLE001 - PIL raises many types on corrupt data; none may kill a worker
        raise ImageError("decode_error", f"{type(exc).__name__}: {exc}") from None
