"""Image identity and URL sanity (SPEC §2 step 1)."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

UID_HEX_CHARS = 24
MAX_URL_CHARS = 4096
# Any whitespace (str.isspace) or control character; a compiled scan instead of a Python loop.
_BAD_URL_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")


def content_id(text: str) -> str:
    """``sha224(text utf-8).hexdigest()[:24]``: the one content id of the project (image uids,
    RealSyn document and sentence ids). Same text -> same id on any machine or partitioning."""
    return hashlib.sha224(text.encode("utf-8")).hexdigest()[:UID_HEX_CHARS]


def image_uid(url: str) -> str:
    """``content_id(url)``: all texts that share an image URL share its uid."""
    return content_id(url)


def is_valid_url(url: object) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace or control characters.

    Web alt-text dumps carry relative links, ``data:`` URIs and truncated strings;
    those cannot be downloaded later, so they are rejected up front (reason ``bad_url``).
    """
    if not isinstance(url, str) or not url or len(url) > MAX_URL_CHARS:
        return False
    if _BAD_URL_CHARS.search(url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
