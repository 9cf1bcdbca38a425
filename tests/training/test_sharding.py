"""The per-epoch plan: every row group to exactly one (rank, worker), balanced, deterministic."""

from __future__ import annotations

import pytest

from training.sharding import Unit, assign_units, blocks, epoch_order, weight_class


def _units(sizes):
    return [Unit(i // 3, i % 3, n) for i, n in enumerate(sizes)]


@pytest.mark.parametrize("world_size,num_workers", [(1, 1), (2, 1), (2, 3), (3, 2), (4, 4), (8, 1)])
def test_every_unit_exactly_once(world_size, num_workers):
    units = _units([5, 17, 3, 64, 64, 1, 9, 33, 20, 7, 12, 40, 2, 8])
    plan = assign_units(units, seed=1, epoch=2, world_size=world_size, num_workers=num_workers)
    assert len(plan) == world_size and all(len(p) == num_workers for p in plan)
    flat = [u for rank in plan for worker in rank for u in worker]
    assert sorted(flat) == list(range(len(units)))


def test_ranks_balanced_within_one_unit():
    units = _units([5, 17, 3, 64, 64, 1, 9, 33, 20, 7, 12, 40, 2, 8] * 5)
    for world in (2, 3, 5):
        plan = assign_units(units, seed=0, epoch=0, world_size=world, num_workers=2)
        loads = [sum(units[u].rows for w in rank for u in w) for rank in plan]
        assert max(loads) - min(loads) <= max(u.rows for u in units)


def test_plan_is_deterministic_and_changes_per_epoch():
    units = _units(range(1, 30))
    a = assign_units(units, seed=7, epoch=0, world_size=2, num_workers=2)
    assert a == assign_units(units, seed=7, epoch=0, world_size=2, num_workers=2)
    assert epoch_order(units, 7, 0) != epoch_order(units, 7, 1)
    assert epoch_order(units, 7, 0, shuffle=False) == list(range(len(units)))


def test_blocks():
    assert blocks([4, 1, 3, 2, 0], 2) == [[4, 1], [3, 2], [0]]
    with pytest.raises(ValueError):
        blocks([1], 0)


def test_deal_by_weight_not_rows():
    """Rows 60/40/40/20 expected to yield 1/10/10/1 samples (online keep rates differ per row group):
    by rows the ranks get 80 and 80 rows but 2 and 20 samples; by weight 11 and 11 samples."""
    units = [Unit(0, 0, 60), Unit(0, 1, 40), Unit(1, 0, 40), Unit(1, 1, 20)]
    weights = [1.0, 10.0, 10.0, 1.0]
    for epoch in range(5):
        plan = assign_units(units, seed=0, epoch=epoch, world_size=2, num_workers=1, weights=weights)
        assert sorted(sum(weights[u] for u in rank[0]) for rank in plan) == [11.0, 11.0]
    by_rows = assign_units(units, seed=0, epoch=0, world_size=2, num_workers=1)
    assert sorted(sum(weights[u] for u in rank[0]) for rank in by_rows) == [2.0, 20.0]


def test_largest_first_dealing_evens_out_ranks_and_keeps_reading_order():
    sizes = [90, 1, 60, 2, 37, 4, 13, 7, 45, 3, 88, 1, 20]
    units = _units(sizes)
    plan = assign_units(units, seed=3, epoch=1, world_size=3, num_workers=2)
    loads = [sum(units[u].rows for w in rank for u in w) for rank in plan]
    # units of 1-4 rows are dealt last and even out the ranks: the gap is at most one of them
    # (greedy in hash order only bounds it by the largest unit, 90)
    assert sum(loads) == sum(sizes) and max(loads) - min(loads) <= 4
    order = epoch_order(units, 3, 1)
    for rank in plan:
        for w in rank:
            assert w == sorted(w, key=order.index)  # a worker reads in the epoch's hash order


def test_weight_classes_and_bad_weights():
    assert weight_class(1.0) == 0 and weight_class(2.0) == 8 and weight_class(0.0) < weight_class(1e-9)
    assert weight_class(100.0) == weight_class(105.0)  # within 9 %: same class, order left to the hash
    units = _units([1, 2])
    for bad in ([1.0], [1.0, -1.0], [1.0, float("nan")]):
        with pytest.raises(ValueError):
            assign_units(units, 0, 0, 1, 1, weights=bad)
