"""The jobs/ entry points run unchanged under spark-submit, and so do the cluster recipes of
docs/deploy.md.

Default: ONE ``spark-submit --master local[2] jobs/curate.py`` on about 50 rows (its own JVM),
then ``python -m curation.report`` on its output. Opt-in (slow, minutes each):

- ``WWCLIP_TEST_PACKED_ENV=1``: ``scripts/pack_env.sh`` + ``scripts/fetch_delta_jars.sh``, then
  ``spark-submit --archives env.tar.gz#environment`` on ``local-cluster[1,2,1024]`` (separate
  executor JVMs whose Python comes from the unpacked archive, as on YARN/Kubernetes: in plain
  ``local[N]`` executors do not run in the archive's directory) with ``--jars`` (no Ivy).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from .conftest import REPO, opt_in, run

DELTA_CONF = ["--conf", "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension",
              "--conf", "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog"]
QUIET_CONF = ["--conf", "spark.ui.enabled=false", "--conf", "spark.sql.shuffle.partitions=4",
              "--conf", "spark.driver.memory=1g"]


def _spark_submit() -> str:
    path = shutil.which("spark-submit")
    if path is None:
        pytest.skip("spark-submit not on PATH (pip install -e '.[curation]' puts it there)")
    return path


def _assert_curated(out: str, n_rows: int, fmt: str) -> dict:
    stats = json.loads((Path(out) / "_stats.json").read_text())
    assert stats["run"]["format"] == fmt
    match = stats["stages"]["match"]
    assert match["rows_in"] == n_rows == match["matched"] + match["rejects"]
    assert stats["stages"]["sample"]["kept"] > 0
    marker = "_delta_log" if fmt == "delta" else "_SUCCESS"
    for table in ("texts_lid", "matched", "rejects", "entry_counts", "thresholds", "entry_probs", "curated"):
        assert os.path.exists(os.path.join(out, table, marker)), table
    return stats


@pytest.mark.slow
@pytest.mark.spark
def test_jobs_curate_under_spark_submit_local(small_inputs, tmp_path):
    submit = _spark_submit()
    out = str(tmp_path / "out")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    proc = run([submit, "--master", "local[2]", "--packages", "io.delta:delta-spark_2.13:4.0.1", *DELTA_CONF,
                *QUIET_CONF, str(REPO / "jobs" / "curate.py"), "--input", small_inputs["input"],
                "--metadata", small_inputs["metadata"], "--output", out, "--format", "parquet",
                "--output-partitions", "1"], timeout=600, env=env, cwd=str(tmp_path))
    assert "input rows" in proc.stdout  # the summary the job prints
    _assert_curated(out, len(small_inputs["rows"]), "parquet")
    if shutil.which("python") and _has_matplotlib():
        run([sys.executable, "-m", "curation.report", "--output", out], timeout=300)
        assert os.path.getsize(os.path.join(out, "report.html")) > 50_000


def _has_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _spark_home_overlay(tmp_path) -> str:
    """A SPARK_HOME that links to pip's pyspark, so local-cluster workers write under tmp_path."""
    import pyspark

    real = os.path.dirname(pyspark.__file__)
    home = tmp_path / "spark_home"
    home.mkdir()
    for name in os.listdir(real):
        if name != "work":
            os.symlink(os.path.join(real, name), home / name)
    return str(home)


@pytest.mark.slow
@pytest.mark.spark
def test_packed_env_and_local_jars_on_a_local_cluster(small_inputs, tmp_path):
    opt_in("WWCLIP_TEST_PACKED_ENV")
    _spark_submit()
    env_tar = tmp_path / "wwclip-env.tar.gz"
    run(["bash", str(REPO / "scripts" / "pack_env.sh"), str(env_tar)], timeout=900)
    jars = run(["bash", str(REPO / "scripts" / "fetch_delta_jars.sh"), str(tmp_path / "jars")],
               timeout=300).stdout.split()
    home = _spark_home_overlay(tmp_path)
    out = str(tmp_path / "out")
    env = {k: v for k, v in os.environ.items() if k not in ("PYSPARK_PYTHON", "PYSPARK_DRIVER_PYTHON")}
    env["SPARK_HOME"] = home
    run([os.path.join(home, "bin", "spark-submit"), "--master", "local-cluster[1,2,1024]",
         "--archives", f"{env_tar}#environment", "--conf", "spark.pyspark.python=./environment/bin/python",
         "--conf", f"spark.pyspark.driver.python={sys.executable}", "--jars", ",".join(jars), *DELTA_CONF,
         *QUIET_CONF, str(REPO / "jobs" / "curate.py"), "--input", small_inputs["input"],
         "--metadata", small_inputs["metadata"], "--output", out, "--format", "delta", "--output-partitions", "1"],
        timeout=900, env=env, cwd=str(tmp_path))
    _assert_curated(out, len(small_inputs["rows"]), "delta")
    # the executors really ran the packed interpreter: the archive was unpacked in their directory
    unpacked = [root for root, dirs, _ in os.walk(os.path.join(home, "work")) if "environment" in dirs]
    assert unpacked, "no executor directory with the unpacked environment"


@pytest.mark.slow
@pytest.mark.spark
def test_jobs_realsyn_under_spark_submit_local(tmp_path):
    """``spark-submit jobs/realsyn.py`` on 30 demo documents (random-weight CLIP) writes
    ``realsyn_pairs``; opt-in (a second JVM plus CLIP on CPU: minutes on a loaded machine)."""
    opt_in("WWCLIP_TEST_REALSYN_SUBMIT")
    pytest.importorskip("open_clip")
    pytest.importorskip("faiss")
    from curation.realsyn.demo import generate

    submit = _spark_submit()
    demo, out = str(tmp_path / "demo"), str(tmp_path / "out")
    generate(demo, documents=30, seed=0, num_files=1, train_steps=0)
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    proc = run([submit, "--master", "local[2]", *QUIET_CONF, str(REPO / "jobs" / "realsyn.py"),
                "--documents", f"{demo}/documents", "--images", f"{demo}/images", "--clip-model", f"{demo}/clip",
                "--output", out, "--output-partitions", "1", "--kmeans-iter", "5", "--target-pairs", "20",
                "--image-dup-cosine", "1.0"],
               timeout=1200, env=env, cwd=str(tmp_path))
    start = proc.stdout.index('{\n "output"')  # the job's closing summary (Spark may print after it)
    summary, _ = json.JSONDecoder().raw_decode(proc.stdout[start:])
    stats = json.loads((Path(out) / "_stats.json").read_text())["realsyn"]
    assert summary["pairs"] == stats["pairs"]["pairs"] > 0
    assert stats["sentences"]["perplexity"]["skipped"] is True
    assert os.path.exists(os.path.join(out, "realsyn_pairs", "_SUCCESS"))
