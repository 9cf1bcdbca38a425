"""WAT JSON and HTML (WARC mode) -> Page, and the rows of a Page."""

import json

import pytest

from curation.commoncrawl.html import decode_html, page_encoding, parse_html_page
from curation.commoncrawl.rows import Counters, ImageLink, Page, RecordContext, page_rows
from curation.commoncrawl.settings import ExtractSettings
from curation.commoncrawl.wat import BadRecord, parse_wat_record


def wat(links=None, head=None, headers=None, warc_type="response", html=True, **container):
    http = {"Headers": headers or {"Content-Type": "text/html"}}
    if html:
        http["HTML-Metadata"] = {"Head": head or {}, "Links": links or []}
    return json.dumps({
        "Container": {"Filename": "CC-MAIN-x-00001.warc.gz", "Offset": "1234", **container},
        "Envelope": {"WARC-Header-Metadata": {"WARC-Type": warc_type, "WARC-Record-ID": "<urn:uuid:r1>",
                                              "WARC-Target-URI": "https://json.example/p"},
                     "Payload-Metadata": {"HTTP-Response-Metadata": http}}}).encode()


def test_wat_image_links_in_metaclip_form():
    page = parse_wat_record(wat([
        {"path": "A@/href", "url": "/next", "text": "Next"},
        {"path": "IMG@/src", "url": "a.jpg", "alt": "caf&eacute; &amp; th&#233;", "title": "T"},
        {"path": "IMG@/longdesc", "url": "desc.html"},
        {"path": "IMG@/src", "url": "b.jpg?x=1&amp;y=2", "data-image-title": "D"},
        {"path": "IMG@/src"},  # no url key
        "not a dict", None,
        {"path": "IMG@/src", "url": 5, "alt": ["not", "a", "string"]},
    ], head={"Base": "/static/", "Metas": [{"http-equiv": "Content-Language", "content": "de-AT"}]}),
        "https://target.example/p")
    assert page.page_url == "https://target.example/p"  # the WAT record header wins over the JSON copy
    assert page.base_href == "/static/" and page.lang == "de-at"
    assert (page.warc_filename, page.warc_offset, page.warc_record_id) == ("CC-MAIN-x-00001.warc.gz", 1234,
                                                                          "<urn:uuid:r1>")
    assert page.links == [ImageLink("a.jpg", None, "café & thé", "T", None), ImageLink("b.jpg?x=1&y=2", None, None, None, "D"),
                          ImageLink(None), ImageLink(None)]


def test_wat_language_from_http_header_single_or_multi_valued():
    assert parse_wat_record(wat(headers={"content-language": "pt-BR"})).lang == "pt-br"
    assert parse_wat_record(wat(headers={"Content-Language": ["es", "en"]})).lang == "es"  # since CC-MAIN-2024-51
    assert parse_wat_record(wat(headers={"Content-Type": "text/html"})).lang is None


def test_wat_records_without_html_are_not_pages():
    assert parse_wat_record(wat(warc_type="request")) is None
    assert parse_wat_record(wat(warc_type="metadata")) is None
    assert parse_wat_record(wat(html=False)) is None


@pytest.mark.parametrize("payload, message", [
    (b'{"Envelope": {', "invalid JSON"), (b"\xff\xfe", "invalid JSON"), (b"[1, 2]", "no Envelope"),
    (b'{"Container": {}}', "no Envelope"),
])
def test_wat_bad_records(payload, message):
    with pytest.raises(BadRecord, match=message):
        parse_wat_record(payload)


def test_wat_html_response_without_target_uri_is_bad():
    doc = json.loads(wat())
    del doc["Envelope"]["WARC-Header-Metadata"]["WARC-Target-URI"]
    with pytest.raises(BadRecord, match="WARC-Target-URI"):
        parse_wat_record(json.dumps(doc))


# ---------------------------------------------------------------- HTML

def test_encoding_precedence():
    body = '<meta charset="shift_jis"><p>x</p>'.encode()
    assert page_encoding(b"\xef\xbb\xbf" + body, "koi8-r") == "utf-8"  # BOM first
    assert page_encoding(body, "KOI8-R") == "koi8-r"  # then the HTTP charset
    assert page_encoding(body, "iso-8859-1") == "cp1252"  # as browsers read latin-1
    assert page_encoding(body, "no-such-charset") == "shift_jis"  # unknown label: then <meta>
    assert page_encoding(b"<p>plain</p>", None) in ("utf-8", "cp1252", "ascii")


def test_decoding_legacy_pages():
    russian = "Красная площадь зимой, вид с моста. " * 10
    assert decode_html(russian.encode("cp1251"), "windows-1251") == russian
    assert decode_html(russian.encode("koi8-r"), None) == russian  # detected, nothing declared
    japanese = '<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"><p>東京タワーの夜景</p>'
    assert "東京タワーの夜景" in decode_html(japanese.encode("shift_jis"))
    assert decode_html(b"\xef\xbb\xbfhello") == "hello"
    assert decode_html("caf\u00e9".encode("utf-8") + b"\xff", "utf-8") == "caf\u00e9\ufffd"  # invalid bytes marked


def test_html_page_uppercase_entities_base_and_language():
    body = (b'<!DOCTYPE html><HTML LANG="pt-BR"><HEAD><BASE HREF="/static/"><base href="/ignored/">'
            b'<META HTTP-EQUIV="content-language" CONTENT="en"></HEAD><BODY>'
            b'<IMG SRC="a.jpg" ALT="Ma&ccedil;&atilde; &amp; p&ecirc;ra" TITLE="t" alt="second alt wins not">'
            b'<img srcset="s.jpg 1x, l.jpg 2x" alt>'
            b'<img src="w.jpg" data-image-title="WordPress title"></BODY></HTML>')
    page = parse_html_page(body, "https://p.example/x/y.html", http_content_language="fr")
    assert page.base_href == "/static/" and page.lang == "pt-br"
    assert page.links == [ImageLink("a.jpg", None, "Maçã & pêra", "t", None),
                          ImageLink(None, "s.jpg 1x, l.jpg 2x", None, None, None),
                          ImageLink("w.jpg", None, None, None, "WordPress title")]


def test_html_page_language_fallbacks_and_garbage():
    assert parse_html_page(b"<p>x</p>", "https://a.example/", http_content_language="fr").lang == "fr"
    page = parse_html_page(b"\x00\xff<img src=a.jpg alt=x>\x00 <<<>>", "https://a.example/")
    assert page.links == [ImageLink("a.jpg", None, "x", None, None)] and page.lang is None
    assert parse_html_page(b"", "https://a.example/").links == []


# ---------------------------------------------------------------- rows of a page

def _rows(page, **settings):
    counters = Counters()
    rows = list(page_rows(page, RecordContext("f.wat.gz", 7, "CC-MAIN-2099-01"), ExtractSettings(**settings),
                          counters))
    assert counters.accounting_ok()
    return rows, counters


PAGE = Page("https://p.example/a/b.html", [
    ImageLink("x.jpg", alt="Alt", title="Title"),
    ImageLink("y.jpg"),
    ImageLink("data:image/gif;base64,R0", "big.jpg 1000w, small.jpg 10w", alt="Lazy"),
    ImageLink("javascript:x()", alt="js"),
    ImageLink("", "bad 9q", alt="No usable URL"),
    ImageLink("z.jpg", alt="  "),
], base_href="https://cdn.example/", lang="en", warc_filename="w.warc.gz", warc_offset=99, warc_record_id="<id>")


def test_page_rows_default_settings():
    rows, c = _rows(PAGE)
    got = [(r["kind"], r["url"], r["text"], r["text_source"], r["url_attr"], r["reason"], r["link_index"]) for r in rows]
    assert got == [
        ("row", "https://cdn.example/x.jpg", "Alt", "alt", "src", None, 0),
        ("row", "https://cdn.example/x.jpg", "Title", "title", "src", None, 0),
        ("reject", "https://cdn.example/y.jpg", None, None, None, "no_text", 1),
        ("row", "https://cdn.example/big.jpg", "Lazy", "alt", "srcset", None, 2),
        ("reject", None, "js", None, None, "bad_scheme", 3),
        ("reject", None, "No usable URL", None, None, "no_src", 4),
        ("reject", "https://cdn.example/z.jpg", None, None, None, "no_text", 5)]
    assert (c.pages, c.links, c.link_rows, c.rows, c.rejects, c.no_text_dropped) == (1, 6, 2, 3, 4, 0)
    first = rows[0]
    assert (first["page_url"], first["page_lang"], first["warc_filename"], first["warc_offset"], first["warc_record_id"],
            first["source_file"], first["source_offset"], first["crawl"]) == (
        "https://p.example/a/b.html", "en", "w.warc.gz", 99, "<id>", "f.wat.gz", 7, "CC-MAIN-2099-01")
    assert (first["alt"], first["title"], first["data_image_title"]) == ("Alt", "Title", None)
    assert rows[4]["raw_url"] == "javascript:x()" and rows[5]["raw_url"] == "bad 9q"


def test_page_rows_empty_text_and_mode_settings():
    rows, c = _rows(PAGE, empty_text="keep")
    kept = [(r["url"], r["text"]) for r in rows if r["kind"] == "row" and r["text"] is None]
    assert kept == [("https://cdn.example/y.jpg", None), ("https://cdn.example/z.jpg", None)]
    assert (c.link_rows, c.rows, c.rejects) == (4, 5, 2)
    rows, c = _rows(PAGE, empty_text="drop")
    assert (c.link_rows, c.rows, c.rejects, c.no_text_dropped) == (2, 3, 2, 2)
    assert all(r["reason"] != "no_text" for r in rows)
    rows, c = _rows(PAGE, text_mode="first")
    assert [r["text"] for r in rows if r["kind"] == "row"] == ["Alt", "Lazy"]
    rows, c = _rows(PAGE, text_attrs=("title",))
    assert [r["text"] for r in rows if r["kind"] == "row"] == ["Title"]
    assert c.rejects == 5  # x.jpg has a title; Lazy, y, z: no_text; js, no_src


def test_settings_fingerprint_and_validation():
    base = ExtractSettings()
    assert base.fingerprint() == ExtractSettings(reader="warcio").fingerprint()  # readers give the same rows
    for other in (ExtractSettings(text_mode="first"), ExtractSettings(source="warc"), ExtractSettings(crawl="X"),
                  ExtractSettings(empty_text="keep"), ExtractSettings(text_attrs=("alt",)),
                  ExtractSettings(max_record_bytes=10_000)):
        assert other.fingerprint() != base.fingerprint()
    from curation.commoncrawl.settings import SettingsError

    for bad in (dict(source="wet"), dict(reader="x"), dict(text_mode="any"), dict(empty_text="skip"),
                dict(text_attrs=()), dict(text_attrs=("alt", "src")), dict(text_attrs=("alt", "alt")),
                dict(max_record_bytes=10), dict(crawl=" ")):
        with pytest.raises(SettingsError):
            ExtractSettings(**bad).validate()
