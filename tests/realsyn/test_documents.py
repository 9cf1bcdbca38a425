"""OBELICS-layout validation and extraction (pure functions, no Spark)."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import pytest

from curation.ids import image_uid
from curation.realsyn import documents as d
from curation.realsyn import rules
from curation.realsyn.extract import ExtractParams, document_sentences, extract_batch

FIXTURE = os.path.join(os.path.dirname(__file__), "fixtures", "obelics_tiny.jsonl")


@pytest.mark.parametrize("texts,images,meta,general,reason", [
    (["a", None], [None, "https://x.org/i.jpg"], None, None, None),
    ("abc", [], None, None, d.NOT_LISTS),
    (None, [None], None, None, d.NOT_LISTS),
    (["a", None], [None], None, None, d.UNALIGNED),
    ([], [], None, None, d.EMPTY_DOCUMENT),
    (["a", None], [None, None], None, None, d.BOTH_NULL),
    (["a"], ["https://x.org/i.jpg"], None, None, d.BOTH_SET),
    ([1], [None], None, None, d.NOT_LISTS),
    (["a"], [None], "{oops", None, d.BAD_METADATA),
    (["a"], [None], json.dumps([None, None]), None, d.BAD_METADATA),   # wrong length
    (["a"], [None], json.dumps(["x"]), None, d.BAD_METADATA),          # entry not an object
    (["a"], [None], json.dumps([None]), "[1]", d.BAD_GENERAL_METADATA),
    (["a"], [None], json.dumps([None]), "{bad", d.BAD_GENERAL_METADATA),
    (["a"], [None], "null", "", None),
])
def test_document_reject_reason(texts, images, meta, general, reason):
    assert d.document_reject_reason(texts, images, meta, general) == reason


def test_too_many_positions():
    n = d.MAX_POSITIONS + 1
    assert d.document_reject_reason(["t"] * n, [None] * n) == d.TOO_MANY_POSITIONS


def test_document_elements_sizes_urls_and_long_texts():
    url = "https://img.example.org/a.jpg"
    meta = json.dumps([None, {"original_width": 640, "original_height": 480}, {"width": 50.0, "height": "x"}, None,
                       {"src": "data:"}])
    texts = ["hello", None, None, "x" * (d.MAX_TEXT_CHARS + 1), None]
    images = [None, url, "http://img.example.org/b.png", None, "data:image/png;base64,AAAA"]
    imgs, txts, rejects = d.document_elements(texts, images, meta)
    assert [(i.position, i.uid, i.width, i.height) for i in imgs] == [
        (1, image_uid(url), 640, 480), (2, image_uid("http://img.example.org/b.png"), 50, None)]
    assert [(t.position, t.text) for t in txts] == [(0, "hello")]
    assert [(r.position, r.reason) for r in rejects] == [(3, d.TEXT_TOO_LONG), (4, d.BAD_URL)]


def test_document_id_is_content_hash():
    a = d.document_id(["x", None], [None, "u"], None, None)
    assert a == d.document_id(("x", None), (None, "u"), None, None) and len(a) == 24
    assert a != d.document_id(["x", None], [None, "v"], None, None)


def test_document_sentences_cleans_before_splitting():
    text = "See https://a.b/c.d.e now. Second 😀 sentence here!\n\nThird line"
    assert document_sentences(text) == ["See now.", "Second sentence here!", "Third line"]


def _fixture_table() -> pa.Table:
    rows = []
    for line in open(FIXTURE, encoding="utf-8"):
        r = json.loads(line)
        meta, general = r["metadata"], r["general_metadata"]
        rows.append({"doc_id": r["id"], "texts": r["texts"] if isinstance(r["texts"], list) else None,
                     "images": r["images"], "duplicate": False,
                     "metadata": meta if meta is None or isinstance(meta, str) else json.dumps(meta),
                     "general_metadata": general if general is None or isinstance(general, str)
                     else json.dumps(general)})
    return pa.Table.from_pylist(rows)


def test_extract_batch_on_fixture():
    out = extract_batch(_fixture_table(), ExtractParams()).to_pylist()
    by_kind = {k: [r for r in out if r["kind"] == k] for k in ("reject", "image", "sentence")}
    doc_rejects = {r["doc_id"]: r["reason"] for r in by_kind["reject"] if r["position"] is None}
    assert doc_rejects == {"unaligned": d.UNALIGNED, "both-null": d.BOTH_NULL, "both-set": d.BOTH_SET,
                           "texts-not-list": d.NOT_LISTS, "bad-metadata": d.BAD_METADATA, "empty": d.EMPTY_DOCUMENT}
    # the raw row is kept with a document reject
    assert next(r for r in by_kind["reject"] if r["doc_id"] == "unaligned")["texts"] == ["one", None]
    element = [(r["doc_id"], r["position"], r["reason"]) for r in by_kind["reject"] if r["position"] is not None]
    assert element == [("nested-metadata", 1, d.BAD_URL)]
    images = {(r["doc_id"], r["position"]): (r["width"], r["height"], r["reason"]) for r in by_kind["image"]}
    assert images == {("good-en", 1): (640, 480, None), ("good-zh", 1): (64, 64, rules.TOO_SMALL),
                      ("nested-metadata", 2): (1200, 300, rules.BAD_ASPECT)}
    sentences = [(r["doc_id"], r["position"], r["sent_index"], r["text"], r["lang"], r["reason"])
                 for r in by_kind["sentence"]]
    assert sentences[:3] == [
        ("good-en", 0, 0, "A red circle sits on the left side of the page.", "en", None),
        ("good-en", 0, 1, "It was drawn by hand!", "en", None),
        ("good-en", 0, 2, "Visit for more", "en", None)]
    zh = [s for s in sentences if s[0] == "good-zh"]
    assert [s[3] for s in zh] == ["下面的照片展示了一个红色的圆形。", "这是我们画的。"]
    assert all(s[4] == "zh" for s in zh)
    assert all(r["n_words"] >= 3 for r in by_kind["sentence"] if r["reason"] is None)


def test_extract_batch_marks_duplicates_and_length():
    t = pa.table({"doc_id": ["a", "a"], "texts": [["Hi there", None]] * 2, "images": [[None, None]] * 2,
                  "metadata": [None, None], "general_metadata": [None, None], "duplicate": [False, True]})
    out = extract_batch(t, ExtractParams()).to_pylist()
    assert [(r["kind"], r["reason"]) for r in out] == [("reject", d.BOTH_NULL), ("reject", d.DUPLICATE_DOCUMENT)]
    t = pa.table({"doc_id": ["a"], "texts": [["Hi there. A longer sentence here."]], "images": [[None]],
                  "metadata": [None], "general_metadata": [None], "duplicate": [False]})
    out = extract_batch(t, ExtractParams()).to_pylist()
    assert [(r["text"], r["n_words"], r["reason"]) for r in out] == [
        ("Hi there.", 2, rules.TOO_FEW_WORDS), ("A longer sentence here.", 4, None)]
