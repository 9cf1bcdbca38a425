"""End to end on CPU: ``python -m training.clic finetune`` (the trainer's --method clic between two evaluations)."""

from __future__ import annotations

import json
import os

import pytest
import torch
from safetensors.torch import load_file

from training.clic.__main__ import main
from training.clic.demo import demo_registry
from training.clic.sugarcrepe import language_folders, load_subsets
from training.demo_data import LANGUAGES
from training.model import WEIGHTS
from training.pretrained import load_pretrained


def test_demo_eval_sets_are_in_the_public_formats(clic_setup):
    ev = clic_setup / "data" / "eval"
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


def test_finetune_cli_end_to_end(clic_setup, tmp_path):
    out = tmp_path / "run"
    ev = clic_setup / "data" / "eval"
    rc = main(["finetune", "--pretrained", str(clic_setup / "base"), "--table", str(clic_setup / "data" / "train"),
               "--output-dir", str(out), "--batch-size", "4", "--max-steps", "4", "--lr", "1e-3", "--lr-start", "1e-4",
               "--lr-end", "1e-5", "--workers", "0", "--clic-join-size", "64", "--log-every", "1",
               "--record-data-order", "--save-every", "0",
               "--sugarcrepe-pp", str(ev / "sugarcrepe_pp"), "--eval-image-root", str(ev / "images"),
               "--retrieval", str(ev / "pairs" / "captions.jsonl")])
    assert rc == 0
    res = json.loads((out / "clic_results.json").read_text(encoding="utf-8"))
    assert set(res) >= {"before", "after", "train", "config"}
    assert res["config"]["method"] == "clic" and res["config"]["eps"] == 1e-8  # the reference default
    assert set(res["before"]["sugarcrepe_pp"]) == set(LANGUAGES)
    assert res["after"]["sugarcrepe_pp"]["en"]["subsets"]["swap_att"]["n"] == 6
    assert "text_to_image_R@1" in res["after"]["retrieval"]
    train = res["train"]
    assert train["steps"] == 4 and train["method"] == "clic" and train["clic"]["steps"] == {"clic": 2, "clip": 2}
    clic = train["clic"]
    # languages without a tagger here use the fallback; its share is reported
    assert 0 <= clic["fallback_fraction"] <= 1 and clic["stats"]["samples"] >= 16
    assert clic["taggers"] and set(clic["taggers"]) <= set(LANGUAGES)
    if "zh" in clic["taggers"]:
        assert clic["taggers"]["zh"] == "jieba.posseg"
    with open(out / "data_order" / "rank0.jsonl", encoding="utf-8") as f:
        kinds = [json.loads(line)["kind"] for line in f]
    assert kinds == ["clic", "clip", "clic", "clip"]
    before, after = load_file(str(clic_setup / "base" / WEIGHTS)), load_file(str(out / "model" / WEIGHTS))
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("visual."))
    assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith("transformer."))


def test_demo_registry_and_checkpoint_loading(clic_setup, tmp_path):
    reg = demo_registry()
    t = reg.tag("a red circle on the left", "en")
    assert t.tags == ["X", "ADJ", "NOUN", "X", "X", "ADV"]
    model, cfg, tok = load_pretrained(str(clic_setup / "base"))
    run = tmp_path / "r"
    (run / "checkpoints").mkdir(parents=True)
    tok.save(str(run / "tokenizer"))
    torch.save({"model": model.state_dict(), "model_cfg": cfg, "step": 1}, run / "checkpoints" / "step_000000001.pt")
    # a checkpoint of this package finds its run's tokenizer (``<run>/tokenizer``) without --tokenizer
    again, _, tok2 = load_pretrained(str(run / "checkpoints" / "step_000000001.pt"))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert tok2(["a red circle"]).tolist() == tok(["a red circle"]).tolist()
    torch.save({"weights": 1}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="state dict"):
        load_pretrained(str(tmp_path / "bad.pt"))
