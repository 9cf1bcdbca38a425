"""One generated WAT/WARC file -> rows and rejects with exact, hand-derived counts (no Spark)."""

import gzip
import os
from collections import Counter

import pytest

from curation.commoncrawl.extract import extract_file
from curation.commoncrawl.sample import realistic_pages, write_sample, write_warc, write_wat
from curation.commoncrawl.settings import ExtractSettings

from .hostile import CRAWL, SMALL_MAX_BYTES, encoding_cases, hostile_cases, truncate_inside_last_member, write_hostile_crawl

MODES = ("wat", "warc")


def expected(cases, mode):
    """(rows, rejects, bad_records, html_pages) from the hand-written outcomes."""
    rows, rejects = Counter(), Counter()
    for case in cases:
        for img in case.imgs:
            outcome = img.outcome(mode)
            if outcome is None:
                continue
            if outcome[0] == "row":
                for text in outcome[2]:
                    rows[(case.spec.url, outcome[1], text)] += 1
            else:
                rejects[(case.spec.url, outcome[1])] += 1
    bad = sum(1 for c in cases if (c.bad_record_wat if mode == "wat" else c.bad_record_warc))
    pages = sum(1 for c in cases if "html" in c.spec.content_type
                and not (c.bad_record_wat if mode == "wat" else c.bad_record_warc))
    return rows, rejects, bad, pages


def run(path, mode, reader="fastwarc", **settings):
    settings.setdefault("max_record_bytes", SMALL_MAX_BYTES)
    out = list(extract_file(path, ExtractSettings(source=mode, reader=reader, **settings).validate()))
    assert out[-1]["kind"] == "file" and all(r["kind"] != "file" for r in out[:-1])
    return out[:-1], out[-1]


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    cases = hostile_cases() + encoding_cases()
    warc, wat = write_hostile_crawl(str(root), cases)
    return {"cases": cases, "warc": warc, "wat": wat, "root": root}


@pytest.mark.parametrize("mode", MODES)
def test_every_hostile_link_ends_in_rows_or_rejects(crawl, mode):
    cases = crawl["cases"]
    rows, rejects, bad, pages = expected(cases, mode)
    out, file_row = run(crawl[mode], mode)
    got_rows = Counter((r["page_url"], r["url"], r["text"]) for r in out if r["kind"] == "row")
    got_rejects = Counter((r["page_url"], r["reason"]) for r in out if r["kind"] == "reject" and r["reason"] != "bad_record")
    assert got_rows == rows
    assert got_rejects == rejects
    assert sum(1 for r in out if r["reason"] == "bad_record") == bad
    assert file_row["status"] == "ok" and file_row["error"] is None
    assert file_row["records"] == 1 + 3 * len(cases)  # warcinfo + request/response/metadata per page
    assert file_row["pages"] == pages
    assert file_row["rows"] == sum(rows.values()) and file_row["rejects"] == sum(rejects.values()) + bad
    assert file_row["links"] == file_row["link_rows"] + file_row["rejects"] - file_row["bad_records"] + \
        file_row["no_text_dropped"]
    assert file_row["pages_truncated"] == (1 if mode == "warc" else 0)  # the huge page
    assert all(r["crawl"] == CRAWL and r["source_file"] == crawl[mode] for r in out)


def test_exact_reason_totals_in_wat_mode(crawl):
    out, _ = run(crawl["wat"], "wat")
    assert Counter(r["reason"] for r in out if r["kind"] == "reject") == {
        "no_text": 3, "data_uri": 3, "bad_scheme": 2, "malformed_url": 3, "url_too_long": 1, "no_src": 1,
        "bad_record": 2}
    assert sum(r["kind"] == "row" for r in out) == 13 + 9 + 1 + 4  # page A, shared pages, upper case, encodings


@pytest.mark.parametrize("mode", MODES)
def test_declared_language_and_warc_trace(crawl, mode):
    out, _ = run(crawl[mode], mode)
    langs = {c.spec.url: (c.lang_wat if mode == "wat" else c.lang_warc) for c in crawl["cases"]}
    for r in out:
        if r["kind"] == "row":
            assert r["page_lang"] == langs[r["page_url"]], r["page_url"]
    warc_rows, _ = run(crawl["warc"], "warc")
    offsets = {r["page_url"]: r["warc_offset"] for r in warc_rows if r["kind"] == "row"}
    ids = {r["page_url"]: r["warc_record_id"] for r in warc_rows if r["kind"] == "row"}
    for r in out:
        if r["kind"] == "row":  # WAT rows point at the same WARC response records
            assert r["warc_offset"] == offsets[r["page_url"]] and r["warc_record_id"] == ids[r["page_url"]]
            assert r["warc_filename"] == os.path.basename(crawl["warc"])
    # the WARC offset is a real record boundary: a range read from there is one gzip member
    data = open(crawl["warc"], "rb").read()
    page_a = offsets["https://h.example/dir/page.html"]
    record = _member(data, page_a)
    assert record.startswith(b"WARC/1.0\r\n") and b"WARC-Type: response\r\n" in record[:400]


def _member(data, offset):
    """The gzip member starting at ``offset`` alone (a range request's view)."""
    import zlib

    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[offset:])


@pytest.mark.parametrize("mode", MODES)
def test_both_readers_give_identical_rows(crawl, mode):
    assert run(crawl[mode], mode, "fastwarc")[0] == run(crawl[mode], mode, "warcio")[0]


@pytest.mark.parametrize("mode", MODES)
def test_empty_text_policies(crawl, mode):
    base, base_file = run(crawl[mode], mode)
    no_text = sum(1 for r in base if r["reason"] == "no_text")
    kept, kept_file = run(crawl[mode], mode, empty_text="keep")
    assert sum(1 for r in kept if r["kind"] == "row" and r["text"] is None) == no_text
    assert kept_file["rejects"] == base_file["rejects"] - no_text
    dropped, dropped_file = run(crawl[mode], mode, empty_text="drop")
    assert dropped_file["no_text_dropped"] == no_text and not any(r["reason"] == "no_text" for r in dropped)
    assert [r for r in dropped if r["kind"] == "row"] == [r for r in base if r["kind"] == "row"]


def test_truncated_gzip_member(crawl, tmp_path):
    for mode in MODES:
        cut = str(tmp_path / f"cut.{mode}.gz")
        complete = truncate_inside_last_member(crawl[mode], cut)
        full, full_file = run(crawl[mode], mode)
        out, file_row = run(cut, mode)
        assert file_row["status"] == "truncated" and "TruncatedInput" in file_row["error"]
        assert file_row["records"] == complete == full_file["records"] - 1
        # the cut record is the last page's metadata record: no row lost
        assert _strip(out) == _strip(full)
    # cut in the middle: records before the cut are kept, the rest is reported missing
    data = open(crawl["wat"], "rb").read()
    half = str(tmp_path / "half.wat.gz")
    open(half, "wb").write(data[: len(data) // 2])
    out, file_row = run(half, "wat")
    assert file_row["status"] == "truncated" and 0 < file_row["records"] < full_file["records"]
    assert 0 < file_row["rows"] < sum(1 for r in full if r["kind"] == "row")


def _strip(rows):
    """Rows without the columns that name the file (a copy has another name and no crawl id)."""
    return [{k: v for k, v in r.items() if k not in ("source_file", "crawl", "warc_filename")} for r in rows]


def test_unreadable_and_corrupt_files(tmp_path):
    garbage = tmp_path / "garbage.wat.gz"
    garbage.write_bytes(os.urandom(4096))
    text = tmp_path / "notes.wat"
    text.write_bytes(b"hello world\n" * 100)
    gz_text = tmp_path / "notes.wat.gz"
    gz_text.write_bytes(gzip.compress(b"this is not a WARC file\n" * 50))
    empty = tmp_path / "empty.wat.gz"
    empty.write_bytes(b"")
    for path, status in ((garbage, "corrupt"), (text, "corrupt"), (gz_text, "corrupt"), (empty, "corrupt"),
                         (tmp_path / "missing.wat.gz", "unreadable")):
        for reader in ("fastwarc", "warcio"):
            out, file_row = run(str(path), "wat", reader)
            assert out == [] and file_row["status"] == status and file_row["records"] == 0, (path, reader)
            assert file_row["error"]


def test_sample_generator_is_deterministic_and_realistic(tmp_path):
    a = write_sample(str(tmp_path / "a"), n_pages=30, n_files=2, seed=3)
    b = write_sample(str(tmp_path / "b"), n_pages=30, n_files=2, seed=3)
    for fmt in ("wat", "warc"):
        assert [open(p, "rb").read() for p in a[fmt]] == [open(p, "rb").read() for p in b[fmt]]
    pages = list(realistic_pages(200, seed=1))
    n_images = [len(p.images) for p in pages]
    assert 10 <= sum(n_images) / len(pages) <= 30  # about 18 images per page
    out, file_row = run(a["wat"][0], "wat", max_record_bytes=4 << 20)
    assert file_row["status"] == "ok" and file_row["pages"] == 15 and file_row["rows"] > 0
    assert file_row["links"] == file_row["link_rows"] + file_row["rejects"] + file_row["no_text_dropped"]


def test_wat_and_warc_writers_agree_on_offsets(tmp_path):
    pages = list(realistic_pages(5, seed=2))
    warc = str(tmp_path / "x.warc.gz")
    records = write_warc(warc, pages)
    write_wat(str(tmp_path / "x.warc.wat.gz"), pages, "x.warc.gz", records)
    wat_rows, _ = run(str(tmp_path / "x.warc.wat.gz"), "wat", max_record_bytes=4 << 20)
    assert {r["warc_offset"] for r in wat_rows if r["kind"] == "row"} <= {o for o, _, _ in records}
