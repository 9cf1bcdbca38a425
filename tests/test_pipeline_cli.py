"""The stage CLIs: flags are checked before Spark starts; stages that read only tables take no --input."""

from __future__ import annotations

import pytest

from curation.layout import STAGES
from curation.pipeline.cli import DESCRIPTIONS, main
from curation.pipeline.config import INPUT_STAGES, build_parser, config_from_args


@pytest.mark.parametrize("stage", ["match", "count", "thresholds", "sample"])
def test_table_only_stages_refuse_input_flags(stage, capsys):
    for flag in ("--input", "--input-format", "--url-col", "--text-col", "--uid-col"):
        with pytest.raises(SystemExit) as exc:
            main([stage, flag, "x", "--output", "/nonexistent/never-written"])
        assert exc.value.code == 2
        assert "unrecognized arguments" in capsys.readouterr().err


def test_input_stages_take_input_flags():
    assert set(INPUT_STAGES) == {"curate", "lid"} and set(STAGES) < set(DESCRIPTIONS)
    for stage in INPUT_STAGES:
        args = build_parser(stage, "", reads_input=True).parse_args(
            ["--input", "a.parquet", "--input-format", "parquet", "--url-col", "u", "--text-col", "t"])
        cfg = config_from_args(args)
        assert (cfg.input, cfg.input_format, cfg.url_col, cfg.text_col) == ("a.parquet", "parquet", "u", "t")
    cfg = config_from_args(build_parser("count", "", reads_input=False).parse_args(["--seed", "3"]))
    assert cfg.input is None and cfg.seed == 3


def test_unknown_stage_and_bad_flags_exit_2(capsys):
    assert main(["nosuchstage"]) == 2
    assert "usage: python -m curation" in capsys.readouterr().err
    assert main(["count", "--t-en", "-3", "--output", "/nonexistent/never-written"]) == 2
    assert "--t-en must be a positive integer" in capsys.readouterr().err
