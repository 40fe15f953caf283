"""The parameter oracle's start-level filter, on series whose answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from forecastlib.datasets.calibration import STUDY_LINES
from forecastlib.datasets.level_oracle import (
    filter_levels,
    level_posterior,
    parameter_oracle_models,
    record_starts,
)
from forecastlib.datasets.truth import simulate_authority

MONTHS = pd.period_range("2008-01", periods=120, freq="M")


def _seasonal(rate: float, size: int = 120) -> np.ndarray:
    return np.log(rate) + 0.3 * np.cos(2 * np.pi * np.arange(size) / 12)


def _grid_filter(counts: np.ndarray, shape: np.ndarray,
                 walk_sd: float) -> tuple[float, float, float]:
    """The exact filter on a fine grid of the log level (flat prior): posterior mean and
    sd of the level at the last month, and the mean of its exponential."""
    grid = np.linspace(-2.0, 2.0, 1601)
    step = grid[1] - grid[0]
    kernel = stats.norm.pdf(np.arange(-200, 201) * step, scale=walk_sd)
    kernel /= kernel.sum()
    log_post = np.zeros_like(grid)
    for t in range(counts.size):
        if t:
            density = np.exp(log_post - log_post.max())
            density = np.convolve(density, kernel, mode="same")
            log_post = np.log(np.maximum(density, 1e-300))
        eta = shape[t] + grid
        log_post += counts[t] * eta - np.exp(eta)
    density = np.exp(log_post - log_post.max())
    density /= density.sum()
    mean = float(density @ grid)
    return (mean, float(np.sqrt(density @ (grid - mean) ** 2)),
            float(density @ np.exp(grid)))


def test_a_huge_rate_recovers_the_walks_current_state_closely():
    rng = np.random.default_rng(1)
    walk = np.cumsum(rng.normal(0, 0.04, 120))
    shape = _seasonal(5000.0)
    counts = rng.poisson(np.exp(shape + walk))[None]
    post = filter_levels(counts, shape[None], MONTHS, walk_sd=0.04)
    assert post.log_level()[0] == pytest.approx(walk[-1], abs=0.02)
    assert np.sqrt(post.cov[0, 0, 0]) < 0.015


@settings(max_examples=15, deadline=None)
@given(rate=st.floats(0.5, 50.0), seed=st.integers(0, 10_000))
def test_with_no_walk_the_level_is_the_pooled_rate(rate, seed):
    shape = _seasonal(rate)
    counts = np.random.default_rng(seed).poisson(np.exp(shape) * 1.2)[None]
    post = filter_levels(counts, shape[None], MONTHS)
    pooled = counts.sum() / np.exp(shape).sum()
    # the posterior of the rate factor under a flat prior on the log level is
    # Gamma(sum y, sum e^c), whose mean is the pooled rate; its log's variance 1 / sum y
    # (the diffuse prior, sd 10 on the log level, pulls both by under 1e-3)
    assert post.rate_factor()[0] == pytest.approx(pooled, rel=1e-3)
    assert post.cov[0, 0, 0] == pytest.approx(1 / counts.sum(), rel=1e-3)


@pytest.mark.parametrize(("rate", "seed"), [(3.0, 0), (3.0, 1), (12.0, 2), (1.0, 3),
                                           (0.5, 4), (3.0, 5)])
def test_the_laplace_filter_matches_the_exact_grid_filter(rate, seed):
    rng = np.random.default_rng(seed)
    walk = np.cumsum(rng.normal(0, 0.04, 120))
    shape = _seasonal(rate)
    counts = rng.poisson(np.exp(shape + walk))
    post = filter_levels(counts[None], shape[None], MONTHS, walk_sd=0.04)
    mean, sd, factor = _grid_filter(counts, shape, 0.04)
    # The Laplace approximation's level is a little high where counts are few (0.004 at
    # 12 starts a month, 0.016 at one: a tenth of the posterior sd or less)
    assert post.mean[0, 0] == pytest.approx(mean, abs=0.02)
    assert np.sqrt(post.cov[0, 0, 0]) == pytest.approx(sd, rel=0.02)
    assert post.rate_factor()[0] == pytest.approx(factor, rel=0.02)


def test_the_years_common_shock_is_filtered_from_every_lines_starts():
    rng = np.random.default_rng(4)
    fiscal = (MONTHS.year - (MONTHS.month < 4)).to_numpy()
    shock = rng.normal(0, 0.12, fiscal.max() - fiscal.min() + 1)[fiscal - fiscal.min()]
    levels = np.array([0.1, -0.2, 0.3])
    shape = np.stack([_seasonal(r) for r in (400.0, 900.0, 250.0)])
    counts = rng.poisson(np.exp(shape + levels[:, None] + shock))
    post = filter_levels(counts, shape, MONTHS, shock_sd=0.12)
    # this year's 9 months hold 2,000-8,000 starts a line: se 0.01-0.02
    assert post.log_level() == pytest.approx(levels + shock[-1], abs=0.05)
    # the shock's own posterior: this year's, shrunk a little toward 0 at most
    assert post.mean[0, -1] == pytest.approx(shock[-1], abs=0.04)
    # without the shock in the model, the level is the years' average instead
    plain = filter_levels(counts, shape, MONTHS)
    assert plain.log_level() == pytest.approx(levels + shock.mean(), abs=0.03)


def test_a_level_shift_is_found_with_its_lag_and_size():
    rng = np.random.default_rng(5)
    shape = np.stack([_seasonal(300.0), _seasonal(200.0)])
    true = np.zeros((2, 120))
    true[0, 120 - 7:] = np.log(1.45)
    counts = rng.poisson(np.exp(shape + true))
    post = filter_levels(counts, shape, MONTHS, shift_probability=0.5)
    first_shifted = post.weights[post.shift[:, 0] > 0].sum()
    second_shifted = post.weights[post.shift[:, 1] > 0].sum()
    assert first_shifted > 0.99 and second_shifted < 0.2
    assert post.weights @ post.shift[:, 0] == pytest.approx(np.log(1.45), abs=0.05)
    assert post.log_level()[0] == pytest.approx(np.log(1.45), abs=0.04)
    assert post.log_level()[1] == pytest.approx(0.0, abs=0.04)
    # the generator's rule: never no shift at all
    assert post.weights[(post.shift == 0).all(axis=1)].sum() == 0.0


def test_record_starts_counts_a_spells_first_episode_on_each_line():
    record = pd.DataFrame({
        "client_id": ["A", "A", "B", "B", "C", "D"],
        "service": "Children",
        "category": ["Res", "Res", "Res", "Sup", "Sup", "Res"],
        "start_date": pd.to_datetime(["2017-03-10", "2017-04-01", "2017-04-05",
                                      "2017-05-20", "2017-05-02", "2016-12-31"]),
    })
    counts = record_starts(record, [("Children", "Res"), ("Children", "Sup")],
                           pd.Period("2017-01", "M"), pd.Period("2017-05", "M"))
    # A's 1 April episode continues its March spell; B moves to Sup in May (a start
    # there); D started before the months counted
    np.testing.assert_array_equal(counts, [[0, 0, 1, 1, 0], [0, 0, 0, 0, 2]])
    # new spells only: B's move into Sup is not a start of Sup
    record["end_date"] = pd.to_datetime(["2017-03-31", None, "2017-05-19", None, None,
                                         "2017-01-31"])
    counts = record_starts(record, [("Children", "Res"), ("Children", "Sup")],
                           pd.Period("2017-01", "M"), pd.Period("2017-05", "M"),
                           moves_in=False)
    np.testing.assert_array_equal(counts, [[0, 0, 1, 1, 0], [0, 0, 0, 0, 1]])


def test_the_oracles_draws_carry_the_walks_future_steps():
    authority = simulate_authority(STUDY_LINES, "2017-09-30", 2, "wandering_demand")
    post = level_posterior(authority)
    truth = [authority.oracle[(s.service, s.category)]["log_rate_shift"] for s in STUDY_LINES]
    assert np.abs(post.log_level() - truth).max() < 0.5

    class Fitted:  # the parts of a starts model the oracle reads
        fits_ = pd.DataFrame(index=pd.Index([(s.service, s.category) for s in STUDY_LINES]))

        def future_months(self, horizon):
            return pd.period_range("2017-10", periods=horizon, freq="M")

    from forecastlib.datasets.level_oracle import _ParamOracleStarts

    starts = _ParamOracleStarts(Fitted(), authority, post)
    draws = starts.log_levels(Fitted().future_months(6), 20_000, np.random.default_rng(0))
    var_now = post.cov[0, np.arange(3), np.arange(3)]
    # variance grows by the walk's step variance a month; the mean does not drift
    assert draws.var(axis=1)[:, 5] == pytest.approx(var_now + 6 * 0.04**2, rel=0.05)
    assert draws.mean(axis=1)[:, 5] == pytest.approx(post.log_level(), abs=0.01)
    means = np.empty((3, 500, 6))
    counts = starts.simulate(6, 500, seed=3, means=means)
    assert counts.shape == (3, 500, 6) and counts.dtype == np.int64
    assert counts.mean() == pytest.approx(means.mean(), rel=0.05)
    assert (starts.simulate(6, 500, seed=3) == counts).all()


def test_parameter_oracle_forecasts_a_tidy_authority_near_the_state_oracle():
    from forecastlib.datasets.calibration import zero_budget
    from forecastlib.datasets.truth import oracle_models
    from forecastlib.outturn import forecast_outturn
    from forecastlib.simulation import DemandModels

    authority = simulate_authority(STUDY_LINES, "2017-12-31", 0, "tidy")
    models = DemandModels.fit(authority.placements, authority.as_at)
    budget = zero_budget(STUDY_LINES)
    totals = {}
    for name, swap in [("state", oracle_models), ("param", parameter_oracle_models)]:
        result = forecast_outturn(authority.placements, budget, authority.as_at,
                                  simulations=400, seed=1, models=swap(authority, models))
        totals[name] = float(result.total["mean"])
    # tidy: the state is the spec's, and ten years of starts pin it within a few %
    assert totals["param"] == pytest.approx(totals["state"], rel=0.03)


def test_oracles_leave_the_fitted_moves_out_where_their_starts_carry_the_moves_in():
    from forecastlib.datasets.truth import oracle_models
    from forecastlib.simulation import DemandModels

    moved = simulate_authority(STUDY_LINES, "2017-12-31", 4, "moves")
    models = DemandModels.fit(moved.placements, moved.as_at)
    assert models.moves is not None
    assert oracle_models(moved, models).moves is None
    assert parameter_oracle_models(moved, models).moves is None
    assert models.moves is not None  # the fitted models are not touched
    # the parameter oracle reads the moves in as the target's starts, as the state
    # oracle's rate carries them (its log shift), within the filter's error
    post = level_posterior(moved)
    truth = [moved.oracle[(s.service, s.category)]["log_rate_shift"] for s in STUDY_LINES]
    assert post.log_level() == pytest.approx(truth, abs=0.15)
    assert truth[2] > 0.15  # Supported receives 30% of Residential's spells as starts


def test_new_starts_only_leave_the_moves_in_out_of_both_oracles():
    from forecastlib.datasets.level_oracle import _ParamOracleStarts
    from forecastlib.datasets.truth import _OracleStarts
    from forecastlib.simulation import DemandModels

    moved = simulate_authority(STUDY_LINES, "2017-12-31", 4, "moves")
    models = DemandModels.fit(moved.placements, moved.as_at)
    lines = list(models.starts.fits_.index)
    known = [moved.oracle[line].get("log_moves_in", 0.0) for line in lines]
    # Fostering receives none; Residential 10% of Fostering's, Supported 30% of Residential's
    fostering, residential, supported = (lines.index(("Children", c))
                                         for c in ("Fostering", "Residential", "Supported"))
    assert known[fostering] == 0.0
    assert known[residential] == pytest.approx(np.log1p(0.1 * 12.0 / 3.0), rel=0.2)
    assert known[supported] == pytest.approx(np.log1p(0.3 * 3.0 / 4.0), rel=0.2)
    means = {}
    for moves_in in (True, False):
        state = _OracleStarts(models.starts, moved, moves_in=moves_in)
        means[moves_in] = state.simulate(3, 4000, seed=1).mean(axis=(1, 2))
    # the same counts' stream, the rate without the moves in
    np.testing.assert_allclose(means[False] / means[True], np.exp(-np.array(known)), rtol=0.03)
    with_moves = level_posterior(moved).log_level()
    new_only = level_posterior(moved, moves_in=False).log_level()
    order = [lines.index((s.service, s.category)) for s in STUDY_LINES]
    # the filtered level drops by about the moves in's share (within the filter's error)
    np.testing.assert_allclose(with_moves - new_only, np.array(known)[order], atol=0.12)
    draws = _ParamOracleStarts(models.starts, moved, level_posterior(moved, moves_in=False))
    assert draws.simulate(3, 200, seed=1).shape == (3, 200, 3)
