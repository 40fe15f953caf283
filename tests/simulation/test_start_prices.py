"""The price side of new starts (``simulation/start_prices.py``)."""

from __future__ import annotations

import numpy as np

from forecastlib.simulation.engine import _new_starts, remaining_grid


def _lines(sample, sample_models):
    day = np.datetime64(sample.as_at, "D")
    months, offsets = remaining_grid(day, 2017)
    new, _ = _new_starts(sample_models, day, months, offsets, [], seed=1)
    return [line for line in new.values()
            if line.pool_years is not None and line.bootstrap is not None and len(line.pool)]


def test_summed_price_power_is_the_mean_over_each_simulations_records(sample, sample_models):
    rng = np.random.default_rng(0)
    lines = _lines(sample, sample_models)
    assert lines
    for line in lines[:4]:
        rows = rng.integers(0, len(line.bootstrap), 300)
        drawn = rng.normal(0.0, 0.5, 300)
        everything = np.arange(len(line.pool))[None]
        for power in (1, 2):
            pool = line.bootstrap[rows]
            direct = ((line._net[pool] ** power)
                      * np.exp(power * drawn[:, None] * line.pool_years[pool])).mean(axis=1)
            np.testing.assert_array_equal(line.summed_price_power(power, rows, drawn), direct)
            whole = ((line._net[everything] ** power)
                     * np.exp(power * drawn[:, None] * line.pool_years[everything])).mean(axis=1)
            np.testing.assert_array_equal(line.summed_price_power(power, None, drawn), whole)


def test_market_terms_without_parameters_are_the_trend_alone(sample, sample_models):
    line = _lines(sample, sample_models)[0]
    days = np.arange(5, dtype=float)
    market = np.ones((2, 3))
    slope, drawn, shock = line.market_terms(market, 3, days, parameters=False)
    np.testing.assert_array_equal(slope, np.full(3, np.log1p(line.inflation) / 365.25))
    assert drawn is None and shock is None
    slope, drawn, _ = line.market_terms(market, 3, days, parameters=True)
    np.testing.assert_allclose(drawn, np.full(3, line.inflation_sd))
    np.testing.assert_allclose(slope, (np.log1p(line.inflation) + drawn) / 365.25)
