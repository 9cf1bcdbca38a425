"""``Matcher.match_many_arrays`` and ``columnar.match_arrow`` built on it equal ``Matcher.match`` text by text."""

from __future__ import annotations

import random
from itertools import pairwise

import numpy as np
import pyarrow as pa
import pytest

from curation import columnar, validation
from curation.matching import SEPARATORS, Matcher
from curation.metadata import read_metadata
from curation.samples.alt_texts import read_alt_texts_jsonl

from .test_batch_arrow import reference_match  # the scalar rules, one row at a time

SPACED = ["cat", "black cat", "a", "the", "New York", "York City", "New York City", "C++", "cat", ".", ",",
          "x.y", "😀", "😀 cat", "Katze", "ล", "a b a"]
UNSPACED = ["猫", "黑猫", "猫的", "แมว", "แมวสีดำ", "ឆ្មា", "写真", "𠀀", "𠀀猫", "（猫）", "，"]
WITH_NUL = ["a\x00b", "cat", "\x00", "猫\x00"]
WITH_ALL_SEPARATORS = ["".join(SEPARATORS), "cat", "猫"]
ENTRY_LISTS = {"spaced": SPACED, "unspaced": UNSPACED, "mixed": SPACED + UNSPACED, "with_nul": WITH_NUL,
               "all_separators": WITH_ALL_SEPARATORS, "empty": [], "one": ["cat"]}

EDGE_TEXTS = [
    "", " ", "\t\n\r", "cat", "a black cat", "the New York City skyline", "New York", "York", "a b a b a",
    "cat cat cat", "cat, cat. cat", "C++, again", "x.y", "a black cat on the red sofa.",
    "cat\x00cat", "\x00", "\x00\x00", "\x00 cat", "cat \x00", "a\x00b", " a\x00b ", "\x01cat\x01", "cat\uffffcat",
    "\x00\x01\uffff", "猫\x00", "猫\x00猫",
    "😀cat😀", "😀 cat", " 😀 cat 😀 ", "😀😀😀", "𠀀猫", "黑猫写真", "一只黑猫的写真", "（猫）", "猫，猫",
    "แมวสีดำนอนอยู่", "ឆ្មាខ្មៅ", "\u3000black cat\u00a0", "\ud83d cat", "Katze\u2028cat",
    "cat " * 5000, "黑猫" * 5000, "x" * 20000 + " cat",
]


def assert_same(matcher: Matcher, texts: list[str]) -> None:
    offsets, ids = matcher.match_many_arrays(texts)
    assert offsets.dtype == np.int64 and ids.dtype == np.int32
    assert len(offsets) == len(texts) + 1 and offsets[0] == 0 and offsets[-1] == len(ids)
    got = [ids[a:b].tolist() for a, b in pairwise(offsets)]
    assert got == [matcher.match(t) for t in texts]


@pytest.mark.parametrize("name", sorted(ENTRY_LISTS))
def test_edge_cases(name):
    matcher = Matcher(ENTRY_LISTS[name])
    assert_same(matcher, EDGE_TEXTS)
    assert_same(matcher, EDGE_TEXTS[::-1])
    for text in EDGE_TEXTS:
        assert_same(matcher, [text])
    assert_same(matcher, [])


def test_separator_choice():
    assert Matcher(SPACED)._separator == "\x00"
    assert Matcher(WITH_NUL)._separator == "\x01"
    assert Matcher(WITH_ALL_SEPARATORS)._separator is None  # every text matched one by one


def test_no_match_spans_two_texts():
    matcher = Matcher(["New York", "黑猫", "ab"])
    assert_same(matcher, ["New", "York", "黑", "猫", "a", "b", "黑猫"])
    offsets, ids = matcher.match_many_arrays(["黑", "猫", "New", "York"])
    assert offsets.tolist() == [0, 0, 0, 0, 0] and ids.tolist() == []


def test_repeated_entry_keeps_last_id_and_overlaps_count():
    matcher = Matcher(["cat", "dog", "cat", " cat", "New York", "York City", "猫", "黑猫"])
    texts = ["cat", "a cat and a dog", "New York City", "黑猫", "猫黑猫", "  cat "]
    assert_same(matcher, texts)
    offsets, ids = matcher.match_many_arrays(texts)
    per_text = [ids[a:b].tolist() for a, b in pairwise(offsets)]
    assert per_text[:4] == [[2], [1, 2], [4, 5], [6, 7]]


def test_empty_metadata_list():
    offsets, ids = Matcher([]).match_many_arrays(["cat", "", "\x00"])
    assert offsets.tolist() == [0, 0, 0, 0] and ids.tolist() == []


def test_non_str_text_raises_as_the_scalar_rule():
    matcher = Matcher(["cat"])
    with pytest.raises(AttributeError):
        matcher.match(None)
    with pytest.raises(AttributeError):
        matcher.match_many_arrays(["cat", None])


ALPHABET = (list("abcxyz .,;:?!`\t\n\r-'") + ["\u3000", "\u00a0", "\u2028", "猫", "黑", "的", "写", "แ", "ม", "ว",
            "😀", "🐈", "𠀀", "，", "（", "）"] + list(SEPARATORS))


def _random_text(rng: random.Random, entries: list[str]) -> str:
    parts = []
    for _ in range(rng.randint(0, 8)):
        if entries and rng.random() < 0.5:
            parts.append(rng.choice(entries))
        else:
            parts.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 4))))
        parts.append(rng.choice(["", " ", " ", ".", ", ", "\x00", "\n"]))
    return "".join(parts)


def _random_entries(rng: random.Random) -> list[str]:
    words = [w for w in SPACED + UNSPACED if rng.random() < 0.5]
    words += ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 4))) for _ in range(rng.randint(0, 6))]
    words = [w for w in words if w.strip() or rng.random() < 0.3]
    rng.shuffle(words)
    return words + words[: rng.randint(0, 2)]  # some repeated entries


@pytest.mark.parametrize("seed", range(12))
def test_fuzzed_texts_and_entries(seed):
    rng = random.Random(seed)
    entries = SPACED + UNSPACED if seed % 3 == 0 else _random_entries(rng)
    matcher = Matcher(entries)
    texts = [_random_text(rng, entries) for _ in range(rng.choice([0, 1, 7, 500, 3000]))]
    assert_same(matcher, texts)


def _demo_entries() -> dict[str, list[str]]:
    return {k: list(v) for k, v in read_metadata(None).entries.items()}


def test_default_metadata_on_demo_alt_texts():
    texts = read_alt_texts_jsonl().column("text").to_pylist()
    texts = [t for t in texts if isinstance(t, str)]
    for entries in _demo_entries().values():
        assert_same(Matcher(entries), texts)


def check_batch(langs, texts, priors, entries, fingerprint):
    """``columnar.match_arrow`` equals the scalar rules on these rows."""
    expected = reference_match(langs, texts, priors, entries)
    ids, reasons = columnar.match_arrow(pa.array(langs, pa.string()), pa.array(texts, pa.string()),
                                     pa.array(priors, pa.string()), entries, fingerprint)
    assert ids.type == pa.list_(pa.int32()) and reasons.type == pa.string()
    assert (ids.to_pylist(), reasons.to_pylist()) == expected
    return expected


BATCH_ENTRIES = {"en": SPACED, "zh": UNSPACED, "fr": [], "xx": WITH_NUL, "yy": WITH_ALL_SEPARATORS}


def _random_batch(rng: random.Random, n: int):
    langs, texts, priors = [], [], []
    for _ in range(n):
        lang = rng.choice(["en", "en", "zh", "fr", "xx", "yy", "ru", None])
        entries = BATCH_ENTRIES.get(lang, [])
        text = rng.choice(texts) if texts and rng.random() < 0.2 else _random_text(rng, entries)  # duplicates
        langs.append(lang)
        texts.append(text.replace("\ud83d", "") if rng.random() < 0.9 else rng.choice(EDGE_TEXTS[:20]))
        priors.append(rng.choice([None] * 8 + ["empty_text", validation.LOW_LID_SCORE]))
    return langs, texts, priors


@pytest.mark.parametrize("seed", range(6))
def test_batch_functions_equal_the_scalar_rule(seed):
    rng = random.Random(100 + seed)
    langs, texts, priors = _random_batch(rng, [1, 50, 2000][seed % 3])
    expected = check_batch(langs, texts, priors, BATCH_ENTRIES, f"test-match-many-{seed}")
    if len(langs) > 1000:  # every kind of outcome occurs
        assert set(expected[1]) == {None, validation.UNMATCHED, validation.NO_METADATA_LANGUAGE,
                                    "empty_text", validation.LOW_LID_SCORE}


def test_batch_edge_shapes():
    fp = "test-match-many-shapes"
    check_batch([], [], [], BATCH_ENTRIES, fp)
    check_batch([None, "ru", "fr"], ["cat", "cat", "cat"], [None, None, None], BATCH_ENTRIES, fp)
    check_batch(["en", "en"], [None, "cat"], ["null_text", None], BATCH_ENTRIES, fp)
    check_batch(["en"] * 3, ["cat", "cat", "dog"], [None, "empty_text", None], BATCH_ENTRIES, fp)
    ids, reasons = columnar.match_arrow(pa.nulls(2), pa.nulls(2), pa.nulls(2), BATCH_ENTRIES, fp)
    assert ids.to_pylist() == [None, None] and ids.type == pa.list_(pa.int32())
    assert reasons.to_pylist() == [validation.NO_METADATA_LANGUAGE] * 2 and reasons.type == pa.string()


def test_batch_chunked_and_sliced_inputs():
    rng = random.Random(7)
    langs, texts, priors = _random_batch(rng, 300)
    fp = "test-match-many-chunked"
    whole = columnar.match_arrow(pa.array(langs), pa.array(texts), pa.array(priors, pa.string()), BATCH_ENTRIES, fp)

    def chunked(values):
        return pa.chunked_array([pa.array(values[:100], pa.string()), pa.array(values[100:], pa.string())])

    got = columnar.match_arrow(chunked(langs), chunked(texts), chunked(priors), BATCH_ENTRIES, fp)
    assert [a.to_pylist() for a in got] == [a.to_pylist() for a in whole]
    sliced = columnar.match_arrow(pa.array(langs).slice(40, 200), pa.array(texts, pa.large_string()).slice(40, 200),
                                  pa.array(priors, pa.string()).slice(40, 200), BATCH_ENTRIES, fp)
    assert [a.to_pylist() for a in sliced] == [a.to_pylist()[40:240] for a in whole]


def test_null_text_to_match_raises_as_the_scalar_rule():
    with pytest.raises(AttributeError):
        columnar.match_arrow(pa.array(["en"]), pa.array([None], pa.string()), pa.array([None], pa.string()),
                             BATCH_ENTRIES, "test-match-many-null")


def test_demo_alt_texts_through_the_batch_functions():
    table = read_alt_texts_jsonl()
    langs, texts = table.column("source_lang").to_pylist(), table.column("text").to_pylist()
    priors = [None if isinstance(t, str) else "null_text" for t in texts]
    expected = check_batch(langs, texts, priors, _demo_entries(), read_metadata(None).fingerprint())
    assert expected[1].count(None) > len(texts) // 4
