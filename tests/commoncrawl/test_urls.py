"""Image URL resolution, srcset choice and reject reasons (hand-computed cases)."""

import zlib

import pytest

from curation.commoncrawl.urls import (BAD_SCHEME, DATA_URI, MALFORMED_URL, NO_SRC, URL_TOO_LONG, best_srcset_url,
                                       clean_url_value, document_base, parse_srcset, resolve_image_url)
from curation.ids import is_valid_url

PAGE = "https://www.example.com/blog/2024/post.html?page=2#comments"


@pytest.mark.parametrize("src, expected", [
    ("img/a.jpg", "https://www.example.com/blog/2024/img/a.jpg"),
    ("../a.jpg", "https://www.example.com/blog/a.jpg"),
    ("../../../../a.jpg", "https://www.example.com/a.jpg"),  # dot segments never climb above the root
    ("/a.jpg", "https://www.example.com/a.jpg"),
    ("//cdn.example.net/a.jpg", "https://cdn.example.net/a.jpg"),  # protocol-relative takes the page scheme
    ("http://other.example/a.jpg", "http://other.example/a.jpg"),
    ("a.jpg#main", "https://www.example.com/blog/2024/a.jpg"),  # fragment dropped
    ("a.jpg?w=100&h=50#x", "https://www.example.com/blog/2024/a.jpg?w=100&h=50"),
    ("?v=2", "https://www.example.com/blog/2024/post.html?v=2"),
    ("  a.jpg \n", "https://www.example.com/blog/2024/a.jpg"),  # outer whitespace stripped
    ("im\tg/a\n.jpg", "https://www.example.com/blog/2024/img/a.jpg"),  # tab/newline removed inside
    ("my photo.jpg", "https://www.example.com/blog/2024/my%20photo.jpg"),  # inner space encoded
    ("a.jpg?q=a b", "https://www.example.com/blog/2024/a.jpg?q=a%20b"),
    ("HTTPS://CDN.Example.NET/Photo.JPG", "https://cdn.example.net/Photo.JPG"),  # scheme+host lower, path kept
    ("https://User@Host.Example:8080/a.jpg", "https://User@host.example:8080/a.jpg"),
    ("https://例え.jp/画像.jpg", "https://例え.jp/画像.jpg"),  # IRIs kept as they are
    ("a%20b.jpg", "https://www.example.com/blog/2024/a%20b.jpg"),  # existing escapes untouched
])
def test_resolves_like_a_browser(src, expected):
    url, reason = resolve_image_url(src, PAGE)
    assert (url, reason) == (expected, None)
    assert is_valid_url(url)


@pytest.mark.parametrize("src, reason", [
    (None, NO_SRC), ("", NO_SRC), ("   \t\n", NO_SRC),
    ("data:image/png;base64,iVBORw0KGgo=", DATA_URI), ("DATA:image/gif;base64,R0lG", DATA_URI),
    (" data:,", DATA_URI),
    ("javascript:void(0)", BAD_SCHEME), ("blob:https://x.example/1234", BAD_SCHEME), ("ftp://f.example/a.jpg", BAD_SCHEME),
    ("mailto:a@b.example", BAD_SCHEME), ("about:blank", BAD_SCHEME), ("cid:part1@mail", BAD_SCHEME),
    ("http://", MALFORMED_URL), ("https:/a.jpg", MALFORMED_URL), ("http:///a.jpg", MALFORMED_URL),
    ("//", MALFORMED_URL), ("http://[::1/a.jpg", MALFORMED_URL), ("http://h.example:99999/a.jpg", MALFORMED_URL),
    ("http://h.example:0/a.jpg", MALFORMED_URL), ("http://h.example:port/a.jpg", MALFORMED_URL),
    ("http://exa mple.com/a.jpg", MALFORMED_URL), ("http://h.example/\x00a.jpg", MALFORMED_URL),
    ("/" + "a" * 5000, URL_TOO_LONG),
])
def test_rejects_with_one_reason(src, reason):
    assert resolve_image_url(src, PAGE) == (None, reason)


def test_relative_link_on_a_page_without_http_url_is_malformed():
    assert resolve_image_url("a.jpg", "not a url") == (None, MALFORMED_URL)
    assert resolve_image_url("https://ok.example/a.jpg", "not a url") == ("https://ok.example/a.jpg", None)


@pytest.mark.parametrize("base, expected", [
    (None, PAGE), ("", PAGE), ("https://static.example/assets/", "https://static.example/assets/"),
    ("/media/", "https://www.example.com/media/"),  # a relative base resolves against the page
    ("sub/", "https://www.example.com/blog/2024/sub/"),
    ("javascript:alert(1)", PAGE), ("http://[broken", PAGE), ("data:text/html,x", PAGE),  # ignored
])
def test_document_base(base, expected):
    assert document_base(PAGE, base) == expected


def test_base_href_changes_resolution():
    base = document_base(PAGE, "https://static.example/assets/")
    assert resolve_image_url("logo.png", base) == ("https://static.example/assets/logo.png", None)
    assert resolve_image_url("/logo.png", base) == ("https://static.example/logo.png", None)


def test_clean_url_value():
    assert clean_url_value(None) == ""
    assert clean_url_value(" \ta\tb\r\nc \x0c") == "abc"


def test_parse_srcset_spec_examples():
    assert parse_srcset("a.jpg 1x, b.jpg 2x") == [("a.jpg", None, 1.0), ("b.jpg", None, 2.0)]
    assert parse_srcset("s.jpg 320w,m.jpg 640w , l.jpg 1024w") == [
        ("s.jpg", 320.0, None), ("m.jpg", 640.0, None), ("l.jpg", 1024.0, None)]
    # a URL may contain commas; trailing commas of a URL are separators
    assert parse_srcset("img,1.jpg 1x, img,2.jpg 2x") == [("img,1.jpg", None, 1.0), ("img,2.jpg", None, 2.0)]
    assert parse_srcset("a.jpg,b.jpg 2x") == [("a.jpg,b.jpg", None, 2.0)]
    assert parse_srcset("a.jpg, b.jpg") == [("a.jpg", None, None), ("b.jpg", None, None)]
    assert parse_srcset("a.jpg 100w 80h") == [("a.jpg", 100.0, None)]
    # invalid candidates are dropped, valid ones kept
    assert parse_srcset("bad.jpg 12q, good.jpg 2x") == [("good.jpg", None, 2.0)]
    assert parse_srcset("a.jpg 1x 2x, b.jpg 80h, c.jpg -5w, d.jpg 1.5x") == [("d.jpg", None, 1.5)]
    assert parse_srcset("") == [] and parse_srcset(None) == [] and parse_srcset(" , ,") == []


def test_best_srcset_candidate():
    assert best_srcset_url("s.jpg 320w, l.jpg 1024w, m.jpg 640w") == "l.jpg"
    assert best_srcset_url("a.jpg, b.jpg 2x, c.jpg 1.5x") == "b.jpg"
    assert best_srcset_url("a.jpg 2x, b.jpg 2x") == "a.jpg"  # first on ties
    assert best_srcset_url("x.jpg 3x, w.jpg 200w") == "w.jpg"  # widths win over densities
    assert best_srcset_url("only.jpg") == "only.jpg"
    assert best_srcset_url("bad.jpg 0w") is None and best_srcset_url(None) is None


# ---------------------------------------------------------------- fast paths == the general rule

BASES = [PAGE, "https://h.example", "https://h.example/", "http://H.Example/a/b", "https://h.example/a//b/c.html",
         "https://h.example/a/./b/c", "https://h.example:8080/x/y", "HTTPS://h.example/x", "https://u@h.example/x/",
         "https://h.example/x?q=/../", "https://h.example/dir/#frag", "not a url", "https://h.example/a;p/b"]
ALPHABET = "ab/.:?#;%&=@-_~+, \t\nAZ09/..//?" + "é"


def _fuzz_values(seed, n=2000):
    import random

    rng = random.Random(seed)
    fixed = ["a.jpg", "/a.jpg", "//c.example/a.jpg", "https://C.example/A.jpg?x=1&y=2", "http://c.example",
             "a//b.jpg", "./a.jpg", "../a.jpg", "a/../b.jpg", ".hidden.jpg", "a.jpg?", "a.jpg?x=/../y", "?x=1",
             "a.jpg;p=1", "x:y.jpg", "https://c.example/a:b.jpg", "https://c.example:443/a.jpg", "/a/./b.jpg",
             "a/.", "a/..", "https://c.example/a/../b.jpg", "~user/a.jpg", "-a.jpg", "%7Ea.jpg", "@a.jpg",
             "https://c.example/a.jpg#f", "", None, "https://c.example?x", "http://c.example/?", "/?x", "/"]
    out = list(fixed)
    for _ in range(n):
        out.append("".join(rng.choice(ALPHABET) for _ in range(rng.randrange(1, 14))))
        prefix = rng.choice(["", "/", "//c.example/", "http://c.example/", "https://C.EXAMPLE", "../", "./"])
        out.append(prefix + "".join(rng.choice("ab/.?&=%;:#") for _ in range(rng.randrange(0, 8))))
    return out


@pytest.mark.parametrize("base", BASES)
def test_page_resolver_equals_resolve_image_url(base):
    from curation.commoncrawl.urls import PageResolver

    resolver = PageResolver(document_base(base, None))
    for value in _fuzz_values(zlib.crc32(base.encode())):
        assert resolver(value) == resolve_image_url(value, resolver.base_url), (base, value)
