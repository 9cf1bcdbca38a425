"""Pretrained open_clip checkpoints: the tokenizer they were trained with (SentencePiece, Unigram
tokenizer.json in XLM-R and mT5 layouts), checkpoint files in open_clip's formats, fine-tuning and
evaluation from them. Checkpoints are saved here from random-init small models."""

from __future__ import annotations

import copy
import io
import json
import os
import shutil

import pytest
import torch

from training.model import SMALL_CONFIGS, build_model, load_exported
from training.pretrained import load_pretrained, read_checkpoint, strip_prefixes
from training.tokenizer import load_tokenizer

pytest.importorskip("transformers")
pytest.importorskip("sentencepiece")

CORPUS = ["a red circle on the left", "un cercle rouge à gauche", "ein roter Kreis links", "左边有一个红色的圆形",
          "赤い丸が左にある", "красный круг слева", "a blue square", "un carré bleu", "ein blaues Quadrat"] * 10
TEXTS = ["a red circle &amp; a blue square", "  un   cercle\trouge ", "赤い丸", "", "Kreis " * 40, "ÉCOLE, l'été!"]
CONTEXT = 16


@pytest.fixture(scope="module")
def spm_dir(tmp_path_factory):
    """XLM-R / XLM-V layout: ``sentencepiece.bpe.model`` + ``tokenizer_config.json``, no tokenizer.json."""
    import sentencepiece as spm

    d = tmp_path_factory.mktemp("xlmv")
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS), model_writer=buf, vocab_size=90,
                                   model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
                                   bos_id=0, pad_id=-1, eos_id=2, unk_id=1, minloglevel=2)
    (d / "sentencepiece.bpe.model").write_bytes(buf.getvalue())
    (d / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "XLMRobertaTokenizer",
                                                         "model_max_length": 512}))
    return str(d)


def _unigram_json(d, specials: list[str], template: str, config: dict) -> str:
    """A Unigram ``tokenizer.json`` trained with ``tokenizers`` (Metaspace, SentencePiece-style)."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(CORPUS, trainers.UnigramTrainer(vocab_size=80, special_tokens=specials,
                                                            unk_token="<unk>", show_progress=False))
    tok.post_processor = processors.TemplateProcessing(
        single=template, special_tokens=[(t, tok.token_to_id(t)) for t in specials if t in template])
    tok.save(os.path.join(d, "tokenizer.json"))
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizer_class": "PreTrainedTokenizerFast", **config}, f)
    return str(d)


@pytest.fixture(scope="module")
def xlmr_json_dir(tmp_path_factory):
    return _unigram_json(tmp_path_factory.mktemp("xlmr_json"), ["<s>", "<pad>", "</s>", "<unk>"], "<s> $A </s>",
                         {"bos_token": "<s>", "eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"})


@pytest.fixture(scope="module")
def mt5_json_dir(tmp_path_factory):
    """mT5 layout: pad 0, eos 1, unk 2, no bos; texts end with ``</s>``."""
    return _unigram_json(tmp_path_factory.mktemp("mt5_json"), ["<pad>", "</s>", "<unk>"], "$A </s>",
                         {"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"})


@pytest.mark.parametrize("layout,clean", [("spm", "whitespace"), ("xlmr_json", "whitespace"),
                                          ("mt5_json", "canonicalize"), ("spm", "lower")])
def test_ids_equal_open_clips_hf_tokenizer(layout, clean, request):
    """What a pretrained checkpoint was trained with: open_clip's HFTokenizer on the same files."""
    from open_clip.tokenizer import HFTokenizer

    d = request.getfixturevalue(f"{layout}_dir")
    ours = load_tokenizer(d, CONTEXT, clean=clean)
    theirs = HFTokenizer(d, context_length=CONTEXT, clean=clean)
    assert ours(TEXTS).tolist() == theirs(TEXTS).tolist()
    assert ours.bos_id is (None if layout == "mt5_json" else 0)


def _config(tok, *, extra_rows: int = 0, hf: str | None = "facebook/xlm-v-base", **text) -> dict:
    """A worldwide-style config (hf tokenizer name, eos pooling) sized for the tiny tokenizer."""
    cfg = copy.deepcopy(SMALL_CONFIGS["wwclip-tiny"])
    cfg["text_cfg"].update({"vocab_size": tok.vocab_size + extra_rows, "context_length": CONTEXT,
                            "pool_type": "eos", "eos_id": tok.eos_id, **text})
    if hf:
        cfg["text_cfg"]["hf_tokenizer_name"] = hf
    return cfg


def _random_model(cfg: dict, seed: int = 0):
    torch.manual_seed(seed)
    plain = copy.deepcopy(cfg)
    for k in ("hf_tokenizer_name", "tokenizer_kwargs"):
        plain["text_cfg"].pop(k, None)
    return build_model(plain).eval()


@pytest.fixture(scope="module")
def release(spm_dir, tmp_path_factory):
    """``(folder, model, cfg)``: open_clip's hub layout — config + safetensors + the tokenizer's files."""
    from safetensors.torch import save_file

    tok = load_tokenizer(spm_dir, CONTEXT)
    cfg = _config(tok, extra_rows=5)
    model = _random_model(cfg)
    d = tmp_path_factory.mktemp("release")
    (d / "open_clip_config.json").write_text(json.dumps({"model_cfg": cfg, "preprocess_cfg": {"size": 32}}))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(d / "open_clip_model.safetensors"))
    for f in os.listdir(spm_dir):
        shutil.copy(os.path.join(spm_dir, f), d / f)
    return str(d), model, cfg


def _same_model(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_checkpoint_formats_load_into_the_matching_config(release, spm_dir, tmp_path):
    from open_clip.tokenizer import HFTokenizer

    folder, model, cfg = release
    net, net_cfg, tok = load_pretrained(folder)  # everything from the folder
    assert _same_model(net, model) and tok.clean == "whitespace"
    assert "hf_tokenizer_name" not in net_cfg["text_cfg"] and net_cfg["text_cfg"]["vocab_size"] == tok.vocab_size + 5
    with torch.no_grad():
        assert torch.equal(net.eval().encode_text(tok(TEXTS)),
                           model.encode_text(HFTokenizer(spm_dir, context_length=CONTEXT)(TEXTS)))
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    # open_clip's training checkpoint: {"epoch", "name", "state_dict"} with DDP's "module." prefix
    torch.save({"epoch": 3, "name": "run", "state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}},
               tmp_path / "epoch_3.pt")
    # a bare state dict saved from a torch.compile'd model
    torch.save({f"_orig_mod.{k}": v for k, v in model.state_dict().items()}, tmp_path / "open_clip_pytorch_model.bin")
    for name in ("epoch_3.pt", "open_clip_pytorch_model.bin"):
        net, _, _ = load_pretrained(str(tmp_path / name), model=str(tmp_path / "cfg.json"), tokenizer=spm_dir)
        assert _same_model(net, model), name


def test_clean_mode_follows_the_config(mt5_json_dir, tmp_path):
    from safetensors.torch import save_file

    tok = load_tokenizer(mt5_json_dir, CONTEXT)
    cfg = _config(tok, hf="google/mt5-base", tokenizer_kwargs={"clean": "canonicalize"})
    save_file(_random_model(cfg).state_dict(), str(tmp_path / "w.safetensors"))
    (tmp_path / "cfg.json").write_text(json.dumps(cfg))
    _, _, tok = load_pretrained(str(tmp_path / "w.safetensors"), model=str(tmp_path / "cfg.json"),
                                tokenizer=mt5_json_dir)
    assert tok.clean == "canonicalize" and tok(["A RED, circle!"]).tolist() == tok(["a red circle"]).tolist()


def test_mismatches_are_clear_errors(release, spm_dir, mt5_json_dir, tmp_path):
    folder, model, cfg = release
    weights = os.path.join(folder, "open_clip_model.safetensors")
    for change, match in [({"vocab_size": cfg["text_cfg"]["vocab_size"] + 1}, "token embeddings"),
                          ({"context_length": CONTEXT + 1}, "text positions"),
                          ({"eos_id": 1}, "pools at eos_id 1")]:
        bad = copy.deepcopy(cfg)
        bad["text_cfg"].update(change)
        (tmp_path / "bad.json").write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=match):
            load_pretrained(weights, model=str(tmp_path / "bad.json"))
    with pytest.raises(ValueError, match="not the tokenizer"):  # mT5's: other vocabulary, eos 1 instead of 2
        load_pretrained(folder, tokenizer=mt5_json_dir)
    wider = copy.deepcopy(cfg)
    wider["embed_dim"] = 32
    (tmp_path / "wider.json").write_text(json.dumps(wider))
    with pytest.raises(ValueError, match="another shape"):
        load_pretrained(weights, model=str(tmp_path / "wider.json"))
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(weights, alone / "w.safetensors")
    with pytest.raises(ValueError, match="no config"):
        load_pretrained(str(alone / "w.safetensors"), tokenizer=spm_dir)
    with pytest.raises(ValueError, match="no tokenizer.*facebook/xlm-v-base"):
        load_pretrained(str(alone / "w.safetensors"), model=os.path.join(folder, "open_clip_config.json"))
    (alone / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a loadable weights file"):
        read_checkpoint(str(alone / "junk.pt"))
    torch.save({**model.state_dict(), "extra.weight": torch.zeros(1)}, alone / "extra.bin")
    with pytest.raises(ValueError, match="1 unexpected"):
        load_pretrained(str(alone / "extra.bin"), model=os.path.join(folder, "open_clip_config.json"),
                        tokenizer=spm_dir)
    with pytest.raises(ValueError, match="twice"):
        strip_prefixes({"module.a": torch.zeros(1), "a": torch.zeros(1)})


def test_fine_tune_then_evaluate_from_a_pretrained_release(release, demo_roots, tmp_path):
    from tests.training.test_eval_datasets import XM_CAPTIONS, XM_IMAGES, write_xm3600
    from training.evaluate import evaluate, main
    from training.launch import parse_args
    from training.reader import DataConfig
    from training.train import TrainConfig, train

    folder, model, _ = release
    cfg = parse_args(["--table", f"{demo_roots['parquet']}/curated", "--pretrained", folder, "--output-dir", "o"])
    assert cfg.pretrained == folder and cfg.model is None
    with pytest.raises(ValueError, match="fixes context_length"):
        TrainConfig(data=cfg.data, output_dir="o", pretrained=folder, context_length=8)
    out = str(tmp_path / "ft")
    summary = train(TrainConfig(data=DataConfig(table=f"{demo_roots['parquet']}/curated", seed=3, block_units=2),
                                output_dir=out, model=None, pretrained=folder, batch_size=16, max_steps=2,
                                warmup_steps=1, lr=1e-9, weight_decay=0.0, workers=0, save_every=None))
    assert summary["steps"] == 2 and summary["last_loss"] == summary["last_loss"]
    tuned, _, tok = load_exported(summary["model_dir"])
    assert tok.clean == "whitespace"  # the checkpoint's cleaning travels with the export
    for (k, a), b in zip(tuned.state_dict().items(), model.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), k  # started from the release (lr 1e-9: it barely moved)
    assert not torch.allclose(_random_model(release[2], seed=1).state_dict()["text_projection"],
                              tuned.state_dict()["text_projection"], atol=1e-3)
    # evaluating the release == evaluating the original model with open_clip's own tokenizer for it
    from open_clip.tokenizer import HFTokenizer

    from training.eval_datasets import read_xm3600
    from training.evaluate import retrieval_per_language
    from training.model import image_transforms

    xm = write_xm3600(tmp_path / "xm", XM_IMAGES, XM_CAPTIONS)
    direct = evaluate(pretrained=folder, xm3600=xm)
    reference = retrieval_per_language(model, HFTokenizer(folder, context_length=CONTEXT),
                                       image_transforms(release[2])[1], read_xm3600(xm))
    assert direct["xm3600"]["per_language"] == reference["per_language"]
    assert set(evaluate(summary["model_dir"], xm3600=xm)["xm3600"]["per_language"]) == {"en", "fr", "de"}
    assert main(["--pretrained", folder, "--xm3600", xm, "--languages", "en", "--device", "cpu",
                 "--out", str(tmp_path / "r.json")]) == 0
    assert list(json.loads((tmp_path / "r.json").read_text())["xm3600"]["per_language"]) == ["en"]
