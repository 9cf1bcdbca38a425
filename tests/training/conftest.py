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


UNEVEN_ROW_GROUPS = (1, 37, 4, 90, 2, 13, 60, 7)  # cycled per file: row groups of 1 to 90 rows


@pytest.fixture(scope="session")
def uneven_roots(tmp_path_factory) -> dict[str, str]:
    """``{"parquet": root, "delta": root}``: 300 images, row groups of very different sizes (1–90 rows;
    ``curated`` 9 row groups, ``matched`` 33 — fewer than 16 ranks × 4 workers), no corrupt images."""
    roots = {}
    for fmt in ("parquet", "delta"):
        root = str(tmp_path_factory.mktemp(f"uneven_{fmt}"))
        generate(root, n_train=300, n_test=4, seed=5, format=fmt, num_files=3, row_group_size=UNEVEN_ROW_GROUPS,
                 corrupt=0)
        roots[fmt] = root
    return roots
