"""The self-backtest: how good would this authority's own forecasts have been?

:func:`backtest_outturn` goes back to each month-end of the last ``years`` completed
financial years, rebuilds the record as it stood that day (:func:`record_as_at`:
episodes not yet started removed, ends after that day blanked, planned ends dropped
unless asked to keep them), forecasts the year's outturn from it with
:func:`~forecastlib.outturn.forecast.forecast_outturn`, and compares that forecast with
the outturn the record now shows for the year (the accrued cost of the completed year).
The result holds, per origin and line (and in total), the error and whether the central
interval held the outturn, with summaries of coverage per line and of accuracy by
months before the year end.

**Normalised errors and the conformal factor.** For a forecast with mean ``m`` and
interval ``[l, u]`` and an outturn ``y`` the normalised error is

.. math:: s = \\frac{y - m}{u - m} \\ (y > m), \\qquad s = \\frac{m - y}{m - l} \\ (y \\le m),

so the interval held the outturn exactly when ``s <= 1``. The conformal factor is the
``ceil((n + 1) q) / n`` empirical quantile of the ``n`` line scores (``q`` the nominal
coverage): stretching every interval's ends away from the mean by that factor,
``m +- f (u - m)``, would have made the backtest's coverage reach ``q``
(:func:`calibrate_outturn`). Backtest scores are not independent (the twelve origins of
one year share its outturn; lines share the authority's shocks), so the factor is an
estimate from a few years, not a guarantee: :meth:`BacktestResult.coverage` reports
its leave-one-year-out coverage as the honest check.
"""

from __future__ import annotations

import math
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd

from forecastlib.calendar import AsAt, fy_end, fy_start, month_ends
from forecastlib.demand import PriceModel, StartsModel, default_history_start
from forecastlib.errors import ConfigError
from forecastlib.lines import LINE_KEYS
from forecastlib.outturn.deterministic import deterministic_outturn
from forecastlib.outturn.forecast import ForecastOptions, outturn_from_inputs
from forecastlib.outturn.result import OutturnResult
from forecastlib.scenarios.transform import ForecastInputs
from forecastlib.simulation import DemandModels

__all__ = ["BacktestResult", "backtest_outturn", "calibrate_outturn", "record_as_at"]

#: Below this many pounds an error counts as none (money is rounded to the penny).
_PENNY = 0.01
_TOTAL = ("Total", "")
_FIGURES = ("mean", "p50", "lower", "upper")


def record_as_at(placements: pd.DataFrame, as_at: object, *,
                 planned_ends: Literal["drop", "keep"] = "drop") -> pd.DataFrame:
    """The placements record as it stood at the end of ``as_at``.

    Episodes starting after ``as_at`` are removed and ends after ``as_at`` are blanked
    (the episode was open then). ``planned_end_date`` is dropped by default: a record
    cannot tell when a planned end was entered, and records keep planned ends only on
    episodes that are still open, so keeping them would tell a past forecast which
    placements were going to last (look-ahead). ``"keep"`` keeps them, for records whose
    planned ends are fixed from the start (18th birthdays, end of an academic year).

    Examples
    --------
    >>> import pandas as pd
    >>> record = pd.DataFrame({
    ...     "placement_id": ["a", "b", "c"],
    ...     "start_date": pd.to_datetime(["2016-01-01", "2016-05-01", "2017-01-01"]),
    ...     "end_date": pd.to_datetime(["2016-03-31", "2016-12-31", None]),
    ...     "planned_end_date": pd.to_datetime([None, None, "2018-01-01"])})
    >>> record_as_at(record, "2016-06-30")[["placement_id", "end_date"]]
      placement_id   end_date
    0            a 2016-03-31
    1            b        NaT
    """
    if planned_ends not in ("drop", "keep"):
        raise ConfigError(f"planned_ends must be 'drop' or 'keep', got {planned_ends!r}")
    day = pd.Timestamp(np.datetime64(pd.Timestamp(as_at).date(), "D"))
    record = placements.loc[placements["start_date"] <= day].copy()
    record.loc[record["end_date"] > day, "end_date"] = pd.NaT
    if planned_ends == "drop":
        record["planned_end_date"] = pd.NaT
    return record


def _scores(outturn: np.ndarray, mean: np.ndarray, lower: np.ndarray,
            upper: np.ndarray) -> np.ndarray:
    """Normalised errors: how far the outturn lies from the mean, in units of the
    interval's half on that side (``<= 1`` exactly when the interval held the outturn,
    to the penny, as the table's ``hit``)."""
    deviation = outturn - mean
    half = np.where(deviation > 0, upper - mean, mean - lower)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.abs(deviation) / half
    score = np.where(np.abs(deviation) <= _PENNY, 0.0, score)
    # an outturn within a penny of the interval is a hit (as in the table): score <= 1
    held = (outturn >= lower - _PENNY) & (outturn <= upper + _PENNY)
    score = np.where(held, np.minimum(score, 1.0), score)
    return np.where(np.isnan(score) | (half <= 0) & (np.abs(deviation) > _PENNY),
                    np.inf, score)


def conformal_factor(scores: np.ndarray, level: float) -> float:
    """The ``ceil((n + 1) level)``-th smallest of ``n`` scores (``inf`` when too few).

    Examples
    --------
    >>> conformal_factor(np.arange(1, 10) / 5, 0.8)
    1.6
    """
    scores = np.sort(np.asarray(scores, dtype=float))
    rank = math.ceil((len(scores) + 1) * level)
    return float(scores[rank - 1]) if 0 < rank <= len(scores) else math.inf


@dataclass(frozen=True)
class BacktestResult:
    """Past forecasts of an authority's outturn beside what the outturn turned out to be.

    Attributes
    ----------
    table : DataFrame
        One row per origin and line, and per origin for the ``("Total", "")``:
        ``financial_year``, ``as_at`` (the origin), ``months_before_year_end``,
        ``service``, ``category``, ``outturn`` (the record's accrued cost of the year),
        ``mean``, ``p50``, ``lower``, ``upper`` (the forecast made at the origin),
        ``error`` (mean minus outturn: positive is an over-forecast), ``error_pct``
        (of the outturn), ``hit`` (the interval held the outturn) and ``score`` (the
        normalised error, ``<= 1`` on a hit). Lines with neither cost nor forecast in a
        year are left out.
    interval : float
        Nominal coverage of the intervals.
    simulations : int
    years : list of int
        The financial years backtested.
    notes : list of str
    """

    table: pd.DataFrame
    interval: float
    simulations: int
    years: list[int]
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        lines = self.table[self.table["service"] != _TOTAL[0]]
        return (f"BacktestResult(years={self.years}, origins={self.table['as_at'].nunique()}, "
                f"line_coverage={lines['hit'].mean():.1%}, interval={self.interval})")

    def _lines(self) -> pd.DataFrame:
        return self.table[self.table["service"] != _TOTAL[0]]

    def calibration_factor(self, years: list[int] | None = None, *,
                           total: bool = False) -> float:
        """The conformal factor learnt from the line scores (of ``years``, default all),
        or with ``total=True`` from the total's.

        Forecasts whose interval has no width (exact arithmetic) are left out: no factor
        can widen them.
        """
        rows = self.table[(self.table["service"] == _TOTAL[0]) == total]
        if years is not None:
            rows = rows[rows["financial_year"].isin(years)]
        spread = rows["upper"] > rows["lower"]
        return conformal_factor(rows.loc[spread, "score"].to_numpy(), self.interval)

    def coverage(self) -> pd.DataFrame:
        """Coverage and accuracy per line, all lines together and in total.

        Columns: ``forecasts``, ``coverage`` (share of intervals holding the outturn),
        ``mean_abs_pct_error``, ``mean_pct_error`` (bias; positive over-forecasts),
        ``calibrated_coverage`` (each year's coverage once widened by the factor learnt
        from the *other* years, pooled over years; NaN with a single year).
        """
        table = self.table.copy()
        table["calibrated_hit"] = np.nan
        is_total = table["service"] == _TOTAL[0]
        if len(self.years) > 1:
            for year in self.years:
                others = [y for y in self.years if y != year]
                for kind in (False, True):
                    factor = self.calibration_factor(others, total=kind)
                    rows = (table["financial_year"] == year) & (is_total == kind)
                    table.loc[rows, "calibrated_hit"] = (table.loc[rows, "score"] <= factor
                                                         ).astype(float)
        table["ape"] = table["error_pct"].abs()

        def summary(group: pd.DataFrame) -> pd.Series:
            return pd.Series({
                "forecasts": len(group), "coverage": group["hit"].mean(),
                "mean_abs_pct_error": group["ape"].mean(),
                "mean_pct_error": group["error_pct"].mean(),
                "calibrated_coverage": group["calibrated_hit"].mean(),
            })

        lines = table[table["service"] != _TOTAL[0]]
        per_line = lines.groupby(LINE_KEYS, sort=True)[list(table.columns)].apply(summary)
        extra = pd.DataFrame([summary(lines), summary(table[table["service"] == _TOTAL[0]])],
                             index=pd.MultiIndex.from_tuples([("All lines", ""), _TOTAL],
                                                             names=LINE_KEYS))
        out = pd.concat([per_line, extra])
        out["forecasts"] = out["forecasts"].astype(int)
        return out

    def accuracy(self) -> pd.DataFrame:
        """Accuracy and coverage by months before the year end (rows, 11 down to 1).

        Columns: ``mean_abs_pct_error_lines`` (mean over lines and origins of the
        absolute % error, lines with an outturn only), ``weighted_abs_pct_error_lines``
        (sum of absolute errors over sum of outturns), ``abs_pct_error_total``,
        ``coverage_lines``, ``coverage_total``.
        """
        lines, total = self._lines(), self.table[self.table["service"] == _TOTAL[0]]
        key = "months_before_year_end"
        by_lines = lines.groupby(key)
        frame = pd.DataFrame({
            "mean_abs_pct_error_lines": by_lines["error_pct"].apply(lambda e: e.abs().mean()),
            "weighted_abs_pct_error_lines": by_lines["error"].apply(lambda e: e.abs().sum())
            / by_lines["outturn"].sum(),
            "abs_pct_error_total": total.groupby(key)["error_pct"].apply(
                lambda e: e.abs().mean()),
            "coverage_lines": by_lines["hit"].mean(),
            "coverage_total": total.groupby(key)["hit"].mean(),
        })
        return frame.sort_index(ascending=False)

    def calibrate(self, result: OutturnResult) -> OutturnResult:
        """``result`` with its intervals scaled by this backtest's conformal factors (the
        lines' factor for every line, the total's for the total)."""
        factor, total = self.calibration_factor(), self.calibration_factor(total=True)
        lines = self._lines()
        hits = self.table.loc[self.table["service"] == _TOTAL[0], "hit"]
        note = (f"Intervals calibrated on the backtest of "
                f"{', '.join(f'FY{y}' for y in self.years)}: lines scaled by {factor:.2f} "
                f"({len(lines)} past forecasts, {lines['hit'].mean():.0%} covered), ")
        if math.isfinite(total):
            note += (f"the total by {total:.2f} ({len(hits)} past forecasts, "
                     f"{hits.mean():.0%} covered).")
        else:
            note += (f"the total likewise (its {len(hits)} past forecasts are too few for a "
                     "factor of its own).")
            total = None
        return calibrate_outturn(result, factor, total_factor=total, note=note)


def _outturns(placements: pd.DataFrame, budget: pd.DataFrame, year: int) -> pd.Series:
    """The record's accrued cost of a completed year, per line."""
    table = deterministic_outturn(placements, budget, AsAt(fy_end(year), year),
                                  use_planned_ends=False)
    return table["actual_to_date"]


def _models(record: pd.DataFrame, origin: np.datetime64, previous: DemandModels | None,
            new_starts: bool) -> DemandModels:
    """Demand models at ``origin``: everything fitted afresh, or (``previous`` given)
    the lengths of stay kept from an earlier origin (fitted on less data, so no
    look-ahead) and what is projected from the origin (starts, prices) refitted."""
    if previous is None:
        return DemandModels.fit(record, origin, new_starts=new_starts)
    if not new_starts:
        return previous
    return replace(previous, starts=StartsModel().fit(record, origin),
                   prices=PriceModel().fit(record, origin))


def _frame(result: OutturnResult, outturn: pd.Series, year: int, origin: np.datetime64,
           months_left: int) -> pd.DataFrame:
    lines = result.lines[list(_FIGURES)].join(outturn.rename("outturn"), how="outer")
    lines[list(_FIGURES)] = lines[list(_FIGURES)].fillna(0.0)
    lines["outturn"] = lines["outturn"].fillna(0.0)
    lines = lines[(lines["outturn"].abs() > _PENNY) | (lines["upper"].abs() > _PENNY)
                  | (lines["lower"].abs() > _PENNY)]
    total = pd.DataFrame({**{k: [float(result.total[k])] for k in _FIGURES},
                          "outturn": [float(outturn.sum())]},
                         index=pd.MultiIndex.from_tuples([_TOTAL], names=LINE_KEYS))
    frame = pd.concat([lines, total]).reset_index()
    frame.insert(0, "months_before_year_end", months_left)
    frame.insert(0, "as_at", pd.Timestamp(origin))
    frame.insert(0, "financial_year", year)
    return frame


def _origins(placements: pd.DataFrame, budget: pd.DataFrame, year: int,
             months: list[int], outturn: pd.Series, new_starts: bool,
             planned_ends: Literal["drop", "keep"], options: ForecastOptions
             ) -> list[pd.DataFrame]:
    """Forecasts of ``year`` from the month-ends ``months`` before its end (in order):
    lengths of stay fitted at the first and kept, starts and prices refitted at each.
    A top-level function of picklable arguments: an executor's task."""
    frames, models = [], None
    for months_left in months:
        origin = month_ends(year)[11 - months_left]
        record = record_as_at(placements, origin, planned_ends=planned_ends)
        models = _models(record, origin, models, new_starts)
        inputs = ForecastInputs.prepare(record, budget, AsAt(origin, year),
                                        new_starts=new_starts, models=models,
                                        use_planned_ends=planned_ends == "keep")
        result = outturn_from_inputs(inputs, options)
        frames.append(_frame(result, outturn, year, origin, months_left))
    return frames


def backtest_outturn(
    placements: pd.DataFrame,
    budget: pd.DataFrame,
    as_at: object,
    *,
    years: int = 2,
    simulations: int = 1_000,
    interval: float = 0.8,
    seed: int | None = None,
    new_starts: bool = True,
    planned_ends: Literal["drop", "keep"] = "drop",
    refit_every: int = 3,
    months: list[int] | None = None,
    executor: Executor | None = None,
) -> BacktestResult:
    """Re-forecast each month-end of the last ``years`` completed financial years.

    Parameters
    ----------
    placements, budget : DataFrame
        The validated record as it stands at ``as_at``, and the budget (its lines
        only matter: past outturns are compared with forecasts, not budgets).
    as_at : date-like
        The record's as-at date; the years backtested end on or before it.
    years : int, default 2
        How many completed financial years to go back.
    simulations : int, default 1000
        Simulations per past forecast.
    interval : float, default 0.8
    seed : int, optional
        Seed of every past forecast (the same at every origin).
    new_starts : bool, default True
        Include projected new placements in the past forecasts.
    planned_ends : {"drop", "keep"}, default "drop"
        What the past records keep of ``planned_end_date`` (see :func:`record_as_at`).
    refit_every : int, default 3
        Fit lengths of stay afresh every this many origins (1: at every origin) and keep
        them in between; starts and prices, which project from the origin, are refitted
        at every origin. A kept fit saw only data before its origin: no look-ahead.
    months : list of int, optional
        Months before the year end to forecast from (default every month-end from April,
        11, to February, 1).
    executor : concurrent.futures.Executor, optional
        Runs the origins: each run of ``refit_every`` origins of a year (which share a
        length-of-stay fit) is one task, a pure function of the record and its origins,
        so the table is the same whatever runs them (default: one after the other, each
        forecast's simulations on this machine's threads).

    Returns
    -------
    BacktestResult

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> backtest = backtest_outturn(sample.placements, sample.budget, sample.as_at,
    ...                             years=1, months=[6], simulations=200, seed=1)
    >>> backtest.table["as_at"].unique().astype(str).tolist()
    ['2016-09-30']
    >>> int(backtest.coverage().loc[("Total", ""), "forecasts"])
    1
    """
    if int(years) != years or years < 1:
        raise ConfigError(f"years must be a positive whole number, got {years!r}")
    if int(refit_every) != refit_every or refit_every < 1:
        raise ConfigError(f"refit_every must be a positive whole number, got {refit_every!r}")
    months = list(range(11, 0, -1)) if months is None else sorted(set(months), reverse=True)
    if not all(1 <= m <= 11 for m in months) or not months:
        raise ConfigError(f"months before the year end must be 1..11, got {months!r}")
    options = ForecastOptions(interval=interval, simulations=simulations, seed=seed)
    as_at = AsAt.of(as_at)
    as_at_day, current = as_at.day, as_at.year
    last = current if as_at_day >= fy_end(current) else current - 1
    chosen = list(range(last - int(years) + 1, last + 1))
    history = default_history_start(placements) if len(placements) else None
    if history is None or fy_start(chosen[0]) - np.timedelta64(365, "D") < history:
        raise ConfigError(f"backtesting {years} years before {as_at_day} needs history from "
                          f"a year before FY{chosen[0]} starts; the record's history starts "
                          f"{history if history is not None else 'nowhere (no placements)'}")
    tasks = []
    for year in chosen:
        outturn = _outturns(placements, budget, year)
        for first in range(0, len(months), int(refit_every)):  # a fresh fit at each first
            tasks.append((placements, budget, year, months[first:first + int(refit_every)],
                          outturn, new_starts, planned_ends, options))
    if executor is None:
        runs = [_origins(*task) for task in tasks]
    else:
        runs = [future.result() for future in [executor.submit(_origins, *task)
                                               for task in tasks]]
    frames, notes = [frame for run in runs for frame in run], []
    table = pd.concat(frames, ignore_index=True)
    table["error"] = table["mean"] - table["outturn"]
    with np.errstate(divide="ignore", invalid="ignore"):
        table["error_pct"] = np.where(table["outturn"].abs() > _PENNY,
                                      table["error"] / table["outturn"].abs(), np.nan)
    table["hit"] = ((table["outturn"] >= table["lower"] - _PENNY)
                    & (table["outturn"] <= table["upper"] + _PENNY))
    table["score"] = _scores(*(table[c].to_numpy() for c in ("outturn", "mean", "lower",
                                                              "upper")))
    if planned_ends == "drop":
        notes.append("Past forecasts ignore planned ends: the record cannot tell when they "
                     "were known.")
    return BacktestResult(table=table, interval=float(interval), simulations=int(simulations),
                          years=chosen, notes=notes)


def calibrate_outturn(result: OutturnResult, factor: float, *,
                      total_factor: float | None = None,
                      note: str | None = None) -> OutturnResult:
    """Scale every simulated outturn's distance from its line's mean by ``factor``.

    With ``total_factor``, a share of the total's deviation is added to each line in
    proportion to the line's spread (``w_i = sd_i / sum sd``), so that the total's
    deviation is scaled by ``total_factor`` exactly while each line's is scaled by
    ``factor`` and moves with the others: the common shock the lines were missing.
    Every figure drawn from the simulations follows (``p50``, ``lower``, ``upper``,
    ``sd``, ``prob_overspend``, the spend paths, the total, which stays the sum of the
    lines); the means, and so the variances and RAG ratings, are unchanged. Year-end
    placement counts are not scaled.

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> from forecastlib.outturn import forecast_outturn
    >>> sample = load_sample()
    >>> result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
    ...                           actuals=sample.actuals, simulations=300, seed=1)
    >>> wider = calibrate_outturn(result, 2.0, total_factor=3.0)
    >>> before = result.total["upper"] - result.total["mean"]
    >>> after = wider.total["upper"] - wider.total["mean"]
    >>> bool(abs(after - 3 * before) < 1e-6 * before)
    True
    """
    for value in (factor, 1.0 if total_factor is None else total_factor):
        if not math.isfinite(value) or value <= 0:
            raise ConfigError(f"a calibration factor must be positive and finite, got {value!r}"
                              " (the backtest has too few forecasts, or misses that no width "
                              "can mend)")
    if result.outturns is None:
        return replace(result, notes=[*result.notes, "Nothing is random: nothing to calibrate."])
    spread = result.outturns.std(axis=1)
    weights = spread / spread.sum() if spread.sum() > 0 else np.zeros_like(spread)
    common = 0.0 if total_factor is None else total_factor - factor

    def scaled(draws: np.ndarray) -> np.ndarray:
        deviation = draws - draws.mean(axis=1, keepdims=True)
        shaped = weights.reshape((-1,) + (1,) * (draws.ndim - 1))
        return (draws + (factor - 1) * deviation
                + common * shaped * deviation.sum(axis=0, keepdims=True))

    outturns = scaled(result.outturns)
    paths = scaled(result.paths) if result.paths is not None else None
    process = scaled(result.process_only) if result.process_only is not None else None
    tail = (1 - result.interval) / 2
    lines = result.lines.copy()
    budget = lines["budget"].to_numpy(dtype=float)
    lines["p50"] = np.quantile(outturns, 0.5, axis=1)
    lines["lower"] = np.quantile(outturns, tail, axis=1)
    lines["upper"] = np.quantile(outturns, 1 - tail, axis=1)
    lines["sd"] = outturns.std(axis=1)
    lines["prob_overspend"] = (outturns > budget[:, None]).mean(axis=1)
    totals = outturns.sum(axis=0)
    total = result.total.copy()
    total["p50"], total["lower"], total["upper"] = np.quantile(totals, [0.5, tail, 1 - tail])
    total["sd"] = float(totals.std())
    total["prob_overspend"] = float((totals > budget.sum()).mean())
    message = note or f"Intervals scaled by a calibration factor of {factor:.2f}."
    return replace(result, lines=lines, total=total, outturns=outturns, paths=paths,
                   process_only=process, notes=[*result.notes, message])
