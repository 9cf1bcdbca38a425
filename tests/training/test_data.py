"""The loader: every uid exactly once per epoch for any (world size, workers); online = offline sampling; resume."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from training.crosscheck import online_sample, online_sample_table
from training.dataset import CuratedDataset, make_loader
from training.demo_data import write_table
from training.online import BalancingError, load_entry_probs
from training.reader import DataConfig, iter_epoch_records

LAYOUTS = [(1, 1), (1, 3), (2, 1), (2, 2), (3, 2), (4, 3)]


def _curated(root: str) -> list[tuple[str, str]]:
    from training.evaluate import read_table_columns

    cols, _ = read_table_columns(f"{root}/curated", ["uid", "text"], image=False)
    return sorted(zip(cols["uid"], cols["text"]))


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
@pytest.mark.parametrize("world_size,num_workers", LAYOUTS)
def test_offline_each_uid_exactly_once(demo_roots, fmt, world_size, num_workers):
    root = demo_roots[fmt]
    recs = list(iter_epoch_records(f"{root}/curated", world_size=world_size, num_workers=num_workers, epoch=1))
    counts = Counter(r.uid for r in recs)
    assert max(counts.values()) == 1
    assert sorted((r.uid, r.text) for r in recs) == _curated(root)


@pytest.mark.parametrize("fmt", ["parquet", "delta"])
@pytest.mark.parametrize("world_size,num_workers", LAYOUTS)
def test_online_epoch0_equals_offline_sampling(demo_roots, fmt, world_size, num_workers):
    """The curated table was sampled offline with curation.sampling (seed 3, epoch 0): the loader agrees."""
    root = demo_roots[fmt]
    recs = list(iter_epoch_records(f"{root}/matched", mode="online", seed=3, epoch=0, world_size=world_size,
                                   num_workers=num_workers))
    assert max(Counter(r.uid for r in recs).values()) == 1
    assert sorted((r.uid, r.text) for r in recs) == _curated(root)


def test_online_sample_function_and_epochs(demo_roots):
    root = demo_roots["parquet"]
    probs = load_entry_probs(f"{root}/entry_probs")
    from_uri = online_sample(f"{root}/matched", f"{root}/entry_probs", seed=3, epoch=0)
    in_memory = online_sample(pq.read_table(f"{root}/matched"), probs, seed=3, epoch=0)
    assert [(u, t) for u, _, t in from_uri] == [(u, t) for u, _, t in in_memory] == _curated(root)
    matched = pq.read_table(f"{root}/matched")
    n = matched.num_rows
    shuffled = matched.take(pa.array(list(range(0, n, 2))[::-1] + list(range(1, n, 2))))
    # the row order of an in-memory table does not matter (texts of an image need not be contiguous)
    assert sorted((u, t) for u, _, t in online_sample_table(shuffled, probs, 3, 0)) == _curated(root)
    epoch1 = online_sample(f"{root}/matched", probs, seed=3, epoch=1)
    assert epoch1 != from_uri  # re-picked and re-flipped every epoch


def test_matched_and_entry_probs_of_different_runs_are_refused(demo_roots):
    root = demo_roots["parquet"]
    probs = load_entry_probs(f"{root}/entry_probs")
    for bad, match in (({k: v for k, v in probs.items() if k != "ja"}, "'ja'"),
                       ({k: v[:1] for k, v in probs.items()}, "outside")):
        with pytest.raises(BalancingError, match=match):
            online_sample(pq.read_table(f"{root}/matched"), bad, 0, 0)
        with pytest.raises(BalancingError, match=match):
            online_sample(f"{root}/matched", bad, 0, 0)

def test_image_run_spanning_several_row_groups(tmp_path):
    """One image's texts cross two row-group borders; empty and single-image row groups around it."""
    texts = {"a" * 24: 1, "b" * 24: 9, "c" * 24: 2, "d" * 24: 1}
    rows = [(u, f"{u[0]} text {i}") for u, n in texts.items() for i in range(n)]
    table = pa.table({"uid": [u for u, _ in rows], "text": [t for _, t in rows], "lang": ["en"] * len(rows),
                      "entry_ids": pa.array([[0]] * len(rows), pa.list_(pa.int32()))})
    pq.write_table(table, tmp_path / "part-0.parquet", row_group_size=3)
    probs = {"en": [1.0]}
    import numpy as np

    probs_np = {k: np.asarray(v, np.float32) for k, v in probs.items()}
    want = online_sample_table(table, probs_np, 0, 0)
    for world, workers in LAYOUTS:
        recs = list(iter_epoch_records(str(tmp_path), mode="online", probs_by_lang=probs_np, world_size=world,
                                       num_workers=workers))
        assert sorted((r.uid, r.text) for r in recs) == sorted((u, t) for u, _, t in want)
        assert len(recs) == len(texts)


def test_dataloader_with_workers_counts_each_uid_once(demo_roots):
    root = demo_roots["delta"]
    seen: Counter = Counter()
    stats: Counter = Counter()
    for rank in range(2):
        ds = CuratedDataset(DataConfig(table=f"{root}/curated", seed=3), batch_size=7, rank=rank, world_size=2,
                            image_transform=_to_tensor, drop_last=False)
        for batch in make_loader(ds, num_workers=2):
            assert batch["images"].shape[1:] == (3, 8, 8)
            seen.update(batch["uids"])
            stats.update(batch["stats"])
    curated = {u for u, _ in _curated(root)}
    assert max(seen.values()) == 1
    assert stats["decode_error"] == len(curated) - len(seen) and set(seen) < curated  # corrupt images skipped
    assert stats["records"] == len(curated)


def _to_tensor(image):
    return torch.from_numpy(__import__("numpy").asarray(image.resize((8, 8)), dtype="float32")).permute(2, 0, 1)


def _order(ds: CuratedDataset, workers: int, stop_after: int | None = None):
    """uids per batch, the LoaderPosition after ``stop_after`` batches."""
    pos = ds.new_position(workers)
    out = []
    for batch in make_loader(ds, num_workers=workers):
        pos.update(batch)
        out.append(batch["uids"])
        if stop_after is not None and len(out) == stop_after:
            break
    return out, pos


@pytest.mark.parametrize("mode", ["offline", "online"])
@pytest.mark.parametrize("stop_after", [1, 4, 9])
def test_resume_mid_epoch_gives_the_same_order(demo_roots, mode, stop_after):
    root = demo_roots["parquet"]
    table = f"{root}/curated" if mode == "offline" else f"{root}/matched"

    def dataset():
        return CuratedDataset(DataConfig(table=table, mode=mode, seed=3, block_units=2), batch_size=5, rank=1,
                              world_size=2, load_images=False)

    full_ds = dataset()
    full_ds.set_epoch(2)
    full, _ = _order(full_ds, workers=3)
    first_ds = dataset()
    first_ds.set_epoch(2)
    first, pos = _order(first_ds, workers=3, stop_after=stop_after)
    resumed_ds = dataset()
    resumed_ds.load_state_dict(pos.state_dict())
    rest, _ = _order(resumed_ds, workers=3)
    assert len(full) > stop_after
    assert first + rest == full


def test_resume_refuses_a_different_layout(demo_roots):
    root = demo_roots["parquet"]
    ds = CuratedDataset(DataConfig(table=f"{root}/curated"), batch_size=4, load_images=False)
    state = ds.new_position(2).state_dict()
    other = CuratedDataset(DataConfig(table=f"{root}/curated"), batch_size=4, rank=0, world_size=2,
                           load_images=False)
    with pytest.raises(ValueError, match="world_size"):
        other.load_state_dict(state)
    # a position saved under another deal (an older loader, or --balance rows) is refused too
    for plan in ("", "deal-v1/yield/4/1"):
        with pytest.raises(ValueError, match="plan"):
            ds.load_state_dict({**state, "plan": plan})
    ds.load_state_dict(state)


def test_missing_columns_fail_before_any_work(tmp_path):
    write_table(pa.table({"uid": ["a" * 24], "caption": ["x"]}), str(tmp_path / "t"))
    with pytest.raises(ValueError, match="lacks columns"):
        CuratedDataset(DataConfig(table=str(tmp_path / "t")), batch_size=1, load_images=False)
    with pytest.raises(ValueError, match="lacks columns"):
        CuratedDataset(DataConfig(table=str(tmp_path / "t"), mode="online"), batch_size=1, load_images=False,
                       probs_by_lang={})
