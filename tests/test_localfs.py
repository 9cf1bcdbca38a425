"""curation.localfs: the one local atomic write (temp file beside the target + os.replace)."""

from __future__ import annotations

import os

import pytest

from curation import localfs


def test_write_replaces_the_file_and_creates_parent_directories(tmp_path):
    path = tmp_path / "a" / "b" / "stats.json"
    assert localfs.write_text(str(path), "first\n") == str(path)
    localfs.write_text(str(path), "zweite Fassung ✓\n")
    assert path.read_bytes() == "zweite Fassung ✓\n".encode("utf-8")
    assert os.listdir(path.parent) == ["stats.json"]  # no temp file left behind


def test_a_failed_write_keeps_the_old_file_and_removes_the_temp_file(tmp_path):
    path = tmp_path / "metadata.parquet"
    path.write_bytes(b"old")

    def half_then_fail(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        localfs.atomic_write(str(path), half_then_fail)
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["metadata.parquet"]


def test_the_temp_file_is_hidden_and_beside_the_target(tmp_path):
    seen = []

    def write(tmp: str) -> None:
        seen.append(tmp)
        open(tmp, "wb").close()

    localfs.atomic_write(str(tmp_path / "x.json"), write)
    assert os.path.dirname(seen[0]) == str(tmp_path) and os.path.basename(seen[0]).startswith(".x.json.")
