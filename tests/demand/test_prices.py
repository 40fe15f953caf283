"""Price model: keeps the heavy tail, trends prices, and samples whole records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import book
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastlib.demand import PriceModel


def test_resampling_keeps_the_tail_and_trends_to_the_start_date(sample):
    model = PriceModel(jitter=0.0).fit(sample.placements, sample.as_at)
    line = ("LAC Placements", "Residential homes")
    pool = model.pools_[line]
    drawn = model.sample(line, 50_000, np.random.default_rng(0))
    assert drawn["unit_cost"].max() == pytest.approx(pool["unit_cost"].max())
    share_pool = (pool["unit_cost"] > 6000).mean()
    assert (drawn["unit_cost"] > 6000).mean() == pytest.approx(share_pool, abs=0.01)
    later = model.sample(line, 50_000, np.random.default_rng(0),
                         start_dates=np.full(50_000, np.datetime64("2018-10-31")))
    growth = later["unit_cost"].mean() / drawn["unit_cost"].mean()
    assert growth == pytest.approx(1 + model.inflation_["LAC Placements"], rel=1e-3)
    assert set(drawn.columns) == {"unit_cost", "unit", "units_per_week", "weeks_per_year",
                                  "income_per_week"}
    assert model.summary_.loc[line, "p99"] > model.summary_.loc[line, "p50"]


def test_given_inflation_and_sparse_lines_fall_back_to_open_placements():
    placements = book(
        {"client_id": "A", "start_date": "2005-01-01", "unit_cost": 500},
        {"client_id": "B", "start_date": "2006-01-01", "unit_cost": 700},
    )
    model = PriceModel(inflation=0.10, min_records=5).fit(placements, "2017-10-31")
    line = ("LAC Placements", "Residential homes")
    assert model.summary_.loc[line, "source"] in {"all starts", "open placements"}
    assert model.inflation_ == {"LAC Placements": 0.10}
    with pytest.raises(KeyError, match="no prices"):
        model.sample(("X", "Y"), 1, np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="not fitted"):
        PriceModel().sample(line, 1, np.random.default_rng(0))
    assert "lines=1" in repr(model) and isinstance(model.summary_, pd.DataFrame)


def _pool_medians(model):
    from forecastlib.accrual.rates import price_terms

    return {line[1]: float(np.median(price_terms(pool).weekly_cost))
            for line, pool in model.pools_.items()}


def test_market_index_tracks_a_wandering_price_level_and_is_quiet_on_a_steady_one():
    from forecastlib.datasets.calibration import STUDY_LINES
    from forecastlib.datasets.truth import World, simulate_authority

    truth = {spec.category: spec.weekly_price for spec in STUDY_LINES}
    wandering = simulate_authority(STUDY_LINES, "2017-09-30", 1, World(price_walk=0.03))
    tracked = PriceModel(jitter=0.0).fit(wandering.placements, wandering.as_at)
    trended = PriceModel(jitter=0.0, market=False).fit(wandering.placements, wandering.as_at)
    for category, median in _pool_medians(tracked).items():
        # the walk ends at the spec's price (anchored at as_at); the trend alone misses it
        assert median == pytest.approx(truth[category], rel=0.05)
        assert abs(_pool_medians(trended)[category] / truth[category] - 1) > 0.1
    # a random walk of 3% a month has variance 12 * 0.03^2 = 0.0108 a year
    assert 0.004 < tracked.market_["variance_per_year"] < 0.03
    assert tracked.market_["quarters"] == 40 and len(tracked.index_) == 40
    steady = simulate_authority(STUDY_LINES, "2017-09-30", 1, "tidy")
    quiet = PriceModel().fit(steady.placements, steady.as_at)
    assert quiet.market_["variance_per_year"] < 0.001
    assert abs(quiet.market_["level"]) < 0.02


def test_inflation_has_a_standard_error_and_pools_bootstrap_reproducibly(sample):
    model = PriceModel().fit(sample.placements, sample.as_at)
    assert all(0 < se < 0.05 for se in model.inflation_se_.values())
    line = ("LAC Placements", "Residential homes")
    boot = model.bootstrap(line, seed=4)
    assert boot.shape == (40, len(model.pools_[line]))
    np.testing.assert_array_equal(boot, model.bootstrap(line, seed=4))
    assert boot.min() >= 0 and boot.max() < len(model.pools_[line])
    assert len(model.pool_years_[line]) == len(model.pools_[line])
    assert PriceModel(draws=0).fit(sample.placements, sample.as_at).bootstrap(line, 4) is None
    given = PriceModel(inflation=0.03).fit(sample.placements, sample.as_at)
    assert set(given.inflation_se_.values()) == {0.0}


def _first_rows_by_multiindex(placements, spell_table):
    """The price fit's first rows as found before (a MultiIndex of the string keys)."""
    starts = placements["start_date"].to_numpy(dtype="datetime64[D]")
    key = pd.MultiIndex.from_frame(placements[["service", "category", "client_id"]].assign(
        start=starts))
    wanted = pd.MultiIndex.from_frame(spell_table[["service", "category", "client_id"]].assign(
        start=spell_table["start_date"].to_numpy(dtype="datetime64[D]")))
    unique = np.flatnonzero(~key.duplicated())
    positions = key[unique].get_indexer(wanted)
    return unique[positions[positions >= 0]]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["S", "T"]), st.sampled_from(["X", "Y"]),
                          st.sampled_from(["a", "b", "c"]), st.integers(0, 6),
                          st.one_of(st.none(), st.integers(0, 6))),
                min_size=1, max_size=25))
def test_first_rows_from_integer_keys_match_the_string_keys(rows):
    """Same rows, same order, ties on one day included (the earlier in the file)."""
    from forecastlib.demand.history import line_starts
    from forecastlib.demand.prices import _first_rows

    day = np.datetime64("2017-01-01")
    placements = pd.DataFrame({
        "service": [r[0] for r in rows], "category": [r[1] for r in rows],
        "client_id": [r[2] for r in rows],
        "start_date": pd.to_datetime([day + r[3] for r in rows]),
        "end_date": pd.to_datetime([None if r[4] is None else day + r[3] + r[4]
                                    for r in rows]),
    })
    table = line_starts(placements)
    np.testing.assert_array_equal(_first_rows(placements, table["first_row"].to_numpy()),
                                  _first_rows_by_multiindex(placements, table))


def test_price_fit_with_a_shared_history_is_the_same(sample):
    from forecastlib.demand import SpellHistory

    history = SpellHistory.build(sample.placements)
    alone = PriceModel(draws=0).fit(sample.placements, sample.as_at)
    shared = PriceModel(draws=0).fit(sample.placements, sample.as_at, history=history)
    assert alone.inflation_ == shared.inflation_ and alone.market_ == shared.market_
    for line, pool in alone.pools_.items():
        pd.testing.assert_frame_equal(pool, shared.pools_[line], check_exact=True)
    pd.testing.assert_frame_equal(alone.summary_, shared.summary_, check_exact=True)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=3, max_value=400), st.integers(min_value=1, max_value=12),
       st.integers(min_value=0, max_value=2**31))
def test_within_slope_equals_statsmodels_ols_with_a_dummy_per_group(rows, groups, seed):
    from statsmodels.regression.linear_model import OLS

    from forecastlib.demand.prices import within_slope

    rng = np.random.default_rng(seed)
    codes = rng.integers(0, groups, rows)
    codes = pd.factorize(codes)[0]
    x = rng.uniform(0, 5, rows)
    y = 0.03 * x + rng.normal(0, 0.3, groups)[codes] + rng.normal(0, 0.2, rows)
    slope, se = within_slope(y, x, codes)
    design = np.column_stack([x, np.eye(codes.max() + 1)[codes]])
    if rows - 1 - (codes.max() + 1) <= 0:
        assert np.isnan(slope) and np.isnan(se)
        return
    fitted = OLS(y, design).fit()
    assert slope == pytest.approx(fitted.params[0], rel=1e-9, abs=1e-12)
    assert se == pytest.approx(fitted.bse[0], rel=1e-9, abs=1e-12)


def test_within_slope_is_undefined_when_x_never_varies_within_a_group():
    from forecastlib.demand.prices import within_slope

    slope, se = within_slope(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.0, 0.0, 1.0, 1.0]),
                             np.array([0, 0, 1, 1]))
    assert np.isnan(slope) and np.isnan(se)
