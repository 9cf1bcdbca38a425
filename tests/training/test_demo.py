"""The one-command demo runs end to end offline (few steps here; the recorded figure uses the defaults)."""

from __future__ import annotations

import json
import os

from training.demo import run_demo


def test_demo_generates_trains_and_evaluates(tmp_path):
    report = run_demo(str(tmp_path), model="wwclip-tiny", steps=6, batch_size=16, workers=0, n_train=120, n_test=24,
                      format="delta")
    zs = report["eval"]["zero_shot"]
    assert set(zs["per_language"]) == {"en", "de", "es", "fr", "ru", "zh", "ja"}
    assert zs["chance_top1"] == 1 / 12 and 0 <= zs["mean_top1"] <= 1
    assert "text_to_image_R@10" in report["eval"]["retrieval"]
    with open(os.path.join(tmp_path, "demo_results.json"), encoding="utf-8") as f:
        assert json.load(f)["train"]["steps"] == 6
