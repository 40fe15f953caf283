"""The calibration study: forecast truth-known authorities and score the intervals.

Used by the test suite (a smaller run) and ``benchmarks/calibration_study.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.datasets.truth import TruthSpec, oracle_models, simulate_authority

__all__ = ["STUDY_LINES", "calibration_study"]

#: Three lines with different start rates, trends, seasonality, stays and prices.
STUDY_LINES: tuple[TruthSpec, ...] = (
    TruthSpec("Residential", 3.0, 0.08, 0.3, 300, 0.9, 3000, 0.3),
    TruthSpec("Fostering", 12.0, 0.02, 0.2, 600, 1.0, 800, 0.12),
    TruthSpec("Supported", 4.0, 0.10, 0.25, 250, 0.8, 1500, 0.35),
)


def calibration_study(authorities: int, as_ats: tuple[str, ...] = ("2017-09-30", "2017-12-31"),
                      simulations: int = 1000, interval: float = 0.8,
                      specs: tuple[TruthSpec, ...] = STUDY_LINES) -> pd.DataFrame:
    """Forecast ``authorities`` simulated authorities at each ``as_at``, with fitted and
    with true (oracle) demand models.

    Returns
    -------
    DataFrame
        One row per authority, ``as_at`` and line: ``truth``, the forecast's ``mean``,
        ``lower``, ``upper`` and ``covered``, and the oracle's ``oracle_mean`` and
        ``oracle_covered``.
    """
    from forecastlib.outturn import forecast_outturn
    from forecastlib.records import read_budget
    from forecastlib.simulation import DemandModels

    budget = read_budget(pd.DataFrame({"service": [s.service for s in specs],
                                       "category": [s.category for s in specs],
                                       "annual_budget": ["0"] * len(specs)}))
    rows = []
    for seed in range(authorities):
        for as_at in as_ats:
            authority = simulate_authority(specs, as_at, seed)
            models = DemandModels.fit(authority.placements, authority.as_at)
            ours = forecast_outturn(authority.placements, budget, authority.as_at,
                                    simulations=simulations, seed=seed, models=models,
                                    interval=interval)
            oracle = forecast_outturn(authority.placements, budget, authority.as_at,
                                      simulations=simulations, seed=seed, interval=interval,
                                      models=oracle_models(authority, models))
            for line, truth in authority.truth.items():
                mine, best = ours.lines.loc[line], oracle.lines.loc[line]
                rows.append({
                    "authority": seed, "as_at": as_at, "line": line[1], "truth": truth,
                    "mean": mine["mean"], "lower": mine["lower"], "upper": mine["upper"],
                    "covered": bool(mine["lower"] <= truth <= mine["upper"]),
                    "oracle_mean": best["mean"],
                    "oracle_covered": bool(best["lower"] <= truth <= best["upper"]),
                })
    frame = pd.DataFrame(rows)
    frame["error"] = np.abs(frame["mean"] - frame["truth"])
    frame["oracle_error"] = np.abs(frame["oracle_mean"] - frame["truth"])
    return frame
