"""The open-book kernel drawing events directly, against a uniform per cell; the exact
moments on a grid of days against the day-by-day sums."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from forecastlib.demand.stay_draws import StayDraws
from forecastlib.simulation import OpenBook
from forecastlib.simulation.book_moments import daily_moments, grid_moments
from forecastlib.simulation.cell_events import bernoulli_cells

MONTHS = np.array([30.0, 61, 92, 120, 151])


def book(n=1500, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    age = rng.integers(-30, 3000, n).astype(float)
    return OpenBook(daily=rng.uniform(20, 600, n), age=age,
                    distribution=stats.lognorm(0.9, scale=500), month_ends=MONTHS, **kwargs)


def caps(n=1500, seed=1):
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.2, rng.integers(-5, 200, n), np.inf)


DRAWS = StayDraws("weibull", np.array([0.8, 0.9, 1.2]), np.array([400.0, 500.0, 600.0]))


@settings(max_examples=30, deadline=None)
@given(simulations=st.integers(1, 40), seed=st.integers(0, 1000))
def test_bernoulli_cells_are_distinct_cells_inside_the_block(simulations, seed):
    p = np.array([0.0, 1e-12, 0.05, 0.5, 0.97, 1.0])
    rows, cols = bernoulli_cells(np.random.default_rng(seed), p, simulations)
    assert ((rows >= 0) & (rows < simulations)).all()
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) == rows.size
    assert not (cols == 0).any()
    assert sorted(rows[cols == 5].tolist()) == list(range(simulations))


@pytest.mark.parametrize("simulations", [1, 3, 400])
def test_bernoulli_cells_frequency(simulations):
    p = np.array([0.01, 0.2, 0.5, 0.9])
    rng = np.random.default_rng(4)
    repeats = max(1, 40_000 // simulations)
    counts = sum(np.bincount(bernoulli_cells(rng, p, simulations)[1], minlength=4)
                 for _ in range(repeats))
    trials = repeats * simulations
    se = np.sqrt(p * (1 - p) / trials)
    assert np.all(np.abs(counts / trials - p) < 5 * se)


@pytest.mark.parametrize("kwargs", [{}, {"cap": caps(), "move_rate": 0.002},
                                    {"cap": caps(), "move_rate": 0.002, "draws": DRAWS}])
def test_event_kernel_matches_cell_kernel(monkeypatch, kwargs):
    results = {}
    for mode in ("cells", "events"):
        monkeypatch.setattr(OpenBook, "_sample_events",
                            lambda self, s, t, mode=mode: mode == "events")
        paths, running, movers = book(**kwargs).simulate_all_moves(3, ("a", "b"), 2000,
                                                                    workers=1)
        results[mode] = (paths, running, movers)
        assert (np.diff(paths, axis=1) >= 0).all()
        assert np.all(np.diff(movers["sim"]) >= 0)
    cells, events = results["cells"], results["events"]
    for column in range(len(MONTHS)):
        assert stats.ks_2samp(cells[0][:, column], events[0][:, column]).pvalue > 1e-3
    assert stats.ks_2samp(cells[1], events[1]).pvalue > 1e-3
    mean, variance = book(**kwargs).expected_cost()
    total = events[0][:, -1]
    assert abs(total.mean() - mean) < 4 * np.sqrt(variance / len(total))
    assert total.var() == pytest.approx(variance, rel=0.15)
    if "move_rate" in kwargs:
        moves = [np.bincount(result[2]["sim"], minlength=2000) for result in (cells, events)]
        assert abs(moves[0].mean() - moves[1].mean()) < 4 * np.sqrt(
            (moves[0].var() + moves[1].var()) / 2000)


def test_event_kernel_is_chosen_for_rare_events_only():
    long_stays = OpenBook(daily=np.ones(1000), age=np.full(1000, 10.0),
                          distribution=stats.expon(scale=1e5), month_ends=MONTHS)
    short_stays = OpenBook(daily=np.ones(1000), age=np.full(1000, 10.0),
                           distribution=stats.expon(scale=10), month_ends=MONTHS)
    assert long_stays._sample_events(1000, long_stays._threshold)
    assert not long_stays._sample_events(1, long_stays._threshold)
    assert not short_stays._sample_events(1000, short_stays._threshold)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 1000), move_rate=st.sampled_from([0.0, 0.001, 0.02]),
       with_caps=st.booleans(), with_draws=st.booleans())
def test_grid_moments_equal_day_by_day(seed, move_rate, with_caps, with_draws):
    rng = np.random.default_rng(seed)
    n = 40
    age = rng.integers(-60, 5000, n).astype(float)
    offsets = np.maximum(-age, 0) + rng.integers(0, 30, n) * (rng.random(n) < 0.3)
    subject = OpenBook(daily=rng.uniform(1, 500, n), age=age,
                       distribution=stats.weibull_min(0.8, scale=700), month_ends=MONTHS,
                       offsets=offsets, cap=caps(n, seed) if with_caps else None,
                       move_rate=move_rate, draws=DRAWS if with_draws else None)
    sf = subject.distribution.sf
    grid = grid_moments(subject, lambda days: sf(days)[None, :])
    direct = daily_moments(subject, lambda days: sf(days)[None, :])
    assert grid[0] == pytest.approx(direct[0], rel=1e-9, abs=1e-6)
    assert grid[1] == pytest.approx(direct[1], rel=1e-7, abs=1e-3)


def test_expected_cost_by_hand():
    # one placement, exponential stay of mean 1 / 0.1 days (memoryless), 3 days left:
    # E[days] = sum_{d=1}^{3} exp(-0.1 (d - 1))
    subject = OpenBook(daily=np.array([2.0]), age=np.array([7.0]),
                       distribution=stats.expon(scale=10), month_ends=np.array([3.0]))
    alive = np.exp(-0.1 * np.arange(3))
    mean = 2 * alive.sum()
    second = 4 * ((2 * np.arange(1, 4) - 1) * alive).sum()
    assert subject.expected_cost() == pytest.approx((mean, second - mean**2))


@pytest.mark.parametrize("events", [False, True])
def test_a_large_block_runs_in_bounded_sub_blocks(monkeypatch, events):
    from forecastlib.simulation import open_book as module

    monkeypatch.setattr(module, "CHUNK_ELEMENTS", 2000)
    monkeypatch.setattr(OpenBook, "_sample_events", lambda self, s, t: events)
    subject = book(n=300, cap=caps(300), move_rate=0.002)
    paths, running, movers = subject.simulate_moves(np.random.default_rng(5), 3000, first=0)
    assert paths.shape == (3000, len(MONTHS)) and running.shape == (3000,)
    assert np.all(np.diff(movers["sim"]) >= 0) and movers["sim"].max() > 2900
    mean, variance = subject.expected_cost()
    assert abs(paths[:, -1].mean() - mean) < 4 * np.sqrt(variance / 3000)
