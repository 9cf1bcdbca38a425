"""The shared dump reader on real dumps: probing, encodings, non-XML input, cut streams.

The dumps are the real exports shipped by the gensim package (``real_dumps.py``); cut,
multistream and re-encoded copies are made here from their bytes. The jawiki/ukwiki samples
run only with ``$WWCLIP_REAL_DUMPS`` set."""

from __future__ import annotations

import bz2
import gzip
import io
import os
import re
import zlib

import pytest

from curation.metadata.sources import dumpio as D
from curation.metadata.sources.local import LocalCounts
from curation.metadata.sources.wikitext import parse_siteinfo

from .real_dumps import (
    BGWIKI,
    ENWIKI_ARTICLES,
    ENWIKI_TABLES,
    JAWIKI,
    UKWIKI,
    env_dump,
    gensim_dump,
    multistream_bz2,
    utf8_xml,
    xml_bytes,
)

ARTICLES_PAGES = 206  # enwiki-...-articles1-shortened: 106 articles, 99 redirects, 1 other page


def _records(path: str, **kw) -> tuple[list[str], D.FileReport]:
    with D.open_raw(path) as raw:
        reader = D.DumpReader(raw, path, **kw)
        records = list(reader.records())
    return records, reader.report


def test_probe_reads_encoding_siteinfo_and_completeness_of_real_dumps():
    bg, tables, articles = (D.probe_local(gensim_dump(n)) for n in (BGWIKI, ENWIKI_TABLES, ENWIKI_ARTICLES))
    assert (bg.compression, bg.encoding, bg.truncated, bg.hadoop_readable) == ("bz2", "utf-16-le", "", False)
    # one bzip2 stream of several blocks: complete, seen from the last block of its tail
    assert (articles.compression, articles.encoding, articles.truncated, articles.hadoop_readable) == \
        ("bz2", "utf-8", "", True)
    assert tables.truncated == "" and tables.hadoop_readable
    # the dump's localised namespaces plus the built-in aliases of bgwiki (Картинка: is not in <siteinfo>)
    assert {"файл", "категория", "шаблон", "картинка"} <= parse_siteinfo(bg.head, "bg").namespaces
    assert "<siteinfo>" not in tables.head and {"file", "image"} <= parse_siteinfo(tables.head, "en").namespaces


def test_probe_reads_namespace_aliases_of_jawiki_and_ukwiki():
    ja, uk = D.probe_local(env_dump(JAWIKI)), D.probe_local(env_dump(UKWIKI))
    assert (ja.compression, ja.encoding, ja.truncated, ja.hadoop_readable) == ("bz2", "utf-8", "", True)
    assert {"ファイル", "ノート", "利用者", "画像", "カテゴリ"} <= parse_siteinfo(ja.head, "ja").namespaces
    assert {"файл", "категорія", "зображення"} <= parse_siteinfo(uk.head, "uk").namespaces


def test_records_split_on_page_end_like_hadoop_and_utf16_is_decoded():
    path = gensim_dump(ENWIKI_ARTICLES)
    records, report = _records(path, chunk_bytes=4096)  # small chunks: records cross chunk borders
    xml = xml_bytes(path).decode("utf-8")
    assert records == xml.split("</page>")
    assert (report.pages, report.truncated, report.xml_bytes) == (ARTICLES_PAGES, False, len(xml.encode()))
    bg_path = gensim_dump(BGWIKI)
    bg, bg_report = _records(bg_path)
    text = xml_bytes(bg_path).decode("utf-16")
    assert "".join(r + "</page>" for r in bg[:-1]) + bg[-1] == "\ufeff" + text  # BOM kept, as Hadoop would
    assert bg_report.pages == 3 and "Григориански календар" in bg[0]


def test_cut_bz2_keeps_every_complete_stream_like_bzcat(tmp_path):
    full = xml_bytes(gensim_dump(ENWIKI_ARTICLES))
    data, starts = multistream_bz2(full, 20)  # header, 10 streams of 20 pages, 1 of 6, footer
    assert len(starts) == 13
    cut = tmp_path / "enwiki-cut.xml.bz2"
    cut.write_bytes(data[:(starts[4] + starts[5]) // 2])  # inside the fourth stream of pages
    probe = D.probe_local(str(cut))
    assert "end-of-stream marker" in probe.truncated and not probe.hadoop_readable
    with pytest.raises(D.TruncatedDumpError, match=f"{cut}: truncated: the bz2 stream ends without its"):
        _records(str(cut))
    records, report = _records(str(cut), allow_truncated=True)
    kept = full.decode().split("</page>")[:60]
    assert records == kept and report.pages == 60 and report.truncated
    assert report.xml_bytes == len(("</page>".join(kept) + "</page>").encode())
    assert report.compressed_bytes == cut.stat().st_size


def test_cut_gzip_keeps_every_page_before_the_cut(tmp_path):
    full = xml_bytes(gensim_dump(ENWIKI_ARTICLES))
    packed = gzip.compress(full, mtime=0)
    cut = tmp_path / "enwiki-cut.xml.gz"
    cut.write_bytes(packed[:len(packed) * 3 // 5])
    assert D.probe_local(str(cut)).truncated == ""  # gzip cannot be checked from its ends...
    with pytest.raises(D.TruncatedDumpError, match="gzip stream ends without its end-of-stream marker"):
        _records(str(cut))  # ...the reader finds it at the end
    records, report = _records(str(cut), allow_truncated=True)
    available = zlib.decompressobj(31).decompress(cut.read_bytes())
    n = available.count(b"</page>")
    assert 0 < n < ARTICLES_PAGES and report.pages == n
    assert records == full.decode().split("</page>")[:n]
    assert report.xml_bytes == available.rindex(b"</page>") + len(b"</page>")


def test_cut_plain_xml_keeps_the_pages_before_the_cut(tmp_path):
    full = xml_bytes(gensim_dump(ENWIKI_ARTICLES))
    at = full.index(b"<page>", len(full) // 2) + 300  # inside a page
    cut = tmp_path / "enwiki-cut.xml"
    cut.write_bytes(full[:at])
    assert D.probe_local(str(cut)).truncated.startswith("the XML ends without </mediawiki>")
    with pytest.raises(D.TruncatedDumpError, match=r"enwiki-cut.xml: truncated: the XML ends without </mediawiki>"):
        _records(str(cut))
    records, report = _records(str(cut), allow_truncated=True)
    assert report.pages == full[:at].count(b"</page>") and records == full.decode().split("</page>")[:report.pages]
    # cut inside a multi-byte character (the Cyrillic title of bgwiki, as UTF-8): a cut, not an encoding error
    bg = utf8_xml(gensim_dump(BGWIKI))
    cut.write_bytes(bg[:bg.index("Григориански".encode()) + 1])
    _, report = _records(str(cut), allow_truncated=True)
    assert report.truncated and report.pages == 0
    # the UTF-16 original cut after an odd number of bytes, inside its article
    bg16 = xml_bytes(gensim_dump(BGWIKI))
    odd = bg16.index("Григориански".encode("utf-16-le")) + 1001
    cut.write_bytes(bg16[:odd])
    with pytest.raises(D.TruncatedDumpError, match="the file ends inside a utf-16-le character"):
        _records(str(cut))


def test_truncated_dump_in_the_local_engine_fails_or_is_kept_and_reported(tmp_path):
    data, starts = multistream_bz2(xml_bytes(gensim_dump(ENWIKI_TABLES)), 1)  # header, 5 pages, footer
    cut = tmp_path / "en.xml.bz2"
    cut.write_bytes(data[:starts[3] + 100])  # inside the stream of the third page
    with pytest.raises(D.TruncatedDumpError, match=str(cut)):
        LocalCounts.from_files({"en": [str(cut)]}, {})
    summary = LocalCounts.from_files({"en": [str(cut)]}, {}, allow_truncated=True).summaries()["en"]
    assert summary.stats["pages"] == summary.stats["articles"] == 2
    assert summary.truncated_files == {str(cut): {"compressed_bytes": starts[3] + 100, "pages": 2,
                                                  "xml_bytes": summary.truncated_files[str(cut)]["xml_bytes"]}}


@pytest.mark.parametrize("name, content, needle", [
    ("notes.xml", b"just some text\nnot xml\n", r"notes.xml: not a MediaWiki XML export: expected <mediawiki at character 0"),
    ("feed.xml", b"<?xml version='1.0'?>\n<rss><channel/></rss>", r"feed.xml: not a MediaWiki XML export"),
    ("image.xml.bz2", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, r"image.xml.bz2: not valid bz2 data near compressed byte 0"),
    ("random.xml", bytes(range(128, 256)) * 8, r"random.xml: not valid UTF-8 at byte 0 of the decompressed XML"),
    ("utf32.xml", "<mediawiki>".encode("utf-32"), r"utf32.xml: UTF-32 text"),
    ("latin1.xml", b"<?xml version='1.0' encoding='ISO-8859-1'?><mediawiki>", r"latin1.xml: declares encoding 'ISO-8859-1'"),
    ("empty.xml", b"", r"empty.xml: empty file"),
])
def test_non_xml_and_undecodable_input_is_an_error_naming_the_file(tmp_path, name, content, needle):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(D.DumpError, match=needle):
        D.probe_local(str(path))
    with pytest.raises(D.DumpError, match=re.escape(str(tmp_path))):
        LocalCounts.from_files({"en": [str(path)]}, {})


def test_invalid_utf8_inside_a_real_dump_names_the_byte_offset(tmp_path):
    full = bytearray(xml_bytes(gensim_dump(ENWIKI_ARTICLES)))
    at = full.index(b"<page>", len(full) // 2) + 200
    full[at] = 0xFF
    path = tmp_path / "en-bad.xml"
    path.write_bytes(bytes(full))
    with pytest.raises(D.DumpError, match=rf"en-bad.xml: not valid UTF-8 at byte {at:,} of the decompressed XML"):
        _records(str(path), chunk_bytes=1 << 16)


def test_bz2_end_marker_is_found_at_any_bit_offset():
    for payload in (b"", b"x", b"<mediawiki></mediawiki>", os.urandom(5000)):
        whole = bz2.compress(payload)
        assert D.bz2_has_end_marker(whole)
        assert not D.bz2_has_end_marker(whole[:-1])
    assert not D.bz2_has_end_marker(b"short")


def test_plain_text_lines_follow_spark_line_breaks_and_name_bad_bytes(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("a\r\nb\rc\n\nd".encode())
    assert list(D.iter_text_lines(io.BytesIO(path.read_bytes()), str(path), chunk_bytes=2)) == ["a", "b", "c", "", "d"]
    path.write_bytes(b"ok\n\xc3(\n")
    with pytest.raises(D.DumpError, match=r"t.txt: not valid UTF-8 at byte 3"):
        list(D.iter_text_lines(io.BytesIO(path.read_bytes()), str(path)))


def test_single_stream_bz2_whose_xml_was_cut_is_seen_from_its_last_block():
    path = gensim_dump(ENWIKI_ARTICLES)  # 6 MB of real pages in one bzip2 stream of several 900 kB blocks
    real = open(path, "rb").read()
    xml = xml_bytes(path)
    for packed, want in ((real, ""), (bz2.compress(xml[:-5000]), "the XML ends without </mediawiki>")):
        tail = packed[-300_000:]  # the stream header (byte 0) is not in the tail: only the last block is
        assert D._bz2_last_stream_text("x", tail) is None
        assert D.probe_dump("x.xml.bz2", packed[:D.HEAD_BYTES], tail, len(packed)).truncated == want
