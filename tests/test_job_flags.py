"""Every Spark job takes the same run flags (``curation.pipeline.config.add_spark_flags``)."""

from __future__ import annotations

import pytest

from curation.commoncrawl import config as extract_config
from curation.download import config as download_config
from curation.pipeline import config as pipeline_config
from curation.realsyn import config as realsyn_config

COMMON = ["--master", "local[1]", "--conf", "spark.ui.enabled=false", "--log-level", "error"]


def _parsers():
    return {
        "curate": (pipeline_config.build_parser("wwclip-curate", "", reads_input=True), ["--input", "x"]),
        "extract": (extract_config.build_parser(), ["--input", "x", "--output", "y"]),
        "download": (download_config.build_parser(), ["--output", "y"]),
        "realsyn": (realsyn_config.build_parser(), ["--documents", "x", "--output", "y"]),
    }


@pytest.mark.parametrize("job", ["curate", "extract", "download", "realsyn"])
def test_every_job_takes_the_shared_spark_flags(job):
    parser, required = _parsers()[job]
    args = parser.parse_args([*required, *COMMON])
    assert (args.master, args.conf, args.log_level) == ("local[1]", ["spark.ui.enabled=false"], "ERROR")
    with pytest.raises(SystemExit):
        parser.parse_args([*required, "--log-level", "loud"])


def test_log_level_reaches_each_jobs_config():
    parser, _ = _parsers()["extract"]
    cfg = extract_config.config_from_args(parser.parse_args(["--input", "x", "--output", "y", *COMMON]))
    assert cfg.log_level == "ERROR" and cfg.spark_conf == {"spark.ui.enabled": "false"}
    parser, _ = _parsers()["download"]
    args = parser.parse_args(["--output", "y", "--log-level", "info"])
    assert download_config.config_from_args(args).log_level == "INFO"
    parser, _ = _parsers()["curate"]
    assert parser.parse_args(["--input", "x"]).log_level == "WARN"
    assert parser.parse_args(["--input", "x"]).quiet is False
