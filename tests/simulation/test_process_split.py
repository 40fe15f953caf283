"""The process-only new starts: their cost less its mean given the simulation's
parameters, plus the plug-in mean (no second run), against a plug-in run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecastlib.demand import StayDraws
from forecastlib.simulation import NewStarts, simulate_remaining
from forecastlib.simulation import blocks as module

LINE = ("S", "X")
POOL = pd.DataFrame({"unit_cost": [700.0, 1400.0, 2100.0], "unit": "week",
                     "units_per_week": 1.0, "weeks_per_year": 52.0, "income_per_week": 0.0})
ENDS = np.array([30.0, 61.0, 91.0])


def starts(**kwargs) -> NewStarts:
    return NewStarts(np.array([-4.0, 31.0, 62.0]), ENDS, ENDS, POOL, 0.0, 0.0,
                     stats.expon(scale=40.0), **kwargs)


def test_expected_totals_by_hand():
    # exponential stay of mean 40 days, GBP 200 a day on average, no inflation: a start on
    # day d costs 200 * sum_{x=0}^{91-d} exp(-x / 40), averaged over its month's days
    # after as_at (the first month's days -4 .. 0 are before as_at: they cost nothing)
    subject = starts()
    alive = np.exp(-np.arange(92) / 40.0)
    paid = {d: 200.0 * alive[:92 - d].sum() for d in range(1, 92)}
    months = [(range(-4, 31), 35), (range(31, 62), 31), (range(62, 92), 30)]
    per_start = [sum(paid.get(d, 0.0) for d in days) / span for days, span in months]
    means = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.5]])
    np.testing.assert_allclose(subject.expected_totals(means, parameters=False),
                               means @ np.array(per_start), rtol=1e-6)  # float32 days


@pytest.mark.parametrize("parameters", [True, False])
def test_expected_totals_are_the_simulated_means(parameters):
    draws = StayDraws("lognormal", np.array([0.7, 1.1]), np.array([30.0, 80.0]))
    subject = NewStarts(np.array([-4.0, 31.0, 62.0]), ENDS, ENDS, POOL, 0.05, 0.05,
                        stats.lognorm(0.9, scale=50.0), stay_draws=draws,
                        bootstrap=np.array([[0, 0, 1], [2, 2, 1]]),
                        pool_years=np.array([0.5, 1.0, 2.0]), inflation_sd=0.01,
                        shock_variance=(0.01, 0.01))
    simulations = 6000
    market = np.random.default_rng(0).standard_normal((2, simulations))
    means = np.tile([3.0, 4.0, 5.0], (simulations, 1))
    counts = np.random.default_rng(1).poisson(means)
    paths, _ = subject.simulate(counts, 3, LINE, market=market, parameters=parameters)
    expected = subject.expected_totals(means, market=market, parameters=parameters)
    residual = paths[:, -1] - expected
    assert abs(residual.mean()) < 4 * residual.std() / np.sqrt(simulations)
    if parameters:  # the mean follows each simulation's draws
        assert np.ptp(expected) > 0.1 * expected.mean()


def test_start_means_are_the_counts_means(sample_models):
    starts_model = sample_models.starts
    means = np.empty((len(starts_model.fits_), 3000, 4))
    counts = starts_model.simulate(4, 3000, seed=5, means=means, block=0)
    assert (means >= 0).all()
    # counts are Poisson (or negative binomial) around the means: equal on average
    total_counts, total_means = counts.sum(axis=(0, 2)), means.sum(axis=(0, 2))
    difference = total_counts - total_means
    assert abs(difference.mean()) < 4 * difference.std() / np.sqrt(3000)
    plug = np.empty((len(starts_model.fits_), 2, 4))
    starts_model.simulate(4, 2, seed=5, parameter_uncertainty=False, means=plug)
    np.testing.assert_allclose(plug[:, 0], starts_model.expected(4).to_numpy())


def test_process_only_agrees_with_a_plug_in_run(sample, sample_models, monkeypatch):
    def run():
        simulated, _, _ = simulate_remaining(sample.placements, sample.as_at, sample_models,
                                             simulations=2000, seed=3)
        return simulated.process_only.sum(axis=0), simulated.totals.sum(axis=0)

    analytic, totals = run()
    monkeypatch.setattr(module, "_held_analytically", lambda job, line: False)
    plug_in, again = run()
    np.testing.assert_array_equal(totals, again)  # the outturn itself is untouched
    # same centre (the plug-in mean) and spread, within Monte Carlo error
    spread = np.sqrt((analytic.var() + plug_in.var()) / 2000)
    assert abs(analytic.mean() - plug_in.mean()) < 4 * spread
    assert analytic.std() == pytest.approx(plug_in.std(), rel=0.1)
    assert analytic.std() < totals.std()
