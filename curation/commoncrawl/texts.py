"""Which attribute text of an image link becomes a row's ``text``, and the page's declared language.

MetaCLIP's ``WATParser`` (metaclip/curation/parse_wat.py) keeps, for every ``IMG@/src`` link,
each of the attributes ``alt``, ``title`` and ``data-image-title`` that is present and not
empty after newline removal, *in that order*, as separate texts of the same image; curation
then treats all texts of one image (one uid) together and samples one of them per image. That
is the default here (``text_mode="all"``): one row per non-empty attribute, ``text_source``
saying which one. ``text_mode="first"`` keeps only the first non-empty attribute of the order
(one row per link), and ``text_attrs`` chooses and orders the attributes (``("alt",)`` keeps
alt-texts only). A text equal to an earlier text of the same link is not repeated.

Cleaning is MetaCLIP's: ``\\n`` and ``\\r`` become spaces, then outer whitespace is stripped;
nothing else changes (curation's own padding and checks come later).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

# MetaCLIP's attribute order ("KOI" in WATParser).
TEXT_ATTRS = ("alt", "title", "data-image-title")
TEXT_MODES = ("all", "first")
# Output column of each attribute (a column name cannot hold "-").
ATTR_COLUMNS = {"alt": "alt", "title": "title", "data-image-title": "data_image_title"}

_LANG_TAG = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{1,8})*$")


def clean_text(value: object) -> str | None:
    """MetaCLIP's cleaning: newlines to spaces, outer whitespace stripped; None when nothing is
    left (or the value is not a string)."""
    if not isinstance(value, str):
        return None
    text = value.replace("\n", " ").replace("\r", " ").strip()
    return text or None


def select_texts(attrs: Mapping[str, str | None], text_attrs: Sequence[str] = TEXT_ATTRS,
                 mode: str = "all") -> list[tuple[str, str]]:
    """``(attribute, text)`` pairs a link contributes, in ``text_attrs`` order.

    ``attrs`` holds the cleaned values (see :func:`clean_text`). ``mode="all"``: every
    non-empty attribute whose text was not already taken from this link; ``"first"``: only
    the first non-empty one. An empty list means the link has no text.
    """
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for attr in text_attrs:
        text = attrs.get(attr)
        if not text or text in seen:
            continue
        out.append((attr, text))
        if mode == "first":
            break
        seen.add(text)
    return out


def normalise_lang(value: object) -> str | None:
    """A declared language as a lower-case BCP 47-like tag (``en``, ``pt-br``, ``zh-hant-tw``),
    or None. Only the first of a comma-separated list is used; ``_`` counts as ``-``; values
    that are not language tags (``english``, ``{{lang}}``, ``*``) give None."""
    if isinstance(value, (list, tuple)):  # multi-valued HTTP header in a WAT record (since 2024-51)
        value = value[0] if value else None
    if not isinstance(value, str):
        return None
    tag = value.split(",")[0].strip().replace("_", "-").lower()
    if ";" in tag:  # "en;q=0.8"
        tag = tag.split(";")[0].strip()
    return tag if _LANG_TAG.match(tag) and len(tag) <= 35 else None


def declared_language(html_lang: object = None, meta_content_language: object = None,
                      http_content_language: object = None) -> str | None:
    """The page's declared language, in the HTML standard's precedence: the ``lang`` attribute of
    ``<html>``, then ``<meta http-equiv="content-language">``, then the HTTP ``Content-Language``
    header. The first that is a valid tag wins (see :func:`normalise_lang`). This is what the
    page *says*, next to curation's own LID, never a substitute for it."""
    for value in (html_lang, meta_content_language, http_content_language):
        tag = normalise_lang(value)
        if tag is not None:
            return tag
    return None
