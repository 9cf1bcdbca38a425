"""Write pages as a MediaWiki XML export (format 0.11), e.g. for tests and benchmarks.

The output has the structure of Wikimedia's ``pages-articles`` dumps: a ``<siteinfo>`` with
the namespaces, then one ``<page>`` per article with ``<title>``, ``<ns>``, ``<id>``, an
optional ``<redirect title=…/>`` and one ``<revision>`` holding the escaped wikitext.
``.bz2`` paths are written as *multistream* bzip2 (one stream per ``pages_per_stream``
pages, like ``pages-articles-multistream.xml.bz2``).
"""

from __future__ import annotations

import bz2
import gzip
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from curation.metadata.sources.wikitext import EXPORT_NAMESPACE

NAMESPACES = ((-2, "Media"), (-1, "Special"), (0, ""), (1, "Talk"), (2, "User"), (3, "User talk"),
              (4, "Wikipedia"), (6, "File"), (10, "Template"), (12, "Help"), (14, "Category"),
              (100, "Portal"))


@dataclass(frozen=True)
class DumpPage:
    title: str
    text: str = ""
    ns: int = 0
    redirect: str | None = None


def _header(lang: str, namespaces: Iterable[tuple[int, str]]) -> str:
    ns_xml = "\n".join(
        f'      <namespace key="{key}" case="first-letter" />' if not name else
        f'      <namespace key="{key}" case="first-letter">{escape(name)}</namespace>'
        for key, name in namespaces)
    return (f'<mediawiki xmlns="{EXPORT_NAMESPACE}" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{EXPORT_NAMESPACE} http://www.mediawiki.org/xml/export-0.11.xsd" '
            f'version="0.11" xml:lang="{lang}">\n'
            f"  <siteinfo>\n    <sitename>Wikipedia</sitename>\n    <dbname>{lang.replace('-', '_')}wiki</dbname>\n"
            f"    <base>https://{lang}.wikipedia.org/wiki/Main_Page</base>\n"
            f"    <generator>MediaWiki 1.44.0-wmf.1</generator>\n    <case>first-letter</case>\n"
            f"    <namespaces>\n{ns_xml}\n    </namespaces>\n  </siteinfo>\n")


def page_xml(page: DumpPage, page_id: int) -> str:
    redirect = f"    <redirect title={quoteattr(page.redirect)} />\n" if page.redirect is not None else ""
    return (f"  <page>\n    <title>{escape(page.title)}</title>\n    <ns>{page.ns}</ns>\n"
            f"    <id>{page_id}</id>\n{redirect}    <revision>\n      <id>{page_id + 1000000}</id>\n"
            f"      <timestamp>2025-01-01T00:00:00Z</timestamp>\n"
            f"      <contributor>\n        <username>Example</username>\n        <id>1</id>\n      </contributor>\n"
            f"      <model>wikitext</model>\n      <format>text/x-wiki</format>\n"
            f'      <text bytes="{len(page.text.encode())}" xml:space="preserve">{escape(page.text)}</text>\n'
            f"      <sha1>0000000000000000000000000000000</sha1>\n    </revision>\n  </page>\n")


def write_dump(path: str, pages: Iterable[DumpPage], lang: str = "en", pages_per_stream: int = 100,
               namespaces: Iterable[tuple[int, str]] = NAMESPACES) -> int:
    """Write the export to ``path`` (.xml, .xml.bz2 multistream, .xml.gz); returns pages written."""
    n = 0
    if path.endswith(".bz2"):
        with open(path, "wb") as f:
            f.write(bz2.compress(_header(lang, namespaces).encode()))
            chunk: list[str] = []
            for n, page in enumerate(pages, 1):
                chunk.append(page_xml(page, n))
                if len(chunk) >= pages_per_stream:
                    f.write(bz2.compress("".join(chunk).encode()))
                    chunk = []
            if chunk:
                f.write(bz2.compress("".join(chunk).encode()))
            f.write(bz2.compress(b"</mediawiki>\n"))
        return n
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write(_header(lang, namespaces))
        for n, page in enumerate(pages, 1):
            f.write(page_xml(page, n))
        f.write("</mediawiki>\n")
    return n
