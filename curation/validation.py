"""Row-level input checks (SPEC §3 ``rejects``): every bad row gets exactly one reason."""

from __future__ import annotations

import re

from curation.ids import is_valid_url

# U+FFFD (what decoders put for invalid bytes) or a lone surrogate (undecodable UTF-16 halves).
_INVALID_UNICODE = re.compile("[\ufffd\ud800-\udfff]")

NULL_TEXT = "null_text"
EMPTY_TEXT = "empty_text"
TOO_LONG = "too_long"
BAD_URL = "bad_url"
INVALID_UTF8 = "invalid_utf8"
LOW_LID_SCORE = "low_lid_score"
NO_METADATA_LANGUAGE = "no_metadata_language"
UNMATCHED = "unmatched"
MALFORMED_ROW = "malformed_row"  # an input line the reader could not parse (kept raw)
DUPLICATE = "duplicate"  # the same (uid, text) pair again in one batch

# Far beyond any real alt-text; guards workers against megabyte "captions".
DEFAULT_MAX_TEXT_CHARS = 4096


def reject_reason(url: object, text: object, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> str | None:
    """Why an input row cannot enter curation, or None if it can. Text checks come first."""
    if text is None:
        return NULL_TEXT
    if not isinstance(text, str) or not text.strip():
        return EMPTY_TEXT
    if len(text) > max_text_chars:
        return TOO_LONG
    if _INVALID_UNICODE.search(text):
        return INVALID_UTF8
    if not is_valid_url(url):
        return BAD_URL
    return None
