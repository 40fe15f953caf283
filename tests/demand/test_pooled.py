"""PooledGrowthModel: hand-computed panels, recovery of known coefficients, degenerate
panels (one series, short and new series, zeros) and calibrated intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastlib.demand import PooledGrowthModel
from forecastlib.errors import ConfigError, DataValidationError


def long_frame(series: dict[str, list[float] | np.ndarray], start: int = 2010) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"series_id": key, "period": start + np.arange(len(v)),
                                    "value": np.asarray(v, dtype=float)})
                      for key, v in series.items()], ignore_index=True)


def test_common_growth_by_hand():
    # Every series grows 10% a year on the log(value + 1) scale: no relative movement,
    # so the forecast is the last value grown by the last common growth times the damping.
    levels = {name: (base + 1) * np.exp(0.1 * np.arange(6)) - 1
              for name, base in (("a", 9.0), ("b", 49.0), ("c", 199.0))}
    model = PooledGrowthModel(alpha=0.0, common_damping=0.5).fit(long_frame(levels))
    assert model.common_.to_numpy() == pytest.approx(np.full(5, 0.1))
    assert np.abs(model.coef_.to_numpy()).max() < 1e-9
    out = model.predict(2).set_index(["series_id", "step"])["mean"]
    # a: last value (9 + 1) e^0.5 - 1 = 15.4872; one step: x e^0.05, two: x e^0.075.
    assert out[("a", 1)] == pytest.approx(10 * np.exp(0.55) - 1)
    assert out[("a", 2)] == pytest.approx(10 * np.exp(0.5 + 0.05 + 0.025) - 1)
    assert out[("c", 1)] == pytest.approx(200 * np.exp(0.55) - 1)


def test_recovers_a_known_momentum_coefficient():
    rng = np.random.default_rng(3)
    series, periods = 120, 14
    z = np.zeros((series, periods))
    z[:, 0] = rng.uniform(3, 6, series)
    z[:, 1] = z[:, 0] + rng.normal(0, 0.1, series)
    common = rng.normal(0.02, 0.03, periods)
    for t in range(1, periods - 1):
        change = z[:, t] - z[:, t - 1]
        z[:, t + 1] = (z[:, t] + common[t + 1] + 0.5 * (change - np.median(change))
                       + rng.normal(0, 0.02, series))
    history = long_frame({f"s{i}": np.exp(z[i]) - 1 for i in range(series)})
    model = PooledGrowthModel(lags=1, alpha=0.0).fit(history)
    assert model.coef_["change_lag1"] == pytest.approx(0.5, abs=0.08)
    assert abs(model.coef_["level_gap"]) < 0.15


def test_one_series_follows_its_own_damped_growth():
    model = PooledGrowthModel(alpha=0.0, common_damping=1.0).fit(
        long_frame({"only": [10.0, 12, 15, 14, 17]}))
    forecast = model.predict(1)["mean"].iloc[0]
    # The panel's median growth is the series' own: log(18 / 15) into the last year.
    assert forecast == pytest.approx(18 * 18 / 15 - 1)
    assert np.abs(model.coef_.to_numpy()).max() < 1e-9


def test_new_authority_with_one_or_two_values_follows_the_panel():
    rng = np.random.default_rng(0)
    panel = {f"la{i}": np.round(100 * np.exp(np.cumsum(rng.normal(0.03, 0.05, 10))))
             for i in range(25)}
    panel["new1"] = [np.nan] * 9 + [40.0]
    panel["new2"] = [np.nan] * 8 + [35.0, 40.0]
    model = PooledGrowthModel().fit(long_frame(panel))
    out = model.predict(1).set_index("series_id")
    assert {"new1", "new2"} <= set(out.index)
    z = np.log(41.0)
    sizes = np.log(np.array([v[-1] for v in panel.values()], dtype=float) + 1)
    # new1 has no change and no level history: only the common growth and its size act.
    common = model.common_.iloc[-1] * model.common_damping_
    expected = np.exp(z + common + model.coef_["log_size"] * (z - np.median(sizes))) - 1
    assert out.loc["new1", "mean"] == pytest.approx(expected)
    assert np.isfinite(out.loc["new2", ["mean", "lower", "upper"]].astype(float)).all()


def test_zeros_and_all_zero_series():
    panel = {"zero": [0.0] * 6, "some": [0.0, 2, 0, 1, 3, 2], "big": [50.0, 52, 55, 53, 56, 60]}
    out = PooledGrowthModel().fit(long_frame(panel)).predict(2).set_index("series_id")
    assert (out[["mean", "lower", "upper"]] >= 0).all().all()
    assert (out.loc["zero", "mean"] < 1).all()


def test_two_periods_fit_with_a_fallback_interval_and_one_period_is_refused():
    model = PooledGrowthModel().fit(long_frame({"a": [5.0, 6], "b": [10.0, 9]}))
    out = model.predict(1)
    assert (out["lower"] < out["mean"]).all() and (out["mean"] < out["upper"]).all()
    with pytest.raises(ConfigError):
        PooledGrowthModel().fit(long_frame({"a": [5.0], "b": [3.0]}))


def test_bad_input_is_named():
    with pytest.raises(DataValidationError):
        PooledGrowthModel().fit(long_frame({"a": [5.0, -1, 3]}))
    with pytest.raises(ConfigError):
        PooledGrowthModel(common_damping=2.0).fit(long_frame({"a": [5.0, 1, 3]}))
    with pytest.raises(ConfigError):
        PooledGrowthModel().predict(1)


def test_no_look_ahead_and_repr():
    rng = np.random.default_rng(1)
    panel = {f"la{i}": 50 * np.exp(np.cumsum(rng.normal(0, 0.08, 12))) for i in range(30)}
    history = long_frame(panel)
    early = history[history["period"] <= 2019]
    changed = history.assign(value=np.where(history["period"] > 2019, 1.0, history["value"]))
    first = PooledGrowthModel().fit(early)
    second = PooledGrowthModel().fit(changed[changed["period"] <= 2019])
    pd.testing.assert_frame_equal(first.predict(2), second.predict(2))
    assert "alpha_=" in repr(first) and "30 series" in repr(first)


def test_intervals_are_calibrated_on_a_truth_known_panel():
    rng = np.random.default_rng(7)
    series, periods = 150, 13
    shocks = rng.normal(0, 0.07, (series, periods))
    common = rng.normal(0.02, 0.02, periods)
    levels = rng.uniform(20, 400, series)[:, None] * np.exp(np.cumsum(shocks + common, axis=1))
    values = rng.poisson(levels).astype(float)
    history = long_frame({f"la{i}": values[i] for i in range(series)})
    train = history[history["period"] < 2010 + periods - 1]
    out = PooledGrowthModel().fit(train).predict(1).set_index("series_id")
    actual = pd.Series(values[:, -1], index=[f"la{i}" for i in range(series)]).reindex(
        out.index)
    inside = (actual >= out["lower"]) & (actual <= out["upper"])
    assert 0.68 <= inside.mean() <= 0.92


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(0, 500), min_size=3, max_size=7), min_size=1,
                max_size=6))
def test_any_count_panel_gives_ordered_non_negative_bounds(rows):
    history = long_frame({f"s{i}": row for i, row in enumerate(rows)})
    out = PooledGrowthModel().fit(history).predict(2)
    assert len(out) == 2 * len(rows)
    values = out[["lower", "mean", "upper"]].to_numpy()
    assert np.isfinite(values).all() and (values >= 0).all()
    assert (values[:, 0] <= values[:, 1] + 1e-9).all()
    assert (values[:, 1] <= values[:, 2] + 1e-9).all()
