"""Open books drawn from their exact month-end path moments (simulation/book_paths.py)."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from forecastlib import load_sample
from forecastlib.demand.stay_draws import StayDraws
from forecastlib.errors import ConfigError
from forecastlib.outturn import ForecastOptions
from forecastlib.simulation import MOMENTS_ABOVE, DemandModels, OpenBook, simulate_remaining
from forecastlib.simulation.book_paths import BookPaths, path_moments

MONTH_ENDS = np.array([30.0, 61.0, 92.0, 120.0])


def _moments(book: OpenBook) -> BookPaths:
    return path_moments(book, lambda days: book.distribution.sf(days)[None, :])


def _enumerated(book: OpenBook) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of (cost to each month-end, year-end count) by enumerating
    every placement's last day ``L`` (``P(L >= d) = S(a + d - 1) / S(c)`` after its
    first day), placements independent."""
    horizon = int(book.month_ends[-1])
    months = len(book.month_ends)
    mean = np.zeros(months + 1)
    covariance = np.zeros((months + 1, months + 1))
    for i in range(len(book.daily)):  # a test's brute force: a loop over a few placements
        a, s = int(book.age[i]), int(book.start_offset[i])
        cap = book.last_day[i]
        top = max(int(min(horizon, cap)), s)
        conditioning = book.distribution.sf(max(a + s, 0))
        days = np.arange(s, top + 2)
        at_least = np.where(days <= s, 1.0, book.distribution.sf(a + days - 1.0) / conditioning)
        at_least[-1] = 0.0  # P(L >= top + 1)
        probability = at_least[:-1] - at_least[1:]  # P(L = l), l = s .. top
        last = days[:-1]
        paid = np.clip(np.minimum(last[:, None], book.month_ends[None, :]) - s, 0, None)
        vector = np.column_stack([book.daily[i] * paid, last >= horizon])
        first = probability @ vector
        second = vector.T @ (vector * probability[:, None])
        mean += first
        covariance += second - np.outer(first, first)
    return mean, covariance


def test_month_end_moments_equal_enumeration() -> None:
    # exponential stay; a running placement, a later start, two capped, one not started
    # by year-end, one capped before its first day
    book = OpenBook(np.array([100.0, 55.5, 80.0, 20.0, 10.0, 70.0]),
                    np.array([40.0, -9.0, 300.0, 5.0, -200.0, 12.0]), stats.expon(scale=90),
                    MONTH_ENDS, offsets=np.array([0.0, 9.0, 0.0, 0.0, 200.0, 50.0]),
                    cap=np.array([np.inf, np.inf, 70.0, 100.0, np.inf, 20.0]))
    moments = _moments(book)
    mean, covariance = _enumerated(book)
    np.testing.assert_allclose(moments.mean[0], mean, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(moments.covariance[0], covariance, rtol=1e-9, atol=1e-7)
    # the not-yet-started placement counts as running, as in the kernel
    assert moments.mean[0, -1] > 1.0


def test_single_placement_by_hand() -> None:
    # one placement, exponential stay of mean 50 days: P(E >= d) = q^(d - 1), q = e^-1/50
    book = OpenBook(np.array([10.0]), np.array([100.0]), stats.expon(scale=50),
                    np.array([30.0, 61.0]))
    moments = _moments(book)
    q = np.exp(-1 / 50)
    days = np.arange(1, 62)
    alive = q ** (days - 1)
    first = alive[:30].sum()
    second = ((2 * days[:30] - 1) * alive[:30]).sum()
    assert moments.mean[0, 0] == pytest.approx(10 * first, rel=1e-12)
    assert moments.mean[0, 1] == pytest.approx(10 * alive.sum(), rel=1e-12)
    assert moments.covariance[0, 0, 0] == pytest.approx(100 * (second - first**2), rel=1e-10)
    # E[N(30) N(61)] = E[N(30)^2] + 30 sum_{30 < d <= 61} P(E >= d)
    cross = second + 30 * alive[30:].sum() - first * alive.sum()
    assert moments.covariance[0, 0, 1] == pytest.approx(100 * cross, rel=1e-10)
    assert moments.mean[0, 2] == pytest.approx(q**60, rel=1e-12)  # running on day 61
    assert moments.covariance[0, 2, 0] == pytest.approx(10 * q**60 * (30 - first), rel=1e-10)


def test_year_end_moments_equal_expected_cost() -> None:
    rng = np.random.default_rng(3)
    draws = StayDraws("weibull", np.array([0.7, 0.9, 1.2]), np.array([200.0, 400.0, 300.0]))
    book = OpenBook(rng.uniform(20, 200, 300), rng.integers(-40, 2000, 300).astype(float),
                    stats.weibull_min(0.9, scale=300), MONTH_ENDS, draws=draws,
                    cap=np.where(rng.random(300) < 0.2, rng.integers(0, 200, 300), np.inf))
    moments = book.path_moments
    mean, variance = book.expected_cost()
    # the mixture over draws: mean of means, mean of variances plus variance of means
    year_end = moments.mean[:, len(MONTH_ENDS) - 1]
    assert year_end.mean() == pytest.approx(mean, rel=1e-10)
    within = moments.covariance[:, len(MONTH_ENDS) - 1, len(MONTH_ENDS) - 1]
    assert within.mean() + year_end.var() == pytest.approx(variance, rel=1e-9)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(-60, 900), st.integers(0, 40),
                          st.one_of(st.just(np.inf), st.integers(0, 150).map(float)),
                          st.floats(1, 500)), min_size=1, max_size=12),
       st.floats(20, 2000))
def test_moments_are_a_covariance(rows: list, scale: float) -> None:
    age, offset, cap, daily = (np.array(column, dtype=float) for column in zip(*rows,
                                                                                strict=True))
    book = OpenBook(daily, age, stats.lognorm(1.1, scale=scale), MONTH_ENDS,
                    offsets=offset, cap=cap)
    moments = _moments(book)
    mean, covariance = _enumerated(book)
    np.testing.assert_allclose(moments.mean[0], mean, rtol=1e-8, atol=1e-6)
    np.testing.assert_allclose(moments.covariance[0], covariance, rtol=1e-7,
                               atol=1e-6 * max(1.0, np.abs(covariance).max()))
    assert np.all(np.diff(moments.mean[0, :-1]) >= -1e-9)
    assert np.all(moments.mean[0, :-1] <= book.full_path() + 1e-6)
    assert 0 <= moments.mean[0, -1] <= len(daily) + 1e-9
    assert np.linalg.eigvalsh(moments.covariance[0]).min() >= -1e-6 * max(
        1.0, np.abs(covariance).max())


def _large_book(moments_above: float | None) -> OpenBook:
    rng = np.random.default_rng(11)
    count = 4000
    draws = StayDraws("lognormal", rng.uniform(0.9, 1.2, 8), rng.uniform(250, 450, 8))
    return OpenBook(rng.uniform(50, 400, count), rng.integers(-20, 1500, count).astype(float),
                    stats.lognorm(1.0, scale=350), MONTH_ENDS, draws=draws,
                    cap=np.where(rng.random(count) < 0.1, rng.integers(0, 120, count), np.inf),
                    moments_above=moments_above)


def test_expected_cost_by_moments_is_the_grid_sums() -> None:
    book = _large_book(500.0)
    exact = dataclasses.replace(book, moments_above=None).expected_cost()
    assert book.by_moments
    np.testing.assert_allclose(book.expected_cost(), exact, rtol=1e-9)


def _batch_se(values: np.ndarray, statistic) -> tuple[float, float]:
    parts = np.array([statistic(part) for part in np.array_split(values, 20)])
    return float(statistic(values)), float(parts.std(ddof=1) / np.sqrt(20))


def test_moment_draws_agree_with_the_exact_kernel() -> None:
    exact_book, moment_book = _large_book(None), _large_book(500.0)
    assert moment_book.by_moments and not exact_book.by_moments
    simulations = 2000
    exact = exact_book.simulate_all(5, ("S", "X"), simulations)
    drawn = moment_book.simulate_all(5, ("S", "X"), simulations)
    checks = {"mean": np.mean, "sd": np.std, "p10": lambda v: np.quantile(v, 0.1),
              "p90": lambda v: np.quantile(v, 0.9)}
    for name, statistic in checks.items():
        for a, b in ((exact[0][:, 0], drawn[0][:, 0]), (exact[0][:, -1], drawn[0][:, -1]),
                     (exact[1].astype(float), drawn[1].astype(float))):
            value_a, se_a = _batch_se(a, statistic)
            value_b, se_b = _batch_se(b, statistic)
            assert abs(value_a - value_b) < 4 * np.hypot(se_a, se_b), name
    # the draws' spread is there: the mixture's variance, not one draw's
    assert drawn[0][:, -1].std() > 1.5 * np.sqrt(moment_book.path_moments.covariance[
        0, len(MONTH_ENDS) - 1, len(MONTH_ENDS) - 1])
    assert np.all(np.diff(drawn[0], axis=1) >= 0)
    assert drawn[1].min() >= 0 and drawn[1].max() <= 4000


def test_moment_draws_are_reproducible_whatever_the_workers() -> None:
    book = _large_book(500.0)
    one = book.simulate_all(2, ("S", "X"), 1500, workers=1)
    two = dataclasses.replace(book).simulate_all(2, ("S", "X"), 1500, workers=2)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])


def test_which_books_go_by_moments() -> None:
    book = _large_book(500.0)
    assert book.by_moments
    assert not dataclasses.replace(book, moments_above=None).by_moments
    assert not dataclasses.replace(book, moments_above=1e9).by_moments  # too few ends
    assert not dataclasses.replace(book, move_rate=0.001).by_moments  # moves: exact
    fractional = dataclasses.replace(book, age=book.age + 0.5)
    assert not fractional.by_moments
    empty = OpenBook(np.zeros(0), np.zeros(0), stats.expon(scale=10), MONTH_ENDS,
                     moments_above=1.0)
    assert not empty.by_moments
    paths, running = empty.simulate(np.random.default_rng(0), 3)
    assert paths.shape == (3, 4) and running.tolist() == [0, 0, 0]


def test_book_paths_clip_to_the_full_path() -> None:
    paths = BookPaths(np.array([[-5.0, 200.0, 9.0]]), np.zeros((1, 3, 3)),
                      np.array([60.0, 120.0]), 5)
    cost, count = paths.draw(np.random.default_rng(0), np.arange(3))
    assert cost.tolist() == [[0.0, 120.0]] * 3 and count.tolist() == [5] * 3


@pytest.fixture(scope="module")
def sample_models():
    sample = load_sample()
    return sample, DemandModels.fit(sample.placements, sample.as_at)


def test_sample_lines_below_the_threshold_are_exact(sample_models) -> None:
    """Only the sample's two volume lines (about 510 and 160 ends, 540 and 150 starts a
    simulation) reach the default threshold; every other line is drawn placement by
    placement, to the byte as with ``moments_above=None``."""
    sample, models = sample_models
    default, _, _ = simulate_remaining(sample.placements, sample.as_at, models,
                                       simulations=300, seed=4)
    exact, _, _ = simulate_remaining(sample.placements, sample.as_at, models,
                                     simulations=300, seed=4, moments_above=None)
    assert MOMENTS_ABOVE == 100
    by_moments = {("Older People", "Homecare"), ("Older People", "Respite")}
    for row, line in enumerate(default.lines):
        same = (np.array_equal(default.paths[row], exact.paths[row])
                and np.array_equal(default.running[row], exact.running[row]))
        assert same == (line not in by_moments), line


def test_forecast_by_moments_agrees_and_is_executor_free(sample_models) -> None:
    sample, models = sample_models
    kwargs = dict(simulations=2000, seed=9)
    exact, _, _ = simulate_remaining(sample.placements, sample.as_at, models,
                                     moments_above=None, **kwargs)
    drawn, _, _ = simulate_remaining(sample.placements, sample.as_at, models,
                                     moments_above=100.0, **kwargs)
    with ThreadPoolExecutor(2) as pool:
        pooled, _, _ = simulate_remaining(sample.placements, sample.as_at, models,
                                          moments_above=100.0, executor=pool, **kwargs)
    np.testing.assert_array_equal(drawn.paths, pooled.paths)
    assert not np.array_equal(drawn.paths, exact.paths)
    row = list(drawn.lines).index(("Older People", "Homecare"))
    for a, b in ((exact.totals[row], drawn.totals[row]),
                 (exact.running[row].astype(float), drawn.running[row].astype(float))):
        value_a, se_a = _batch_se(a, np.mean)
        value_b, se_b = _batch_se(b, np.mean)
        assert abs(value_a - value_b) < 4 * np.hypot(se_a, se_b)


@pytest.mark.parametrize("value", [0, -1.0, "many"])
def test_moments_above_is_validated(value) -> None:
    with pytest.raises(ConfigError, match="moments_above"):
        ForecastOptions(moments_above=value)
