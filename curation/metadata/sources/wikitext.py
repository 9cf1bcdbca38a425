"""MediaWiki XML export pages -> article text, out-links and redirects (pure, no Spark).

A dump (``*-pages-articles*.xml[.bz2]``, export format 0.10/0.11) is a ``<mediawiki>``
element holding one ``<siteinfo>`` and many ``<page>`` elements. Markup inside ``<text>`` is
escaped, so the literal string ``</page>`` only ever closes a page: splitting the stream on
it gives one *record* per page, which is how Hadoop splits a (bzip2-splittable) dump across
Spark tasks and how :func:`iter_records` reads one locally. Each record is then parsed with a
real XML parser (ElementTree/expat) and its wikitext with ``mwparserfromhell``.

Only main-namespace (ns 0) pages are articles. Redirect pages give (title -> target) pairs,
used to credit links and page views of a redirect to its target.
"""

from __future__ import annotations

import bz2
import gzip
import html
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass

PAGE_START = "<page>"
PAGE_END = "</page>"
EXPORT_NAMESPACE = "http://www.mediawiki.org/xml/export-0.11/"

# Namespace names every wiki understands (canonical English names and aliases); a dump's
# <siteinfo> adds its localised names (e.g. "Datei", "Catégorie").
CANONICAL_NAMESPACES = frozenset(n.casefold() for n in (
    "Media", "Special", "Talk", "User", "User talk", "Wikipedia", "Wikipedia talk", "Project",
    "Project talk", "WP", "WT", "File", "File talk", "Image", "Image talk", "MediaWiki",
    "MediaWiki talk", "Template", "Template talk", "Help", "Help talk", "Category",
    "Category talk", "Portal", "Portal talk", "Draft", "Draft talk", "Module", "Module talk",
    "TimedText", "TimedText talk", "Book", "Book talk", "Gadget", "Gadget definition", "Topic",
    "Education Program", "CAT", "H", "T", "MOS", "Event", "Event talk",
))
# Interwiki prefixes to sister projects; language prefixes are matched by _INTERLANGUAGE.
INTERWIKI_PREFIXES = frozenset((
    "w", "wikipedia", "wikt", "wiktionary", "b", "wikibooks", "n", "wikinews", "q", "wikiquote",
    "s", "wikisource", "v", "wikiversity", "voy", "wikivoyage", "c", "commons", "d", "wikidata",
    "m", "meta", "metawikimedia", "mw", "mediawikiwiki", "species", "wikispecies", "f",
    "wikifunctions", "foundation", "wmf", "phab", "outreach", "incubator", "oldwikisource",
    "simple", "doi", "arxiv", "google", "imdbtitle", "wikiquote",
))
_INTERLANGUAGE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})*")
_INVALID_TITLE_CHARS = frozenset("{}[]<>|\n\t")
_BEHAVIOUR_SWITCH = re.compile(r"__[A-Z]+__")

# Tags whose content is not article prose (citations, media, code, maths, layout helpers).
DROP_TAGS = frozenset((
    "ref", "references", "gallery", "math", "chem", "ce", "score", "timeline", "syntaxhighlight",
    "source", "pre", "code", "templatedata", "templatestyles", "graph", "mapframe", "maplink",
    "imagemap", "hiero", "includeonly", "inputbox", "categorytree", "charinsert", "indicator",
    "section", "style", "script", "noinclude", "langconvert", "tabs", "tab",
))
# Tags after which text is a new block: bigrams never cross them.
BLOCK_TAGS = frozenset((
    "br", "p", "div", "li", "dd", "dt", "ul", "ol", "dl", "table", "tr", "td", "th", "caption",
    "blockquote", "center", "hr", "h1", "h2", "h3", "h4", "h5", "h6",
))


class PageParseError(ValueError):
    """A record that is not a well-formed ``<page>`` element."""


@dataclass(frozen=True)
class SiteInfo:
    """What the dump's ``<siteinfo>`` tells about titles: namespace names and first-letter case."""

    namespaces: frozenset[str] = CANONICAL_NAMESPACES  # casefolded names of non-article namespaces
    first_letter_case: bool = True


DEFAULT_SITEINFO = SiteInfo()


@dataclass(frozen=True)
class Page:
    title: str
    ns: int
    page_id: int | None
    redirect: str | None  # raw target title of a redirect page
    text: str  # wikitext of the last revision in the record


def parse_siteinfo(head: str) -> SiteInfo:
    """SiteInfo from the start of a dump (any prefix holding ``</siteinfo>``); defaults if absent."""
    start, end = head.find("<siteinfo>"), head.find("</siteinfo>")
    if start < 0 or end < 0:
        return DEFAULT_SITEINFO
    try:
        elem = ET.fromstring(head[start:end + len("</siteinfo>")])
    except ET.ParseError:
        return DEFAULT_SITEINFO
    names = set(CANONICAL_NAMESPACES)
    for ns in elem.iter("namespace"):
        if ns.get("key") not in (None, "0") and ns.text:
            names.add(ns.text.strip().casefold())
    for alias in elem.iter("alias"):  # not in standard exports, harmless if present
        if alias.text:
            names.add(alias.text.strip().casefold())
    case = (elem.findtext("case") or "first-letter").strip()
    return SiteInfo(frozenset(names), case == "first-letter")


def page_from_record(record: str) -> Page | None:
    """Parse one record (text up to, not including, ``</page>``); None if it holds no page.

    Raises PageParseError for a malformed page.
    """
    start = record.find(PAGE_START)
    if start < 0:
        return None
    try:
        elem = ET.fromstring(record[start:] + PAGE_END)
    except ET.ParseError as exc:
        raise PageParseError(f"malformed <page>: {exc}") from None
    title = elem.findtext("title")
    if title is None:
        raise PageParseError("<page> without <title>")
    ns_text = (elem.findtext("ns") or "0").strip()
    id_text = (elem.findtext("id") or "").strip()
    try:
        ns = int(ns_text)
        page_id = int(id_text) if id_text else None
    except ValueError:
        raise PageParseError(f"<page> {title!r}: bad <ns> {ns_text!r} or <id> {id_text!r}") from None
    redirect_elem = elem.find("redirect")
    redirect = redirect_elem.get("title") if redirect_elem is not None else None
    revisions = elem.findall("revision")
    text = (revisions[-1].findtext("text") or "") if revisions else ""
    return Page(title, ns, page_id, redirect, text)


def open_text(path: str) -> io.TextIOBase:
    """Open a local (possibly .bz2/.gz compressed, multistream included) file as UTF-8 text."""
    if path.endswith(".bz2"):
        return io.TextIOWrapper(bz2.open(path, "rb"), encoding="utf-8")
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")


def iter_records(stream: io.TextIOBase, chunk_chars: int = 1 << 20) -> Iterator[str]:
    """Split a text stream on ``</page>``: the same records Spark's text reader produces."""
    buffer = ""
    while True:
        chunk = stream.read(chunk_chars)
        if not chunk:
            break
        buffer += chunk
        parts = buffer.split(PAGE_END)
        buffer = parts.pop()
        yield from parts
    if buffer:
        yield buffer


def read_head(path: str, chars: int = 1 << 16) -> str:
    with open_text(path) as f:
        return f.read(chars)


# ---------------------------------------------------------------- titles and links

def is_namespaced(title: str, site: SiteInfo = DEFAULT_SITEINFO) -> bool:
    """True when a link target is outside the article namespace (file, category, interwiki...)."""
    prefix, sep, _ = title.partition(":")
    if not sep:
        return False
    prefix = prefix.strip()
    return (prefix.casefold() in site.namespaces or prefix.lower() in INTERWIKI_PREFIXES
            or bool(_INTERLANGUAGE.fullmatch(prefix)))


def normalize_title(raw: str, site: SiteInfo = DEFAULT_SITEINFO) -> str | None:
    """A link or redirect target as the article title it names, or None (not an article link).

    Decodes entities, drops ``#section``, turns ``_`` into spaces, collapses whitespace,
    drops a leading ``:``, and upper-cases the first letter on first-letter-case wikis.
    """
    title = html.unescape(raw).split("#", 1)[0].replace("_", " ")
    title = " ".join(title.split())
    if title.startswith(":"):
        title = title[1:].strip()
    if not title or any(c in _INVALID_TITLE_CHARS for c in title) or is_namespaced(title, site):
        return None
    if site.first_letter_case:
        first = title[0].upper()
        if len(first) == 1:
            title = first + title[1:]
    return title


def _wikicode(text: str):
    import mwparserfromhell

    return mwparserfromhell.parse(_BEHAVIOUR_SWITCH.sub("", text))


def page_links(code, site: SiteInfo = DEFAULT_SITEINFO) -> set[str]:
    """Distinct article titles a page links to (links inside templates included)."""
    targets = set()
    for link in code.filter_wikilinks(recursive=True):
        target = normalize_title(str(link.title), site)
        if target is not None:
            targets.add(target)
    return targets


def _strip(code, site: SiteInfo, out: list[str]) -> None:
    from mwparserfromhell import nodes

    for node in code.nodes:
        if isinstance(node, nodes.Text):
            out.append(node.value)
        elif isinstance(node, nodes.Wikilink):
            title = str(node.title)
            if is_namespaced(title.strip().lstrip(":"), site):
                continue
            _strip(node.text if node.text is not None else node.title, site, out)
        elif isinstance(node, nodes.Tag):
            tag = str(node.tag).strip().lower()
            if tag in DROP_TAGS:
                continue
            if node.contents is not None and not node.self_closing:
                _strip(node.contents, site, out)
            if tag in BLOCK_TAGS:
                out.append("\n")
        elif isinstance(node, nodes.Heading):
            out.append("\n")
            _strip(node.title, site, out)
            out.append("\n")
        elif isinstance(node, nodes.ExternalLink):
            if node.title is not None:
                _strip(node.title, site, out)
        elif isinstance(node, nodes.HTMLEntity):
            out.append(node.normalize())
        # Templates, template arguments and comments carry no prose: dropped.


def wikitext_to_text(text: str, site: SiteInfo = DEFAULT_SITEINFO, code=None) -> str:
    """Article prose of a wikitext: link labels kept; templates, refs, files, categories,
    interwiki links, comments, maths and code dropped; blocks separated by newlines."""
    out: list[str] = []
    _strip(code if code is not None else _wikicode(text), site, out)
    return "".join(out)


@dataclass(frozen=True)
class Article:
    """What one main-namespace page contributes: its title, prose and out-links."""

    title: str
    text: str
    links: frozenset[str]


def parse_article(page: Page, site: SiteInfo = DEFAULT_SITEINFO) -> Article:
    code = _wikicode(page.text)
    return Article(page.title, wikitext_to_text(page.text, site, code), frozenset(page_links(code, site)))
