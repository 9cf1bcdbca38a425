"""Where the tests find real Wikipedia dumps, and how they make cut or re-compressed copies.

No dump is committed (see ``fixtures/SOURCES.md``). Two sources:

- the ``gensim`` wheel (in the ``test`` extra) ships real Wikimedia exports as test data:
  ``bgwiki`` (Bulgarian, UTF-16 LE with a byte-order mark and CRLF line ends, localised
  namespaces Файл/Категория), ``enwiki-table-markup`` (5 English articles full of table
  markup) and ``enwiki-...-articles1...-shortened`` (206 English pages, 100 redirects, one
  bzip2 stream of several blocks). They are found with ``importlib.resources`` in the installed
  package, so they run everywhere the test extra is installed (CI included);
- the directory named by ``$WWCLIP_REAL_DUMPS`` (unset: those tests are skipped) for samples
  that no package ships: ``jawiki-sample.xml.bz2`` and ``ukwiki-sample.xml.bz2`` (namespace
  aliases such as 画像:, ファイル:, Файл:), see ``docs/metadata.md``.

Cut and multistream copies are made at test time from these bytes (decompress, re-compress,
cut), never stored.
"""

from __future__ import annotations

import bz2
import importlib.resources
import importlib.util
import os

import pytest

BGWIKI = "bgwiki-latest-pages-articles-shortened.xml.bz2"
ENWIKI_TABLES = "enwiki-table-markup.xml.bz2"
ENWIKI_ARTICLES = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
REAL_DUMPS_ENV = "WWCLIP_REAL_DUMPS"
JAWIKI, UKWIKI = "jawiki-sample.xml.bz2", "ukwiki-sample.xml.bz2"
PAGE_END = b"</page>"


def gensim_dump(name: str) -> str:
    """Path of a dump shipped in the installed ``gensim`` package (``gensim/test/test_data``).

    The package is located without running its ``__init__`` (which imports SciPy: seconds per
    test session); a gensim that no longer ships the file is a failure, not a skip."""
    spec = importlib.util.find_spec("gensim")
    if spec is None:
        pytest.skip("real dumps shipped by the gensim package: gensim is not installed "
                    "(pip install -e '.[test]')")
    package = importlib.util.module_from_spec(spec)
    path = importlib.resources.files(package) / "test" / "test_data" / name
    if not path.is_file():
        pytest.fail(f"the installed gensim does not ship test/test_data/{name} any more")
    return str(path)


def env_dump(name: str) -> str:
    """Path of ``name`` in ``$WWCLIP_REAL_DUMPS``; the test is skipped when the variable is unset."""
    root = os.environ.get(REAL_DUMPS_ENV)
    if not root:
        pytest.skip(f"set {REAL_DUMPS_ENV} to a directory holding {name} (see docs/metadata.md)")
    path = os.path.join(root, name)
    if not os.path.isfile(path):
        pytest.fail(f"{REAL_DUMPS_ENV}={root} has no {name}")
    return path


def xml_bytes(path: str) -> bytes:
    """The decompressed XML of a ``.bz2`` dump, as its bytes (UTF-16 stays UTF-16)."""
    with open(path, "rb") as f:
        return bz2.decompress(f.read())


def utf8_xml(path: str) -> bytes:
    """The XML of a dump re-encoded as UTF-8 without a byte-order mark (the same text)."""
    data = xml_bytes(path)
    for bom, encoding in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding).encode("utf-8")
    return data


def page_ends(xml: bytes) -> list[int]:
    """Byte offsets just after each ``</page>`` (and its line end) of UTF-8 XML."""
    ends, at = [], xml.find(PAGE_END)
    while at >= 0:
        end = at + len(PAGE_END)
        while end < len(xml) and xml[end:end + 1] in (b"\r", b"\n"):
            end += 1
        ends.append(end)
        at = xml.find(PAGE_END, end)
    return ends


def multistream_bz2(xml: bytes, pages_per_stream: int) -> tuple[bytes, list[int]]:
    """UTF-8 XML as a multistream bzip2 file laid out like Wikimedia's
    ``pages-articles-multistream.xml.bz2``: the header (up to the first ``<page>``) in one
    stream, then ``pages_per_stream`` pages per stream, the footer in the last one.

    Returns (file bytes, the byte offset where each stream starts)."""
    first = xml.find(b"<page>")
    first = xml.rfind(b"\n", 0, first) + 1 if first > 0 else 0
    ends = page_ends(xml)
    cuts = [0, first] + ends[pages_per_stream - 1::pages_per_stream]
    if cuts[-1] != ends[-1]:
        cuts.append(ends[-1])
    cuts.append(len(xml))
    out, starts = b"", []
    for a, b in zip(cuts, cuts[1:]):
        if b > a:
            starts.append(len(out))
            out += bz2.compress(xml[a:b])
    return out, starts
