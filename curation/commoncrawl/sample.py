"""Generated Common Crawl-like WARC and WAT files (real WARC framing, written with warcio).

``python -m curation.commoncrawl.sample --output /tmp/cc-sample`` writes a small crawl in
Common Crawl's layout::

    <output>/crawl-data/<crawl>/segments/<segment>/warc/<crawl-ts>-0000N.warc.gz
    <output>/crawl-data/<crawl>/segments/<segment>/wat/<crawl-ts>-0000N.warc.wat.gz
    <output>/warc.paths, <output>/wat.paths     relative paths, like Common Crawl's *.paths.gz

Each page is one :class:`PageSpec`; it is written as a WARC ``request``/``response``/``metadata``
triple (the response holds the HTML) and as the three WAT JSON records Common Crawl derives
from them (the response's WAT record carries ``HTML-Metadata`` with ``Head`` and ``Links``, in
webarchive-commons' format: ``IMG@/src`` links with the raw ``alt``/``title`` attribute text,
and only for ``<img>`` elements that have a ``src``). WAT ``Container.Offset`` values point at
the real offsets of the response records in the WARC file.

Realistic pages (:func:`realistic_pages`) use the embedded multilingual alt-text sample for
their captions, so the extracted table goes through curation with matches in many languages;
sizes follow the web: about 18 images per page (a quarter without alt, some with an empty alt,
a few ``title`` attributes, lazy-loading ``data:`` placeholders with ``srcset``), per-site logos
and icons repeated on every page of a site (the boilerplate the ``page_count`` column exposes),
around 60 hyperlinks, relative, root-relative and protocol-relative ``src`` values, ``<base
href>`` on some sites, body text for a 10-40 kB page. Everything is drawn from
``random.Random`` seeded per file: the same seed gives byte-identical files.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import io
import json
import math
import os
import random
import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

DEFAULT_CRAWL = "CC-MAIN-2026-08"
DATE = "2026-02-20T10:00:00Z"
SEGMENT = "1771580000000.00"


@dataclass
class PageSpec:
    """One page. ``images`` are attribute dicts (``src``, ``srcset``, ``alt``, ``title``,
    ``data-image-title``; a missing key or None = absent attribute) whose values are *raw HTML
    attribute text* (entities as in the source, e.g. ``caf&eacute;``; never a bare ``"``).

    Hostile-input knobs: ``raw_html`` replaces the generated HTML body (WARC); ``wat_links``
    replaces the generated WAT ``Links`` list; ``wat_payload`` replaces the whole WAT JSON of
    the response (bytes, e.g. invalid JSON); ``uppercase`` writes tag and attribute names in
    upper case; ``charset`` encodes the body, declared per ``declare_charset`` (``http``,
    ``meta`` or None)."""

    url: str
    images: list[dict] = field(default_factory=list)
    anchors: list[tuple[str, str]] = field(default_factory=list)
    title: str = ""
    base_href: str | None = None
    html_lang: str | None = None
    meta_language: str | None = None
    http_language: str | None = None
    text: str = ""
    charset: str = "utf-8"
    declare_charset: str | None = "http"
    uppercase: bool = False
    content_type: str = "text/html"
    raw_html: bytes | None = None
    wat_links: list[dict] | None = None
    wat_payload: bytes | None = None


# ---------------------------------------------------------------- rendering

def _record_id(*parts: object) -> str:
    return f"<urn:uuid:{uuid.UUID(hashlib.sha1(repr(parts).encode()).hexdigest()[:32])}>"


def html_document(spec: PageSpec) -> bytes:
    """The page's HTML, encoded in ``spec.charset``."""
    if spec.raw_html is not None:
        return spec.raw_html
    up = str.upper if spec.uppercase else (lambda s: s)
    head = []
    if spec.declare_charset == "meta":
        head.append(f'<meta charset="{spec.charset}">')
    head.append(f"<title>{html.escape(spec.title)}</title>")
    head.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
    if spec.meta_language:
        head.append(f'<meta http-equiv="content-language" content="{spec.meta_language}">')
    if spec.base_href is not None:
        head.append(f'<{up("base")} {up("href")}="{spec.base_href}">')
    body = [f"<h1>{html.escape(spec.title)}</h1>"]
    if spec.text:
        body.append(f"<p>{html.escape(spec.text)}</p>")
    for img in spec.images:
        attrs = " ".join(f'{up(k)}="{v}"' for k, v in img.items() if v is not None)
        body.append(f"<{up('img')} {attrs}>")
    for href, text in spec.anchors:
        body.append(f'<a href="{href}">{html.escape(text)}</a>')
    lang = f' lang="{spec.html_lang}"' if spec.html_lang else ""
    doc = (f"<!DOCTYPE html>\n<{up('html')}{lang}><head>{''.join(head)}</head>"
           f"<body>{''.join(body)}</body></{up('html')}>\n")
    return doc.encode(spec.charset, errors="xmlcharrefreplace")


def http_headers(spec: PageSpec, length: int) -> list[tuple[str, str]]:
    ctype = spec.content_type + (f"; charset={spec.charset}" if spec.declare_charset == "http" else "")
    headers = [("Date", "Fri, 20 Feb 2026 10:00:00 GMT"), ("Server", "nginx"), ("Content-Type", ctype),
               ("Content-Length", str(length)), ("Cache-Control", "max-age=600"), ("Vary", "Accept-Encoding")]
    if spec.http_language:
        headers.append(("Content-Language", spec.http_language))
    return headers


def wat_links(spec: PageSpec) -> list[dict]:
    """``HTML-Metadata.Links`` as webarchive-commons writes it: anchors and images in page order
    (images first here), ``IMG@/src`` only for images with a ``src``, raw attribute text."""
    if spec.wat_links is not None:
        return spec.wat_links
    links = []
    for img in spec.images:
        if img.get("src") is None:
            continue
        link = {"path": "IMG@/src", "url": img["src"]}
        for key in ("alt", "title"):
            if img.get(key) is not None:
                link[key] = img[key]
        links.append(link)
    links.extend({"path": "A@/href", "url": href, "text": text} for href, text in spec.anchors)
    return links


def wat_response(spec: PageSpec, warc_filename: str, offset: int, record_id: str, length: int) -> dict:
    """The WAT JSON of the page's response record."""
    head: dict = {"Title": spec.title,
                  "Metas": [{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
                  "Scripts": [{"path": "SCRIPT@/src", "url": "/static/app.js"}],
                  "Link": [{"path": "LINK@/href", "rel": "stylesheet", "url": "/static/site.css"}]}
    if spec.meta_language:
        head["Metas"].append({"http-equiv": "content-language", "content": spec.meta_language})
    if spec.base_href is not None:
        head["Base"] = spec.base_href
    headers = dict(http_headers(spec, length))
    http_md: dict = {"Response-Message": {"Status": "200", "Version": "HTTP/1.1", "Reason": "OK"},
                     "Headers": headers, "Headers-Length": "250", "Entity-Length": str(length),
                     "Entity-Digest": "sha1:" + hashlib.sha1(spec.url.encode()).hexdigest()[:32].upper()}
    if "html" in spec.content_type:  # webarchive-commons adds HTML-Metadata to HTML responses only
        http_md["HTML-Metadata"] = {"Head": head, "Links": wat_links(spec)}
    return {
        "Container": {"Filename": warc_filename, "Compressed": True, "Offset": str(offset),
                      "Gzip-Metadata": {"Inflated-Length": str(length + 400), "Footer-Length": "8",
                                        "Header-Length": "10"}},
        "Envelope": {
            "Format": "WARC", "WARC-Header-Length": "600", "Actual-Content-Length": str(length + 250),
            "WARC-Header-Metadata": {"WARC-Type": "response", "WARC-Date": DATE, "WARC-Record-ID": record_id,
                                     "WARC-Target-URI": spec.url, "Content-Type": "application/http; msgtype=response",
                                     "WARC-Identified-Payload-Type": spec.content_type},
            "Payload-Metadata": {
                "Actual-Content-Type": "application/http; msgtype=response",
                "HTTP-Response-Metadata": http_md}}}


def _wat_side_record(kind: str, spec: PageSpec, warc_filename: str, record_id: str) -> dict:
    """WAT JSON of the request or metadata record of a page (no HTML; skipped by extraction)."""
    warc = {"WARC-Type": kind, "WARC-Date": DATE, "WARC-Record-ID": record_id, "WARC-Target-URI": spec.url}
    if kind == "request":
        payload = {"Actual-Content-Type": "application/http; msgtype=request",
                   "HTTP-Request-Metadata": {"Request-Message": {"Method": "GET", "Path": "/", "Version": "HTTP/1.1"},
                                             "Headers": {"User-Agent": "CCBot/2.0 (https://commoncrawl.org/faq/)",
                                                         "Accept": "text/html", "Host": spec.url.split("/")[2]}}}
    else:
        payload = {"Actual-Content-Type": "application/metadata-fields",
                   "WARC-Metadata-Metadata": {"Metadata-Records": [
                       {"Name": "fetchTimeMs", "Value": "412"}, {"Name": "charset-detected", "Value": "UTF-8"}]}}
    return {"Container": {"Filename": warc_filename, "Compressed": True, "Offset": "0"},
            "Envelope": {"Format": "WARC", "WARC-Header-Metadata": warc, "Payload-Metadata": payload}}


# ---------------------------------------------------------------- writing

def _writer(handle):
    from warcio.warcwriter import WARCWriter

    return WARCWriter(handle, gzip=True, warc_version="WARC/1.0")


def _warcinfo(writer, filename: str) -> None:
    info = {"software": "worldwide-clip sample generator", "format": "WARC File Format 1.0",
            "isPartOf": DEFAULT_CRAWL}
    rec = writer.create_warcinfo_record(filename, info)
    rec.rec_headers.replace_header("WARC-Date", DATE)
    rec.rec_headers.replace_header("WARC-Record-ID", _record_id("warcinfo", filename))
    writer.write_record(rec)


def write_warc(path: str, pages: Iterable[PageSpec]) -> list[tuple[int, str, int]]:
    """Write a gzip WARC (warcinfo, then request/response/metadata per page); returns
    ``(response offset, response record id, body length)`` per page."""
    from warcio.statusandheaders import StatusAndHeaders

    filename = os.path.basename(path)
    out = []
    with open(path, "wb") as handle:
        writer = _writer(handle)
        _warcinfo(writer, filename)
        for i, spec in enumerate(pages):
            body = html_document(spec)
            rid = _record_id("response", filename, i, spec.url)
            request = writer.create_warc_record(
                spec.url, "request", payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders("GET / HTTP/1.1", [("Host", spec.url.split("/")[2])],
                                              is_http_request=True),
                warc_headers_dict={"WARC-Date": DATE, "WARC-Record-ID": _record_id("request", filename, i)})
            writer.write_record(request)
            offset = handle.tell()
            response = writer.create_warc_record(
                spec.url, "response", payload=io.BytesIO(body),
                http_headers=StatusAndHeaders("200 OK", http_headers(spec, len(body)), protocol="HTTP/1.1"),
                warc_headers_dict={"WARC-Date": DATE, "WARC-Record-ID": rid})
            writer.write_record(response)
            meta = writer.create_warc_record(
                spec.url, "metadata", payload=io.BytesIO(b"fetchTimeMs: 412\r\n"),
                warc_content_type="application/warc-fields",
                warc_headers_dict={"WARC-Date": DATE, "WARC-Record-ID": _record_id("metadata", filename, i),
                                   "WARC-Concurrent-To": rid})
            writer.write_record(meta)
            out.append((offset, rid, len(body)))
    return out


def write_wat(path: str, pages: Iterable[PageSpec], warc_filename: str,
              warc_records: list[tuple[int, str, int]] | None = None) -> int:
    """Write a gzip WAT file: warcinfo, then the request/response/metadata WAT records of each
    page. ``warc_records`` (from :func:`write_warc`) gives real WARC offsets; without it
    offsets and lengths are synthetic. Returns the number of pages written."""
    filename = os.path.basename(path)
    n = 0
    with open(path, "wb") as handle:
        writer = _writer(handle)
        _warcinfo(writer, filename)
        for i, spec in enumerate(pages):
            offset, rid, length = warc_records[i] if warc_records else (i * 30_000, _record_id("response", i, spec.url),
                                                                        len(spec.text) + 400 * len(spec.images))
            records = [("request", _wat_side_record("request", spec, warc_filename, _record_id("request", i))),
                       ("response", wat_response(spec, warc_filename, offset, rid, length)),
                       ("metadata", _wat_side_record("metadata", spec, warc_filename, _record_id("metadata", i)))]
            for kind, doc in records:
                payload = spec.wat_payload if kind == "response" and spec.wat_payload is not None else \
                    json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                rec = writer.create_warc_record(
                    spec.url, "metadata", payload=io.BytesIO(payload), warc_content_type="application/json",
                    warc_headers_dict={"WARC-Date": DATE, "WARC-Record-ID": _record_id("wat", filename, i, kind),
                                       "WARC-Refers-To": rid if kind == "response" else _record_id(kind, i)})
                writer.write_record(rec)
            n += 1
    return n


# ---------------------------------------------------------------- realistic pages

LANG_TLDS = {"en": "com", "de": "de", "fr": "fr", "es": "es", "ja": "jp", "zh": "cn", "ru": "ru", "ko": "kr",
             "it": "it", "pt": "com.br", "nl": "nl", "pl": "pl", "tr": "com.tr", "ar": "sa", "th": "co.th",
             "vi": "vn", "id": "co.id", "sv": "se", "hi": "in", "uk": "ua"}
WORDS = ("home", "news", "shop", "about", "contact", "blog", "products", "services", "help", "login", "cart",
         "category", "sale", "new", "gallery", "events", "travel", "recipes", "reviews", "support")


def caption_pool() -> dict[str, list[str]]:
    """Valid captions of the embedded alt-text sample by intended language."""
    from curation.samples import default_alt_texts_path

    pool: dict[str, list[str]] = {}
    with gzip.open(default_alt_texts_path(), "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            text, lang = row.get("text"), row.get("source_lang")
            if isinstance(text, str) and text.strip() and lang and lang != "zxx" and "\ufffd" not in text \
                    and len(text) < 300:
                pool.setdefault(lang, []).append(text.strip())
    return pool


class _Site:
    """A web site. With ``image_host`` (``HOST:PORT`` of ``serve``) every site lives under a
    path prefix of that one local server (``http://HOST:PORT/site0001``), so that every image
    URL, absolute, relative or protocol-relative, resolves to it; the draws are the same."""

    def __init__(self, rng: random.Random, index: int, langs: list[str], image_host: str | None = None):
        self.lang = rng.choice(langs)
        self.host = f"www.site{index:04d}.example.{LANG_TLDS.get(self.lang, 'com')}"
        self.scheme = "https" if rng.random() < 0.85 else "http"
        self.cdn = f"cdn{index % 7}.img-example.net" if rng.random() < 0.5 else None
        if image_host:
            self.host, self.scheme = f"{image_host}/site{index:04d}", "http"
            self.cdn = f"{image_host}/cdn{index % 7}" if self.cdn else None
        self.base = "/static/" if rng.random() < 0.08 else None
        self.declares = rng.random() < 0.6
        self.logo_alt = rng.choice([f"Site {index} logo", "Logo", "", None])
        self.pages = 0


def _lognormal_count(rng: random.Random, mean: float, cap: int) -> int:
    sigma = 0.9
    return min(cap, int(rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma)))


def _image(rng: random.Random, site: _Site, page_dir: str, pool: list[str], n: int) -> dict:
    stem = hashlib.sha1(f"{site.host}{page_dir}{n}{rng.random()}".encode()).hexdigest()[:12]
    name = f"{stem}.{rng.choice(('jpg', 'jpg', 'jpg', 'png', 'webp', 'gif'))}"
    form = rng.random()
    if form < 0.45:
        src = f"{site.scheme}://{site.cdn or site.host}/images/{name}"
    elif form < 0.65:
        src = f"/uploads/{name}"
    elif form < 0.78:
        src = f"images/{name}"
    elif form < 0.88:
        src = f"//{site.cdn or site.host}/img/{name}"
    elif form < 0.95:  # lazy loading: placeholder in src, real image in srcset
        src = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"
    elif form < 0.985:
        src = f"/uploads/{name}?w=640&amp;h=480#main"
    else:
        src = rng.choice(("javascript:void(0)", "", "http://", "blob:abc"))
    img: dict = {"src": src}
    if form >= 0.88 and form < 0.95 or rng.random() < 0.15:
        img["srcset"] = f"/uploads/{stem}-320.jpg 320w, /uploads/{stem}-1024.jpg 1024w"
    kind = rng.random()
    if kind < 0.60:
        img["alt"] = html.escape(rng.choice(pool), quote=True)
    elif kind < 0.75:
        img["alt"] = ""
    if rng.random() < 0.08:
        img["title"] = html.escape(rng.choice(pool), quote=True)
    return img


def realistic_pages(n_pages: int, seed: int = 0, n_sites: int | None = None,
                    image_host: str | None = None) -> Iterator[PageSpec]:
    """``n_pages`` web-like pages (see the module docstring), deterministic in ``seed``; with
    ``image_host`` every URL points at that local server (see ``serve``)."""
    rng = random.Random(seed)
    pool = caption_pool()
    langs = sorted(pool)
    weights = [40 if lang == "en" else 6 if lang in ("de", "fr", "es", "ja", "zh", "ru") else 2 for lang in langs]
    sites = [_Site(rng, i, rng.choices(langs, weights), image_host) for i in range(n_sites or max(5, n_pages // 20))]
    filler = " ".join(pool["en"][:400])
    for p in range(n_pages):
        site = rng.choice(sites)
        site.pages += 1
        texts = pool.get(site.lang) or pool["en"]
        page_dir = f"/{rng.choice(WORDS)}/{site.pages}"
        images = [{"src": "/static/logo.png", "alt": site.logo_alt}] if site.logo_alt is not None else \
            [{"src": "/static/logo.png"}]
        images.append({"src": f"{site.scheme}://{site.host}/static/icons/cart.svg", "alt": "cart"})
        images.extend(_image(rng, site, page_dir, texts, i) for i in range(_lognormal_count(rng, 16, 150)))
        anchors = [(f"/{rng.choice(WORDS)}/{rng.randrange(10_000)}", rng.choice(texts)[:60])
                   for _ in range(_lognormal_count(rng, 60, 400))]
        start = rng.randrange(0, max(1, len(filler) - 40_000))
        yield PageSpec(url=f"{site.scheme}://{site.host}{page_dir}/index.html", images=images, anchors=anchors,
                       title=rng.choice(texts)[:80], base_href=site.base,
                       html_lang=site.lang if site.declares else None,
                       http_language=site.lang if site.declares and rng.random() < 0.2 else None,
                       text=filler[start:start + rng.randrange(2_000, 30_000)])


def _write_file(output: str, f: int, count: int, seed: int, crawl: str, formats: tuple[str, ...],
                image_host: str | None = None) -> dict[str, str]:
    """Write file pair number ``f`` (``count`` pages); returns its path per format."""
    pages = list(realistic_pages(count, seed=seed * 1_000_003 + f, image_host=image_host))
    seg = os.path.join(output, "crawl-data", crawl, "segments", SEGMENT)
    name = f"{crawl}-20260220100000-{f:05d}"
    warc_path = os.path.join(seg, "warc", f"{name}.warc.gz")
    out, records = {}, None
    if "warc" in formats:
        os.makedirs(os.path.dirname(warc_path), exist_ok=True)
        records = write_warc(warc_path, pages)
        out["warc"] = warc_path
    if "wat" in formats:
        wat_path = os.path.join(seg, "wat", f"{name}.warc.wat.gz")
        os.makedirs(os.path.dirname(wat_path), exist_ok=True)
        write_wat(wat_path, pages, os.path.basename(warc_path), records)
        out["wat"] = wat_path
    return out


def write_sample(output: str, n_pages: int = 2000, n_files: int = 2, seed: int = 0, crawl: str = DEFAULT_CRAWL,
                 formats: tuple[str, ...] = ("wat", "warc"), processes: int = 1,
                 image_host: str | None = None) -> dict[str, list[str]]:
    """Write the sample (see module docstring); returns the written paths per format. Files are
    independent (one seed each), so ``processes`` > 1 writes them in parallel, byte-identically."""
    per_file = math.ceil(n_pages / n_files)
    jobs = [(output, f, min(per_file, n_pages - f * per_file), seed, crawl, formats, image_host)
            for f in range(n_files) if n_pages - f * per_file > 0]
    if processes > 1:
        from multiprocessing import get_context

        with get_context("spawn").Pool(processes) as pool:
            done = pool.starmap(_write_file, jobs)
    else:
        done = [_write_file(*job) for job in jobs]
    written: dict[str, list[str]] = {fmt: [d[fmt] for d in done] for fmt in formats}
    for fmt, paths in written.items():
        with open(os.path.join(output, f"{fmt}.paths"), "w", encoding="utf-8") as handle:
            handle.writelines(os.path.relpath(p, output) + "\n" for p in paths)
    return written


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")


def render_image(path: str, size: int = 96) -> bytes:
    """A JPEG drawn from a hash of ``path`` (background colour, a shape, its colour and place):
    the same URL always gets the same picture, so downloads and training are deterministic."""
    from PIL import Image, ImageDraw

    h = hashlib.sha256(path.encode("utf-8")).digest()
    img = Image.new("RGB", (size, size), (h[0], h[1], h[2]))
    draw = ImageDraw.Draw(img)
    x, y, r = 8 + h[3] % (size // 2), 8 + h[4] % (size // 2), 10 + h[5] % (size // 4)
    box, fill = (x, y, x + r * 2, y + r * 2), (255 - h[0], h[6], 255 - h[2])
    (draw.ellipse if h[7] % 2 else draw.rectangle)(box, fill=fill)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=85)
    return out.getvalue()


def serve(host: str = "127.0.0.1", port: int = 8765):
    """An HTTP server answering every image path (``IMAGE_SUFFIXES``, query ignored) with
    ``render_image`` and 404 otherwise: the image hosts of a sample written with
    ``--image-host HOST:PORT``. Returns the (not yet started) server."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            path = urlsplit(self.path).path
            if not path.lower().endswith(IMAGE_SUFFIXES):
                self.send_error(404)
                return
            body = render_image(path)
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        s = argparse.ArgumentParser(prog="python -m curation.commoncrawl.sample serve",
                                    description="serve an image for every image URL of a sample written "
                                                "with --image-host")
        s.add_argument("--host", default="127.0.0.1")
        s.add_argument("--port", type=int, default=8765)
        a = s.parse_args(argv[1:])
        server = serve(a.host, a.port)
        print(f"serving sample images on http://{a.host}:{a.port}/ (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        return 0
    p = argparse.ArgumentParser(prog="python -m curation.commoncrawl.sample", description=__doc__.split("\n")[0])
    p.add_argument("--output", required=True, help="folder to write the sample crawl into")
    p.add_argument("--pages", type=int, default=2000, help="pages in total [%(default)s]")
    p.add_argument("--files", type=int, default=2, help="files per format [%(default)s]")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--crawl", default=DEFAULT_CRAWL, help="snapshot id used in paths [%(default)s]")
    p.add_argument("--formats", default="wat,warc", help="comma-separated: wat, warc [%(default)s]")
    p.add_argument("--image-host", default=None, metavar="HOST:PORT",
                   help="put every page and image under this local server (run `... sample serve`), so that "
                        "the sample can be downloaded and trained on offline")
    args = p.parse_args(argv)
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    if args.pages < 1 or args.files < 1 or not formats or any(f not in ("wat", "warc") for f in formats):
        p.error("--pages and --files must be >= 1; --formats is a list of wat, warc")
    written = write_sample(args.output, args.pages, args.files, args.seed, args.crawl, formats,
                           image_host=args.image_host)
    for fmt, paths in written.items():
        size = sum(os.path.getsize(x) for x in paths)
        print(f"{fmt}: {len(paths)} files, {size / 1e6:.1f} MB -> {os.path.join(args.output, fmt + '.paths')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
