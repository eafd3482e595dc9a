"""Shards of a grid: each job once, in the grid's order; a source of another shard is waited
for, with a timeout."""
import re

import pytest

from tfprune.grid import shards, sweep

from conftest import tiny_config

BASE = tiny_config(deterministic=True)
GRID = {"a": {"method": "lrr"}, "b": {"method": "imp", "mask_from": "@a"}}  # b reads a


@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_shards_together_cover_the_grid_exactly_once_in_its_order(count, tmp_path):
    jobs = sweep.plan(BASE, sweep.NAMED["masks"], [0, 1, 2], [], str(tmp_path))
    parts = [shards.select(jobs, i, count) for i in range(count)]
    assert sorted(j.workdir for part in parts for j in part) == sorted(j.workdir for j in jobs)
    for part in parts:  # each in the grid's order: a source before its user in one shard
        positions = [jobs.index(j) for j in part]
        assert positions == sorted(positions)


@pytest.mark.parametrize("text, message", [
    ("1", "expected I/N"), ("a/2", "expected I/N"), ("2/2", "I must be in [0, N)"),
    ("-1/3", "I must be in [0, N)")])
def test_bad_shards_are_refused(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        shards.parse(text)
    assert shards.parse("3/8") == (3, 8)


def test_waiting_for_a_source_of_another_shard_times_out_with_a_clear_message(tmp_path):
    jobs = sweep.plan(BASE, GRID, [0], [], str(tmp_path))
    now = iter(range(0, 1000, 5))
    with pytest.raises(TimeoutError) as error:
        shards.wait_for_sources(jobs[1], jobs, 2, rounds=1, timeout=30,
                                clock=lambda: next(now), sleep=lambda s: None)
    assert str(error.value) == (
        f"b/seed_0 waited 30 s for its source {tmp_path}/a/seed_0 (0 of 2 rounds complete), "
        "which shard 0/2 runs; start that shard, or raise --source_timeout")
