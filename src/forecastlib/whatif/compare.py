"""Compare scenarios with the base forecast, simulation by simulation."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.lines import LINE_KEYS
from forecastlib.outturn.result import OutturnResult

__all__ = ["compare"]


def compare(base: OutturnResult, *scenarios: OutturnResult,
            names: list[str] | None = None) -> pd.DataFrame:
    """Deltas of each scenario against the base, per line and in total.

    The interval of a delta is computed from the per-simulation differences (the runs
    share their random numbers), not by subtracting intervals.

    Returns
    -------
    DataFrame
        Rows ``(scenario, service, category)`` with ``base_mean``, ``scenario_mean``,
        ``delta_mean``, ``delta_lower``, ``delta_upper`` and ``prob_increase``.
    """
    if base.outturns is None:
        raise ValueError("the base forecast holds no simulations; run it with the same "
                         "seed and simulations as the scenarios")
    names = names or [f"scenario {k + 1}" for k in range(len(scenarios))]
    tail = (1 - base.interval) / 2
    frames = []
    for name, result in zip(names, scenarios, strict=True):
        if result.outturns is None or result.outturns.shape[1] != base.outturns.shape[1]:
            raise ValueError(f"{name}: needs the same number of simulations as the base")
        lines = base.lines.index.union(result.lines.index)
        mine = _aligned(base, lines)
        theirs = _aligned(result, lines)
        delta = np.vstack([theirs - mine, (theirs - mine).sum(axis=0, keepdims=True)])
        index = pd.MultiIndex.from_tuples([*lines, ("Total", "")], names=LINE_KEYS)
        frame = pd.DataFrame({
            "base_mean": np.append(mine.mean(axis=1), mine.sum(axis=0).mean()),
            "scenario_mean": np.append(theirs.mean(axis=1), theirs.sum(axis=0).mean()),
            "delta_mean": delta.mean(axis=1),
            "delta_lower": np.quantile(delta, tail, axis=1),
            "delta_upper": np.quantile(delta, 1 - tail, axis=1),
            "prob_increase": (delta > 0).mean(axis=1),
        }, index=index)
        frames.append(pd.concat({name: frame}, names=["scenario"]))
    return pd.concat(frames)


def _aligned(result: OutturnResult, lines: pd.Index) -> np.ndarray:
    out = np.zeros((len(lines), result.outturns.shape[1]))
    out[lines.get_indexer(result.lines.index)] = result.outturns
    return out
