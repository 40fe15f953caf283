"""Starts model: recovers known rates and trends, falls back on sparse lines, and its
intervals carry parameter uncertainty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecastlib.demand import StartsModel


def counts_table(rates: dict[tuple[str, str], np.ndarray], first: str = "2011-04") -> pd.DataFrame:
    months = pd.period_range(first, periods=len(next(iter(rates.values()))), freq="M")
    frame = pd.DataFrame.from_dict(rates, orient="index", columns=months)
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["service", "category"])
    return frame


def seasonal_rate(months: int, level: float, growth: float, amplitude: float) -> np.ndarray:
    t = np.arange(months)
    return level * (1 + growth) ** (t / 12) * (1 + amplitude * np.cos(2 * np.pi * (t - 5) / 12))


def test_recovers_level_trend_and_chooses_negative_binomial_when_overdispersed():
    rng = np.random.default_rng(0)
    months = 96
    poisson_rate = seasonal_rate(months, 20, 0.10, 0.3)
    mixed = rng.gamma(2.0, seasonal_rate(months, 20, 0.0, 0.0) / 2.0)  # alpha = 0.5
    table = counts_table({("S", "Trend"): rng.poisson(poisson_rate),
                          ("S", "Overdispersed"): rng.poisson(mixed)})
    model = StartsModel(validation_years=3).fit_counts(table)
    trend = model.fits_.loc[("S", "Trend")]
    assert trend["trend_per_year"] == pytest.approx(1.10, abs=0.05)
    assert model.fits_.loc[("S", "Overdispersed"), "model"].startswith("negbin")
    expected = model.expected(12).loc[("S", "Trend")]
    truth = seasonal_rate(months + 12, 20, 0.10, 0.3)[months:]
    assert np.allclose(expected.to_numpy(), truth, rtol=0.15)


def test_sparse_and_empty_lines_fall_back_without_failing():
    rng = np.random.default_rng(1)
    table = counts_table({
        ("S", "Busy"): rng.poisson(seasonal_rate(60, 15, 0.0, 0.4)),
        ("S", "Rare"): rng.poisson(0.1, 60),
        ("S", "Never"): np.zeros(60, dtype=int),
    })
    model = StartsModel().fit_counts(table)
    assert model.fits_.loc[("S", "Rare"), "model"] == "pooled"
    assert model.fits_.loc[("S", "Never"), "model"] == "zero"
    paths = model.simulate(6, 500, seed=2)
    assert paths[list(model.fits_.index).index(("S", "Never"))].sum() == 0
    assert paths.min() >= 0


def test_one_month_series_and_growth_override():
    table = counts_table({("S", "X"): np.array([3])})
    model = StartsModel().fit_counts(table)
    assert model.fits_.loc[("S", "X"), "model"] == "pooled"
    assert model.expected(3).shape == (1, 3)
    rng = np.random.default_rng(3)
    busy = counts_table({("S", "X"): rng.poisson(np.full(72, 10.0))})
    grown = StartsModel(growth=0.22).fit_counts(busy).expected(12).iloc[0]
    assert grown.iloc[-1] / grown.iloc[0] == pytest.approx(1.22 ** (11 / 12), rel=0.02)


def test_simulation_is_reproducible_and_independent_per_line():
    rng = np.random.default_rng(4)
    table = counts_table({("S", "A"): rng.poisson(np.full(72, 8.0)),
                          ("S", "B"): rng.poisson(np.full(72, 4.0))})
    model = StartsModel().fit_counts(table)
    first, again = model.simulate(4, 100, seed=9), model.simulate(4, 100, seed=9)
    assert np.array_equal(first, again)
    table_b = table.copy()
    table_b.loc[("S", "B")] = rng.poisson(np.full(72, 40.0))
    other = StartsModel().fit_counts(table_b).simulate(4, 100, seed=9)
    assert np.array_equal(first[0], other[0])  # line A's draws untouched by line B


def test_parameter_uncertainty_widens_intervals_on_short_series():
    rng = np.random.default_rng(5)
    table = counts_table({("S", "Short"): rng.poisson(np.full(40, 6.0))})
    model = StartsModel(candidates=("poisson_trend",), validation_years=1).fit_counts(table)
    with_uncertainty = model.simulate(12, 4000, seed=1).sum(axis=2)
    plug_in = model.simulate(12, 4000, seed=1, parameter_uncertainty=False).sum(axis=2)
    assert with_uncertainty.std() > 1.1 * plug_in.std()


def test_fit_from_placements_uses_exposure_by_service(sample):
    model = StartsModel()
    counts = StartsModel().fit(sample.placements, sample.as_at).counts_
    months = pd.period_range(counts.columns[0], counts.columns[-1] + 24, freq="M")
    population = pd.DataFrame([np.linspace(100_000, 110_000, len(months))] *
                              counts.index.get_level_values("service").nunique(),
                              index=sorted(counts.index.get_level_values("service").unique()),
                              columns=months)
    model.fit(sample.placements, sample.as_at, exposure=population)
    assert model.exposure_ is not None and len(model.fits_) == len(counts)
    with pytest.raises(ValueError, match="positive"):
        StartsModel().fit(sample.placements, sample.as_at, exposure=population * 0)
