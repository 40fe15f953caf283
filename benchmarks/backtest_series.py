"""Accuracy of ``project_series`` against the classic Theta method and naive baselines.

Three sets, each evaluated on rolling origins (forecasts from several cut-offs compared
with what happened next), reporting MASE (errors over the in-sample seasonal-naive
MAE at the cut-off), sMAPE and, for ``project_series``, the 80% interval's coverage:

1. **standard public series** shipped with statsmodels (offline): yearly Nile flows and
   sunspots, quarterly US macro series, monthly Mauna Loa CO2 and El Nino sea
   temperatures. The M3 / M4 competition data cannot be fetched on this project's
   machines, so these textbook series stand in for "standard" data;
2. **children looked after at 31 March**, every English LA, one year ahead, origins
   2014-2023 (the real-data validation of ``backtest_lac.py``), beside Theta;
3. **monthly new starts** per line of the sample county, 12 months ahead from three
   origins a year apart.

Run: ``python benchmarks/backtest_series.py`` (a few minutes on two cores).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.tsa.forecasting.theta import ThetaModel

from forecastlib.datasets import load_sample
from forecastlib.demand import ProjectionWarning, monthly_starts, project_series, spells
from forecastlib.demand.history import default_history_start

INTERVAL = 0.8


def standard_series() -> dict[str, tuple[dict[str, np.ndarray], int, int]]:
    """Groups of series: name -> (series, season length, horizon)."""
    nile = sm.datasets.nile.load_pandas().data["volume"].to_numpy(float)
    sunspots = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy(float)[-120:]
    macro = sm.datasets.macrodata.load_pandas().data
    co2 = sm.datasets.co2.load_pandas().data["co2"]
    co2 = co2.resample("MS").mean().interpolate().to_numpy(float)[-360:]
    elnino = sm.datasets.elnino.load_pandas().data.drop(columns="YEAR").to_numpy(float).ravel()
    return {
        "yearly (Nile, sunspots)": ({"nile": nile, "sunspots": sunspots}, 1, 6),
        "quarterly (US macro)": ({c: macro[c].to_numpy(float) for c in
                                  ("realgdp", "realcons", "realinv", "realgovt", "m1", "cpi")},
                                 4, 8),
        "monthly (CO2, El Nino)": ({"co2": co2, "elnino": elnino[-360:]}, 12, 18),
    }


def theta_forecast(y: np.ndarray, h: int, m: int) -> np.ndarray:
    seasonal = m > 1 and len(y) >= 2 * m
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(ThetaModel(y, period=m if seasonal else 1,
                                     deseasonalize=seasonal).fit().forecast(h))


def mase_scale(y: np.ndarray, m: int) -> float:
    lag = m if m > 1 and len(y) > m else 1
    return float(np.mean(np.abs(y[lag:] - y[:-lag]))) or 1.0


def evaluate(series: dict[str, np.ndarray], m: int, h: int, windows: int) -> pd.DataFrame:
    rows = []
    for window in range(windows, 0, -1):
        cut = {k: len(v) - h * window for k, v in series.items()}
        history = pd.concat([pd.DataFrame({"series_id": k, "period": np.arange(cut[k]),
                                           "value": v[: cut[k]]}) for k, v in series.items()])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ProjectionWarning)
            ours = project_series(history, h, interval=INTERVAL, season_length=m)
        for key, y in series.items():
            train, test = y[: cut[key]], y[cut[key]: cut[key] + h]
            mine = ours[ours["series_id"] == key]
            forecasts = {
                "project_series": mine["mean"].to_numpy(),
                "theta": theta_forecast(train, h, m),
                "naive": np.full(h, train[-1]),
                "seasonal_naive": np.resize(train[-m:], h) if m > 1 else np.full(h, train[-1]),
            }
            scale = mase_scale(train, m)
            for name, forecast in forecasts.items():
                error = np.abs(test - forecast)
                smape = 200 * error / np.maximum(np.abs(test) + np.abs(forecast), 1e-9)
                covered = np.nan
                if name == "project_series":
                    covered = float(np.mean((test >= mine["lower"].to_numpy())
                                            & (test <= mine["upper"].to_numpy())))
                rows.append({"method": name, "mase": error.mean() / scale,
                             "smape": smape.mean(), "coverage": covered})
    return pd.DataFrame(rows).groupby("method").mean()


def lac_panel() -> tuple[dict[str, np.ndarray], list[int]]:
    from backtest_lac import load

    return load(), [o for o in range(2014, 2024) if o != 2017]


def lac_versus_theta() -> pd.DataFrame:
    history, origins = lac_panel()
    rows = []
    for origin in origins:
        train = history[history["period"] <= origin]
        actual = history[history["period"] == origin + 1].set_index("series_id")["value"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ProjectionWarning)
            ours = project_series(train, 1, interval=INTERVAL).set_index("series_id")
        for series_id, block in train.groupby("series_id"):
            y = block.sort_values("period")["value"].interpolate().dropna().to_numpy(float)
            if (len(y) < 4 or series_id not in actual.index or np.isnan(actual[series_id])
                    or block["period"].max() != origin):
                continue
            truth, scale = actual[series_id], mase_scale(y, 1)
            forecasts = {"project_series": ours.loc[series_id, "mean"],
                         "theta": theta_forecast(y, 1, 1)[0], "naive": y[-1]}
            for name, value in forecasts.items():
                rows.append({"method": name, "mae": abs(truth - value),
                             "mase": abs(truth - value) / scale})
    table = pd.DataFrame(rows).groupby("method").mean()
    table["mae_vs_naive"] = table["mae"] / table.loc["naive", "mae"]
    return table


def sample_starts() -> pd.DataFrame:
    sample = load_sample()
    counts = monthly_starts(spells(sample.placements), sample.as_at,
                            default_history_start(sample.placements))
    series = {" / ".join(line): counts.loc[line].to_numpy(float) for line in counts.index
              if counts.loc[line].sum() >= 24}
    return evaluate(series, 12, 12, windows=3)


def main() -> None:
    pd.set_option("display.width", 120)
    started = time.perf_counter()
    for name, (series, m, h) in standard_series().items():
        print(f"== standard series: {name}, horizon {h}, 4 origins")
        print(evaluate(series, m, h, windows=4).round(3).to_string(), "\n")
    print("== children looked after at 31 March, every English LA, one year ahead")
    print(lac_versus_theta().round(3).to_string(), "\n")
    print("== monthly new starts per line of the sample county, 12 months ahead, 3 origins")
    print(sample_starts().round(3).to_string(), "\n")
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
