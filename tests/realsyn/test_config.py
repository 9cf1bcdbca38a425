"""RealSyn flags are validated before any work."""

from __future__ import annotations

import pytest

from curation.pipeline.config import ConfigError
from curation.realsyn.config import RealSynConfig, build_parser, config_from_args


def _cfg(tmp_path, *extra):
    args = ["--documents", "d", "--images", "i", "--output", "o", "--clip-model", str(tmp_path), *extra]
    return config_from_args(build_parser().parse_args(args))


def test_defaults_are_the_paper_rules(tmp_path):
    cfg = _cfg(tmp_path)
    assert (cfg.min_side, cfg.max_aspect, cfg.min_words, cfg.max_words, cfg.min_entropy) == (100, 3, 3, 81, 0.3)
    assert (cfg.ppl_min, cfg.ppl_max, cfg.syn_low, cfg.syn_high, cfg.k) == (30, 200, 0.51, 0.61, 3)
    assert cfg.perplexity_model is None and cfg.perplexity_languages == ()
    assert _cfg(tmp_path, "--perplexity-languages", "en, de").perplexity_languages == ("en", "de")


@pytest.mark.parametrize("extra,match", [
    (["--target-pairs", "10", "--cap", "5"], "not both"),
    (["--cap", "0"], ">= 1"),
    (["--k", "0"], "positive"),
    (["--minhash-perm", "60", "--minhash-bands", "16"], "multiple"),
    (["--near-dup-jaccard", "0"], "near-dup"),
    (["--ppl-min", "300"], "low <= high"),
    (["--start-at", "pairs", "--stop-after", "extract"], "before"),
    (["--device", "tpu"], "device"),
    (["--max-words", "2"], "max-words"),
])
def test_bad_flags(tmp_path, extra, match):
    with pytest.raises(ConfigError, match=match):
        _cfg(tmp_path, *extra)


def test_required_and_model_path(tmp_path):
    with pytest.raises(ConfigError, match="--images"):
        RealSynConfig(documents="d", output="o", clip_model=str(tmp_path)).validate()
    with pytest.raises(ConfigError, match="clip-model"):
        RealSynConfig(documents="d", images="i", output="o", clip_model="/no/such/dir").validate()
    # extracting only needs neither images nor a model
    RealSynConfig(documents="d", output="o", stop_after="extract").validate()
