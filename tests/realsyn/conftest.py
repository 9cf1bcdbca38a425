"""Shared RealSyn test assets: a tiny random-weight CLIP export, a tiny local causal LM, a KenLM ARPA."""

from __future__ import annotations

import pytest

SENTENCES = ["a red circle on the left", "a blue square at the top", "the weather was nice yesterday",
             "un cercle rouge à gauche", "红色的圆形在左边", "ein Kreis in Rot , links"]


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory) -> str:
    pytest.importorskip("open_clip")
    from curation.realsyn.demo import make_demo_model

    return make_demo_model(str(tmp_path_factory.mktemp("clip")), SENTENCES * 5, seed=0)


@pytest.fixture(scope="session")
def tiny_causal_lm(tmp_path_factory) -> str:
    """A 2-layer GPT-2 with random weights and a word-level tokenizer, saved locally."""
    transformers = pytest.importorskip("transformers")
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {"<unk>": 0, "<s>": 1, "<pad>": 2}
    for s in SENTENCES:
        for w in s.split():
            vocab.setdefault(w, len(vocab))
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tok = transformers.PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", bos_token="<s>",
                                               pad_token="<pad>")
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=2, n_head=2,
                                  bos_token_id=1, eos_token_id=1, pad_token_id=2)
    model = transformers.GPT2LMHeadModel(cfg)
    path = str(tmp_path_factory.mktemp("causal_lm"))
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


ARPA = """\\data\\
ngram 1=5
ngram 2=1

\\1-grams:
-1.0\t<unk>\t0
-99\t<s>\t0
-0.5\t</s>\t0
-0.30103\ta\t0
-0.60206\tb\t0

\\2-grams:
-0.1\t<s> a

\\end\\
"""


@pytest.fixture(scope="session")
def tiny_arpa(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("kenlm") / "tiny.arpa"
    path.write_text(ARPA, encoding="utf-8")
    return str(path)
