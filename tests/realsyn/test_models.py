"""Model-backed pieces: CLIP embedder (fixed-shape batches), perplexity scorers (KenLM, transformers)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

from curation.realsyn import perplexity
from curation.realsyn.embed import ClipEmbedder, get_embedder
from curation.realsyn.phash import dhash


def _jpeg(colour, size=(120, 110), quality=90) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (240, 240, 240))
    ImageDraw.Draw(img).ellipse((20, 20, 80, 80), fill=colour)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def test_text_embeddings_do_not_depend_on_batch_mates(tiny_clip):
    model = ClipEmbedder(tiny_clip, device="cpu", batch_size=4)
    texts = ["a red circle on the left", "the weather was nice", "红色的圆形在左边", "x", "un cercle", "foo bar",
             "a blue square"]
    all_at_once = model.embed_texts(texts)
    assert all_at_once.dtype == np.float32 and all_at_once.shape == (7, model.dim)
    np.testing.assert_allclose(np.linalg.norm(all_at_once, axis=1), 1.0, atol=1e-5)
    for i, t in enumerate(texts):   # alone, and with other mates in another order
        assert np.array_equal(model.embed_texts([t])[0], all_at_once[i])
    assert np.array_equal(model.embed_texts(texts[::-1])[::-1], all_at_once)


def test_image_decode_and_embed(tiny_clip):
    model = get_embedder(tiny_clip, "cpu", 4)
    assert get_embedder(tiny_clip, "cpu", 4) is model   # once per process
    blobs = [_jpeg((200, 20, 20)), None, b"\xff\xd8garbage", _jpeg((20, 20, 200), size=(300, 90))]
    d = model.decode(blobs)
    assert d.ok.tolist() == [True, False, False, True]
    assert (d.width.tolist(), d.height.tolist()) == ([120, 0, 0, 300], [110, 0, 0, 90])
    emb = model.embed_pixels(d.pixels)
    assert emb.shape == (2, model.dim)
    again = model.embed_pixels(d.pixels[::-1])[::-1]
    assert np.array_equal(emb, again)


def test_dhash_survives_reencoding_but_not_content_change():
    from PIL import Image

    a = dhash(Image.open(io.BytesIO(_jpeg((200, 20, 20)))))
    b = dhash(Image.open(io.BytesIO(_jpeg((200, 20, 20), quality=60))))
    c = dhash(Image.open(io.BytesIO(_jpeg((200, 20, 20), size=(60, 120)))))
    assert a == b and a != c
    assert -(2 ** 63) <= a < 2 ** 63


def test_bad_model_specs():
    with pytest.raises(FileNotFoundError):
        ClipEmbedder("/nonexistent/model")
    with pytest.raises(FileNotFoundError):
        ClipEmbedder("open_clip:ViT-B-32@/nonexistent.bin")
    with pytest.raises(FileNotFoundError):
        perplexity.load_scorer("gpt2-large")  # a hub name: never fetched
    assert perplexity.load_scorer(None) is None and perplexity.load_scorer("") is None


def test_kenlm_perplexity_hand_computed(tiny_arpa):
    pytest.importorskip("kenlm")
    scorer = perplexity.load_scorer(tiny_arpa)
    # log10 p: <s> a = -0.1; a b: backoff(a)=0 + p(b) = -0.60206; b </s>: 0 + -0.5 -> 3 tokens
    expected = 10 ** (-(-0.1 - 0.60206 - 0.5) / 3)
    assert scorer.score(["a b"])[0] == pytest.approx(expected, rel=1e-6)
    assert math.isnan(scorer.score(["   "])[0])
    assert perplexity.load_scorer(f"kenlm:{tiny_arpa}").name.startswith("kenlm:")


def test_transformers_perplexity_matches_definition(tiny_causal_lm):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    scorer = perplexity.load_scorer(f"hf:{tiny_causal_lm}")
    texts = ["a red circle on the left", "the weather was nice yesterday", "a blue square at the top"]
    got = scorer.score(texts)
    tok = AutoTokenizer.from_pretrained(tiny_causal_lm)
    lm = AutoModelForCausalLM.from_pretrained(tiny_causal_lm).eval()
    for text, value in zip(texts, got):
        ids = torch.tensor([[tok.bos_token_id] + tok(text, add_special_tokens=False)["input_ids"]])
        with torch.no_grad():
            logp = torch.log_softmax(lm(ids).logits[0, :-1].double(), -1)
        nll = -logp.gather(-1, ids[0, 1:, None]).mean().item()   # exp(-(1/t) Σ ln p(x_i | x_<i))
        assert value == pytest.approx(math.exp(nll), rel=1e-4)
    # a sentence's score does not depend on the other sentences scored with it
    assert scorer.score(texts[1:2])[0] == got[1]
    assert scorer.score(texts[::-1])[::-1].tolist() == got.tolist()
