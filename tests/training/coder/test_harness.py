"""The CODER harness: predictions on a hand-made bank, the table, and the CLI end to end on tiny demo data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from training.coder.__main__ import main
from training.coder.bank import TextBank
from training.coder.demo import demo_knowledge
from training.coder.harness import coder_predictions, format_table
from training.coder.knowledge import parse_knowledge
from training.demo_data import class_names, generate
from training.model import create_model, export_model
from training.tokenizer import train_tokenizer


def _bank(with_ovo: bool) -> TextBank:
    rows = [(0, "name", -1, [1.0, 0.0]), (1, "name", -1, [0.0, 1.0]), (1, "attribute", -1, [0.6, 0.8])]
    if with_ovo:
        rows += [(1, "ovo", 0, [0.8, 0.6]), (0, "ovo", 1, [1.0, 0.0])]
    return TextBank(classnames=["a", "b"], language="en", text_class=np.array([r[0] for r in rows]),
                    kind=np.array([r[1] for r in rows], object), other=np.array([r[2] for r in rows]),
                    text=[str(i) for i in range(len(rows))], embedding=np.array([r[3] for r in rows], np.float32))


def test_coder_predictions_hand_case():
    feats = np.array([[0.8, 0.6], [0.6, 0.8]])
    # image 0: a = 100 * 0.8 = 80, b = 100 * mean(att 0.96, name 0.6) = 78 -> a, softmax margin 0.76
    # image 1: a = 60, b = 100 * mean(1.0, 0.8) = 90 -> b
    coder, star, n = coder_predictions(feats, _bank(False), tau=1.0)
    assert coder.tolist() == [0, 1] and star.tolist() == [0, 1] and n == 0  # no ovo texts: CODER* = CODER
    # ovo: image 0 has r_b = cos(v, "b vs a") - cos(v, "a vs b") = 1.0 - 0.8 > 0 -> re-ranked to b when tau > 0.76
    coder, star, n = coder_predictions(feats, _bank(True), tau=1.0)
    assert coder.tolist() == [0, 1] and star.tolist() == [1, 1] and n == 1
    assert coder_predictions(feats, _bank(True), tau=0.5)[1].tolist() == [0, 1]


def test_format_table():
    r = {"config": {"tau": 0.1}, "languages": {"en": {"clip": 0.5, "coder": 0.625, "coder_star": 0.75,
                                                       "few_shot": {"2": {"tip": 0.8, "coder_tip": 0.9}}}},
         "mean": {"clip": 0.5, "coder": 0.625, "coder_star": 0.75, "few_shot": {"2": {"tip": 0.8, "coder_tip": 0.9}}}}
    assert format_table(r).splitlines() == [
        "| method | en | mean |", "|---|---:|---:|", "| CLIP zero-shot | 50.0 | 50.0 |", "| CODER | 62.5 | 62.5 |",
        "| CODER* (τ=0.1) | 75.0 | 75.0 |", "| Tip-Adapter 2-shot | 80.0 | 80.0 |",
        "| CODER-Tip 2-shot | 90.0 | 90.0 |"]


def test_demo_knowledge_is_valid_for_the_demo_classes():
    k = parse_knowledge(demo_knowledge(), {"en": class_names("en")})["en"]
    assert len(k.classes) == 12
    assert set(k.differences("red circle")) == {"red square", "red triangle", "green circle", "blue circle",
                                                "yellow circle"}


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    """Tiny demo data, a shot pool as a class-per-folder tree, and a randomly initialised tiny model."""
    root = tmp_path_factory.mktemp("coder")
    data = root / "data"
    generate(str(data), n_train=60, n_test=36, seed=5, num_files=1)
    pool = root / "pool"
    rng = np.random.default_rng(0)
    names = class_names("en")
    for c, name in enumerate(names):
        folder = pool / f"{c:02d}_{name.replace(' ', '_')}"
        folder.mkdir(parents=True)
        for i in range(3):
            arr = (rng.random((40, 40, 3)) * 255).astype(np.uint8)
            Image.fromarray(arr).save(folder / f"{i}.png")
    (pool / "00_red_circle" / "broken.jpg").write_bytes(b"not an image")
    texts = [n for lang in ("en", "ja") for n in class_names(lang)] * 3
    tok = train_tokenizer(texts, vocab_size=80, context_length=16)
    model, cfg = create_model("wwclip-tiny", tok)
    model_dir = export_model(model, cfg, tok, str(root / "model"))
    knowledge = root / "knowledge.json"
    knowledge.write_text(json.dumps(demo_knowledge()), encoding="utf-8")
    return {"root": root, "data": data, "pool": pool, "model": model_dir, "knowledge": knowledge}


@pytest.mark.slow
def test_cli_end_to_end(tiny_setup, capsys):
    s = tiny_setup
    out = s["root"] / "results.json"
    argv = ["--model-dir", s["model"], "--classes", str(s["data"] / "eval" / "classes.json"),
            "--test", str(s["data"] / "eval" / "zeroshot"), "--shot-pool", str(s["pool"]),
            "--knowledge", str(s["knowledge"]), "--languages", "en", "ja", "--shots", "1", "2",
            "--aug-passes", "2", "--beta-steps", "8", "--alpha-steps", "4", "--rounds", "2",
            "--cache-dir", str(s["root"] / "banks"), "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "| CODER* (τ=0.1) |" in printed and "| CODER-Tip 2-shot |" in printed
    res = json.loads(out.read_text(encoding="utf-8"))
    assert res["test_images"] == 36 and res["pool_images"] == 36  # the broken pool image is skipped
    en, ja = res["languages"]["en"], res["languages"]["ja"]
    # 3 attributes x 1 template; 5 differences x 3 ovo templates; the 4 class-file prompts as name templates
    assert en["bank"]["attribute"] == 12 * 3 and en["bank"]["ovo"] == 12 * 5 * 3 and en["bank"]["name"] == 12 * 4
    assert ja["bank"].get("attribute", 0) == 0 and ja["bank"]["name"] == 12 * 4  # names only, 4 prompts each
    assert en["few_shot"]["1"]["tip_search"]["searched"] is False  # 1 shot: nothing to validate on
    assert en["few_shot"]["2"]["coder_tip_search"]["searched"] is True
    for r in (en, ja):
        assert all(0.0 <= r[m] <= 1.0 for m in ("clip", "coder", "coder_star"))
    assert not en["bank"]["cache_hit"]
    main(argv)  # second run: the banks come from the cache
    res2 = json.loads(out.read_text(encoding="utf-8"))
    assert res2["languages"]["en"]["bank"]["cache_hit"] and res2["languages"]["en"]["coder"] == en["coder"]


def test_cli_needs_inputs(capsys):
    with pytest.raises(SystemExit):
        main(["--tau", "0.2"])
    assert "--model-dir" in capsys.readouterr().err
