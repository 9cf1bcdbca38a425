"""CLIC sample builder: texts of a sample, partners, sources (table, captions files), batches."""

from __future__ import annotations

import io
import json
import random
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
import torch
from PIL import Image

from training.clic.data import (
    CaptionsFileSource,
    CLICBatchMaker,
    CLICDataset,
    TableSource,
    make_clic_loader,
    make_texts,
    open_source,
    plan_window,
)
from training.clic.pos import TaggerRegistry, lexicon_tagger
from training.demo_data import write_table
from training.reader import Record

COLOURS = ("red", "green", "blue", "yellow", "white", "black")
SHAPES = ("circle", "square", "triangle", "star", "ring", "cross")
LEXICON = {**{c: "ADJ" for c in COLOURS}, **{s: "NOUN" for s in SHAPES}, "a": "DET", "the": "DET", "on": "ADP",
           "is": "AUX", "left": "ADV", "right": "ADV", "top": "ADV", "bottom": "ADV"}


def registry() -> TaggerRegistry:
    reg = TaggerRegistry(auto_spacy=False)
    reg.register("en", lexicon_tagger(LEXICON, "en"))
    return reg


def jpeg(w: int, h: int, colour=(200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), colour).save(buf, format="JPEG")
    return buf.getvalue()


def caption(i: int, n_sentences: int = 3) -> str:
    c, s = COLOURS[i % 6], SHAPES[(i // 6) % 6]
    parts = [f"The image shows a {c} {s} on the left", f"the {s} is {c} and small", f"a small {c} {s} sits there",
             f"nothing else is in view {i}"]
    return ". ".join(parts[:n_sentences]) + "."


# ---------------------------------------------------------------- texts of one sample


def test_make_texts_structure_and_determinism():
    a = ["a red circle on the left", "the circle is red", "a small red circle"]
    b = ["a blue square on the right", "the square is blue"]
    out = make_texts("uid-1", a, "en", b, "en", seed=3, epoch=0, registry=registry())
    a_first, texts, fallback, swapped = out
    p1, p2, p3, p4, neg = texts
    assert p1 == "a red circle on the left. a blue square on the right."
    assert p2 == "a blue square on the right. a red circle on the left."
    # p3/p4: one extra sentence of each caption; B has one extra sentence, so it is used twice
    for p in (p3, p4):
        assert "the square is blue." in p and ("the circle is red." in p or "a small red circle." in p)
    assert {p3.replace("the square is blue.", "").strip(), p4.replace("the square is blue.", "").strip()} == \
        {"the circle is red.", "a small red circle."}  # A's two extras, drawn without replacement
    # the negative: same words as p1, one ADJ/NOUN/ADV word swapped between the sentences
    assert not fallback and swapped
    assert Counter(neg.replace(".", "").split()) == Counter(p1.replace(".", "").split()) and neg not in (p1, p2)
    assert make_texts("uid-1", a, "en", b, "en", seed=3, epoch=0, registry=registry()) == out
    draws = {tuple(make_texts("uid-1", a, "en", b, "en", seed=s, epoch=e, registry=registry())[1][2:])
             for s in range(4) for e in range(4)}
    assert len(draws) > 1  # seed and epoch change the draws


def test_make_texts_counts_the_fallback():
    reg = TaggerRegistry(auto_spacy=False)  # no tagger for "xx": every word X -> random-word swap
    a = ["one two three four", "five six seven eight"]
    b = ["nine ten eleven twelve", "thirteen fourteen fifteen sixteen"]
    _, texts, fallback, swapped = make_texts("u", a, "xx", b, "xx", seed=0, epoch=0, registry=reg)
    assert fallback and swapped
    assert Counter(texts[4].replace(".", "").split()) == Counter(texts[0].replace(".", "").split())
    with pytest.raises(ValueError, match="two usable sentences"):
        make_texts("u", a[:1], "en", b, "en", seed=0, epoch=0, registry=reg)


def test_make_texts_no_space_language():
    reg = TaggerRegistry(auto_spacy=False)
    a = ["左边有一个红色的圆形", "这个圆形是红色的东西"]
    b = ["右边有一个蓝色的正方形", "这个正方形是蓝色的东西"]
    _, texts, _, _ = make_texts("u", a, "zh", b, "zh", seed=1, epoch=0, registry=reg)
    assert texts[0] == "左边有一个红色的圆形。右边有一个蓝色的正方形。"
    assert sorted(texts[4]) == sorted(texts[0])  # characters preserved by a word swap


# ---------------------------------------------------------------- windows


def recs(specs) -> list[Record]:
    """``specs``: (uid, caption, lang, (w, h)) -> records with JPEG payloads."""
    return [Record(u, c, lang, 0, jpeg(*size) if size else b"not an image") for u, c, lang, size in specs]


def test_plan_window_partners_orientation_language_and_stats():
    window = recs([
        ("w1", caption(0), "en", (64, 32)), ("w2", caption(1), "en", (50, 50)), ("w3", caption(2), "en", (80, 40)),
        ("t1", caption(3), "en", (30, 60)),  # the only tall image: no partner
        ("d1", caption(4), "de", (64, 32)),  # wide, but the only German one: partner of another language
        ("bad", caption(5), "en", None),  # undecodable
        ("u1", "Too short. Really.", "en", (64, 32)),  # unusable caption
    ])
    stats: Counter = Counter()
    samples = plan_window(window, seed=0, epoch=0, registry=registry(), stats=stats)
    by_uid = {s.uid: s for s in samples}
    assert set(by_uid) == {"w1", "w2", "w3", "d1"}
    assert stats["no_partner"] == 1 and stats["unusable_caption"] == 1 and stats["decode_error"] == 1
    assert stats["partner_other_language"] == 1 and stats["planned"] == 4 and stats["records"] == 7
    for u in ("w1", "w2", "w3"):
        assert by_uid[u].partner in {"w1", "w2", "w3"} - {u}  # same orientation and language, never itself
    assert by_uid["d1"].partner in {"w1", "w2", "w3"}
    assert by_uid["w1"].single_text == "a red circle on the left"  # opening stripped, first sentence
    # the result depends on the window's records, not their order
    shuffled = list(window)
    random.Random(5).shuffle(shuffled)
    again = plan_window(shuffled, seed=0, epoch=0, registry=registry())
    assert [(s.uid, s.partner, s.texts, s.a_first) for s in again] == \
        [(s.uid, s.partner, s.texts, s.a_first) for s in samples]


def test_partner_draw_is_spread_over_the_pool():
    window = recs([(f"w{i}", caption(i), "en", (40, 20)) for i in range(40)])
    samples = plan_window(window, seed=1, epoch=0, registry=registry())
    partners = Counter(s.partner for s in samples)
    assert len(samples) == 40 and len(partners) > 15  # not always the same partner


# ---------------------------------------------------------------- sources


def write_images(tmp_path, n: int) -> list[str]:
    names = []
    for i in range(n):
        name = f"img{i}.jpg"
        (tmp_path / name).write_bytes(jpeg(40 + i % 3, 30))
        names.append(name)
    return names


def test_captions_jsonl_windows_cover_every_record_once(tmp_path):
    names = write_images(tmp_path, 23)
    path = tmp_path / "caps.jsonl"
    path.write_text("\n".join(json.dumps({"image": n, "caption": caption(i), "lang": "en"})
                              for i, n in enumerate(names)) + "\n\n", encoding="utf-8")
    seen = []
    for rank in range(2):
        src = CaptionsFileSource(str(path), rank=rank, world_size=2, window=4)
        for worker in range(2):
            for w in src.windows(worker, 2, epoch=0):
                assert len(w) <= 4
                seen += [r.uid for r in w]
    assert sorted(seen) == sorted(names)  # no overlap, no gap
    src = CaptionsFileSource(str(path), window=23)
    e0, e1 = next(src.windows(0, 1, 0)), next(src.windows(0, 1, 1))
    assert [r.uid for r in e0] != [r.uid for r in e1] and sorted(r.uid for r in e0) == sorted(names)
    assert e0[0].payload == str(tmp_path / e0[0].uid)  # paths relative to the file


def test_captions_csv_with_header_and_headerless(tmp_path):
    names = write_images(tmp_path, 3)
    (tmp_path / "h.csv").write_text("uid,image,caption,lang\n" + "".join(
        f'id{i},{n},"{caption(i)}",en\n' for i, n in enumerate(names)), encoding="utf-8")
    got = next(CaptionsFileSource(str(tmp_path / "h.csv")).windows(0, 1, 0))
    assert sorted(r.uid for r in got) == ["id0", "id1", "id2"] and {r.lang for r in got} == {"en"}
    # the reference's CSV: image, then the caption's sentences in columns
    (tmp_path / "ref.tsv").write_text("".join(f"{n}\tA red circle on the left\tthe circle is red and small\n"
                                              for n in names), encoding="utf-8")
    got = next(CaptionsFileSource(str(tmp_path / "ref.tsv")).windows(0, 1, 0))
    assert got[0].text == "A red circle on the left. the circle is red and small."
    assert len(plan_window(got, seed=0, epoch=0, registry=registry())) == 3


def test_captions_file_errors(tmp_path):
    bad = tmp_path / "bad.jsonl"
    for content in ('{"image": "x.jpg"}\n', "not json\n", "[1, 2]\n"):
        bad.write_text(content, encoding="utf-8")
        with pytest.raises(ValueError, match="bad.jsonl:1"):  # the constructor checks the first line
            CaptionsFileSource(str(bad))
    with pytest.raises(FileNotFoundError):
        CaptionsFileSource(str(tmp_path / "none.jsonl"))
    (tmp_path / "x.txt").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="must end with"):
        CaptionsFileSource(str(tmp_path / "x.txt"))


def long_caption_table(tmp_path, n: int = 60) -> str:
    rng = np.random.default_rng(0)
    rows = {"uid": [f"{i:032x}" for i in range(n)], "text": [caption(i) for i in range(n)],
            "lang": ["en"] * n,
            "jpg": [jpeg(64, 32) if rng.random() < 0.7 else jpeg(32, 64) for _ in range(n)]}
    uri = str(tmp_path / "long")
    write_table(pa.table(rows), uri, "parquet", num_files=2, row_group_size=8)
    return uri


def test_table_source_plans_every_row_once_across_ranks_and_workers(tmp_path):
    uri = long_caption_table(tmp_path)
    firsts = []
    for rank in range(2):
        src = open_source(uri, rank=rank, world_size=2, block_units=2)
        assert isinstance(src, TableSource)
        for worker in range(2):
            for window in src.windows(worker, 2, epoch=1):
                firsts += [s.uid for s in plan_window(window, seed=0, epoch=1, registry=registry())]
    assert len(firsts) == len(set(firsts))
    assert len(firsts) >= 55  # all but the images with no same-orientation partner in their window


def test_batches_with_tokenizer_transform_and_workers(tmp_path):
    from training.tokenizer import train_tokenizer

    uri = long_caption_table(tmp_path, 40)
    tok = train_tokenizer([caption(i) for i in range(40)], vocab_size=120, context_length=24)
    tf = lambda im: torch.from_numpy(np.asarray(im.resize((16, 16)), dtype=np.float32)).permute(2, 0, 1)  # noqa: E731
    maker = CLICBatchMaker(open_source(uri, block_units=8), batch_size=4, tokenizer=tok, transform=tf,
                           registry=registry(), join_size=32)
    ds = CLICDataset(maker)
    batches = list(make_clic_loader(ds, num_workers=2))
    assert batches
    b = batches[0]
    assert b["texts"].shape == (5, 4, 24) and b["single_texts"].shape == (4, 24)
    assert b["images"].shape == (4, 3, 16, 16) and b["single_images"].shape == (4, 3, 16, 16)
    seen = [u for x in batches for u in x["uids"]]
    assert len(seen) == len(set(seen))
    total = Counter()
    for x in batches:
        total.update(x["stats"])
    assert total["samples"] == len(seen)  # each batch carries the counts of its own samples
    assert total["fallback_swaps"] == 0  # the word list tags every content word
    # the same epoch again gives the same batches (set by uid, worker order aside)
    again = {u for x in make_clic_loader(ds, num_workers=2) for u in x["uids"]}
    assert again == set(seen)
