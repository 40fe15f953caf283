"""Rolling-origin evaluation of ``project_series`` against naive baselines.

:func:`cross_validation` cuts every series at ``n_windows`` origins ``step_size``
apart, projects ``h`` steps from each with :func:`project_series`, and keeps the
naive and seasonal-naive forecasts beside it; :func:`evaluate` reports MAE, MASE,
sMAPE and the interval's empirical coverage for each.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from forecastlib.demand.series import ProjectionWarning, project_series

__all__ = ["cross_validation", "evaluate"]


def _baselines(train: pd.DataFrame, h: int, season_length: int) -> pd.DataFrame:
    rows = []
    for series_id, block in train.groupby("series_id", sort=False):
        values = block["value"].dropna().to_numpy(dtype=float)
        if values.size == 0:
            continue
        seasonal = (np.resize(values[-season_length:], h)
                    if season_length > 1 and values.size >= season_length
                    else np.full(h, values[-1]))
        rows.append(pd.DataFrame({"series_id": series_id, "step": np.arange(1, h + 1),
                                  "naive": values[-1], "seasonal_naive": seasonal}))
    return pd.concat(rows, ignore_index=True)


def _mase_scale(values: pd.Series, lag: int) -> float:
    """Mean absolute (seasonal) naive change: the MASE denominator."""
    array = values.to_numpy(dtype=float)
    changes = np.abs(array[lag:] - array[:-lag])
    changes = changes[~np.isnan(changes)]
    return float(changes.mean()) if changes.size else np.nan


def cross_validation(history: pd.DataFrame, h: int, n_windows: int, step_size: int = 1,
                     interval: float = 0.8, season_length: int | None = None
                     ) -> pd.DataFrame:
    """Forecasts from rolling origins beside the actual values.

    ``history`` is as for :func:`project_series`, with periods orderable. The last
    origin leaves ``h`` periods to test; earlier ones step back by ``step_size``.

    Returns
    -------
    DataFrame
        ``series_id``, ``cutoff`` (last period used), ``step``, ``period``, ``actual``,
        ``mean``, ``lower``, ``upper``, ``naive``, ``seasonal_naive``, and ``scale``
        (the series' mean absolute one-step change up to the cutoff, for MASE).
    """
    periods = np.sort(history["period"].unique())
    m = 1 if season_length is None else season_length
    results = []
    for window in range(n_windows):
        last_cut = len(periods) - h - 1 - window * step_size
        if last_cut < 1:
            break
        cutoff = periods[last_cut]
        train = history[history["period"] <= cutoff]
        test = history[(history["period"] > cutoff)].copy()
        rank = {p: i + 1 for i, p in enumerate(periods[last_cut + 1: last_cut + 1 + h])}
        test = test[test["period"].isin(list(rank))]
        test["step"] = test["period"].map(rank)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ProjectionWarning)
            forecast = project_series(train, h, interval=interval, season_length=season_length)
        scale = train.sort_values("period").groupby("series_id")["value"].agg(
            _mase_scale, lag=m)
        merged = (test.rename(columns={"value": "actual"})
                  .merge(forecast, on=["series_id", "step"])
                  .merge(_baselines(train, h, m), on=["series_id", "step"]))
        merged["cutoff"] = cutoff
        merged["scale"] = merged["series_id"].map(scale)
        results.append(merged)
    columns = ["series_id", "cutoff", "step", "period", "actual", "mean", "lower", "upper",
               "naive", "seasonal_naive", "scale"]
    return pd.concat(results, ignore_index=True)[columns].dropna(subset=["actual"])


def evaluate(cv: pd.DataFrame, models: tuple[str, ...] = ("mean", "naive", "seasonal_naive")
             ) -> pd.DataFrame:
    """MAE, MASE, sMAPE per method, and the interval coverage of ``project_series``."""
    rows = {}
    scaled = cv["scale"].where(cv["scale"] > 0)
    for model in models:
        error = (cv["actual"] - cv[model]).abs()
        denominator = (cv["actual"].abs() + cv[model].abs())
        smape = (2 * error / denominator.where(denominator > 0)).fillna(0.0)
        rows["project_series" if model == "mean" else model] = {
            "mae": float(error.mean()),
            "mase": float((error / scaled).mean()),
            "smape": float(100 * smape.mean()),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    inside = (cv["actual"] >= cv["lower"]) & (cv["actual"] <= cv["upper"])
    table["coverage"] = np.nan
    table.loc["project_series", "coverage"] = float(inside.mean())
    table["mae_vs_naive"] = table["mae"] / table.loc["naive", "mae"]
    return table
