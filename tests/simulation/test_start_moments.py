"""New starts of large lines drawn from their exact conditional moments."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from forecastlib.demand.stay_draws import StayDraws
from forecastlib.errors import ConfigError
from forecastlib.outturn import ForecastOptions
from forecastlib.simulation import NewStarts, simulate_remaining, start_moments
from forecastlib.simulation.start_moments import simulate_by_moments

LINE = ("S", "X")
BIG = ("Older People", "Homecare")  # the sample's largest line: ~500 new starts a simulation


def pool(costs=(700.0,)) -> pd.DataFrame:
    n = len(costs)
    return pd.DataFrame({"unit_cost": list(costs), "unit": ["week"] * n,
                         "units_per_week": [1.0] * n, "weeks_per_year": [52.0] * n,
                         "income_per_week": [0.0] * n})


def two_months(stay=None, costs=(700.0,), **fields) -> NewStarts:
    """Starts over days 1..30 and 31..61, month-ends 30 and 61."""
    ends = np.array([30.0, 61.0])
    return NewStarts(np.array([1.0, 31.0]), ends, ends, pool(costs), 0.0, 0.0,
                     stay or stats.expon(scale=20.0), **fields)


def test_moments_equal_the_closed_form_of_fixed_counts_exponential_stay_one_price():
    # GBP 100 a day, L = max(ceil(T), 1) with T exponential (mean 20): P(L >= j) = q^(j-1).
    # One start on a uniform day d of its month costs 100 min(L, e - d + 1)^+ to month-end
    # e; enumerate d and L (to 3,000 days) for its mean and second moments.
    starts, counts = two_months(), np.array([[7, 11]])
    mean, cov = start_moments(starts, counts, parameters=False)
    q = np.exp(-1 / 20.0)
    stay = np.arange(1, 3001)
    pmf = q ** (stay - 1) * (1 - q)
    expected_mean, expected_cov = np.zeros(3), np.zeros((3, 3))
    for n, days in zip(counts[0], (np.arange(1, 31), np.arange(31, 62)), strict=True):
        vector = np.stack([100.0 * np.clip(np.minimum(stay[None, :], e - days[:, None] + 1),
                                           0, None) for e in (30, 61)]
                          + [np.broadcast_to(stay[None, :] > 61 - days[:, None],
                                             (len(days), len(stay))).astype(float)])
        weight = pmf[None, :] / len(days)  # uniform day, then the stay
        first = np.einsum("vdl,dl->v", vector, weight)
        second = np.einsum("vdl,wdl,dl->vw", vector, vector, weight)
        expected_mean += n * first
        expected_cov += n * (second - np.outer(first, first))
    np.testing.assert_allclose(mean[0], expected_mean, rtol=1e-9)
    np.testing.assert_allclose(cov[0], expected_cov, rtol=1e-8, atol=1e-9)
    # the count: a sum of Bernoullis, P(placed on day 61) = mean over days of q^(61 - d)
    placed = [np.mean(q ** (61 - np.arange(1, 31))), np.mean(q ** (61 - np.arange(31, 62)))]
    assert mean[0, 2] == pytest.approx(7 * placed[0] + 11 * placed[1], rel=1e-12)
    assert cov[0, 2, 2] == pytest.approx(7 * placed[0] * (1 - placed[0])
                                         + 11 * placed[1] * (1 - placed[1]), rel=1e-9)


def test_no_starts_no_cost_and_no_variance():
    mean, cov = start_moments(two_months(), np.zeros((3, 2), dtype=np.int64),
                              parameters=False)
    assert not mean.any() and not cov.any()
    paths, running = simulate_by_moments(two_months(), np.zeros((3, 2), dtype=np.int64), 0,
                                         LINE, parameters=False)
    assert not paths.any() and not running.any()


def _draws_and_market(sample_models, sample, seed=3):
    from forecastlib.simulation.engine import _new_starts, remaining_grid, resolve_year
    as_at, year = resolve_year(sample.as_at, None)
    months, offsets = remaining_grid(as_at, year)
    new, _ = _new_starts(sample_models, as_at, months, offsets, [], seed)
    return new[BIG]


def test_conditional_moments_match_the_start_by_start_simulation(sample, sample_models):
    # Every simulation with the same counts and parameters (one stay draw, one bootstrap
    # pool, the same inflation and shock normals; jitter and re-trended records on):
    # the start-by-start draws are then samples of the conditional law the moments give.
    line = _draws_and_market(sample_models, sample)
    draws = line.stay_draws
    one = dataclasses.replace(line, stay_draws=StayDraws(draws.family, draws.shape[3:4],
                                                         draws.scale[3:4]),
                              bootstrap=line.bootstrap[5:6], shock_variance=(0.01, 0.02),
                              inflation_sd=0.3)
    sims = 3000
    counts = np.tile(np.array([[30, 40, 50, 60, 70]]), (sims, 1))
    market = np.tile(np.array([[1.2], [-1.5]]), (1, sims))
    unshocked = np.zeros(sims)
    paths, running = one.simulate(counts, 3, BIG, market=market, no_common=unshocked, block=0)
    mean, cov = start_moments(one, counts[:1], market=market[:, :1])
    drawn = np.column_stack([paths, running, unshocked])
    sd = np.sqrt(np.diag(cov[0]))
    assert np.all(np.abs(drawn.mean(axis=0) - mean[0]) < 4 * sd / np.sqrt(sims))
    # sample sds within 4 standard errors (se of a normal sd: sd / sqrt(2 n))
    assert np.all(np.abs(drawn.std(axis=0, ddof=1) / sd - 1) < 4 / np.sqrt(2 * sims))
    corr = cov[0] / np.outer(sd, sd)
    assert np.abs(np.corrcoef(drawn.T) - corr).max() < 0.06


def test_moment_draws_agree_with_the_exact_simulation_on_a_large_line(sample, sample_models):
    # The sample's largest line at ten times its starts, 2,000 simulations with parameter
    # draws (40 stay draws, 40 pools, drawn inflation and shock): the same counts and
    # market, new starts drawn start by start or from their moments.
    line = _draws_and_market(sample_models, sample)
    sims = 2000
    rng = np.random.default_rng(8)
    counts = rng.poisson(1000, (sims, 5)) + rng.poisson(200, (sims, 1))  # level shared
    market = rng.standard_normal((2, sims))
    exact_unshocked, moment_unshocked = np.zeros(sims), np.zeros(sims)
    exact = line.simulate(counts, 5, BIG, market=market, no_common=exact_unshocked,
                          block=1, first=1000)
    moments = dataclasses.replace(line, by_moments=True).simulate(
        counts, 5, BIG, market=market, no_common=moment_unshocked, block=1, first=1000)
    for a, b in ((exact[0][:, 0], moments[0][:, 0]), (exact[0][:, -1], moments[0][:, -1]),
                 (exact[1].astype(float), moments[1].astype(float)),
                 (exact_unshocked, moment_unshocked)):
        se = a.std() / np.sqrt(sims)
        # the same counts and parameters: the differences are only the process noise
        assert abs(a.mean() - b.mean()) < 4 * np.sqrt(2) * se
        assert b.std() == pytest.approx(a.std(), rel=4 / np.sqrt(sims))
        for level in (10, 90):
            assert abs(np.percentile(a, level) - np.percentile(b, level)) < 6 * se
    assert (moments[1] >= 0).all() and (moments[1] <= counts.sum(axis=1)).all()


def test_draws_are_keyed_by_block_and_line():
    starts = two_months(by_moments=True)
    counts = np.full((50, 2), 400)
    one = starts.simulate(counts, 2, LINE, block=0, parameters=False)
    again = starts.simulate(counts, 2, LINE, block=0, parameters=False)
    other = starts.simulate(counts, 2, LINE, block=1, parameters=False)
    np.testing.assert_array_equal(one[0], again[0])
    assert not np.array_equal(one[0], other[0])


def test_moves_keep_a_line_on_the_start_by_start_path():
    moving = two_months(by_moments=True, move_rate=0.01)
    counts = np.full((20, 2), 300)
    movers: list = []
    moving.simulate(counts, 2, LINE, movers=movers, parameters=False)
    assert movers and movers[0]["sim"].size  # starts moved: simulated one by one


def test_a_threshold_changes_only_the_lines_above_it(sample, sample_models):
    """At 400 only the largest line (about 540 starts and 510 ends a simulation) goes
    by its moments; see test_book_paths for the default threshold."""
    args = (sample.placements, sample.as_at, sample_models)
    exact, _, _ = simulate_remaining(*args, simulations=400, seed=2, moments_above=None)
    low, _, _ = simulate_remaining(*args, simulations=400, seed=2, moments_above=400.0)
    row = list(exact.lines).index(BIG)
    others = np.arange(len(exact.lines)) != row
    np.testing.assert_array_equal(exact.paths[others], low.paths[others])
    np.testing.assert_array_equal(exact.running[others], low.running[others])
    assert not np.array_equal(exact.paths[row], low.paths[row])
    se = exact.totals[row].std() / np.sqrt(400)
    assert abs(exact.totals[row].mean() - low.totals[row].mean()) < 4 * se


def test_the_numbers_do_not_depend_on_the_executor(sample, sample_models):
    args = (sample.placements, sample.as_at, sample_models)
    local, _, _ = simulate_remaining(*args, simulations=1300, seed=4, moments_above=100.0)
    with ThreadPoolExecutor(2) as pool:
        other, _, _ = simulate_remaining(*args, simulations=1300, seed=4,
                                         moments_above=100.0, executor=pool)
    np.testing.assert_array_equal(local.paths, other.paths)
    np.testing.assert_array_equal(local.running, other.running)
    np.testing.assert_array_equal(local.no_common, other.no_common)


@pytest.mark.parametrize("value", [0, -5.0, "many", True])
def test_options_refuse_a_threshold_that_is_not_a_positive_number(value):
    with pytest.raises(ConfigError, match="moments_above"):
        ForecastOptions(moments_above=value)
    assert ForecastOptions(moments_above=None).moments_above is None


def test_price_moments_series_equal_the_sums_over_the_records(sample, sample_models):
    # E[net^p exp(p x y)] over a bootstrap pool: the series (small p x y) and the direct
    # sum over the records agree to 1e-12
    from forecastlib.simulation.start_moments import _price_power
    line = _draws_and_market(sample_models, sample)
    rows = np.arange(9) % len(line.bootstrap)
    for shift, power in ((0.05, 1), (0.05, 2), (0.4, 2)):  # the last: summed directly
        drawn = np.linspace(-shift, shift, 9)
        pool = line.bootstrap[rows]
        direct = ((line._net[pool] ** power)
                  * np.exp(power * drawn[:, None] * line.pool_years[pool])).mean(axis=1)
        np.testing.assert_allclose(_price_power(line, power, rows, drawn, 9), direct,
                                   rtol=1e-12)


def test_options_take_a_numpy_number():
    assert ForecastOptions(moments_above=np.int64(500)).moments_above == 500
