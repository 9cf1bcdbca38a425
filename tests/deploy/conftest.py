"""Fixtures of the deployment tests: a small input, a curation output root written by the pure
reference (no Spark), and the repository root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run(cmd: list[str], timeout: float, **kw) -> subprocess.CompletedProcess:
    """Run a command; on failure, fail the test with the tail of its output."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd[:4]))} ... exited {proc.returncode}\n"
                    f"--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-6000:]}")
    return proc


def opt_in(variable: str) -> None:
    if os.environ.get(variable) != "1":
        pytest.skip(f"opt-in: set {variable}=1 (slow; see docs/deploy.md for the measured run)")


@pytest.fixture(scope="session")
def small_inputs(tmp_path_factory):
    """About 50 input rows (with bad rows) and the test metadata, as files."""
    from curation.metadata import metadata_from_lists, write_metadata

    from ..pipeline_fixtures import METADATA, make_rows

    tmp = tmp_path_factory.mktemp("deploy_inputs")
    rows = make_rows(n_images=40)
    path = tmp / "alt_texts.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    metadata = tmp / "metadata.parquet"
    write_metadata(metadata_from_lists(METADATA, "test"), str(metadata))
    return {"input": str(path), "metadata": str(metadata), "rows": rows}


@pytest.fixture(scope="session")
def reference_output(tmp_path_factory):
    """A curation output root (Parquet tables + _stats.json) built by the pure-Python reference."""
    from .report_fixtures import write_reference_output

    root = tmp_path_factory.mktemp("reference_output") / "out"
    expected = write_reference_output(str(root))
    return {"root": str(root), "expected": expected}


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None
