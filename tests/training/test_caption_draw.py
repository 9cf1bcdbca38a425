"""The loader's per-epoch caption draw over several caption columns (RealSyn's ``realsyn_pairs``:
text1..text3 + syn_text): deterministic per (seed, epoch, uid), uniform over the row's non-null
texts, redrawn every epoch, and the same whatever the rank x worker layout, through the exact-epoch
plan (``training.coverage.plan_epoch``) and the launcher's ``--realsyn`` flags."""

from __future__ import annotations

import os
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.realsyn.captions import draw_caption
from training.coverage import plan_epoch
from training.launch import parse_args
from training.reader import DataConfig, draw_captions, iter_epoch_records

COLUMNS = ("text1", "text2", "text3")
SYN = "syn_text"
N_ROWS = 240


def _row(i: int) -> dict:
    """Row ``i``: every 3rd has no text3 (a small cluster), every 4th no syn_text, every 10th
    a blank text2 (whitespace only: not a caption)."""
    return {"uid": f"u{i:05d}", "url": f"https://img.example/{i}.jpg",
            "text1": f"first sentence of image {i}",
            "text2": "   " if i % 10 == 0 else f"second sentence of image {i}",
            "text3": None if i % 3 == 0 else f"third sentence of image {i}",
            "syn_text": None if i % 4 == 0 else f"synthetic caption of image {i}"}


@pytest.fixture(scope="module")
def pairs_table(tmp_path_factory) -> str:
    """A realsyn_pairs-shaped Parquet table: 3 files, row groups of 16 rows, uid-sorted."""
    table = str(tmp_path_factory.mktemp("caption_draw") / "realsyn_pairs")
    os.makedirs(table)
    rows = [_row(i) for i in range(N_ROWS)]
    schema = pa.schema([("uid", pa.string()), ("url", pa.string())] + [(c, pa.string()) for c in (*COLUMNS, SYN)])
    for f in range(3):
        part = pa.Table.from_pylist(rows[f * 80:(f + 1) * 80], schema=schema)
        pq.write_table(part, os.path.join(table, f"part-{f:05d}.parquet"), row_group_size=16)
    open(os.path.join(table, "_SUCCESS"), "w").close()
    return table


def _draws(table: str, epoch: int, world_size: int = 1, num_workers: int = 1, seed: int = 7,
           synthetic: str | None = SYN) -> dict[str, str]:
    records = list(iter_epoch_records(table, seed=seed, epoch=epoch, world_size=world_size, num_workers=num_workers,
                                      caption_columns=COLUMNS, synthetic_column=synthetic, block_units=2))
    out = {r.uid: r.text for r in records}
    assert len(out) == len(records) == N_ROWS  # every row once, one caption each
    return out


def _expected(seed: int, epoch: int, synthetic: bool = True) -> dict[str, str]:
    out = {}
    for i in range(N_ROWS):
        row = _row(i)
        texts = [row[c] for c in (*COLUMNS, *([SYN] if synthetic else []))]
        out[row["uid"]] = texts[draw_caption(seed, epoch, row["uid"], texts)]
    return out


def test_draw_captions_hand_computed():
    """Rows of a table: the pick is ``(hash64(seed, epoch, uid) * n) >> 64`` over the non-blank texts."""
    from curation.hashing import hash64

    t = pa.table({"a": ["x", None, "p"], "b": ["y", "only", "  "], "c": [None, None, "q"]})
    uids = ["u1", "u2", "u3"]
    texts, index = draw_captions(t, ["a", "b", "c"], uids, 3, 1)
    assert index[0] == [0, 1][(hash64(3, 1, "u1") * 2) >> 64]
    assert index[1] == 1 and texts[1] == "only"       # the one present text
    assert index[2] == [0, 2][(hash64(3, 1, "u3") * 2) >> 64]  # the blank 'b' is never drawn
    assert texts == [t.column(["a", "b", "c"][i])[r].as_py() for r, i in enumerate(index)]
    with pytest.raises(ValueError, match="no caption"):
        draw_captions(pa.table({"a": [None], "b": [" "]}), ["a", "b"], ["u"], 0, 0)


def test_loader_draw_is_the_rule_for_every_row(pairs_table):
    assert _draws(pairs_table, 0) == _expected(7, 0)
    assert _draws(pairs_table, 3) == _expected(7, 3)
    assert _draws(pairs_table, 0, synthetic=None) == _expected(7, 0, synthetic=False)
    assert _draws(pairs_table, 0, seed=8) == _expected(8, 0) != _expected(7, 0)


@pytest.mark.parametrize("world_size,num_workers", [(2, 2), (3, 2), (5, 1), (8, 4)])
def test_same_draw_on_any_rank_and_worker_split(pairs_table, world_size, num_workers):
    assert _draws(pairs_table, 1, world_size, num_workers) == _draws(pairs_table, 1)


def test_draw_is_uniform_over_present_texts_and_changes_across_epochs(pairs_table):
    """Pooled over epochs 0-9: a row with 4 present texts gets each ~1/4 of the time, never a null
    or blank; between two epochs about 1 - Σ 1/n² of the draws change (3/4 for n = 4)."""
    rows = {r["uid"]: r for r in (_row(i) for i in range(N_ROWS))}
    per_epoch = [_draws(pairs_table, e) for e in range(10)]
    full = [u for u, r in rows.items() if all(r[c] and r[c].strip() for c in (*COLUMNS, SYN))]
    counts = Counter()
    for draws in per_epoch:
        for uid, text in draws.items():
            row = rows[uid]
            column = next(c for c in (*COLUMNS, SYN) if row[c] == text)
            assert text and text.strip()
            if uid in full:
                counts[column] += 1
    n = 10 * len(full)
    assert set(counts) == {*COLUMNS, SYN}
    assert all(abs(c / n - 0.25) < 0.05 for c in counts.values()), counts
    changed = sum(per_epoch[0][u] != per_epoch[1][u] for u in full) / len(full)
    assert 0.6 < changed < 0.9


@pytest.mark.parametrize("world_size,num_workers,epoch", [(1, 1, 0), (3, 2, 1), (4, 3, 2)])
def test_exact_epoch_plan_covers_the_drawn_sample(pairs_table, world_size, num_workers, epoch):
    """The exact-epoch plan over (rank, worker) yields the epoch's drawn (uid, caption) sample once."""
    config = DataConfig(table=pairs_table, seed=7, block_units=2, caption_columns=COLUMNS, synthetic_column=SYN)
    cov = plan_epoch(config, world_size=world_size, num_workers=num_workers, batch_size=8, epoch=epoch)
    assert cov.ok and cov.yielded == N_ROWS and cov.summary()["duplicates"] == 0


def test_launcher_realsyn_flags(tmp_path):
    cfg = parse_args(["--realsyn", "--data", "/r/", "--output-dir", str(tmp_path)])
    assert cfg.data.table == "/r/realsyn_pairs" and cfg.data.mode == "offline"
    assert cfg.data.caption_columns == COLUMNS and cfg.data.synthetic_column == SYN
    cfg = parse_args(["--realsyn", "--data", "/r", "--synthetic-column", "none", "--caption-columns", "text1,text2",
                      "--output-dir", str(tmp_path)])
    assert cfg.data.caption_columns == ("text1", "text2") and cfg.data.synthetic_column is None
    cfg = parse_args(["--table", "/t/pairs", "--caption-columns", "a, b", "--output-dir", str(tmp_path)])
    assert cfg.data.table == "/t/pairs" and cfg.data.caption_columns == ("a", "b") and cfg.data.synthetic_column is None
    with pytest.raises(SystemExit, match="offline-mode draw"):
        parse_args(["--realsyn", "--data", "/r", "--mode", "online", "--output-dir", str(tmp_path)])
    with pytest.raises(SystemExit, match="together with caption_columns"):
        parse_args(["--data", "/r", "--synthetic-column", "syn_text", "--output-dir", str(tmp_path)])


def test_missing_caption_column_is_refused_before_reading(pairs_table):
    with pytest.raises(ValueError, match=r"lacks columns \['text4'\]"):
        list(iter_epoch_records(pairs_table, caption_columns=("text1", "text4")))


def test_plan_command_checks_a_realsyn_root(pairs_table, capsys):
    """``python -m training plan --realsyn --data <root>`` plans and verifies the drawn sample."""
    from training import coverage

    root = os.path.dirname(pairs_table)
    assert coverage.main(["--data", root, "--realsyn", "--world-size", "3", "--workers", "2", "--batch-size", "8",
                          "--epoch", "2", "--data-seed", "7"]) == 0
    assert "coverage" in capsys.readouterr().out.lower()
    config = coverage.config_from_args(coverage.build_parser().parse_args(["--data", root, "--realsyn"]))
    assert config.table == pairs_table.rstrip("/") and config.caption_columns == COLUMNS
    assert config.synthetic_column == SYN
