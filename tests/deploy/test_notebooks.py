"""The notebooks are Databricks source files that also run as plain Python.

01 and 03 run in this process (``runpy``, as ``__main__``) so that they share the test session's
SparkSession instead of starting a JVM each, exactly as on Databricks where ``spark`` exists
before the first cell; 02 needs no Spark and runs as ``python notebooks/02_metadata_build.py``."""

from __future__ import annotations

import json
import os
import re
import runpy
import sys
from pathlib import Path

import pytest

from .conftest import REPO, run

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.py"))
MAGIC = re.compile(r"^# MAGIC( |$)")


def test_there_are_three_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["01_curation_walkthrough.py", "02_metadata_build.py",
                                           "03_training_data.py"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_databricks_source_format(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# Databricks notebook source"
    cells = "\n".join(lines[1:]).split("\n# COMMAND ----------\n")
    assert len(cells) >= 5
    for cell in cells:
        body = [line for line in cell.strip("\n").splitlines() if line.strip()]
        magic = [line for line in body if MAGIC.match(line)]
        if magic:  # a magic cell is all magic lines, opened by %md or %pip
            assert magic == body and re.match(r"# MAGIC %(md|pip)\b", body[0]), cell[:200]
    compile(path.read_text(encoding="utf-8"), str(path), "exec")
    # Databricks-only names are used only on Databricks (inside the ON_DATABRICKS branches)
    for number, line in enumerate(lines, 1):
        if re.search(r"\b(dbutils|display|displayHTML)\(", line) and not line.lstrip().startswith("def "):
            assert line.startswith("    ") and "noqa: F821" in line, f"{path.name}:{number}: {line}"


def _run_notebook(name: str, monkeypatch, **params) -> dict:
    for key, value in params.items():
        monkeypatch.setenv(f"WWCLIP_{key.upper()}", str(value))
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    return runpy.run_path(str(REPO / "notebooks" / name), run_name="__main__")


@pytest.fixture(scope="module")
def walkthrough(spark, small_inputs, tmp_path_factory):
    pytest.importorskip("matplotlib")
    out = tmp_path_factory.mktemp("walkthrough") / "out"
    mp = pytest.MonkeyPatch()
    try:
        nb = _run_notebook("01_curation_walkthrough.py", mp, input=small_inputs["input"],
                           metadata=small_inputs["metadata"], output=out, format="parquet", report="true")
    finally:
        mp.undo()
    return {"out": str(out), "globals": nb}


@pytest.mark.spark
def test_walkthrough_runs_every_stage_and_the_report(walkthrough, small_inputs):
    stats = json.loads((Path(walkthrough["out"]) / "_stats.json").read_text())
    assert set(stats["stages"]) >= {"lid", "match", "count", "thresholds", "sample"}
    match = stats["stages"]["match"]
    assert match["rows_in"] == len(small_inputs["rows"]) == match["matched"] + match["rejects"]
    assert stats["stages"]["sample"]["kept"] > 0
    report = os.path.join(walkthrough["out"], "report.html")
    assert os.path.getsize(report) > 50_000
    assert walkthrough["globals"]["report_path"] == report


@pytest.mark.spark
def test_training_data_notebook_previews_epochs_and_exports_urls(walkthrough, monkeypatch, capsys):
    pytest.importorskip("training.reader")
    export = os.path.join(walkthrough["out"], "urls")
    nb = _run_notebook("03_training_data.py", monkeypatch, data=walkthrough["out"], mode="online", preview=2,
                       export=export)
    out = capsys.readouterr().out
    assert "epoch 0:" in out and "epoch 1:" in out
    stats = json.loads((Path(walkthrough["out"]) / "_stats.json").read_text())
    images = stats["stages"]["sample"]["images_in"]
    assert nb["snapshot"].num_rows == stats["stages"]["match"]["matched"]
    assert nb["spark"].read.parquet(export).count() == images  # every matched image, once


def test_metadata_notebook_runs_as_a_plain_python_script(tmp_path):
    out = tmp_path / "metadata.parquet"
    env = {**os.environ, "WWCLIP_OUTPUT": str(out)}
    env.pop("DATABRICKS_RUNTIME_VERSION", None)
    proc = run([sys.executable, str(REPO / "notebooks" / "02_metadata_build.py")], timeout=300, env=env,
               cwd=str(tmp_path))
    assert "valid" in proc.stdout
    from curation.metadata import read_metadata

    built = read_metadata(str(out))
    assert sorted(built.languages) == ["de", "en"]
    assert built.n_entries("en") >= 500  # 500 imported words + the numbers 0-99
    assert os.path.exists(tmp_path / "_stats.json")
