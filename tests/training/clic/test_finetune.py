"""End to end on CPU: export a tiny model, build demo data, ``python -m training.clic finetune``, results."""

from __future__ import annotations

import csv
import json
import os

import pytest
import torch
from safetensors.torch import load_file

from training.clic.__main__ import main
from training.clic.demo import demo_registry, write_eval_sets, write_train_table
from training.clic.finetune import load_pretrained
from training.clic.sugarcrepe import language_folders, load_subsets
from training.demo_data import LANGUAGES
from training.model import WEIGHTS, create_model, export_model
from training.tokenizer import train_tokenizer


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("clic")
    write_train_table(str(root / "data"), 120, seed=0)
    write_eval_sets(str(root / "data"), 6, seed=0)
    import pyarrow.parquet as pq

    texts = pq.read_table(str(root / "data" / "train")).column("text").to_pylist()
    tok = train_tokenizer(texts, vocab_size=300, context_length=32)
    torch.manual_seed(0)
    model, cfg = create_model("wwclip-tiny", tok)
    export_model(model, cfg, tok, str(root / "base"))
    return root


def test_demo_eval_sets_are_in_the_public_formats(setup):
    ev = setup / "data" / "eval"
    assert set(language_folders(str(ev / "sugarcrepe"))) == set(LANGUAGES)
    sc = load_subsets(str(ev / "sugarcrepe" / "en"))
    pp = load_subsets(str(ev / "sugarcrepe_pp" / "de"), plus=True)
    assert sorted(sc) == sorted(pp) == ["replace_att", "replace_obj", "replace_rel", "swap_att", "swap_obj"]
    with open(ev / "sugarcrepe" / "en" / "swap_att.json", encoding="utf-8") as f:
        raw = json.load(f)
    assert isinstance(raw, dict) and set(raw["0"]) == {"filename", "caption", "negative_caption"}
    item = sc["swap_att"][0]
    assert item.caption != item.negative and sorted(item.caption.split()) == sorted(item.negative.split())
    assert pp["swap_att"][0].caption2 != pp["swap_att"][0].caption
    assert os.path.isfile(ev / "images" / item.filename)


def test_finetune_cli_end_to_end(setup, tmp_path):
    out = tmp_path / "run"
    ev = setup / "data" / "eval"
    rc = main(["finetune", "--pretrained", str(setup / "base"), "--data", str(setup / "data" / "train"),
               "--output-dir", str(out), "--batch-size", "4", "--max-steps", "4", "--lr", "1e-3", "--lr-start", "1e-4",
               "--lr-end", "1e-5", "--workers", "0", "--join-size", "64", "--log-every", "1",
               "--sugarcrepe-pp", str(ev / "sugarcrepe_pp"), "--image-root", str(ev / "images"),
               "--retrieval", str(ev / "pairs" / "captions.jsonl")])
    assert rc == 0
    res = json.loads((out / "clic_results.json").read_text(encoding="utf-8"))
    assert set(res) >= {"before", "after", "train", "config"}
    assert set(res["before"]["sugarcrepe_pp"]) == set(LANGUAGES)
    assert res["after"]["sugarcrepe_pp"]["en"]["subsets"]["swap_att"]["n"] == 6
    assert "text_to_image_R@1" in res["after"]["retrieval"]
    train = res["train"]
    assert train["steps"] == 4 and train["clic_steps"] == 2
    # languages without a tagger here use the fallback; its share is reported
    assert 0 <= train["fallback_fraction"] <= 1 and train["stats"]["samples"] >= 16
    assert train["taggers"] and set(train["taggers"]) <= set(LANGUAGES)
    if "zh" in train["taggers"]:
        assert train["taggers"]["zh"] == "jieba.posseg"
    with open(out / "log.csv", encoding="utf-8") as f:
        kinds = [row["kind"] for row in csv.DictReader(f)]
    assert kinds == ["clic", "clip", "clic", "clip"]
    before, after = load_file(str(setup / "base" / WEIGHTS)), load_file(str(out / "model" / WEIGHTS))
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("visual."))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("transformer."))


def test_demo_registry_and_checkpoint_loading(setup, tmp_path):
    reg = demo_registry()
    t = reg.tag("a red circle on the left", "en")
    assert t.tags == ["X", "ADJ", "NOUN", "X", "X", "ADV"]
    model, cfg, tok = load_pretrained(str(setup / "base"))
    run = tmp_path / "r"
    (run / "checkpoints").mkdir(parents=True)
    tok.save(str(run / "tokenizer"))
    torch.save({"model": model.state_dict(), "model_cfg": cfg, "step": 1}, run / "checkpoints" / "step_000000001.pt")
    again, _, tok2 = load_pretrained(str(run / "checkpoints" / "step_000000001.pt"))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert tok2(["a red circle"]).tolist() == tok(["a red circle"]).tolist()
    torch.save({"weights": 1}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_pretrained(str(tmp_path / "bad.pt"))
