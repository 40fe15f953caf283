"""The simulation engine: analytic moments, reproducibility, independent streams."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecastlib.outturn import forecast_outturn
from forecastlib.simulation import DemandModels, OpenBook, simulate_remaining
from forecastlib.streams import stream


def test_open_book_simulation_matches_its_analytic_moments():
    rng = np.random.default_rng(0)
    book = OpenBook(daily=rng.uniform(50, 500, 400), age=rng.integers(-30, 900, 400).astype(float),
                    distribution=stats.lognorm(0.9, scale=300),
                    month_ends=np.array([30.0, 61, 92, 120, 151]))
    mean, variance = book.expected_cost()
    sims = 20_000
    paths, running = book.simulate(stream(1, ("S", "X"), "ends"), sims)
    totals = paths[:, -1]
    assert abs(totals.mean() - mean) < 4 * np.sqrt(variance / sims)
    assert totals.var() == pytest.approx(variance, rel=0.05)
    assert (np.diff(paths, axis=1) >= -1e-9).all()  # cumulative spend never falls
    assert (totals <= book.full_path()[-1] + 1e-6).all()
    assert running.max() <= 400
    expected_running = book.beyond_year.sum()
    assert running.mean() == pytest.approx(expected_running, rel=0.02)


def test_block_size_depends_only_on_the_book_and_bounds_memory():
    from forecastlib.simulation.open_book import CHUNK_ELEMENTS

    book = OpenBook(np.ones(10_000), np.ones(10_000), stats.expon(scale=100),
                    np.array([30.0]))
    assert book.chunk_size(10_000) * 10_000 <= CHUNK_ELEMENTS
    assert book.chunk_size(10) == 10


def test_sample_simulation_agrees_with_analytic_means(sample):
    models = DemandModels.fit(sample.placements, sample.as_at, new_starts=False)
    simulated, _, _ = simulate_remaining(sample.placements, sample.as_at, models,
                                         simulations=4000, seed=3)
    for position, line in enumerate(simulated.lines):
        mean, variance = simulated.expected_open[tuple(line)]
        totals = simulated.totals[position]
        assert abs(totals.mean() - mean) <= 4.5 * np.sqrt(variance / 4000) + 1e-6, line


def test_same_seed_same_numbers_and_lines_draw_independently(sample):
    placements = sample.placements
    first = forecast_outturn(placements, sample.budget, sample.as_at, simulations=300, seed=11)
    again = forecast_outturn(placements, sample.budget, sample.as_at, simulations=300, seed=11)
    np.testing.assert_array_equal(first.outturns, again.outturns)
    other = forecast_outturn(placements, sample.budget, sample.as_at, simulations=300, seed=12)
    assert not np.array_equal(first.outturns, other.outturns)
    # Changing one line's record leaves every other line's draws untouched.
    changed = placements.copy()
    homes = changed["category"] == "Residential homes"
    changed.loc[homes, "unit_cost"] = changed.loc[homes, "unit_cost"] * 2
    models = DemandModels.fit(placements, sample.as_at)
    base = forecast_outturn(placements, sample.budget, sample.as_at, simulations=300, seed=11,
                            models=models)
    moved = forecast_outturn(changed, sample.budget, sample.as_at, simulations=300, seed=11,
                             models=models)
    for position, line in enumerate(base.lines.index):
        if line == ("LAC Placements", "Residential homes"):
            assert moved.outturns[position].mean() > base.outturns[position].mean()
        else:
            np.testing.assert_array_equal(base.outturns[position], moved.outturns[position])


def test_result_summaries(sample):
    result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
                              actuals=sample.actuals, simulations=500, seed=2)
    line = ("LAC Placements", "Residential homes")
    row = result.lines.loc[line]
    assert row["prob_overspend"] == pytest.approx(
        result.probability_above(row["budget"], line))
    quantiles = result.quantiles((0.1, 0.5, 0.9))
    assert quantiles.loc[line, 0.1] == pytest.approx(row["lower"])
    paths = result.spend_paths(line=line)
    assert paths.iloc[0].nunique() == 1 and paths.iloc[0, 0] == pytest.approx(
        row["actual_to_date"])
    assert paths.iloc[-1][0.5] == pytest.approx(row["p50"])
    placements_at_year_end = result.year_end_placements()
    assert (placements_at_year_end["lower"] <= placements_at_year_end["upper"]).all()
    split = result.uncertainty()
    assert (split["parameter_share"].between(0, 1)).all()
    assert result.total["mean"] == pytest.approx(result.outturns.sum(axis=0).mean())


@pytest.mark.parametrize("distribution", [stats.lognorm(0.9, scale=300), stats.expon(scale=200),
                                          stats.weibull_min(0.7, scale=400),
                                          stats.fisk(1.8, scale=250)])
def test_closed_form_inverse_survival_matches_scipy(distribution):
    from forecastlib.simulation.open_book import inverse_survival

    q = np.random.default_rng(0).random(2000)
    np.testing.assert_allclose(inverse_survival(distribution, q), distribution.isf(q),
                               rtol=1e-10)


def test_results_do_not_depend_on_the_number_of_workers():
    rng = np.random.default_rng(1)
    book = OpenBook(daily=rng.uniform(50, 500, 30_000), age=rng.integers(1, 900, 30_000) * 1.0,
                    distribution=stats.lognorm(0.9, scale=300),
                    month_ends=np.array([30.0, 61, 92]))
    one, one_running = book.simulate_all(5, ("S", "X"), 1000, workers=1)
    two, two_running = book.simulate_all(5, ("S", "X"), 1000, workers=2)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one_running, two_running)
    assert book.chunk_size(1000) < 1000  # several blocks were run


def test_simulation_s_uses_stay_draw_s_mod_k_in_every_block():
    from forecastlib.demand import StayDraws

    # draw 0 ends everyone at once; draw 1 keeps everyone to year-end; draw 2 in between
    draws = StayDraws("exponential", np.ones(3), np.array([1e-6, 1e9, 100.0]))
    book = OpenBook(daily=np.full(50, 10.0), age=np.full(50, 5.0),
                    distribution=stats.expon(scale=100), month_ends=np.array([30.0, 60.0]),
                    draws=draws)
    full = 50 * 10.0 * 60
    paths, running = book.simulate(stream(1, ("S", "X"), "ends"), 7, first=4)
    # simulations 4..10 use draws 1, 2, 0, 1, 2, 0, 1
    np.testing.assert_allclose(paths[[0, 3, 6], -1], full)
    np.testing.assert_allclose(paths[[2, 5], -1], 50 * 10.0)  # one day each, then ended
    assert (paths[[1, 4], -1] > 500).all() and (paths[[1, 4], -1] < full).all()
    np.testing.assert_array_equal(running[[0, 3, 6]], 50)
    np.testing.assert_array_equal(running[[2, 5]], 0)


def test_a_block_shorter_than_the_draws_gives_every_simulation_its_draw():
    from forecastlib.demand import StayDraws

    # K = 3 draws, two simulations numbered 4 and 5: draws 1 (never ends) and 2 (ends
    # at once); an earlier loop over k < 2 left simulation 5 undrawn (garbage memory)
    draws = StayDraws("exponential", np.ones(3), np.array([1e9, 1e9, 1e-6]))
    book = OpenBook(daily=np.full(20, 10.0), age=np.full(20, 5.0),
                    distribution=stats.expon(scale=100), month_ends=np.array([30.0, 60.0]),
                    draws=draws)
    paths, running = book.simulate(stream(1, ("S", "X"), "ends"), 2, first=4)
    np.testing.assert_allclose(paths[:, -1], [20 * 10.0 * 60, 20 * 10.0])
    np.testing.assert_array_equal(running, [20, 0])


def test_open_book_with_parameter_draws_matches_its_mixture_moments():
    from forecastlib.demand import StayDraws

    rng = np.random.default_rng(2)
    draws = StayDraws("lognormal", rng.uniform(0.7, 1.1, 8), rng.uniform(150, 450, 8))
    book = OpenBook(daily=rng.uniform(50, 500, 300), age=rng.integers(-30, 900, 300) * 1.0,
                    distribution=stats.lognorm(0.9, scale=300),
                    month_ends=np.array([30.0, 61, 92, 120, 151]), draws=draws)
    mean, variance = book.expected_cost()
    sims = 16_000
    paths, _ = book.simulate_all(5, ("S", "X"), sims)
    totals = paths[:, -1]
    assert abs(totals.mean() - mean) < 4 * np.sqrt(variance / sims)
    assert totals.var() == pytest.approx(variance, rel=0.06)
    # the draws' spread is in the variance: more than any single draw's process variance
    single = OpenBook(book.daily, book.age, draws.frozen(0), book.month_ends).expected_cost()
    assert variance > 0.5 * single[1]


def test_new_starts_take_draws_by_simulation_and_report_the_common_shock():
    from forecastlib.demand import StayDraws
    from forecastlib.simulation import NewStarts

    pool = pd.DataFrame({"unit_cost": [700.0, 1400.0], "unit": "week", "units_per_week": 1.0,
                         "weeks_per_year": 52.0, "income_per_week": 0.0})
    draws = StayDraws("exponential", np.ones(2), np.array([1e-6, 1e9]))
    starts = NewStarts(np.array([1.0]), np.array([1.0]), np.array([10.0]), pool, 0.0, 0.0,
                       stats.expon(scale=5.0), stay_draws=draws,
                       bootstrap=np.array([[0, 0], [1, 1]]), shock_variance=(0.04, 0.0))
    counts = np.ones((4, 1), dtype=np.int64)
    market = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, -1.0, 0.0]])
    no_common = np.zeros(4)
    paths, running = starts.simulate(counts, 0, ("S", "X"), market=market,
                                     no_common=no_common)
    # one placement a simulation starting on day 1: draw 0 costs one day at 100 a day,
    # draw 1 runs ten days at 200 a day; the shock exp(0.2 z) scales the price
    np.testing.assert_allclose(no_common, [100.0, 2000.0, 100.0, 2000.0])
    np.testing.assert_allclose(paths[:, -1], no_common * np.exp(0.2 * market[1]))
    np.testing.assert_array_equal(running, [0, 1, 0, 1])
    held, _ = starts.simulate(counts, 0, ("S", "X"), market=market, parameters=False)
    assert set(np.round(held[:, -1])) <= {100.0 * d for d in range(1, 11)} | {
        200.0 * d for d in range(1, 11)}


def test_uncertainty_split_adds_up_and_has_a_common_part(sample):
    result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
                              actuals=sample.actuals, simulations=600, seed=2)
    split = result.uncertainty()
    shares = split[["process_share", "parameter_share", "common_share"]]
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert (shares >= 0).all().all()
    total = split.loc[("Total", "")]
    assert total["common_share"] > 0 and total["parameter_share"] > 0
    assert total["process_width"] < total["interval_width"]
