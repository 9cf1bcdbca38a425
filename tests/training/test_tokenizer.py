"""Tokenizer: trained on multilingual captions offline, saved in HF layout, loaded back by path."""

from __future__ import annotations

import json

import pytest

from training.demo_data import LANGUAGES, caption
from training.tokenizer import clean_text, load_tokenizer, train_tokenizer


@pytest.fixture(scope="module")
def tok():
    texts = [caption(lang, c, s, p, v) for lang in LANGUAGES for c in range(4) for s in range(3)
             for p in range(4) for v in range(2)]
    return train_tokenizer(texts, vocab_size=300, context_length=12)


def test_layout_bos_eos_pad_and_truncation(tok):
    ids = tok(["a red circle on the left", "左边有一个红色的圆形", "x " * 50]).tolist()
    for row in ids:
        assert len(row) == 12 and row[0] == tok.bos_id and tok.eos_id in row
        first_eos = row.index(tok.eos_id)
        assert all(t == tok.pad_id for t in row[first_eos + 1:])
    assert ids[2][-1] == tok.eos_id  # truncation keeps the end-of-text token the text tower pools at


def test_save_and_load_round_trip_as_hf_tokenizer(tok, tmp_path):
    tok.save(str(tmp_path))
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert config["eos_token"] == "</s>" and config["pad_token"] == "<pad>"
    again = load_tokenizer(str(tmp_path), context_length=12)
    texts = ["赤色の丸が左にある", "ein Kreis in Rot , links"]
    assert again(texts).tolist() == tok(texts).tolist()
    assert again.vocab_size == tok.vocab_size
    # a tokenizer.json file path works as well
    assert load_tokenizer(str(tmp_path / "tokenizer.json"), 12)(texts).tolist() == tok(texts).tolist()


def test_foreign_hf_tokenizer_special_tokens_from_config(tmp_path):
    """A BERT-style tokenizer.json: [CLS]/[SEP]/[PAD] are found from special_tokens_map.json."""
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "red": 4, "circle": 5}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "special_tokens_map.json").write_text(json.dumps(
        {"cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]"}))
    t = load_tokenizer(str(tmp_path), context_length=6)
    assert (t.bos_id, t.eos_id, t.pad_id) == (2, 3, 0)
    assert t(["red  circle\tblue"]).tolist() == [[2, 4, 5, 1, 3, 0]]


def test_clean_text():
    assert clean_text(" a\tb \n c ") == "a b c"
