"""The outturn result: per-line and total summaries, and the simulations behind them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecastlib.lines import LINE_KEYS

__all__ = ["OutturnResult", "central_summary"]


def central_summary(draws: np.ndarray, interval: float) -> dict[str, np.ndarray]:
    """``mean``, ``p50`` and the central ``interval``'s ``lower`` and ``upper`` over the
    last axis of ``draws``: the one summary of simulated outturns and counts.

    Examples
    --------
    >>> summary = central_summary(np.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), 0.5)
    >>> {name: float(values[0]) for name, values in summary.items()}
    {'mean': 3.0, 'p50': 3.0, 'lower': 2.0, 'upper': 4.0}
    """
    tail = (1 - interval) / 2
    return {
        "mean": draws.mean(axis=-1),
        "p50": np.quantile(draws, 0.5, axis=-1),
        "lower": np.quantile(draws, tail, axis=-1),
        "upper": np.quantile(draws, 1 - tail, axis=-1),
    }


@dataclass(frozen=True)
class OutturnResult:
    """A year-end outturn forecast per line and in total.

    Attributes
    ----------
    lines : DataFrame
        Indexed by ``(service, category)``: ``budget``, ``expected_to_date``,
        ``actual_to_date``, ``committed`` (exact, placements with a known end),
        ``mean``, ``p50``, ``lower``, ``upper``, ``sd``, ``variance`` (mean minus
        budget), ``variance_pct``, ``rag``, ``commentary_needed``,
        ``prob_overspend``, ``actual_source``.
    total : Series
        The same figures for all lines together (from the simulated totals).
    as_at : numpy.datetime64
    year : int
        Financial year (``2017`` is 2017/18).
    interval : float
        Coverage of ``lower``..``upper``.
    simulations : int
        Simulations behind the distribution; 0 when the forecast is exact arithmetic.
    notes : list of str
        Caveats to show the reader.
    outturns : ndarray, shape (lines, simulations)
        Simulated year-end outturn of every line (rows in ``lines`` order).
    paths : ndarray, shape (lines, simulations, months)
        Simulated cumulative spend (actuals to date included) at each remaining
        month-end.
    months : PeriodIndex
        Columns of ``paths``.
    year_end_running : ndarray, shape (lines, simulations)
        Placements in place on the last day of the year.
    process_only : ndarray, shape (lines, simulations)
        Outturns with the demand models' parameters held at their estimates and no
        common shock.
    no_common : ndarray, shape (lines, simulations), optional
        Outturns without the common market shock (parameters drawn as in ``outturns``).
    """

    lines: pd.DataFrame
    total: pd.Series
    as_at: np.datetime64
    year: int
    interval: float
    simulations: int
    notes: list[str] = field(default_factory=list)
    outturns: np.ndarray | None = None
    paths: np.ndarray | None = None
    months: pd.PeriodIndex | None = None
    year_end_running: np.ndarray | None = None
    process_only: np.ndarray | None = None
    no_common: np.ndarray | None = None

    def __repr__(self) -> str:
        return (f"OutturnResult(as_at={self.as_at}, year={self.year}, lines={len(self.lines)}, "
                f"forecast={self.total['mean']:,.0f}, variance={self.total['variance']:,.0f}, "
                f"simulations={self.simulations})")

    def _draws(self, line: tuple[str, str] | None) -> np.ndarray:
        if self.outturns is None:
            values = self.lines["mean"] if line is not None else [self.total["mean"]]
            return np.asarray([values.loc[line]] if line is not None else values, dtype=float)
        if line is None:
            return self.outturns.sum(axis=0)
        return self.outturns[self.lines.index.get_loc(line)]

    def probability_above(self, amount: float, line: tuple[str, str] | None = None) -> float:
        """Probability that the outturn (of ``line``, or in total) exceeds ``amount``.

        Examples
        --------
        >>> from forecastlib.datasets import load_sample
        >>> from forecastlib.outturn import forecast_outturn
        >>> sample = load_sample()
        >>> result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
        ...                           actuals=sample.actuals, simulations=500, seed=1)
        >>> line = ("LAC Placements", "Residential homes")
        >>> result.probability_above(result.lines.loc[line, "budget"], line)
        1.0
        """
        return float(np.mean(self._draws(line) > amount))

    def quantiles(self, levels: tuple[float, ...] = (0.05, 0.1, 0.5, 0.9, 0.95)
                  ) -> pd.DataFrame:
        """Outturn quantiles per line and in total (rows), one column per level."""
        rows = {line: np.quantile(self._draws(line), levels) for line in self.lines.index}
        rows[("Total", "")] = np.quantile(self._draws(None), levels)
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(levels))
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=LINE_KEYS)
        return frame

    def year_end_placements(self, total: bool = False) -> pd.DataFrame:
        """Distribution of placements in place on the last day of the year, per line
        (``mean``, ``p50``, ``lower``, ``upper``); with ``total``, a ``("Total", "")``
        row too: the distribution of the sum over lines, simulation by simulation."""
        if self.year_end_running is None:
            raise ValueError("this forecast holds no simulations")
        running = np.asarray(self.year_end_running, dtype="float64")
        index = self.lines.index
        if total:
            running = np.vstack([running, running.sum(axis=0, keepdims=True)])
            index = index.append(pd.MultiIndex.from_tuples([("Total", "")]))
        return pd.DataFrame(central_summary(running, self.interval), index=index)

    def spend_paths(self, levels: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 0.9),
                    line: tuple[str, str] | None = None) -> pd.DataFrame:
        """Quantiles of cumulative spend at each month-end (what a fan chart needs).

        The first row is ``as_at`` (actuals to date); rows are months, columns levels.
        """
        if self.paths is None or self.months is None:
            raise ValueError("this forecast holds no simulations")
        if line is None:
            actual, paths = self.lines["actual_to_date"].sum(), self.paths.sum(axis=0)
        else:
            position = self.lines.index.get_loc(line)
            actual, paths = self.lines["actual_to_date"].iloc[position], self.paths[position]
        table = pd.DataFrame(np.quantile(paths, levels, axis=0).T, index=self.months,
                             columns=list(levels))
        start = pd.DataFrame([[actual] * len(levels)], columns=list(levels),
                             index=[pd.Period(self.as_at, freq="D")])
        table.index = table.index.to_timestamp(how="end").normalize()
        start.index = [pd.Timestamp(self.as_at)]
        return pd.concat([start, table])

    def uncertainty(self) -> pd.DataFrame:
        """What the interval contains, per line and in total.

        Columns: ``interval_width``; ``process_width``, the width from process randomness
        alone (who ends when, how many start, at what price, with every parameter at its
        estimate and no common shock); and the outturn's variance split into
        ``process_share``, ``parameter_share`` (stay, start and price parameters,
        inflation) and ``common_share`` (the market shock shared by every line), in that
        order: ``process = Var(process only) / Var``, ``common = 1 - Var(no common) /
        Var``, and the parameter share what lies between (clipped so the three are
        non-negative and add up to one; Monte Carlo noise can push a small part below 0).
        """
        if self.outturns is None or self.process_only is None:
            raise ValueError("this forecast holds no simulations")
        tail = (1 - self.interval) / 2
        no_common = self.outturns if self.no_common is None else self.no_common

        def summary(full: np.ndarray, process: np.ndarray, alone: np.ndarray
                    ) -> dict[str, float]:
            variance = full.var()
            if variance <= 0:
                shares = (1.0, 0.0, 0.0)
            else:
                process_share = min(process.var() / variance, 1.0)
                common_share = float(np.clip(1 - alone.var() / variance, 0,
                                             1 - process_share))
                shares = (process_share, max(0.0, 1 - process_share - common_share),
                          common_share)
            return {"interval_width": float(np.diff(np.quantile(full, [tail, 1 - tail]))[0]),
                    "process_width": float(np.diff(np.quantile(process, [tail, 1 - tail]))[0]),
                    "process_share": float(shares[0]), "parameter_share": float(shares[1]),
                    "common_share": float(shares[2])}

        rows = {line: summary(self.outturns[i], self.process_only[i], no_common[i])
                for i, line in enumerate(self.lines.index)}
        rows[("Total", "")] = summary(self.outturns.sum(axis=0), self.process_only.sum(axis=0),
                                      no_common.sum(axis=0))
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=LINE_KEYS)
        return frame
