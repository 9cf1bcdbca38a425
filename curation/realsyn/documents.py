"""Interleaved documents in OBELICS layout -> image and text elements, or reject reasons.

Layout (HuggingFaceM4/OBELICS; a Parquet/Delta/JSONL row per web page):

- ``texts``: list<string|null> and ``images``: list<string|null>, aligned by position: at each
  position exactly one of the two is set (a paragraph of text, or an image URL), in reading order;
- ``metadata``: a JSON string holding a list of the same length, a dict per image position
  (``original_width``/``original_height`` or ``width``/``height`` are read when present; OBELICS
  also has ``src``, ``alt_text``, ...) and ``null`` per text position; optional;
- ``general_metadata``: a JSON string with a dict about the page (``url``, Common Crawl
  location); optional, carried into the rejects table.

A document that breaks the layout is rejected whole with one reason; a bad element inside a
good document (a non-HTTP image URL, an over-long text) is rejected alone and the rest of the
document is used. Pure functions: lists and strings in, dataclasses out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from curation.ids import content_id, image_uid, is_valid_url

MAX_POSITIONS = 10_000          # OBELICS pages hold tens; more is a broken record
MAX_TEXT_CHARS = 200_000        # one paragraph; longer ones are dumps, not prose

# Document reasons (the whole row goes to realsyn_rejects)
NOT_LISTS = "not_lists"
UNALIGNED = "unaligned_lists"
BOTH_NULL = "both_null"
BOTH_SET = "both_set"
EMPTY_DOCUMENT = "empty_document"
TOO_MANY_POSITIONS = "too_many_positions"
BAD_METADATA = "bad_metadata"
BAD_GENERAL_METADATA = "bad_general_metadata"
DUPLICATE_DOCUMENT = "duplicate_document"
DOCUMENT_REASONS = (NOT_LISTS, UNALIGNED, BOTH_NULL, BOTH_SET, EMPTY_DOCUMENT, TOO_MANY_POSITIONS, BAD_METADATA,
                    BAD_GENERAL_METADATA, DUPLICATE_DOCUMENT)
# Element reasons (one position goes to realsyn_rejects, the document stays)
BAD_URL = "bad_url"
TEXT_TOO_LONG = "text_too_long"
ELEMENT_REASONS = (BAD_URL, TEXT_TOO_LONG)


@dataclass(frozen=True)
class ImageRef:
    position: int
    url: str
    uid: str
    width: int | None     # from the document metadata, when it has them
    height: int | None


@dataclass(frozen=True)
class TextRef:
    position: int
    text: str


@dataclass(frozen=True)
class ElementReject:
    position: int
    reason: str
    detail: str           # the URL, or the text's length


def document_id(texts: Sequence[str | None] | None, images: Sequence[str | None] | None,
                metadata: str | None, general_metadata: str | None) -> str:
    """Content id of a document: ``curation.ids.content_id`` of its canonical JSON (24 hex
    characters, like an image uid). Same content -> same id on any machine or partitioning; used when
    the input has no id column."""
    payload = json.dumps([None if texts is None else list(texts), None if images is None else list(images),
                          metadata, general_metadata], ensure_ascii=False, separators=(",", ":"))
    return content_id(payload)


def _parse_metadata(metadata: str | None, n: int) -> list | None:
    """The metadata list (``None`` entries where absent), or raise ``ValueError``."""
    if metadata is None or metadata == "":
        return [None] * n
    parsed = json.loads(metadata)
    if parsed is None:
        return [None] * n
    if not isinstance(parsed, list) or len(parsed) != n:
        raise ValueError("metadata is not a list as long as texts/images")
    if any(m is not None and not isinstance(m, dict) for m in parsed):
        raise ValueError("metadata entries must be objects or null")
    return parsed


def document_reject_reason(texts: object, images: object, metadata: str | None = None,
                           general_metadata: str | None = None) -> str | None:
    """``None`` for a document in OBELICS layout, else the first broken rule (module docstring)."""
    if not isinstance(texts, (list, tuple)) or not isinstance(images, (list, tuple)):
        return NOT_LISTS
    if len(texts) != len(images):
        return UNALIGNED
    if len(texts) == 0:
        return EMPTY_DOCUMENT
    if len(texts) > MAX_POSITIONS:
        return TOO_MANY_POSITIONS
    for text, image in zip(texts, images):
        if text is None and image is None:
            return BOTH_NULL
        if text is not None and image is not None:
            return BOTH_SET
        if not isinstance(text if text is not None else image, str):
            return NOT_LISTS
    try:
        _parse_metadata(metadata, len(texts))
    except (ValueError, TypeError):
        return BAD_METADATA
    if general_metadata not in (None, ""):
        try:
            general = json.loads(general_metadata)
        except (ValueError, TypeError):
            return BAD_GENERAL_METADATA
        if general is not None and not isinstance(general, dict):
            return BAD_GENERAL_METADATA
    return None


def _size(meta: dict | None, *keys: str) -> int | None:
    for key in keys:
        value = (meta or {}).get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
            return int(value)
    return None


def document_elements(texts: Sequence[str | None], images: Sequence[str | None],
                      metadata: str | None = None) -> tuple[list[ImageRef], list[TextRef], list[ElementReject]]:
    """Images, texts and rejected elements of a document that passed ``document_reject_reason``.

    An image URL must be an absolute http(s) URL (``curation.ids.is_valid_url``); its uid is
    ``curation.ids.image_uid(url)``, the key of the download stage's table.
    """
    meta = _parse_metadata(metadata, len(texts))
    out_images: list[ImageRef] = []
    out_texts: list[TextRef] = []
    rejects: list[ElementReject] = []
    for pos, (text, url) in enumerate(zip(texts, images)):
        if url is not None:
            if not is_valid_url(url):
                rejects.append(ElementReject(pos, BAD_URL, url[:512]))
                continue
            m = meta[pos]
            out_images.append(ImageRef(pos, url, image_uid(url), _size(m, "original_width", "width"),
                                       _size(m, "original_height", "height")))
        elif len(text) > MAX_TEXT_CHARS:
            rejects.append(ElementReject(pos, TEXT_TOO_LONG, str(len(text))))
        else:
            out_texts.append(TextRef(pos, text))
    return out_images, out_texts, rejects
