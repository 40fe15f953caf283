"""The calibration study: forecast truth-known authorities and score the intervals.

Used by the test suite (a smaller run) and ``benchmarks/calibration_study.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.datasets.level_oracle import parameter_oracle_models
from forecastlib.datasets.truth import (
    WORLD_KINDS,
    TruthSpec,
    oracle_models,
    simulate_authority,
)

__all__ = ["STUDY_LINES", "WORLD_KINDS", "calibration_study", "coverage_table", "zero_budget"]

#: Three lines with different start rates, trends, seasonality, stays and prices.
STUDY_LINES: tuple[TruthSpec, ...] = (
    TruthSpec("Residential", 3.0, 0.08, 0.3, 300, 0.9, 3000, 0.3),
    TruthSpec("Fostering", 12.0, 0.02, 0.2, 600, 1.0, 800, 0.12),
    TruthSpec("Supported", 4.0, 0.10, 0.25, 250, 0.8, 1500, 0.35),
)


def zero_budget(specs: tuple[TruthSpec, ...]) -> pd.DataFrame:
    """A validated budget of zero for each line of ``specs``: the studies score outturns,
    not variances, but a forecast needs its lines budgeted."""
    from forecastlib.records import read_budget

    return read_budget(pd.DataFrame({"service": [s.service for s in specs],
                                     "category": [s.category for s in specs],
                                     "annual_budget": ["0"] * len(specs)}))


def calibration_study(authorities: int, as_ats: tuple[str, ...] = ("2017-09-30", "2017-12-31"),
                      simulations: int = 1000, interval: float = 0.8,
                      specs: tuple[TruthSpec, ...] = STUDY_LINES,
                      kinds: tuple[str, ...] = ("tidy",)) -> pd.DataFrame:
    """Forecast ``authorities`` simulated authorities of each world kind at each
    ``as_at``, with fitted demand models, with the state oracle's (true parameters and
    the start rates' current level) and with the parameter oracle's (true parameters,
    levels filtered from the record: :mod:`forecastlib.datasets.level_oracle`).

    Returns
    -------
    DataFrame
        One row per kind, authority, ``as_at`` and line, and one per total
        (``line == "Total"``): ``shifted`` (the line's start rate shifted), ``truth``,
        the forecast's ``mean``, ``lower``, ``upper`` and ``covered``, the state oracle's
        ``oracle_mean`` and ``oracle_covered``, the parameter oracle's
        ``param_oracle_mean`` and ``param_oracle_covered``, and the absolute errors
        ``error``, ``oracle_error`` and ``param_oracle_error``.
    """
    from forecastlib.outturn import forecast_outturn
    from forecastlib.simulation import DemandModels

    budget = zero_budget(specs)
    rows = []
    for kind in kinds:
        for seed in range(authorities):
            for as_at in as_ats:
                authority = simulate_authority(specs, as_at, seed, kind)
                models = DemandModels.fit(authority.placements, authority.as_at)
                ours = forecast_outturn(authority.placements, budget, authority.as_at,
                                        simulations=simulations, seed=seed, models=models,
                                        interval=interval)
                oracle = forecast_outturn(authority.placements, budget, authority.as_at,
                                          simulations=simulations, seed=seed,
                                          interval=interval,
                                          models=oracle_models(authority, models))
                param = forecast_outturn(authority.placements, budget, authority.as_at,
                                         simulations=simulations, seed=seed,
                                         interval=interval,
                                         models=parameter_oracle_models(authority, models))
                figures = [(line, truth, ours.lines.loc[line], oracle.lines.loc[line],
                            param.lines.loc[line], line in authority.shifted)
                           for line, truth in authority.truth.items()]
                figures.append((("Total", "Total"), float(authority.truth.sum()), ours.total,
                                oracle.total, param.total, bool(authority.shifted)))
                for line, truth, mine, best, known, shifted in figures:
                    rows.append({
                        "kind": kind, "authority": seed, "as_at": as_at, "line": line[1],
                        "shifted": shifted, "truth": truth, "mean": float(mine["mean"]),
                        "lower": float(mine["lower"]), "upper": float(mine["upper"]),
                        "covered": bool(mine["lower"] <= truth <= mine["upper"]),
                        "oracle_mean": float(best["mean"]),
                        "oracle_covered": bool(best["lower"] <= truth <= best["upper"]),
                        "param_oracle_mean": float(known["mean"]),
                        "param_oracle_covered": bool(known["lower"] <= truth
                                                     <= known["upper"]),
                    })
    frame = pd.DataFrame(rows)
    frame["error"] = np.abs(frame["mean"] - frame["truth"])
    frame["oracle_error"] = np.abs(frame["oracle_mean"] - frame["truth"])
    frame["param_oracle_error"] = np.abs(frame["param_oracle_mean"] - frame["truth"])
    return frame


def coverage_table(study: pd.DataFrame) -> pd.DataFrame:
    """Per world kind: coverage of lines, of totals and of shifted lines alone, and the
    mean absolute error of lines and totals against the state oracle's (ratio), and, when
    ``study`` has the parameter oracle's columns, its coverage and the errors against it
    (``error_vs_param_oracle``, ``total_error_vs_param_oracle``; and
    ``total_param_vs_oracle``, the parameter oracle's own totals' error over the state
    oracle's: what knowing the current level is worth)."""
    lines = study[study["line"] != "Total"]
    totals = study[study["line"] == "Total"]
    param = "param_oracle_error" in study

    def ratio(frame: pd.DataFrame, mine: str = "error", oracle: str = "oracle_error") -> float:
        bar = frame[oracle].mean()
        return float(frame[mine].mean() / bar) if bar > 0 else np.nan

    rows = {}
    for kind in dict.fromkeys(study["kind"]):
        mine, total = lines[lines["kind"] == kind], totals[totals["kind"] == kind]
        shifted = mine[mine["shifted"]]
        rows[kind] = {
            "line_forecasts": len(mine),
            "lines_covered": mine["covered"].mean(),
            "oracle_lines_covered": mine["oracle_covered"].mean(),
            "totals_covered": total["covered"].mean(),
            "oracle_totals_covered": total["oracle_covered"].mean(),
            "shifted_lines": len(shifted),
            "shifted_covered": shifted["covered"].mean() if len(shifted) else np.nan,
            "oracle_shifted_covered": (shifted["oracle_covered"].mean() if len(shifted)
                                       else np.nan),
            "error_vs_oracle": ratio(mine),
            "total_error_vs_oracle": ratio(total),
            "shifted_error_vs_oracle": ratio(shifted) if len(shifted) else np.nan,
        }
        if param:
            rows[kind].update({
                "param_oracle_lines_covered": mine["param_oracle_covered"].mean(),
                "param_oracle_totals_covered": total["param_oracle_covered"].mean(),
                "error_vs_param_oracle": ratio(mine, oracle="param_oracle_error"),
                "total_error_vs_param_oracle": ratio(total, oracle="param_oracle_error"),
                "total_param_vs_oracle": ratio(total, "param_oracle_error"),
            })
    return pd.DataFrame.from_dict(rows, orient="index")
