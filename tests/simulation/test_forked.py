"""Forked processes: the same fits and forecasts as one process, errors raised here, and
the work done here when a child cannot do it."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from forecastlib.outturn import forecast_outturn
from forecastlib.simulation import SIM_BLOCK, DemandModels, ForkedWorkers
from forecastlib.simulation import forked as module
from forecastlib.simulation.forked import can_fork, fork_call, forked_map, forked_share

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


def _assert_same(a, b, where):
    """Every learnt number of ``a`` equals ``b``'s exactly (walking attributes)."""
    assert type(a) is type(b), where
    if isinstance(a, pd.Period | pd.Timestamp | pd.Timedelta | np.generic | int | float | str
                  | bytes | None):
        assert a == b or (a != a and b != b), where
    elif isinstance(a, pd.DataFrame | pd.Series):
        (pd.testing.assert_frame_equal if isinstance(a, pd.DataFrame)
         else pd.testing.assert_series_equal)(a, b, check_exact=True, obj=where)
    elif isinstance(a, pd.Index):
        pd.testing.assert_index_equal(a, b, exact=True, obj=where)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), where
        for number, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_same(x, y, f"{where}[{number}]")
    elif hasattr(a, "dist") and hasattr(a, "args"):  # a frozen scipy distribution
        assert (a.dist.name, a.args, a.kwds) == (b.dist.name, b.args, b.kwds), where
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        _assert_same(vars(a), vars(b), where)
    else:
        assert a == b or (a != a and b != b), where


def test_a_forked_fit_is_the_fit_made_here(sample):
    here = DemandModels.fit(sample.placements, sample.as_at)
    there = DemandModels.fit(sample.placements, sample.as_at, fork=True)
    for name in ("stays", "moves", "starts", "prices"):  # stays, moves: from the child
        _assert_same(getattr(here, name), getattr(there, name), name)


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

    with pytest.raises(ValueError, match="bad item [12]"):  # whichever child reports first
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


def test_closing_early_stops_the_children():
    import multiprocessing
    import time

    results = forked_map(lambda x: (time.sleep(0 if x == 0 else 30), x)[1], [[0, 1], [2]])
    started = time.monotonic()
    assert next(results) == (0, 0)
    results.close()  # the parent stops listening: both children are stopped, not awaited
    assert not multiprocessing.active_children()
    assert time.monotonic() - started < 20


def test_forked_share_gives_every_item_once_and_the_slow_items_to_one_child():
    import time

    parent = os.getpid()
    results = dict(forked_share(lambda x: (x * x, os.getpid()), list(range(12)), 3))
    assert {item: value[0] for item, value in results.items()} == {x: x * x for x in range(12)}
    assert all(pid != parent for _, pid in results.values())
    # one slow item: while one child sleeps on it, the other takes every other item
    slow = dict(forked_share(lambda x: (time.sleep(2.0 if x == 0 else 0.01), os.getpid())[1],
                             list(range(8)), 2))
    assert all(slow[x] != slow[0] for x in range(1, 8))


def test_forked_share_of_a_dying_child_and_without_fork(monkeypatch):
    parent = os.getpid()

    def square_or_die(x):
        if x == 2 and os.getpid() != parent:
            os._exit(3)  # the child dies holding item 2: no lock is left held
        return x * x

    assert sorted(forked_share(square_or_die, [1, 2, 3, 4], 2)) == [(1, 1), (2, 4), (3, 9),
                                                                  (4, 16)]
    with pytest.raises(ValueError, match="bad item"):
        list(forked_share(lambda x: (_ for _ in ()).throw(ValueError(f"bad item {x}")),
                          [1, 2], 2))
    assert list(forked_share(lambda x: x, [], 2)) == []
    monkeypatch.setattr(module, "PIPE_ITEMS", 3)  # more items than the pipe: dealt in turn
    assert sorted(forked_share(lambda x: -x, [1, 2, 3, 4], 2)) == [(1, -1), (2, -2), (3, -3),
                                                                 (4, -4)]
    monkeypatch.setattr(module, "can_fork", lambda: False)
    assert list(forked_share(lambda x: (x, os.getpid()), [5], 2)) == [(5, (5, parent))]
