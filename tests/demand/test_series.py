"""project_series: the contract, degenerate series, and calibrated intervals."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from forecastlib.demand import ProjectionWarning, cross_validation, evaluate, project_series
from forecastlib.errors import ConfigError, DataValidationError


def long_frame(series: dict[str, np.ndarray], start: int = 2000) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"series_id": key, "period": start + np.arange(len(v)),
                                    "value": v}) for key, v in series.items()],
                     ignore_index=True)


def test_contract_columns_and_steps():
    history = long_frame({"A": np.arange(10, 30, dtype=float), "B": np.full(12, 5.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProjectionWarning)
        out = project_series(history, horizon=3)
    assert out.columns.tolist() == ["series_id", "step", "mean", "lower", "upper"]
    assert out.groupby("series_id")["step"].apply(list).to_dict() == {"A": [1, 2, 3],
                                                                       "B": [1, 2, 3]}
    assert (out["lower"] <= out["mean"]).all() and (out["mean"] <= out["upper"]).all()
    assert (out["lower"] >= 0).all()
    assert set(out.attrs["models"]) == {"A", "B"}


@pytest.mark.parametrize(("values", "kind"), [
    ([7.0], "short"),
    ([0.0, 0, 0, 0, 0, 0], "all zero"),
    ([4.0] * 8, "flat"),
    ([3.0, np.nan, 5, 6, np.nan, 8, 9, 10], "gaps"),
    ([np.nan, np.nan], "empty"),
])
def test_degenerate_series_never_fail_and_say_so(values, kind):
    history = long_frame({"X": np.asarray(values, dtype=float)})
    with pytest.warns(ProjectionWarning, match=kind):
        out = project_series(history, horizon=2)
    assert len(out) == 2 and np.isfinite(out[["mean", "lower", "upper"]]).all().all()
    if kind == "all zero":
        assert (out["mean"] == 0).all()


def test_trailing_missing_periods_are_forecast_through():
    history = long_frame({"X": np.array([10.0, 11, 12, 13, 14, 15, np.nan, np.nan])})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ProjectionWarning)
        out = project_series(history, horizon=1)
    assert len(out) == 1 and out["mean"].iloc[0] > 15


def test_monthly_dates_and_seasonal_series():
    months = pd.date_range("2015-01-01", periods=60, freq="MS")
    rng = np.random.default_rng(0)
    values = rng.poisson(30 + 15 * np.sin(2 * np.pi * np.arange(60) / 12)).astype(float)
    history = pd.DataFrame({"series_id": "m", "period": months, "value": values})
    out = project_series(history, horizon=12)
    truth = 30 + 15 * np.sin(2 * np.pi * np.arange(60, 72) / 12)
    assert np.corrcoef(out["mean"], truth)[0, 1] > 0.8  # the season is projected


def test_bad_inputs_are_refused():
    with pytest.raises(DataValidationError, match="value"):
        project_series(long_frame({"A": np.array([1.0, -2.0, 3.0])}), 1)
    with pytest.raises(DataValidationError, match="series_id"):
        project_series(pd.DataFrame({"period": [1], "value": [1.0]}), 1)
    duplicate = pd.DataFrame({"series_id": ["A", "A"], "period": [1, 1], "value": [1.0, 2.0]})
    with pytest.raises(DataValidationError, match="one value per"):
        project_series(duplicate, 1)
    with pytest.raises(ConfigError):
        project_series(long_frame({"A": np.arange(5.0)}), 0)
    with pytest.raises(ConfigError):
        project_series(long_frame({"A": np.arange(5.0)}), 1, interval=1.2)


@pytest.mark.slow
def test_intervals_are_calibrated_on_a_truth_known_panel():
    """80% intervals should cover about 80% of held-out values (72-88% here)."""
    rng = np.random.default_rng(42)
    n_series, length, horizon = 120, 16, 2
    levels = rng.uniform(50, 500, n_series)
    growth = rng.normal(0.02, 0.03, n_series)
    noise = rng.normal(0, 0.06, (n_series, length + horizon))
    paths = levels[:, None] * np.exp(np.cumsum(growth[:, None] + noise, axis=1))
    history = long_frame({f"s{i}": np.round(paths[i, :length]) for i in range(n_series)})
    out = project_series(history, horizon=horizon, interval=0.8)
    truth = np.round(paths[:, length:]).ravel()
    ordered = out.sort_values(["series_id", "step"], key=lambda s: s.map(
        lambda v: int(v[1:]) if isinstance(v, str) else v))
    inside = (truth >= ordered["lower"].to_numpy()) & (truth <= ordered["upper"].to_numpy())
    assert 0.72 <= inside.mean() <= 0.88
    naive = np.repeat(np.round(paths[:, length - 1]), horizon)
    assert np.abs(ordered["mean"].to_numpy() - truth).mean() <= 1.02 * np.abs(naive - truth).mean()


def test_cross_validation_reports_metrics_beside_baselines():
    rng = np.random.default_rng(1)
    # three series: a panel (the choice is pooled) at a third of twelve's cost (~1 s a fit)
    history = long_frame({f"s{i}": 100 + np.cumsum(rng.normal(1, 3, 14)) for i in range(3)})
    cv = cross_validation(history, h=2, n_windows=3)
    assert set(cv["cutoff"]) == {2011, 2010, 2009}
    table = evaluate(cv)
    assert set(table.index) == {"project_series", "naive", "seasonal_naive"}
    assert {"mae", "mase", "smape", "coverage", "mae_vs_naive"} <= set(table.columns)
    assert 0 <= table.loc["project_series", "coverage"] <= 1


def test_yearly_panels_offer_the_global_pooled_model_without_look_ahead():
    from forecastlib.demand import PooledGrowthModel
    from forecastlib.demand.series import _Panel, _prepare

    rng = np.random.default_rng(5)
    panel = {f"la{i}": np.round(80 * np.exp(np.cumsum(rng.normal(0.02, 0.06, 9))))
             for i in range(24)}
    panel["stopped"] = np.r_[panel["la0"][:6], [np.nan] * 3]
    history = long_frame(panel)
    prepared = _prepare(history, None)
    learnt = _Panel.learn([s.values for s in prepared], [0, 1, 2])
    learnt.add_pooled(prepared, [0, 1, 2], 2)
    assert set(learnt.pooled) == {0, 1, 2}
    assert "stopped" not in learnt.pooled[0] and "la3" in learnt.pooled[0]
    # Drop 2: the global model fitted on every series up to 2006 only.
    cut = history[(history["period"] <= 2006) & history["value"].notna()]
    expected = PooledGrowthModel().fit(cut).predict(2).set_index(["series_id", "step"])
    assert learnt.pooled[2]["la3"] == pytest.approx(expected.loc["la3", "mean"].to_numpy())

    small = _prepare(long_frame({k: panel[k] for k in list(panel)[:5]}), None)
    few = _Panel.learn([s.values for s in small], [0])
    few.add_pooled(small, [0], 2)
    assert few.pooled == {}
