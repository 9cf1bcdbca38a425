"""MetaCLIP 2 worldwide scaling: batch and seen pairs from the English-only recipe."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.launch import parse_args
from training.scaling import main, scale_from_english_share, worldwide_recipe


def test_reproduces_the_papers_vit_h_recipe():
    """2.3 x 32,768 on 256 GPUs: 294 per GPU, global 75,264 (the paper's number), 29.44B pairs."""
    r = worldwide_recipe(32_768, world_size=256, scale=2.3, english_seen_pairs=12.8e9)
    assert (r.per_rank_batch, r.global_batch) == (294, 75_264)
    assert r.seen_pairs == 29_440_000_000
    # 391,157 x 75,264 = 29,440,040,448 >= 29.44e9 > 391,156 x 75,264
    assert r.steps == 391_157


def test_rounding_is_exact_and_down_to_a_multiple_of_the_ranks():
    assert worldwide_recipe(32_768, 1, 2.3).global_batch == 75_366  # floor(75,366.4)
    assert worldwide_recipe(64, 2, 2.5).per_rank_batch == 80  # 2.5 x 64 / 2 = 80 exactly, not 79
    assert worldwide_recipe(100, 3, 1.0).global_batch == 99
    assert worldwide_recipe(10, 1, 2.3, english_seen_pairs=10).steps == 1  # 23 pairs, batch 23
    rng = np.random.default_rng(0)
    for _ in range(300):
        b, ranks, s = int(rng.integers(1, 100_000)), int(rng.integers(1, 512)), float(rng.uniform(1, 4))
        seen = float(rng.integers(1, 10**12))
        if s * b < ranks:
            continue
        r = worldwide_recipe(b, ranks, s, seen)
        assert r.global_batch == r.per_rank_batch * ranks
        assert r.global_batch <= s * b * (1 + 1e-12) and s * b < r.global_batch + ranks
        assert (r.steps - 1) * r.global_batch < r.seen_pairs <= r.steps * r.global_batch


def test_scale_from_the_english_share():
    assert scale_from_english_share(44, 100) == pytest.approx(100 / 44)
    assert scale_from_english_share(5, 5) == 1.0
    with pytest.raises(ValueError):
        scale_from_english_share(0, 10)
    with pytest.raises(ValueError):
        scale_from_english_share(11, 10)


@pytest.mark.parametrize("kwargs,match", [
    ({"scale": 0}, "positive"), ({"scale": math.nan}, "positive"), ({"english_global_batch": 0}, "positive integer"),
    ({"world_size": 0}, "positive integer"), ({"english_global_batch": 1, "world_size": 8}, "less than one per rank"),
    ({"english_seen_pairs": 0}, "positive")])
def test_bad_input(kwargs, match):
    args = {"english_global_batch": 1024, "world_size": 4, "scale": 2.3, **kwargs}
    with pytest.raises(ValueError, match=match):
        worldwide_recipe(**args)


def test_launcher_computes_batch_and_steps_from_the_world_size(monkeypatch, capsys):
    monkeypatch.setenv("WORLD_SIZE", "256")
    base = ["--data", "/d", "--output-dir", "o", "--english-batch", "32768"]
    cfg = parse_args([*base, "--english-seen-pairs", "12.8e9"])
    assert (cfg.batch_size, cfg.max_steps) == (294, 391_157)
    cfg = parse_args([*base, "--worldwide-scale", "1.0"])
    assert (cfg.batch_size, cfg.max_steps) == (128, None)
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert parse_args(["--data", "/d", "--output-dir", "o"]).batch_size == 64  # no scaling: the plain default
    for extra in (["--batch-size", "8"], ["--english-seen-pairs", "1e9", "--max-steps", "5"]):
        with pytest.raises(SystemExit):
            parse_args([*base, *extra])
    with pytest.raises(SystemExit):
        parse_args(["--data", "/d", "--output-dir", "o", "--worldwide-scale", "2.3"])
    assert main(["--english-batch", "32768", "--world-size", "256", "--english-seen-pairs", "12.8e9"]) == 0
    assert "75,264  (= 294 per rank x 256)" in capsys.readouterr().out
    assert main(["--english-batch", "32768", "--english-share", "0.5"]) == 0
    assert "65,536" in capsys.readouterr().out
    assert main(["--english-batch", "1", "--world-size", "8"]) == 2
