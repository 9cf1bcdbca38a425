"""The Databricks Asset Bundle, validated locally as far as possible without a workspace:
structure, references, the wheel entry points and their parameters (parsed by the jobs' own
parsers), notebook paths, and -- when ``databricks-bundles`` is installed -- every job resource
loaded by Databricks' own typed classes, which reject unknown fields."""

from __future__ import annotations

import re

import pytest

from .conftest import REPO

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
yaml = pytest.importorskip("yaml")

BUNDLE = yaml.safe_load((REPO / "databricks.yml").read_text())
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
RESOURCE_FILES = sorted((REPO / "resources").glob("*.yml"))
JOBS = {name: (path, job) for path in RESOURCE_FILES
        for name, job in yaml.safe_load(path.read_text())["resources"]["jobs"].items()}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _substitute(value: str) -> str:
    variables = BUNDLE["variables"]
    return re.sub(r"\$\{var\.(\w+)\}", lambda m: str(variables[m.group(1)]["default"]), value)


def test_bundle_builds_the_wheel_and_includes_the_resources():
    assert BUNDLE["bundle"]["name"] == PYPROJECT["project"]["name"]
    assert "resources/*.yml" in BUNDLE["include"] and RESOURCE_FILES
    wheel = BUNDLE["artifacts"]["wheel"]
    assert wheel["type"] == "whl" and "wheel" in wheel["build"] and "dist" in wheel["build"]
    assert BUNDLE["targets"]["dev"]["mode"] == "development" and BUNDLE["targets"]["prod"]["mode"] == "production"
    assert set(JOBS) == {"wwclip_curation", "wwclip_notebooks"}


def test_every_variable_reference_is_defined():
    text = (REPO / "databricks.yml").read_text() + "".join(p.read_text() for p in RESOURCE_FILES)
    used = set(re.findall(r"\$\{var\.(\w+)\}", text))
    assert used <= set(BUNDLE["variables"]), used - set(BUNDLE["variables"])
    for target in BUNDLE["targets"].values():
        assert set(target.get("variables", {})) <= set(BUNDLE["variables"])


def _tasks():
    for name, (path, job) in JOBS.items():
        for task in job["tasks"]:
            yield name, path, task


def test_wheel_tasks_call_console_scripts_with_valid_flags():
    from curation.pipeline.config import build_parser
    from curation.report.cli import build_parser as report_parser

    scripts = PYPROJECT["project"]["scripts"]
    seen = set()
    for _, path, task in _tasks():
        if "python_wheel_task" not in task:
            continue
        wt = task["python_wheel_task"]
        assert _normalise(wt["package_name"]) == _normalise(PYPROJECT["project"]["name"])
        assert wt["entry_point"] in scripts
        argv = [_substitute(a) for a in wt["parameters"]]
        parser = report_parser() if wt["entry_point"] == "wwclip-report" else build_parser("x", "x")
        parser.parse_args(argv)  # SystemExit on an unknown flag or a bad value
        assert any("whl" in lib and lib["whl"] == "../dist/*.whl" for lib in task["libraries"])
        assert (path.parent / "../dist").resolve() == REPO / "dist"
        seen.add(wt["entry_point"])
    assert seen == {"wwclip-curate", "wwclip-report"}


def test_notebook_tasks_point_at_the_notebooks_and_their_widgets():
    for _, path, task in _tasks():
        if "notebook_task" not in task:
            continue
        nb = (path.parent / task["notebook_task"]["notebook_path"]).resolve()
        assert nb.is_file() and nb.parent == REPO / "notebooks"
        source = nb.read_text()
        assert source.startswith("# Databricks notebook source")
        defaults = re.search(r"DEFAULTS = \{(.*?)\n\}", source, re.DOTALL).group(1)
        for key in task["notebook_task"].get("base_parameters", {}):
            assert f'"{key}":' in defaults, f"{nb.name} has no widget {key!r}"


def test_job_clusters_can_run_the_jvm_glue():
    for name, (_, job) in JOBS.items():
        for cluster in job["job_clusters"]:
            spec = cluster["new_cluster"]
            # tables are replaced through spark.sparkContext's Hadoop FileSystem: dedicated access mode
            assert spec["data_security_mode"] == "SINGLE_USER", name
            assert _substitute(spec["spark_version"]).startswith("17.3"), "DBR 17.3 LTS = Spark 4.0"
        assert all("job_cluster_key" in t for t in job["tasks"])


def test_resources_load_as_databricks_job_objects():
    jobs = pytest.importorskip("databricks.bundles.jobs", reason="pip install databricks-bundles")
    for _, job in JOBS.values():
        loaded = jobs.Job.from_dict(job)  # raises on unknown or misspelt fields
        assert [t.task_key for t in loaded.tasks] == [t["task_key"] for t in job["tasks"]]
