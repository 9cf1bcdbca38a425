"""Image URL of one ``<img>``: resolution against the page, ``srcset`` choice, reject reasons.

A link found in a page is an attribute value, not yet a URL a downloader can fetch: it may be
relative (``../a.jpg``), protocol-relative (``//cdn.example/a.jpg``), carry a fragment, spaces
or tabs, point to an inline ``data:`` image, use another scheme (``javascript:``, ``blob:``)
or be plain broken. :func:`resolve_image_url` turns the value into the absolute URL a browser
would request, or into one reject reason, so every image link ends either in the output or in
``extract_rejects``.

Resolution follows what a browser does, in the order of the HTML standard: the document base
URL is the page URL, replaced by ``<base href>`` (itself resolved against the page URL) when
that gives an http(s) URL; the attribute value is stripped of leading and trailing whitespace,
tab and newline characters inside it are removed (WHATWG URL parser), then it is joined with
the base (RFC 3986 via :func:`urllib.parse.urljoin`), the fragment is dropped (it never reaches
the server, so ``a.jpg#x`` and ``a.jpg`` are one image), scheme and host are lower-cased (both
are case-insensitive, so the same image gets one uid) and spaces left in the path or query are
percent-encoded as ``%20``. Everything else is kept byte for byte (no further normalisation:
query order, percent-escapes and ``index.html`` are part of the URL the site serves).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit, urlunsplit

from curation.ids import MAX_URL_CHARS, is_valid_url

# Reject reasons of an image link (one per link; see docs/commoncrawl.md).
NO_SRC = "no_src"  # neither src nor a usable srcset candidate
DATA_URI = "data_uri"  # an inline data: image, nothing to download
BAD_SCHEME = "bad_scheme"  # resolves to a scheme other than http(s): javascript:, blob:, ftp:, ...
MALFORMED_URL = "malformed_url"  # http(s) but no host, a bad port, an invalid IPv6 literal, ...
URL_TOO_LONG = "url_too_long"  # longer than curation.ids.MAX_URL_CHARS once resolved
URL_REASONS = (NO_SRC, DATA_URI, BAD_SCHEME, MALFORMED_URL, URL_TOO_LONG)

HTTP_SCHEMES = ("http", "https")
# The HTML standard strips ASCII whitespace around URL attributes and the URL parser removes
# tab and newline characters anywhere in the input.
_ASCII_WS = " \t\n\r\x0c"
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_WHITESPACE = re.compile(r"\s")


def clean_url_value(value: str | None) -> str:
    """The attribute value as the URL parser sees it: outer ASCII whitespace stripped, tabs and
    newlines inside removed. ``None`` gives ``""``."""
    if not value:
        return ""
    return _TAB_NEWLINE.sub("", value.strip(_ASCII_WS))


def _scheme(value: str) -> str | None:
    match = _SCHEME.match(value)
    return match.group(1).lower() if match else None


def document_base(page_url: str, base_href: str | None) -> str:
    """The base URL for relative links: ``<base href>`` resolved against the page URL when that
    yields an http(s) URL with a host, else the page URL itself (a broken ``<base>`` is ignored,
    as browsers fall back to the document URL)."""
    href = clean_url_value(base_href)
    if not href:
        return page_url
    try:
        base = urljoin(page_url, href)
        parts = urlsplit(base)
    except ValueError:
        return page_url
    if parts.scheme.lower() in HTTP_SCHEMES and parts.hostname:
        return base
    return page_url


def _normalise(url: str) -> str | None:
    """Fragment dropped, scheme and host lower-cased, spaces in path/query as ``%20``; None when
    the URL cannot be split or its host holds whitespace."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # invalid IPv6 literal, port out of range or not a number
        return None
    if not port_ok:
        return None
    netloc = parts.netloc
    userinfo, sep, hostport = netloc.rpartition("@")
    if _WHITESPACE.search(hostport):
        return None
    netloc = f"{userinfo}{sep}{hostport.lower()}"
    path, query = parts.path.replace(" ", "%20"), parts.query.replace(" ", "%20")
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def resolve_image_url(value: str | None, base_url: str) -> tuple[str | None, str | None]:
    """``(url, None)`` for a downloadable image URL, ``(None, reason)`` otherwise.

    ``value`` is the raw ``src`` (entities already decoded); ``base_url`` comes from
    :func:`document_base`. Reasons: ``no_src`` (empty), ``data_uri``, ``bad_scheme``,
    ``malformed_url``, ``url_too_long``. The accepted URL passes ``curation.ids.is_valid_url``,
    so curation never rejects an extracted row as ``bad_url``.
    """
    src = clean_url_value(value)
    if not src:
        return None, NO_SRC
    own_scheme = _scheme(src)
    if own_scheme == "data":
        return None, DATA_URI
    if own_scheme is not None and own_scheme not in HTTP_SCHEMES:
        return None, BAD_SCHEME
    if own_scheme in HTTP_SCHEMES or src.startswith("//"):
        # An absolute or protocol-relative reference must carry its own host: urljoin would
        # silently read "http:///a.jpg" or "https:/a.jpg" as a path on the page's host.
        rest = src[len(own_scheme) + 1:] if own_scheme else src
        try:
            has_host = rest.startswith("//") and bool(urlsplit("http:" + rest).netloc)
        except ValueError:
            has_host = False
        if not has_host:
            return None, MALFORMED_URL
    try:
        joined = urljoin(base_url, src)
    except ValueError:
        return None, MALFORMED_URL
    scheme = _scheme(joined)
    if scheme not in HTTP_SCHEMES:  # a relative link on a page whose own URL is not http(s)
        return None, MALFORMED_URL if scheme is None else BAD_SCHEME
    url = _normalise(joined)
    if url is None:
        return None, MALFORMED_URL
    if len(url) > MAX_URL_CHARS:
        return None, URL_TOO_LONG
    if not is_valid_url(url):
        return None, MALFORMED_URL
    return url, None


# ---------------------------------------------------------------- fast paths

# The common shapes of a src, for which RFC 3986 joining is string concatenation: an absolute
# http(s) URL without port, userinfo, params or fragment; a root-relative path; a plain relative
# path. Characters are the URL code points that need no encoding; ";" (params), ":" in relative
# paths (could be a scheme), "#", whitespace, "\\" and dot segments always take the general path.
_PATH_CHARS = r"[A-Za-z0-9\-._~%!$&'()*+,=@/]"
_QUERY = r"(?:\?[A-Za-z0-9\-._~%!$&'()*+,;=:@/?]+)?"
_FAST_ABSOLUTE = re.compile(r"(https?)://([A-Za-z0-9.\-]+)((?:/" + _PATH_CHARS[:-1] + r":]*)?" + _QUERY + ")",
                            re.ASCII)
_FAST_ROOTED = re.compile(r"/(?!/)" + _PATH_CHARS + "*" + _QUERY, re.ASCII)
_FAST_RELATIVE = re.compile(r"[A-Za-z0-9_\-~%!$&'()*+,=@]" + _PATH_CHARS + "*" + _QUERY, re.ASCII)
_DOT_SEGMENT = re.compile(r"(?:^|/)\.\.?(?:/|\?|$)")


class PageResolver:
    """:func:`resolve_image_url` for every link of one page, with the document base parsed once.

    Links of the shapes above are joined by concatenation; everything else goes through
    :func:`resolve_image_url` itself. Both give identical results (a test compares them on the
    hostile corpus, the generated sample and random strings); this only saves the per-link
    ``urljoin`` (half of the CPU time of a WAT page)."""

    __slots__ = ("base_url", "_origin", "_dir")

    def __init__(self, base_url: str):
        self.base_url = base_url
        self._origin = self._dir = None
        match = _FAST_ABSOLUTE.fullmatch(base_url.split("#", 1)[0])
        if match:
            path = match.group(3).split("?", 1)[0]
            if "//" not in path and not _DOT_SEGMENT.search(path):
                self._origin = f"{match.group(1)}://{match.group(2).lower()}"
                self._dir = path[:path.rfind("/") + 1] if path else "/"

    def __call__(self, value: str | None) -> tuple[str | None, str | None]:
        if value and len(value) < MAX_URL_CHARS - 100 and not _DOT_SEGMENT.search(value):
            match = _FAST_ABSOLUTE.fullmatch(value)
            if match:
                return f"{match.group(1)}://{match.group(2).lower()}{match.group(3)}", None
            if self._origin is not None:
                if _FAST_ROOTED.fullmatch(value):
                    return self._origin + value, None
                if "//" not in value and _FAST_RELATIVE.fullmatch(value):
                    return self._origin + self._dir + value, None
        return resolve_image_url(value, self.base_url)


# ---------------------------------------------------------------- srcset

def parse_srcset(value: str | None) -> list[tuple[str, float | None, float | None]]:
    """Candidates of a ``srcset`` attribute as ``(url, width, density)``, in document order.

    Follows the HTML standard's "parse a srcset attribute": candidates are separated by commas,
    a URL is a run of non-whitespace (trailing commas are separators, so URLs may contain
    commas), descriptors run to the next comma outside parentheses: ``<int>w`` is a width,
    ``<float>x`` a density, ``<int>h`` is allowed and ignored. A candidate with an invalid or
    repeated descriptor is dropped, as browsers drop it. No descriptor means ``1x``.
    """
    if not value:
        return []
    out: list[tuple[str, float | None, float | None]] = []
    n, pos = len(value), 0
    while True:
        while pos < n and (value[pos] in _ASCII_WS or value[pos] == ","):
            pos += 1
        if pos >= n:
            return out
        start = pos
        while pos < n and value[pos] not in _ASCII_WS:
            pos += 1
        url = value[start:pos]
        descriptors: list[str] = []
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            token, depth = [], 0
            while pos < n:
                ch = value[pos]
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    depth = max(0, depth - 1)
                elif ch == "," and depth == 0:
                    pos += 1
                    break
                token.append(ch)
                pos += 1
            descriptors = "".join(token).split()
        candidate = _descriptor_values(descriptors)
        if url and candidate is not None:
            out.append((url, *candidate))


def _descriptor_values(descriptors: list[str]) -> tuple[float | None, float | None] | None:
    width = density = height = None
    for d in descriptors:
        kind, number = d[-1:].lower(), d[:-1]
        try:
            if kind == "w" and width is None and density is None and number.isdigit() and int(number) > 0:
                width = float(int(number))
            elif kind == "x" and density is None and width is None and float(number) >= 0 \
                    and number.lower() not in ("inf", "nan", "+inf", "-inf"):
                density = float(number)
            elif kind == "h" and height is None and number.isdigit() and int(number) > 0:
                height = float(number)
            else:
                return None
        except ValueError:
            return None
    if height is not None and width is None:
        return None  # "h" alone is invalid
    return width, density


def best_srcset_url(value: str | None) -> str | None:
    """The candidate a downloader should fetch: the largest width (``w``) if any candidate has
    one, else the largest density (``x``, default 1); the first on ties. Larger is chosen
    because the download stage resizes every image to the training size anyway."""
    candidates = parse_srcset(value)
    if not candidates:
        return None
    if any(c[1] is not None for c in candidates):
        return max((c for c in candidates if c[1] is not None), key=lambda c: c[1])[0]
    return max(candidates, key=lambda c: 1.0 if c[2] is None else c[2])[0]
