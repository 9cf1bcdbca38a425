"""Hostile Common Crawl inputs, written with warcio (real WARC framing), with hand-written outcomes.

Every image of every page carries its expected outcome, separately for WAT and WARC mode
(they differ where the formats differ: a WAT has no ``srcset`` and no ``<img>`` without
``src``; only WARC mode sees ``<html lang>`` and HTML beyond a size bound). An outcome is
``("row", url, [texts])`` or ``("reject", reason)`` or ``None`` (the link does not exist in that
format). Tests derive exact expected counts from these lists, never from the code under test.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass, field

from curation.commoncrawl.sample import PageSpec, write_warc, write_wat

CRAWL = "CC-MAIN-2099-01"
SMALL_MAX_BYTES = 64 * 1024  # the tests run with --max-record-bytes 65536
PAGE = "https://h.example/dir/page.html"
LONG_PATH = "x" * 5000


@dataclass
class Img:
    attrs: dict
    wat: tuple | None
    warc: tuple | None = field(default=None)
    same: bool = True  # warc outcome = wat outcome

    def outcome(self, mode: str):
        if mode == "warc" and not self.same:
            return self.warc
        return self.wat


def row(url: str, *texts: str) -> tuple:
    return ("row", url, list(texts))


def reject(reason: str) -> tuple:
    return ("reject", reason)


@dataclass
class Case:
    spec: PageSpec
    imgs: list[Img]
    lang_wat: str | None = None
    lang_warc: str | None = None
    html_page_wat: bool = True  # the WAT response carries HTML-Metadata
    bad_record_wat: bool = False
    bad_record_warc: bool = False


def _page_a() -> Case:
    """Every URL and text form on one page."""
    imgs = [
        Img({"src": "a.jpg", "alt": "Relative image"}, row("https://h.example/dir/a.jpg", "Relative image")),
        Img({"src": "/root.jpg", "alt": "Root image"}, row("https://h.example/root.jpg", "Root image")),
        Img({"src": "//cdn.example/p.jpg", "alt": "Protocol relative"},
            row("https://cdn.example/p.jpg", "Protocol relative")),
        Img({"src": "../up/q.jpg?s=1&amp;t=2#frag", "alt": "Fragment and entity in URL"},
            row("https://h.example/up/q.jpg?s=1&t=2", "Fragment and entity in URL")),
        Img({"src": "data:image/png;base64,iVBORw0KGgo=", "alt": "inline"}, reject("data_uri")),
        Img({"src": "DATA:image/gif;base64,R0lGOD", "alt": "inline upper"}, reject("data_uri")),
        Img({"src": "javascript:void(0)", "alt": "js"}, reject("bad_scheme")),
        Img({"src": "ftp://files.example/a.jpg", "alt": "ftp"}, reject("bad_scheme")),
        Img({"src": "http://[::1/x.jpg", "alt": "bad ipv6"}, reject("malformed_url")),
        Img({"src": "http://", "alt": "no host"}, reject("malformed_url")),
        Img({"src": "https://h.example:99999/p.jpg", "alt": "bad port"}, reject("malformed_url")),
        Img({"src": "/" + LONG_PATH + ".jpg", "alt": "too long"}, reject("url_too_long")),
        Img({"src": "", "alt": "empty src"}, reject("no_src")),
        Img({"src": "b.jpg"}, reject("no_text")),
        Img({"src": "c.jpg", "alt": "   "}, reject("no_text")),
        Img({"src": "c2.jpg", "alt": ""}, reject("no_text")),
        Img({"src": "d.jpg", "alt": "caf&eacute; &amp; cr&egrave;me &#x4E2D;&#25991;"},
            row("https://h.example/dir/d.jpg", "café & crème 中文")),
        Img({"src": "e.jpg", "alt": "Line\nbreak\nhere"}, row("https://h.example/dir/e.jpg", "Line break here")),
        Img({"src": "f.jpg", "alt": "Alt text", "title": "Title text"},
            row("https://h.example/dir/f.jpg", "Alt text", "Title text")),
        Img({"src": "g.jpg", "alt": "Same", "title": "Same"}, row("https://h.example/dir/g.jpg", "Same")),
        Img({"src": "t.jpg", "title": "Only a title"}, row("https://h.example/dir/t.jpg", "Only a title")),
        Img({"src": "  h i.jpg\t", "alt": "spaces"}, row("https://h.example/dir/h%20i.jpg", "spaces")),
        Img({"src": "HTTP://UPPER.Example/I.JPG", "alt": "upper host"}, row("http://upper.example/I.JPG", "upper host")),
        # lazy loading: data: placeholder in src, the real image in srcset (absent from WAT)
        Img({"src": "data:image/gif;base64,R0lG", "srcset": "s-320.jpg 320w, s-1024.jpg 1024w", "alt": "lazy"},
            reject("data_uri"), row("https://h.example/dir/s-1024.jpg", "lazy"), same=False),
        # no src: webarchive-commons writes no IMG@/src link for it
        Img({"srcset": "r.jpg 1x, r@2x.jpg 2x", "alt": "retina"}, None, row("https://h.example/dir/r@2x.jpg", "retina"),
            same=False),
        Img({"srcset": "bad.jpg 12q", "alt": "invalid srcset"}, None, reject("no_src"), same=False),
        # data-image-title: only WARC sees it (the WAT extractor keeps alt and title)
        Img({"src": "w.jpg", "alt": "WP alt", "data-image-title": "WP title"},
            row("https://h.example/dir/w.jpg", "WP alt"), row("https://h.example/dir/w.jpg", "WP alt", "WP title"),
            same=False),
    ]
    spec = PageSpec(url=PAGE, images=[i.attrs for i in imgs], title="Page A", meta_language="de-DE",
                    html_lang="en-GB", anchors=[("/next", "next page")])
    return Case(spec, imgs, lang_wat="de-de", lang_warc="en-gb")


def _shared(i: int, base: str | None, src: str, expected_url: str, twice: bool = False) -> Case:
    """A page with the shared logo (same URL and alt on every page: page_count)."""
    imgs = [Img({"src": src, "alt": "Shared logo"}, row(expected_url, "Shared logo"))]
    if twice:
        imgs.append(Img({"src": src, "alt": "Shared logo"}, row(expected_url, "Shared logo")))
    imgs.append(Img({"src": f"own{i}.png", "alt": f"Own picture {i}"},
                    row((base or f"https://site{i}.example/a/") + f"own{i}.png", f"Own picture {i}")))
    spec = PageSpec(url=f"https://site{i}.example/a/page{i}.html", images=[x.attrs for x in imgs], base_href=base,
                    http_language="fr" if i == 1 else None, title=f"Shared {i}")
    return Case(spec, imgs, lang_wat="fr" if i == 1 else None, lang_warc="fr" if i == 1 else None)


def _uppercase() -> Case:
    imgs = [Img({"src": "U.PNG", "alt": "Upper case tag"}, row("https://up.example/U.PNG", "Upper case tag"))]
    spec = PageSpec(url="https://up.example/index.html", images=[i.attrs for i in imgs], uppercase=True,
                    base_href=None)
    return Case(spec, imgs)


def _not_html() -> Case:
    spec = PageSpec(url="https://img.example/photo.jpg", content_type="image/jpeg",
                    raw_html=b"\xff\xd8\xff\xe0 not html")
    return Case(spec, [], html_page_wat=False)


def _invalid_json() -> Case:
    imgs = [Img({"src": "z.jpg", "alt": "never parsed in WAT"}, None, row("https://bad.example/z.jpg", "never parsed in WAT"),
                same=False)]
    spec = PageSpec(url="https://bad.example/", images=[i.attrs for i in imgs], wat_payload=b'{"Envelope": {"broken"')
    return Case(spec, imgs, bad_record_wat=True)


def _huge() -> Case:
    """A page larger than SMALL_MAX_BYTES: WAT record rejected whole; WARC parses the first bytes."""
    before = [Img({"src": f"big{i}.jpg", "alt": f"Big page image {i}"}, None,
                  row(f"https://big.example/big{i}.jpg", f"Big page image {i}"), same=False) for i in range(2)]
    after = [Img({"src": "late.jpg", "alt": "After the cut"}, None, None, same=False)]
    anchors = [(f"/link/{n}", "anchor text " * 3) for n in range(2500)]  # > 64 KiB of WAT JSON and of HTML
    # the generated HTML has the images before the anchors; "late.jpg" is added after them (prepare)
    spec = PageSpec(url="https://big.example/", images=[i.attrs for i in before], anchors=anchors)
    return Case(spec, before + after, bad_record_wat=True)


def hostile_cases() -> list[Case]:
    shared = [_shared(0, None, "https://cdn.shared.example/logo.png", "https://cdn.shared.example/logo.png"),
              _shared(1, "https://static.example/assets/", "logo.png", "https://static.example/assets/logo.png"),
              _shared(2, "/../assets/", "logo.png", "https://site2.example/assets/logo.png"),
              _shared(3, None, "//cdn.shared.example/logo.png", "https://cdn.shared.example/logo.png", twice=True)]
    # page 1 and 2 resolve the logo elsewhere: only pages 0 and 3 share cdn.shared.example/logo.png
    shared[2].imgs[1].wat = row("https://site2.example/assets/own2.png", "Own picture 2")
    return [_page_a(), *shared, _uppercase(), _not_html(), _invalid_json(), _huge()]


# ---------------------------------------------------------------- non-UTF-8 pages (WARC only)

RUSSIAN = "Красная площадь зимой, вид с моста"
JAPANESE = "東京タワーの夜景と桜の花、春の公園で撮影した写真です"
GERMAN = "Grüße aus Köln: schöne Straße am Rhein, größer als gedacht"


def encoding_cases() -> list[Case]:
    """Pages in legacy encodings, declared in HTTP, in <meta>, or not at all (the WARC holds the
    encoded bytes; the WAT, JSON in UTF-8, holds the text as webarchive-commons decoded it)."""
    def page(url, alt, charset, declare, filler=""):
        imgs = [Img({"src": "x.jpg", "alt": alt}, row(url.rsplit("/", 1)[0] + "/x.jpg", alt))]
        return Case(PageSpec(url=url, images=[i.attrs for i in imgs], charset=charset, declare_charset=declare,
                             text=filler, title=""), imgs)
    return [page("https://ru.example/p", RUSSIAN, "cp1251", "http"),
            page("https://jp.example/p", JAPANESE, "shift_jis", "meta"),
            page("https://de.example/p", GERMAN, "cp1252", None, filler=GERMAN * 20),
            page("https://u8.example/p", "Ünïcödé ✓ 漢字", "utf-8", None)]


# ---------------------------------------------------------------- writing

def _huge_html(case: Case) -> bytes:
    """HTML of the huge page: two images, > SMALL_MAX_BYTES of links, then the late image."""
    from curation.commoncrawl.sample import html_document

    doc = html_document(case.spec).decode()
    return doc.replace("</body>", '<img src="late.jpg" alt="After the cut"></body>').encode()


def prepare(cases: list[Case]) -> list[PageSpec]:
    specs = []
    for case in cases:
        if case.spec.url == "https://big.example/":
            case.spec.raw_html = _huge_html(case)
        if not case.html_page_wat:
            case.spec.wat_links = []
        specs.append(case.spec)
    return specs


def write_hostile_crawl(root: str, cases: list[Case] | None = None, name: str = "hostile") -> tuple[str, str]:
    """(warc path, wat path) of one file pair holding ``cases``, under a Common Crawl-like path."""
    cases = cases if cases is not None else hostile_cases()
    seg = os.path.join(root, "crawl-data", CRAWL, "segments", "1")
    os.makedirs(os.path.join(seg, "warc"), exist_ok=True)
    os.makedirs(os.path.join(seg, "wat"), exist_ok=True)
    warc = os.path.join(seg, "warc", f"{name}.warc.gz")
    wat = os.path.join(seg, "wat", f"{name}.warc.wat.gz")
    specs = prepare(cases)
    records = write_warc(warc, specs)
    write_wat(wat, specs, os.path.basename(warc), records)
    return warc, wat


def truncate_inside_last_member(path: str, out: str, cut_fraction: float = 0.5) -> int:
    """Copy ``path`` to ``out`` cut inside the gzip member of the last record; returns the number
    of complete records left."""
    data = open(path, "rb").read()
    starts = member_starts(data)
    last_start, last_end = starts[-1], len(data)
    cut = last_start + max(11, int((last_end - last_start) * cut_fraction))
    with open(out, "wb") as handle:
        handle.write(data[:cut])
    return len(starts) - 1


def member_starts(data: bytes) -> list[int]:
    """Compressed offsets of the gzip members of ``data`` (independent oracle: gzip module)."""
    import zlib

    starts, pos = [], 0
    while pos < len(data):
        starts.append(pos)
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        d.decompress(data[pos:])
        pos = len(data) - len(d.unused_data)
    assert gzip.decompress(data)  # the whole file is valid
    return starts
