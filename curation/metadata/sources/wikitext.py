"""MediaWiki XML export pages -> article text, out-links and redirects (pure, no Spark).

A dump (``*-pages-articles*.xml[.bz2]``, export format 0.10/0.11) is a ``<mediawiki>``
element holding one ``<siteinfo>`` and many ``<page>`` elements. Markup inside ``<text>`` is
escaped, so the literal string ``</page>`` only ever closes a page: splitting the stream on
it gives one *record* per page, which is how Hadoop splits a (bzip2-splittable) dump across
Spark tasks and how ``dumpio.DumpReader`` reads one in Python. Each record is then parsed with a
real XML parser (ElementTree/expat) and its wikitext with ``mwparserfromhell``.

Only main-namespace (ns 0) pages are articles. Redirect pages give (title -> target) pairs,
used to credit links and page views of a redirect to its target.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from curation.metadata.sources.deps import require
from curation.metadata.sources.dumpio import PAGE_END, PAGE_START

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
# File (6), Category (14) and Media (-2) namespace names and aliases of the largest Wikipedias,
# from MediaWiki's Messages*.php and Wikimedia's namespace aliases. A dump's <siteinfo> lists
# only each namespace's current name, not its aliases (jawiki's 画像:, dewiki's Bild:), which
# articles still use: without them the link would be read as prose ("right|thumb|300px|...").
NAMESPACE_ALIASES: dict[str, tuple[str, ...]] = {
    "en": ("File", "Image", "Category", "Media"),
    "ceb": ("Payl", "Hulagway", "Kategoriya", "Medya"),
    "de": ("Datei", "Bild", "Kategorie", "Medium"),
    "fr": ("Fichier", "Image", "Catégorie", "Média"),
    "sv": ("Fil", "Bild", "Kategori", "Media"),
    "nl": ("Bestand", "Afbeelding", "Categorie", "Media"),
    "ru": ("Файл", "Изображение", "Категория", "Медиа"),
    "es": ("Archivo", "Imagen", "Categoría", "Medio"),
    "it": ("File", "Immagine", "Categoria", "Media"),
    "pl": ("Plik", "Grafika", "Kategoria", "Media"),
    "arz": ("ملف", "صورة", "تصنيف", "ميديا"),
    "ar": ("ملف", "صورة", "تصنيف", "ميديا"),
    "zh": ("文件", "檔案", "档案", "图像", "圖像", "图片", "圖片", "分类", "分類", "媒体", "媒體"),
    "zh-yue": ("文件", "檔案", "档案", "圖像", "图像", "分類", "分类", "媒體", "媒体"),
    "ja": ("ファイル", "画像", "カテゴリ", "メディア"),
    "uk": ("Файл", "Зображення", "Категорія", "Медіа"),
    "vi": ("Tập tin", "Hình", "Thể loại", "Phương tiện"),
    "war": ("Paypay", "Fayl", "Kaarangay", "Medya"),
    "pt": ("Ficheiro", "Arquivo", "Imagem", "Categoria", "Mídia", "Multimédia"),
    "fa": ("پرونده", "تصویر", "رده", "مدیا"),
    "ca": ("Fitxer", "Imatge", "Categoria", "Mèdia"),
    "sr": ("Датотека", "Слика", "Категорија", "Медиј", "Datoteka", "Slika", "Kategorija", "Medij"),
    "id": ("Berkas", "Gambar", "Kategori", "Media"),
    "ko": ("파일", "그림", "분류", "미디어"),
    "no": ("Fil", "Bilde", "Kategori", "Medium"),
    "fi": ("Tiedosto", "Kuva", "Luokka", "Media"),
    "tr": ("Dosya", "Resim", "Kategori", "Ortam"),
    "cs": ("Soubor", "Obrázek", "Kategorie", "Média"),
    "hu": ("Fájl", "Kép", "Kategória", "Média"),
    "ro": ("Fișier", "Fişier", "Imagine", "Categorie", "Media"),
    "he": ("קובץ", "תמונה", "קטגוריה", "מדיה"),
    "th": ("ไฟล์", "ภาพ", "หมวดหมู่", "สื่อ"),
    "bg": ("Файл", "Картинка", "Категория", "Медия"),
    "el": ("Αρχείο", "Εικόνα", "Κατηγορία", "Μέσο"),
    "da": ("Fil", "Billede", "Kategori", "Medie"),
    "hi": ("चित्र", "फ़ाइल", "श्रेणी", "मीडिया"),
    "bn": ("চিত্র", "ফাইল", "বিষয়শ্রেণী", "মিডিয়া"),
    "km": ("ឯកសារ", "រូបភាព", "ចំណាត់ថ្នាក់ក្រុម"),
    "my": ("ဖိုင်", "ကဏ္ဍ"),
}
# Image-link options (MediaWiki's img_* magic words) in English and localised forms: a link
# whose parameters include one is a file link whatever its namespace prefix.
IMAGE_OPTIONS = frozenset(o.casefold() for o in (
    "thumb", "thumbnail", "frame", "framed", "enframed", "frameless", "border", "right", "left", "center",
    "centre", "none", "upright", "baseline", "middle", "sub", "super", "sup", "text-top", "text-bottom", "top",
    "bottom",
    "サムネイル", "サムネ", "右", "左", "中央", "なし", "枠", "フレーム", "フレームなし", "境界", "縦長",
    "mini", "miniatur", "rechts", "links", "zentriert", "ohne", "hochkant", "rahmen", "rahmenlos",
    "vignette", "droite", "gauche", "centré", "néant", "redresse", "cadre", "sans_cadre",
    "miniatura", "miniaturadaimagem", "derecha", "izquierda", "centro", "ninguno", "destra", "sinistra",
    "nessuno", "direita", "esquerda", "nenhum",
    "мини", "миниатюра", "справа", "слева", "центр", "без", "обрамить", "безрамки",
    "мініатюра", "праворуч", "ліворуч",
    "缩略图", "縮圖", "右", "左", "居中", "无", "無", "有框", "无框", "無框", "边框", "邊框",
    "mały", "prawo", "lewo", "centruj", "brak", "ramka", "miniatuur", "gecentreerd", "geen",
    "섬네일", "오른쪽", "왼쪽", "가운데", "없음", "مصغر", "يمين", "يسار", "مركز", "بدون",
))
_IMAGE_OPTION_PREFIX = re.compile(r"(?:alt|link|page|class|lang|upright|thumbtime|start|end|代替文|リンク|"
                                  r"hochkant|verweis|lien|redresse|vinculo|enlace|collegamento|ссылка|链接)\s*=",
                                  re.IGNORECASE)
_IMAGE_SIZE = re.compile(r"(?:\d+|\d*x\d+)\s*(?:px|ピクセル|像素|픽셀|пкс|пикс|пикс\.)", re.IGNORECASE)
_MEDIA_EXTENSION = re.compile(r"\.(?:jpe?g|png|gif|svg|tiff?|webp|xcf|ogg|ogv|oga|webm|mp3|wav|flac|midi?|pdf|djvu|stl)"
                              r"\s*$", re.IGNORECASE)
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


class WikitextParseError(ValueError):
    """Wikitext that mwparserfromhell rejects (its ``ParserError``): a malformed record."""


@dataclass(frozen=True)
class SiteInfo:
    """What the dump's ``<siteinfo>`` tells about titles: namespace names and first-letter case."""

    namespaces: frozenset[str] = CANONICAL_NAMESPACES  # casefolded names of non-article namespaces
    first_letter_case: bool = True


DEFAULT_SITEINFO = SiteInfo()


def namespace_aliases(lang: str | None) -> frozenset[str]:
    """Casefolded built-in File/Category/Media aliases of a language (:data:`NAMESPACE_ALIASES`)."""
    return frozenset(n.casefold() for n in NAMESPACE_ALIASES.get(lang or "", ()))


@dataclass(frozen=True)
class Page:
    title: str
    ns: int
    page_id: int | None
    redirect: str | None  # raw target title of a redirect page
    text: str  # wikitext of the last revision in the record


def parse_siteinfo(head: str, lang: str | None = None) -> SiteInfo:
    """SiteInfo from the start of a dump (any prefix holding ``</siteinfo>``) and the built-in
    namespace aliases of ``lang``; canonical names only if the dump has no ``<siteinfo>``.

    Both engines call this on the same decoded head (``dumpio.probe_dump``)."""
    start, end = head.find("<siteinfo>"), head.find("</siteinfo>")
    aliases = namespace_aliases(lang)
    if start < 0 or end < 0:
        return SiteInfo(CANONICAL_NAMESPACES | aliases, True)
    try:
        elem = ET.fromstring(head[start:end + len("</siteinfo>")])
    except ET.ParseError:
        return SiteInfo(CANONICAL_NAMESPACES | aliases, True)
    names = set(CANONICAL_NAMESPACES) | aliases
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


# ---------------------------------------------------------------- titles and links

def is_namespaced(title: str, site: SiteInfo = DEFAULT_SITEINFO) -> bool:
    """True when a link target is outside the article namespace (file, category, interwiki...)."""
    prefix, sep, _ = title.partition(":")
    if not sep:
        return False
    prefix = " ".join(prefix.replace("_", " ").split())
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


def is_file_link(title: str, params: list[str]) -> bool:
    """True for ``[[Prefix:Name.jpg|...]]`` or a link with an image option among its parameters
    (``thumb``, ``300px``, ``alt=...``, ``サムネイル``, ...): a file link even when its namespace
    prefix is an alias this wiki's ``<siteinfo>`` and :data:`NAMESPACE_ALIASES` do not know."""
    prefix, sep, name = title.strip().lstrip(":").partition(":")
    if not sep or not prefix.strip():
        return False
    if _MEDIA_EXTENSION.search(name):
        return True
    return any(p.strip().casefold() in IMAGE_OPTIONS or _IMAGE_SIZE.fullmatch(p.strip())
               or _IMAGE_OPTION_PREFIX.match(p.strip()) for p in params[:-1] or params)


def _wikicode(text: str):
    mwparserfromhell = require("mwparserfromhell", "mwparserfromhell", "wikitext parsing")
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
            if is_namespaced(title.strip().lstrip(":"), site) or (
                    node.text is not None and is_file_link(title, str(node.text).split("|"))):
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
    interwiki links, comments, maths and code dropped; blocks separated by newlines; table
    markup the parser left as text removed (:func:`strip_table_markup`)."""
    out: list[str] = []
    _strip(code if code is not None else _wikicode(text), site, out)
    return strip_table_markup("".join(out))


# HTML/table attributes and CSS properties that only ever occur as markup.
HTML_ATTRIBUTES = frozenset((
    "style", "class", "id", "align", "valign", "bgcolor", "background", "border", "bordercolor", "cellpadding",
    "cellspacing", "colspan", "rowspan", "width", "height", "nowrap", "scope", "rules", "frame", "summary",
    "color", "face", "size", "dir", "lang", "abbr", "headers", "axis", "char", "charoff", "span", "clear",
    "data-sort-type", "data-sort-value", "hspace", "vspace", "role",
))
CSS_PROPERTIES = frozenset((
    "background", "background-color", "background-image", "border", "border-bottom", "border-collapse",
    "border-color", "border-left", "border-right", "border-spacing", "border-style", "border-top",
    "border-width", "border-radius", "clear", "color", "display", "float", "font", "font-family", "font-size",
    "font-style", "font-variant", "font-weight", "height", "line-height", "list-style", "margin",
    "margin-bottom", "margin-left", "margin-right", "margin-top", "max-width", "min-width", "overflow",
    "padding", "padding-bottom", "padding-left", "padding-right", "padding-top", "text-align",
    "text-decoration", "text-indent", "vertical-align", "white-space", "width", "writing-mode", "z-index",
))
_ATTR_NAMES = "|".join(sorted((re.escape(a) for a in HTML_ATTRIBUTES), key=len, reverse=True))
_ATTRIBUTE = re.compile(rf"(?<![\w-])(?:{_ATTR_NAMES})\s*=\s*(?:\"[^\"\n]*\"?|'[^'\n]*'?|[^\s|\"'!]+)", re.IGNORECASE)
_CSS_NAMES = "|".join(sorted((re.escape(p) for p in CSS_PROPERTIES), key=len, reverse=True))
_CSS_DECLARATION = re.compile(rf"(?<![\w-])(?:{_CSS_NAMES})\s*:\s*[^;|\n\"]*;", re.IGNORECASE)
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}\b|#[0-9a-fA-F]{3}\b")
_PIXELS = re.compile(r"(?<![\w-])\d+(?:\.\d+)?\s*px\b", re.IGNORECASE)
_STRAY_TAG = re.compile(r"</?(?:div|span|br|center|small|big|font|sup|sub|p|table|tr|td|th|tbody|caption|u|s|b|i|"
                        r"abbr|blockquote|poem|ul|ol|li|dl|dt|dd|hr|code|tt|var|wbr|nowiki|onlyinclude)\b[^<>\n]*/?>",
                        re.IGNORECASE)
_TABLE_LINE = re.compile(r"^\s*(?:\{\||\|\}|\|-|\|\+)")
_CELL_ATTRS = re.compile(r"^\s*[!|]?\s*([^|\n]*=[^|\n]*)\|(?!\|)")


def strip_table_markup(text: str) -> str:
    """Remove table and styling markup that mwparserfromhell leaves as text (a table inside a
    template argument, a stray quote, a cell whose closing ``|`` a template supplies):
    ``{|``/``|-``/``|}`` lines, cell attribute prefixes (``style="..." |``), HTML attribute
    assignments (``colspan="2"``, ``bgcolor=white``), CSS declarations (``border: 1px solid;``),
    hex colours (``#fff3f3``), pixel sizes (``15px``) and stray HTML tags (an unmatched
    ``</div>``). Prose never has these shapes."""
    if not any(c in text for c in "=#{|:<") and "px" not in text:
        return text
    lines = []
    for line in text.split("\n"):
        if _TABLE_LINE.match(line):
            continue
        line = _CELL_ATTRS.sub("", line)
        line = _ATTRIBUTE.sub(" ", line)
        line = _CSS_DECLARATION.sub(" ", line)
        line = _HEX_COLOUR.sub(" ", line)
        line = _PIXELS.sub(" ", line)
        line = _STRAY_TAG.sub(" ", line)
        lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class Article:
    """What one main-namespace page contributes: its title, prose and out-links."""

    title: str
    text: str
    links: frozenset[str]


def parse_article(page: Page, site: SiteInfo = DEFAULT_SITEINFO) -> Article:
    """Raises WikitextParseError when the parser rejects the page's wikitext."""
    mwparserfromhell = require("mwparserfromhell", "mwparserfromhell", "wikitext parsing")
    try:
        code = _wikicode(page.text)
    except mwparserfromhell.parser.ParserError as exc:
        raise WikitextParseError(f"page {page.title!r}: {exc}") from None
    return Article(page.title, wikitext_to_text(page.text, site, code), frozenset(page_links(code, site)))
