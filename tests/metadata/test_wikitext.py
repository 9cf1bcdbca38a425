"""MediaWiki export records -> pages, article text, links, redirects."""

from __future__ import annotations

import bz2

import pytest

from curation.metadata.sources import wikitext as W
from curation.metadata.sources.dumpio import DumpReader, probe_local
from curation.metadata.sources.export_xml import DumpPage, page_xml, write_dump

from .corpus import EN_PAGES


def test_dump_splits_into_one_record_per_page_also_for_multistream_bz2(tmp_path):
    path = str(tmp_path / "d.xml.bz2")
    write_dump(path, EN_PAGES, "en", pages_per_stream=2)
    assert bz2.decompress(open(path, "rb").read()).count(b"<page>") == len(EN_PAGES)
    with open(path, "rb") as raw:
        records = list(DumpReader(raw, path, chunk_bytes=97).records())  # tiny chunks: pages cross chunk borders
    pages = [W.page_from_record(r) for r in records]
    assert pages[-1] is None  # "</mediawiki>" footer
    assert [p.title for p in pages[:-1]] == [p.title for p in EN_PAGES]
    assert pages[0].text == EN_PAGES[0].text  # entities decoded by the XML parser
    assert (pages[3].title, pages[3].redirect) == ("Pomme", "Apple")
    assert [p.ns for p in pages[:-1]] == [0, 0, 0, 0, 14, 0]


def test_page_fields_and_escaping():
    xml = page_xml(DumpPage("AT&T <x>", "a < b & [[c]]", redirect=None), 7)
    page = W.page_from_record(xml.replace("</page>\n", ""))
    assert (page.title, page.ns, page.page_id, page.redirect, page.text) == ("AT&T <x>", 0, 7, None, "a < b & [[c]]")
    redirect = W.page_from_record(page_xml(DumpPage("Pomme", redirect="Apple \"x\""), 8).split("</page>")[0])
    assert redirect.redirect == 'Apple "x"'


def test_malformed_record_raises_page_parse_error():
    with pytest.raises(W.PageParseError):
        W.page_from_record("<page><title>x</title><revision><text>unclosed")
    with pytest.raises(W.PageParseError):
        W.page_from_record("<page><ns>0</ns></page")
    assert W.page_from_record("\n</mediawiki>\n") is None


def test_siteinfo_namespaces_and_case(tmp_path):
    head = ('<mediawiki><siteinfo><case>case-sensitive</case><namespaces>'
            '<namespace key="0" case="first-letter" /><namespace key="6" case="first-letter">Datei</namespace>'
            '<namespace key="14" case="first-letter">Kategorie</namespace></namespaces></siteinfo><page>')
    site = W.parse_siteinfo(head)
    assert "datei" in site.namespaces and "kategorie" in site.namespaces and "file" in site.namespaces
    assert site.first_letter_case is False
    assert W.parse_siteinfo("no siteinfo here") == W.DEFAULT_SITEINFO
    path = str(tmp_path / "d.xml")
    write_dump(path, EN_PAGES[:1], "en")
    assert W.parse_siteinfo(probe_local(path).head).first_letter_case is True


@pytest.mark.parametrize("raw, want", [
    ("apple", "Apple"), ("Apple#History", "Apple"), ("date_palm", "Date palm"), ("  New   York ", "New York"),
    (":Apple", "Apple"), ("AT&amp;T", "AT&T"), ("Star Wars: Episode IV", "Star Wars: Episode IV"),
    ("Category:Fruit", None), ("File:X.jpg", None), ("image:X.jpg", None), ("de:Apfel", None),
    ("zh-yue:貓", None), ("wikt:apple", None), (":Category:Fruit", None), ("#History", None), ("{{x}}", None),
])
def test_normalize_title(raw, want):
    assert W.normalize_title(raw) == want


def test_localised_namespaces_from_siteinfo_are_not_articles():
    site = W.SiteInfo(W.CANONICAL_NAMESPACES | {"kategorie"}, True)
    assert W.normalize_title("Kategorie:Obst", site) is None
    assert W.normalize_title("Kategorie:Obst") == "Kategorie:Obst"
    assert W.normalize_title("apfel", W.SiteInfo(W.CANONICAL_NAMESPACES, False)) == "apfel"


def test_article_text_keeps_prose_and_drops_markup():
    article = W.parse_article(W.Page("Apple", 0, 1, None, EN_PAGES[0].text))
    lines = [line.strip() for line in article.text.splitlines() if line.strip()]
    assert lines == ["Apple is a red fruit.", "red apple. red apple. green apple.", "See Banana and Pomme."]
    assert article.links == {"Banana", "Pomme"}


def test_article_text_tables_headings_external_links_and_entities():
    text = ("== History ==\nThe [http://x.org Old English] word [http://y.org] and [[cat|cats]]s.__NOTOC__\n"
            "{| class=\"wikitable\"\n|-\n! Name !! Value\n|-\n| Tabby || 12\n|}\n"
            "a&nbsp;b &amp; <math>x^2</math> <gallery>\nFile:A.jpg|cap\n</gallery> {{cite|[[Linked]]}}")
    article = W.parse_article(W.Page("T", 0, 1, None, text))
    lines = [line.strip() for line in article.text.splitlines() if line.strip()]
    assert lines[:2] == ["History", "The Old English word  and catss."]
    assert {"Name", "Value", "Tabby", "12"} <= set(lines)
    assert lines[-1] == "a\xa0b &"
    assert "NOTOC" not in article.text and "cap" not in article.text and "x^2" not in article.text
    assert article.links == {"Cat", "Linked"}  # links inside templates count as links


@pytest.mark.parametrize("wikitext", [
    "[[画像:Tokyo.jpg|right|thumb|300px|東京の夜景]] 本文",  # jawiki alias, not in <siteinfo>
    "[[Bild:Berlin.png|mini|hochkant=1.2|Berlin]] 本文",  # dewiki alias
    "[[Unbekannt:Karte|thumb|left|alt=Karte|Bildtext]] 本文",  # unknown prefix: the image options tell
    "[[Xyz:Plan.svg|Bildtext]] 本文",  # unknown prefix: the file extension tells
])
def test_file_links_with_unknown_or_alias_prefixes_never_reach_the_text(wikitext):
    text = W.wikitext_to_text(wikitext, W.parse_siteinfo("", "ja"))
    assert text.strip() == "本文"


def test_a_label_that_is_not_an_image_option_keeps_an_article_link():
    assert W.wikitext_to_text("[[Star Wars: Episode IV|the film]] and [[Ab:c|d]]").split() == ["the", "film", "and",
                                                                                               "d"]


def test_table_markup_the_parser_leaves_as_text_is_removed():
    # a cell whose closing "|" comes from a template, a table inside a template argument,
    # inline CSS with hex colours and pixel sizes, a stray closing tag
    wikitext = ('{| class="wikitable"\n|-\n| colspan="5" {{CMain}}\n|bgcolor=white colspan="3" {{n/a|}}\n|}\n'
                "{{bartable|x|\n{| style=\"border: 1px solid #fff3f3;\"\n| align=center | kept\n|}}}\n"
                "Text border: 1px solid; width: 15px; kept #a0b1c2 too</div>")
    words = W.wikitext_to_text(wikitext).split()
    assert words == ["Text", "kept", "too"]
    raw = 'style="border:1px solid #ccc" | Cell\n{| border=1\n|-\n! scope="col" | Head\n|}\nbgcolor=#fff3f3 width=15px'
    assert W.strip_table_markup(raw).split() == ["Cell", "Head"]
