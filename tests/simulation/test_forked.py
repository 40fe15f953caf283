"""Forked processes: the same fits and forecasts as one process, errors raised here, and
the work done here when a child cannot do it."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from forecastlib.outturn import forecast_outturn
from forecastlib.simulation import SIM_BLOCK, DemandModels, ForkedWorkers
from forecastlib.simulation import forked as module
from forecastlib.simulation.forked import can_fork, fork_call, forked_map

pytestmark = pytest.mark.skipif(not can_fork(), reason="the platform does not fork")


def _same(one, other):
    for name in ("paths", "outturns", "process_only", "no_common", "year_end_running"):
        np.testing.assert_array_equal(getattr(one, name), getattr(other, name), err_msg=name)


def test_forked_workers_give_exactly_the_local_forecast_and_fits(sample):
    placements = sample.placements[sample.placements["service"] == "LAC Placements"]
    budget = sample.budget[sample.budget["service"] == "LAC Placements"]
    simulations = SIM_BLOCK * 2 + 300  # three blocks, the last partial
    local = forecast_outturn(placements, budget, sample.as_at, simulations=simulations,
                             seed=5)
    forked = forecast_outturn(placements, budget, sample.as_at, simulations=simulations,
                              seed=5, executor=ForkedWorkers(2))  # the fits forked too
    _same(local, forked)
    assert forked.notes == local.notes
    assert forked.lines.equals(local.lines)


def test_a_forked_fit_is_the_fit_made_here(sample):
    here = DemandModels.fit(sample.placements, sample.as_at)
    there = DemandModels.fit(sample.placements, sample.as_at, fork=True)
    for name in ("stays", "moves"):  # fitted in the child, sent through a pipe
        carried = pickle.loads(pickle.dumps(getattr(here, name)))
        assert pickle.dumps(getattr(there, name)) == pickle.dumps(carried), name


def test_forked_map_returns_every_item_once_from_the_children():
    parent = os.getpid()
    results = dict(forked_map(lambda x: (x * x, os.getpid()), [[1, 2, 3], [4], []]))
    assert {item: value[0] for item, value in results.items()} == {1: 1, 2: 4, 3: 9, 4: 16}
    assert all(pid != parent for _, pid in results.values())
    assert results[1][1] == results[3][1] != results[4][1]  # one child a part


def test_items_of_a_child_that_dies_are_done_here():
    parent = os.getpid()

    def square_or_die(x):
        if x == 2 and os.getpid() != parent:
            os._exit(3)  # the child dies without a word
        return x * x

    assert sorted(forked_map(square_or_die, [[1, 2, 3], [4]])) == [(1, 1), (2, 4), (3, 9),
                                                                 (4, 16)]


def test_an_error_in_a_child_is_raised_here():
    def fail(x):
        raise ValueError(f"bad item {x}")

    with pytest.raises(ValueError, match="bad item 1"):
        list(forked_map(fail, [[1], [2]]))
    with pytest.raises(ValueError, match="bad item 0"):
        fork_call(fail, 0)()


def test_an_error_that_cannot_be_pickled_still_names_itself():
    class Local(Exception):  # a local class: not picklable
        pass

    def fail(x):
        raise Local("not picklable")

    with pytest.raises(RuntimeError, match="Local: not picklable"):
        fork_call(fail, 0)()


def test_fork_call_runs_here_where_the_platform_does_not_fork(monkeypatch):
    monkeypatch.setattr(module, "can_fork", lambda: False)
    parent = os.getpid()
    assert fork_call(os.getpid)() == parent
    assert list(forked_map(lambda x: x + 1, [[1], [2]])) == [(1, 2), (2, 3)]


def test_forked_workers_count():
    assert ForkedWorkers(2).count(10) == 2
    assert ForkedWorkers(8).count(3) == 3
    assert ForkedWorkers(2).count(0) == 1
    assert ForkedWorkers().count(1000) == max(1, min(1000, os.cpu_count() or 1))
