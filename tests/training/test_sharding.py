"""The per-epoch plan: every row group to exactly one (rank, worker), balanced, deterministic."""

from __future__ import annotations

import pytest

from training.sharding import Unit, assign_units, blocks, epoch_order


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
