"""The Arrow forms of the rules (``curation.columnar``) equal the scalar rules row by row (bit for bit)."""

from __future__ import annotations

import hashlib
import os

import numpy as np
import pyarrow as pa
import pytest

from curation import columnar, lid, validation
from curation.balancing import keep_probability
from curation.ids import image_uid, is_valid_url
from curation.matching import Matcher, pad_text
from curation.samples.alt_texts import read_alt_texts_jsonl
from curation.sampling import choice_key, keep_uniform

from .fixtures.hostile_corpus import CASES

MAX = 50
CORPUS = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "data", "corpus_1m")
ENTRIES = {"en": ["cat", "black cat", "sofa", "red", "car", "photo", "the", "a"],
           "de": ["Katze", "Sofa"], "zh": ["猫", "沙发"], "fr": [], "ar": ["قطة"]}


def reference_annotate(urls, texts, uids, max_text_chars, lid_min_score):
    """The scalar rules, one row at a time."""
    model = lid.get_model()
    out = {k: [] for k in ("uid", "lid_label", "lang", "lang_score", "reject_reason")}
    for i, (url, text) in enumerate(zip(urls, texts)):
        given = uids[i] if uids is not None else None
        out["uid"].append(given if isinstance(given, str) and given
                          else image_uid(url) if isinstance(url, str) else None)
        reason = validation.reject_reason(url, text, max_text_chars)
        label = lang = score = None
        if reason is None:
            (label,), (raw,) = model.predict(lid._clean(text), k=1)
            label = label[len("__label__"):]
            lang = lid.to_metadata_lang(label)
            score32 = np.float32(min(float(raw), 1.0))
            score = float(score32)
            if score32 < lid_min_score:
                reason = validation.LOW_LID_SCORE
        for k, v in (("lid_label", label), ("lang", lang), ("lang_score", score), ("reject_reason", reason)):
            out[k].append(v)
    return out


def reference_match(langs, texts, priors, entries):
    matchers = {lang: Matcher(e) for lang, e in entries.items()}
    ids_out, reasons = [], []
    for lang, text, prior in zip(langs, texts, priors):
        if prior is not None:
            ids_out.append(None)
            reasons.append(prior)
        elif lang not in entries:
            ids_out.append(None)
            reasons.append(validation.NO_METADATA_LANGUAGE)
        else:
            ids = matchers[lang].match(text)
            ids_out.append(ids or None)
            reasons.append(None if ids else validation.UNMATCHED)
    return ids_out, reasons


def _bits(values):
    return np.asarray(values, np.float64).view(np.int64).tolist()


def check_rows(urls, texts, uids=None, max_text_chars=MAX, lid_min_score=0.3, entries=ENTRIES):
    """Every Arrow function equals the scalar reference on these rows."""
    ref = reference_annotate(urls, texts, uids, max_text_chars, lid_min_score)
    u = pa.array(urls, pa.string())
    t = pa.array(texts, pa.string())
    g = pa.array(uids, pa.string()) if uids is not None else None
    got = columnar.annotate_lid_arrow(u, t, g, max_text_chars, lid_min_score)
    assert got["lang_score"].type == pa.float32()
    for k in ref:
        assert got[k].to_pylist() == ref[k], k

    ids_ref, reasons_ref = reference_match(ref["lang"], texts, ref["reject_reason"], entries)
    fp = f"test-{hashlib.sha1(repr(sorted(entries.items())).encode()).hexdigest()}"
    ids, reasons = columnar.match_arrow(got["lang"], t, got["reject_reason"], entries, fp)
    assert ids.type == pa.list_(pa.int32())
    assert ids.to_pylist() == ids_ref and reasons.to_pylist() == reasons_ref

    keep = [i for i, r in enumerate(reasons_ref) if r is None]
    if not keep:
        return ref
    rng = np.random.default_rng(len(keep))
    probs = {k: rng.random(len(v)).astype(np.float32) for k, v in entries.items()}
    m_uids, m_texts = [ref["uid"][i] for i in keep], [texts[i] for i in keep]
    m_langs, m_ids = [ref["lang"][i] for i in keep], [ids_ref[i] for i in keep]
    sel = pa.array(keep, pa.int64())
    for seed, epoch in ((0, 0), (12345, 3)):
        out = columnar.sampling_keys_arrow(seed, epoch, got["uid"].take(sel), t.take(sel), got["lang"].take(sel),
                                           ids.take(sel), probs)
        assert out["choice_key"].type == pa.int64() and out["keep_prob"].type == pa.float64()
        assert out["choice_key"].to_pylist() == [choice_key(seed, epoch, a, b) for a, b in zip(m_uids, m_texts)]
        assert _bits(out["keep_uniform"]) == _bits([keep_uniform(seed, epoch, a) for a in m_uids])
        assert _bits(out["keep_prob"]) == _bits([keep_probability(probs[la][np.asarray(e, np.int64)])
                                                 for la, e in zip(m_langs, m_ids)])
    n_entries = {k: len(v) for k, v in entries.items()}
    counts = columnar.count_entries_arrow(got["lang"].take(sel), ids.take(sel), n_entries)
    assert list(counts) == list(dict.fromkeys(m_langs))
    for lang in counts:
        expected = np.zeros(n_entries[lang], np.int64)
        for la, e in zip(m_langs, m_ids):
            if la == lang:
                expected[e] += 1
        assert counts[lang].tolist() == expected.tolist()
    return ref


EDGE = [  # (url, text, given uid)
    ("https://a.org/1.jpg", "a black cat on the red sofa", None),
    ("https://a.org/1.jpg", "a black cat on the red sofa", "given-uid"),  # same text again, given uid
    ("https://a.org/2.jpg", None, None),
    ("https://a.org/3.jpg", "", ""),
    ("https://a.org/4.jpg", "   \t ", None),
    ("https://a.org/5.jpg", "\u3000\u00a0\u2028", None),
    ("https://a.org/6.jpg", "\u3000black cat\u00a0", None),
    ("https://a.org/7.jpg", "caf\ufffd au lait", None),
    ("HTTP://A.ORG/8.jpg", "a red car in the city", None),
    ("Https://a.org/8b.jpg", "a red car in the city", None),
    ("https://a.org/9 x.jpg", "a red car", None),
    ("https://a.org/10\x07.jpg", "a red car", None),
    ("https://a.org/\u3000.jpg", "a red car", None),
    ("https://a.org:8080/11.jpg?x=1#f", "a red car", None),
    ("https://a.org:99999999/11b.jpg", "a red car", None),
    ("http://[::1]:80/12.jpg", "a red car", None),
    ("http://[::1/12b.jpg", "a red car", None),
    ("http://user:pw@a.org/13.jpg", "a red car", None),
    ("http://:80/14.jpg", "a red car", None),
    ("http:///15.jpg", "a red car", None),
    ("https://bücher.de/16.jpg", "eine schwarze Katze auf dem Sofa", None),
    ("about:blank", "a red car", None),
    ("/relative/17.jpg", "a red car", None),
    ("//a.org/18.jpg", "a red car", None),
    ("ftp://a.org/19.jpg", "a red car", None),
    ("", "a red car", None),
    (None, "a red car", None),
    (None, "a red car", "uid-without-url"),
    ("https://a.org/20.jpg", "x" * MAX, None),
    ("https://a.org/21.jpg", "x" * (MAX + 1), None),
    ("https://a.org/22.jpg", "😀" * MAX, None),  # non-BMP: one code point each
    ("https://a.org/23.jpg", "😀" * (MAX + 1), None),
    ("https://a.org/24.jpg", " " * 60 + "cat", None),  # too long although short when stripped
    ("https://a.org/25.jpg", "line one\nline two\r\n cat", None),
    ("https://a.org/26.jpg", "punctuated, cat. sofa; red: car? yes! `photo`", None),
    ("https://a.org/27.jpg", "这是一只可爱的黑色小猫", None),
    ("https://a.org/28.jpg", "eine schwarze Katze auf dem Sofa", None),
    ("https://a.org/29.jpg", "un chat noir sur le canapé rouge", None),  # fr: empty metadata list
    ("https://a.org/30.jpg", "кошка на диване", None),  # ru: no metadata
    ("https://a.org/31.jpg", "\x00\x1c\x1d", None),
    ("https://a.org/32.jpg", "12345", None),
    ("https://a.org/" + "p" * 5000, "a red car", None),
]


def test_edge_cases():
    urls, texts, uids = map(list, zip(*EDGE))
    ref = check_rows(urls, texts, uids)
    assert ref["reject_reason"][2:6] == ["null_text", "empty_text", "empty_text", "empty_text"]
    # upper-case schemes are outside the fast path yet valid (urlsplit lower-cases the scheme)
    assert ref["reject_reason"][7:11] == ["invalid_utf8", None, None, "bad_url"]
    assert ref["uid"][1] == "given-uid" and ref["uid"][3] == image_uid(urls[3])
    check_rows(urls, texts, None)
    check_rows(urls, texts, uids, lid_min_score=0.0)
    check_rows(urls, texts, uids, lid_min_score=0.9)


def test_all_null_and_empty_batches():
    check_rows([None, None], [None, None])
    check_rows([], [])
    out = columnar.annotate_lid_arrow(pa.nulls(2), pa.nulls(2), pa.nulls(2), MAX, 0.0)
    assert out["reject_reason"].to_pylist() == ["null_text", "null_text"]
    assert out["uid"].to_pylist() == [None, None] and out["lang_score"].type == pa.float32()


def test_chunked_and_sliced_inputs():
    urls, texts, _ = map(list, zip(*EDGE))
    u = pa.chunked_array([pa.array(urls[:10], pa.string()), pa.array(urls[10:], pa.string())])
    t = pa.chunked_array([pa.array(texts[:10], pa.string()), pa.array(texts[10:], pa.string())])
    whole = columnar.annotate_lid_arrow(pa.array(urls, pa.string()), pa.array(texts, pa.string()), None, MAX, 0.0)
    chunked = columnar.annotate_lid_arrow(u, t, None, MAX, 0.0)
    assert {k: v.to_pylist() for k, v in whole.items()} == {k: v.to_pylist() for k, v in chunked.items()}
    sliced = columnar.annotate_lid_arrow(pa.array(urls, pa.string()).slice(5, 9),
                                         pa.array(texts, pa.string()).slice(5, 9), None, MAX, 0.0)
    assert {k: v.to_pylist() for k, v in sliced.items()} == {k: v.to_pylist()[5:14] for k, v in whole.items()}


def test_hostile_corpus():
    rows = [(u, t) for u, t, _ in CASES if not isinstance(t, bytes)]
    urls = [u for u, _ in rows]
    texts = [t if not isinstance(t, str) or not any(0xD800 <= ord(c) <= 0xDFFF for c in t) else t.replace(
        "\ud83d", "\ufffd") for _, t in rows]  # Arrow cannot hold a lone surrogate
    texts = [str(t) if isinstance(t, int) else t for t in texts]
    check_rows(urls, texts, max_text_chars=validation.DEFAULT_MAX_TEXT_CHARS)


def test_demo_data():
    table = read_alt_texts_jsonl()
    check_rows(table.column("url").to_pylist(), table.column("text").to_pylist(),
               max_text_chars=validation.DEFAULT_MAX_TEXT_CHARS, entries=_demo_entries())


def _demo_entries():
    from curation.metadata import read_metadata

    return {k: list(v) for k, v in read_metadata(None).entries.items()}


@pytest.mark.skipif(not os.path.isdir(CORPUS), reason="benchmark corpus not generated")
def test_benchmark_corpus_slice():
    import pyarrow.dataset as ds

    table = ds.dataset(CORPUS, format="parquet").head(20_000, columns=["url", "text"])
    check_rows(table.column("url").to_pylist(), table.column("text").to_pylist(),
               max_text_chars=validation.DEFAULT_MAX_TEXT_CHARS, lid_min_score=0.2, entries=_demo_entries())


def test_fast_prefilter_is_a_subset_of_the_scalar_rule():
    rng = np.random.default_rng(1)
    alphabet = list("abcAZ09.-:/?#[]@%_~ \t\x00\x7féü\u3000\ufffd") + ["http://", "https://", "HTTP://", "//"]
    urls, texts = [], []
    for _ in range(20_000):
        urls.append("".join(rng.choice(alphabet, rng.integers(0, 12))))
        texts.append("".join(rng.choice(list(" \t\n\u3000\u00a0\u2028x\ufffd😀"), rng.integers(0, 8))))
    urls += [u for u, _, _ in EDGE if u is not None]
    texts += [t for _, t, _ in EDGE if t is not None][:len(urls) - len(texts)]
    texts += ["x"] * (len(urls) - len(texts))
    mask = validation.fast_valid_mask(pa.array(urls), pa.array(texts), 5)
    assert mask.any()
    for url, text, ok in zip(urls, texts, mask.tolist()):
        if ok:
            assert validation.reject_reason(url, text, 5) is None and is_valid_url(url), (url, text)


def test_whitespace_table_matches_python():
    assert set(validation.PY_WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def test_pad_text_shortcut_equals_full_padding():
    for text in ["a", " a ", "a,b", "a\tb", "x.y;z", "`q`", "no punctuation here", "\u3000猫\u3000", "!"]:
        padded = f" {text.strip()} "
        for p in (",", ".", ";", ":", "?", "!", "`"):
            padded = padded.replace(p, f" {p} ")
        for c in ("\t", "\n", "\r"):
            padded = padded.replace(c, " ")
        assert pad_text(text) == padded


def test_keep_probability_vectorized_bits():
    rng = np.random.default_rng(2)
    n_entries = 500
    probs = {"a": rng.random(n_entries).astype(np.float32), "b": rng.random(n_entries).astype(np.float32)}
    probs["a"][:50] = 1.0
    langs, lists = [], []
    for i in range(5000):
        k = int(rng.integers(0, 31)) if i % 10 else int(rng.integers(31, 400))
        langs.append("a" if i % 3 else "b")
        lists.append(rng.integers(0, n_entries, k).tolist())
    expected = [keep_probability(probs[la][np.asarray(e, np.int64)]) for la, e in zip(langs, lists)]
    arrow = columnar.sampling_keys_arrow(0, 0, pa.array(["u"] * len(langs)), pa.array(["t"] * len(langs)),
                                         pa.array(langs), pa.array(lists, pa.list_(pa.int32())), probs)
    assert _bits(arrow["keep_prob"]) == _bits(expected)
    with pytest.raises(KeyError):  # a matched language always has probabilities
        columnar.sampling_keys_arrow(0, 0, pa.array(["u"]), pa.array(["t"]), pa.array(["zz"]),
                                     pa.array([[0]], pa.list_(pa.int32())), probs)


def test_lid_min_score_compares_in_float32():
    # a float32 score equal to float32(min) is not below it, as with the old per-row numpy compare
    texts = ["a black cat on the red sofa"]
    _, scores = lid.detect(texts)
    just_above = float(scores[0]) + 1e-12  # rounds to the same float32
    out = columnar.annotate_lid_arrow(pa.array(["https://a.org/x.jpg"]), pa.array(texts), None, MAX, just_above)
    assert out["reject_reason"].to_pylist() == [None if not (scores[0] < just_above) else "low_lid_score"]


def test_chosen_per_image_is_choose_text_for_every_image_of_a_grouped_batch():
    import random

    from curation.sampling import choice_key, choose_text

    rng = random.Random(5)
    uids, texts = [], []
    for image in range(300):
        n = rng.choice([1, 1, 2, 3, 7])
        words = [rng.choice(["a cat", "a dog", "the sea", "海", "red car"]) + str(rng.randint(0, 3)) for _ in range(n)]
        uids += [f"u{image:04d}"] * n
        texts += words  # repeated texts inside an image: the first one wins, as in choose_text
    keys = np.array([choice_key(3, 1, u, t) for u, t in zip(uids, texts)], dtype=np.int64)
    picked = columnar.chosen_per_image(pa.array(uids), keys)
    expected, start = [], 0
    while start < len(uids):
        end = start
        while end < len(uids) and uids[end] == uids[start]:
            end += 1
        expected.append(start + choose_text(3, 1, uids[start], texts[start:end]))
        start = end
    assert picked.tolist() == expected
    assert columnar.chosen_per_image(pa.array([], pa.string()), np.empty(0, np.int64)).tolist() == []
