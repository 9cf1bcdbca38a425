"""Model factory: open_clip configs sized from the tokenizer; export in open_clip's local-dir layout."""

from __future__ import annotations

import json

import pytest
import torch

from training.model import create_model, export_model, fit_text_config, load_exported, resolve_model_config
from training.tokenizer import train_tokenizer


@pytest.fixture(scope="module")
def tok():
    return train_tokenizer(["a red circle", "un cercle rouge", "红色的圆形", "赤色の丸"] * 5, vocab_size=60,
                           context_length=16)


def test_worldwide_and_standard_configs_take_the_tokenizer_vocab(tok):
    for name in ("ViT-H-14-worldwide", "ViT-B-32"):
        cfg = fit_text_config(resolve_model_config(name), tok)
        text = cfg["text_cfg"]
        assert text["vocab_size"] == tok.vocab_size and text["eos_id"] == tok.eos_id
        assert text["pool_type"] == "eos" and "hf_tokenizer_name" not in text
    assert resolve_model_config("ViT-H-14-worldwide")["text_cfg"]["vocab_size"] == 901629  # registry untouched
    with pytest.raises(ValueError, match="unknown model"):
        resolve_model_config("no-such-model")
    with pytest.raises(ValueError, match="Hugging Face text tower"):
        fit_text_config(resolve_model_config("xlm-roberta-base-ViT-B-32"), tok)


def test_tiny_model_forward_and_export_round_trip(tok, tmp_path):
    model, cfg = create_model("wwclip-tiny", tok, grad_checkpointing=True)
    images, texts = torch.randn(3, 3, 32, 32), tok(["a red circle", "赤色の丸", "un cercle"])
    img, txt, scale = model(images, texts)[:3]
    assert img.shape == txt.shape == (3, 64) and float(scale.detach()) > 1
    out = export_model(model, cfg, tok, str(tmp_path / "m"))
    saved = json.loads((tmp_path / "m" / "open_clip_config.json").read_text())
    assert saved["model_cfg"]["text_cfg"]["vocab_size"] == tok.vocab_size
    again, cfg2, tok2 = load_exported(out)
    model.eval()
    with torch.no_grad():
        assert torch.allclose(again.encode_text(tok2(["赤色の丸"])), model.encode_text(tok(["赤色の丸"])))
    # a config JSON path is a model name too
    assert resolve_model_config(str(tmp_path / "m" / "open_clip_config.json")) == cfg2


def test_open_clip_loads_the_export(tok, tmp_path):
    import open_clip

    model, cfg = create_model("wwclip-tiny", tok)
    export_model(model, cfg, tok, str(tmp_path / "m"))
    loaded = open_clip.create_model(f"local-dir:{tmp_path / 'm'}")
    sd = loaded.state_dict()
    assert all(torch.equal(sd[k], v) for k, v in model.state_dict().items())
