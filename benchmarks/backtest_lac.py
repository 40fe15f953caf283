"""Real-data validation: one-year-ahead children-looked-after counts for every English LA.

For each origin year 2014-2023 whose next year is published (2018 is missing in the
source, so origin 2017 is skipped), every local authority's series up to the origin
is projected one year ahead with ``forecastlib.project_series`` and compared with the
published count, beside the naive forecast (last year's count). Prints the MAE ratio to
naive (target below 1.0, ambition 0.95) and the empirical coverage of the 80% interval
(target 75-85%), overall and by origin.

The global model alone (``PooledGrowthModel``: one regression of log growth fitted on
every LA's history up to the origin) is also scored 1, 2 and 3 years ahead.

Run: ``python benchmarks/backtest_lac.py`` (about two minutes on two cores).
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from forecastlib.demand import PooledGrowthModel, ProjectionWarning, project_series

DATA = Path(__file__).parent / "data" / "cla_31_march_by_la_2010_2024.csv"
INTERVAL = 0.8


def load() -> pd.DataFrame:
    raw = pd.read_csv(DATA, dtype={"value": str})
    frame = pd.DataFrame({
        "series_id": raw["old_la_code"].astype(str),
        "period": raw["year_31_march"].astype(int),
        "value": pd.to_numeric(raw["value"], errors="coerce"),  # suppressed -> missing
    })
    return frame


def national_growth_ceiling(history: pd.DataFrame, origins: list[int]) -> float:
    """MAE ratio to naive of a forecast no model can make: last year's count grown by the
    *actual* median log growth of every LA in the target year.

    It bounds what any pooled model of common (national) movements can gain over naive.
    """
    wide = history.pivot_table(index="series_id", columns="period", values="value",
                               aggfunc="last")
    wide = wide.reindex(columns=range(wide.columns.min(), wide.columns.max() + 1))
    wide = wide.interpolate(axis=1, limit_area="inside")
    ours, naive = [], []
    for origin in origins:
        actual = history[history["period"] == origin + 1].set_index("series_id")["value"]
        last = history[history["period"] == origin].set_index("series_id")["value"]
        both = actual.dropna().index.intersection(last.dropna().index)
        growth = np.log(wide[origin + 1] / wide[origin]).replace([np.inf, -np.inf], np.nan)
        forecast = last[both] * np.exp(growth.median())
        ours.append((actual[both] - forecast).abs())
        naive.append((actual[both] - last[both]).abs())
    return float(pd.concat(ours).mean() / pd.concat(naive).mean())


def pooled_by_horizon(history: pd.DataFrame, horizons: int = 3) -> pd.DataFrame:
    """MAE ratio to naive and 80% coverage of ``PooledGrowthModel`` alone, by step ahead.

    Origins 2013-2023 (not 2018, which is not published); a forecast is scored when the
    LA reported at the origin and in the target year.
    """
    rows = []
    for origin in range(2013, 2024):
        train = history[history["period"] <= origin]
        current = train[(train["period"] == origin) & train["value"].notna()]
        if current.empty:
            continue
        last = current.set_index("series_id")["value"]
        model = PooledGrowthModel().fit(train)
        forecast = model.predict(horizons, interval=INTERVAL)
        forecast["period"] = origin + forecast["step"]
        actual = history.dropna(subset=["value"]).rename(columns={"value": "actual"})
        scored = forecast.merge(actual, on=["series_id", "period"])
        scored = scored[scored["series_id"].isin(last.index)]
        scored["naive"] = last.reindex(scored["series_id"]).to_numpy()
        scored["origin"] = origin
        rows.append(scored)
    results = pd.concat(rows)
    inside = (results["actual"] >= results["lower"]) & (results["actual"] <= results["upper"])
    results = results.assign(error=(results["actual"] - results["mean"]).abs(),
                             naive_error=(results["actual"] - results["naive"]).abs(),
                             inside=inside)
    table = results.groupby("step").agg(forecasts=("error", "size"), mae=("error", "mean"),
                                        mae_naive=("naive_error", "mean"),
                                        coverage_80=("inside", "mean"))
    table.insert(3, "ratio", table["mae"] / table["mae_naive"])
    return table


def main() -> None:
    history = load()
    rows = []
    started = time.perf_counter()
    for origin in range(2014, 2024):
        target = origin + 1
        actual = history[history["period"] == target].set_index("series_id")["value"].dropna()
        if actual.empty:
            print(f"origin {origin}: no published {target} counts; skipped")
            continue
        train = history[history["period"] <= origin]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ProjectionWarning)
            forecast = project_series(train, horizon=1, interval=INTERVAL)
        last = (train.dropna(subset=["value"]).sort_values("period")
                .groupby("series_id")["value"].last())
        # Only LAs reporting in the origin year and the target year are scored.
        current = train[(train["period"] == origin) & train["value"].notna()]["series_id"]
        merged = forecast.set_index("series_id").join(actual.rename("actual"), how="inner")
        merged = merged[merged.index.isin(set(current))]
        merged["naive"] = last.reindex(merged.index)
        merged["origin"] = origin
        rows.append(merged)
    results = pd.concat(rows)
    elapsed = time.perf_counter() - started

    def summary(frame: pd.DataFrame) -> pd.Series:
        model = (frame["actual"] - frame["mean"]).abs().mean()
        naive = (frame["actual"] - frame["naive"]).abs().mean()
        inside = ((frame["actual"] >= frame["lower"]) & (frame["actual"] <= frame["upper"]))
        return pd.Series({"forecasts": len(frame), "mae": model, "mae_naive": naive,
                          "ratio": model / naive, "coverage_80": inside.mean()})

    by_origin = results.groupby("origin").apply(summary)
    overall = summary(results)
    pd.set_option("display.width", 120)
    print(by_origin.round(3).to_string())
    print()
    print(f"all origins: {int(overall['forecasts'])} forecasts, MAE {overall['mae']:.2f} vs "
          f"naive {overall['mae_naive']:.2f}: ratio {overall['ratio']:.3f} "
          f"(target < 1.0, ambition 0.95); 80% interval coverage "
          f"{overall['coverage_80']:.1%} (target 75-85%); {elapsed:.0f} s")
    ceiling = national_growth_ceiling(history, sorted(results["origin"].unique()))
    print(f"reference: last count x the actual national median growth of the target year "
          f"(unknowable in advance): ratio {ceiling:.3f}")
    print("\nPooledGrowthModel alone (origins 2013-2023), by years ahead:")
    print(pooled_by_horizon(history).round(3).to_string())


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
