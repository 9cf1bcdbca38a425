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

# Every character for which Python's str.isspace() is true, i.e. what str.strip() removes
# (a test re-derives the set from the running interpreter).
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
                 "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


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


# --- Vectorized prefilter for Arrow batches ---------------------------------------------------
# Proves rows valid without calling ``reject_reason``; every row it does not prove valid goes
# through ``reject_reason`` itself, so results equal the scalar rule by construction.
# Text: non-null, some character outside PY_WHITESPACE (so ``text.strip()`` is non-empty), at
# most ``max_text_chars`` code points, no U+FFFD (Arrow strings cannot hold lone surrogates).
_TEXT_HAS_NON_SPACE = "[^" + "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE) + "]"
# URL: a strict subset of what ``is_valid_url`` accepts: lower-case http(s) scheme, an ASCII
# host name (letters, digits, dots, hyphens; starts with a letter or digit), an optional numeric
# port, then only printable ASCII without spaces. ``urlsplit`` gives such a URL scheme
# http(s) and a non-empty hostname, and it has no whitespace or control characters.
_SAFE_URL = r"^https?://[A-Za-z0-9][A-Za-z0-9.\-]*(?::[0-9]{1,5})?(?:[/?#][!-~]*)?$"


def _is_string_type(arr) -> bool:
    import pyarrow as pa

    return pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)


def fast_valid_mask(urls, texts, max_text_chars: int = DEFAULT_MAX_TEXT_CHARS):
    """A numpy bool mask of rows of two pyarrow arrays that are *certainly* valid
    (``reject_reason(url, text, max_text_chars) is None``). False means "not proven": check the
    row with ``reject_reason``. Arrays of a non-string type prove nothing."""
    import numpy as np
    import pyarrow.compute as pc

    from curation.ids import MAX_URL_CHARS

    n = len(texts)
    if n == 0 or not (_is_string_type(urls) and _is_string_type(texts)):
        return np.zeros(n, dtype=bool)
    text_ok = pc.and_(pc.and_(pc.match_substring_regex(texts, _TEXT_HAS_NON_SPACE),
                              pc.less_equal(pc.utf8_length(texts), max_text_chars)),
                      pc.invert(pc.match_substring(texts, "\ufffd")))
    url_ok = pc.and_(pc.less_equal(pc.binary_length(urls), MAX_URL_CHARS),
                     pc.match_substring_regex(urls, _SAFE_URL))
    return pc.fill_null(pc.and_(text_ok, url_ok), False).to_numpy(zero_copy_only=False)
