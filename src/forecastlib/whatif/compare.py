"""Compare scenarios with the base forecast, simulation by simulation."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor

import numpy as np
import pandas as pd

from forecastlib.lines import LINE_KEYS
from forecastlib.outturn.result import OutturnResult

__all__ = ["compare"]


Run = OutturnResult | Callable[[], OutturnResult]


def compare(base: Run, *scenarios: Run, names: list[str] | None = None,
            executor: Executor | None = None) -> pd.DataFrame:
    """Deltas of each scenario against the base, per line and in total.

    The interval of a delta is computed from the per-simulation differences (the runs
    share their random numbers), not by subtracting intervals.

    Parameters
    ----------
    base, *scenarios : OutturnResult or callable
        Finished forecasts, or forecasts to run: a call with no argument returning one
        (a pure function of its inputs, such as
        ``functools.partial(forecast_outturn, placements, budget, as_at, scenario=s,
        seed=1)``). Calls to run are submitted to ``executor`` (picklable ones for a
        process pool or a Dask cluster), else run here, one after the other; a forecast
        gives the same numbers wherever it runs.
    names : list of str, optional
    executor : concurrent.futures.Executor, optional

    Returns
    -------
    DataFrame
        Rows ``(scenario, service, category)`` with ``base_mean``, ``scenario_mean``,
        ``delta_mean``, ``delta_lower``, ``delta_upper`` and ``prob_increase``.

    Examples
    --------
    >>> from functools import partial
    >>> from forecastlib.datasets import load_sample
    >>> from forecastlib.outturn import forecast_outturn
    >>> sample = load_sample()
    >>> homes = sample.placements[sample.placements["category"] == "Residential homes"]
    >>> run = partial(forecast_outturn, homes, sample.budget, sample.as_at,
    ...               new_starts=False, simulations=200, seed=3)
    >>> table = compare(run, run, names=["the base again"])  # runs both: same numbers
    >>> float(table.loc[("the base again", "Total", ""), "delta_upper"])
    0.0
    """
    runs = [base, *scenarios]
    pending = {k: executor.submit(run) for k, run in enumerate(runs)
               if executor is not None and not isinstance(run, OutturnResult)}
    base, *scenarios = [pending[k].result() if k in pending
                        else run if isinstance(run, OutturnResult) else run()
                        for k, run in enumerate(runs)]
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
