"""Small curated tables (Parquet and Delta) written with pyarrow/deltalake — no Spark in these tests."""

from __future__ import annotations

import pytest

from training.demo_data import generate


@pytest.fixture(scope="session")
def demo_roots(tmp_path_factory) -> dict[str, str]:
    """``{"parquet": root, "delta": root}``: demo tables with tiny row groups (uids cross row-group borders)."""
    roots = {}
    for fmt in ("parquet", "delta"):
        root = str(tmp_path_factory.mktemp(f"demo_{fmt}"))
        generate(root, n_train=240, n_test=36, seed=3, format=fmt, num_files=3, row_group_size=16, corrupt=2)
        roots[fmt] = root
    return roots
