"""The outturn forecast: the one entry point from validated inputs to a result.

:func:`forecast_outturn` assembles actuals to date, the committed cost of the record
and (in a later release) projected new starts into an :class:`OutturnResult`: per line
and in total, the forecast's mean, median and central interval, the variance against
budget, a RAG rating and a commentary flag.

Today the forecast is the commitment basis (:mod:`forecastlib.outturn.deterministic`):
exact arithmetic, so ``mean == p50 == lower == upper``. Projected new starts and
statistical ends of open episodes are not modelled yet; asking for them raises a
:class:`NewStartsNotModelledWarning` and the result's notes say so.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecastlib.budget import SpendProfile
from forecastlib.errors import ConfigError
from forecastlib.outturn.deterministic import deterministic_outturn, outturn_total
from forecastlib.outturn.rag import RagPolicy

__all__ = ["NewStartsNotModelledWarning", "OutturnResult", "forecast_outturn"]

NEW_STARTS_NOTE = (
    "New starts are not yet modelled: this forecast is actuals to date plus the cost of "
    "placements already in the record (as with --no-new-starts)."
)
STATISTICAL_ENDS_NOTE = (
    "Statistical ends of open placements are not yet modelled: with planned ends ignored, "
    "open placements are committed to year-end."
)


class NewStartsNotModelledWarning(UserWarning):
    """A forecast asked for projected new starts or statistical ends, not yet available."""


@dataclass(frozen=True)
class OutturnResult:
    """A year-end outturn forecast per line and in total.

    Attributes
    ----------
    lines : DataFrame
        Indexed by ``(service, category)``: ``budget``, ``expected_to_date``,
        ``actual_to_date``, ``committed``, ``mean``, ``p50``, ``lower``, ``upper``,
        ``variance`` (mean minus budget), ``variance_pct``, ``rag``,
        ``commentary_needed``, ``actual_source``.
    total : Series
        The same figures for all lines together.
    as_at : numpy.datetime64
    year : int
        Financial year (``2017`` is 2017/18).
    interval : float
        Coverage of ``lower``..``upper``.
    simulations : int
        Simulations behind the interval; 0 when the forecast is exact arithmetic.
    notes : list of str
        Caveats to show the reader.
    """

    lines: pd.DataFrame
    total: pd.Series
    as_at: np.datetime64
    year: int
    interval: float
    simulations: int
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"OutturnResult(as_at={self.as_at}, year={self.year}, lines={len(self.lines)}, "
                f"forecast={self.total['mean']:,.0f}, variance={self.total['variance']:,.0f}, "
                f"simulations={self.simulations})")


def forecast_outturn(
    placements: pd.DataFrame,
    budget: pd.DataFrame,
    as_at: object,
    *,
    actuals: pd.DataFrame | None = None,
    new_starts: bool = True,
    use_planned_ends: bool = True,
    interval: float = 0.8,
    simulations: int = 10_000,
    seed: int | None = None,
    policy: RagPolicy | None = None,
    profile: SpendProfile | None = None,
) -> OutturnResult:
    """Forecast the year-end outturn of every budget line.

    Parameters
    ----------
    placements, budget : DataFrame
        Validated inputs.
    as_at : date-like
        Last day of actuals.
    actuals : DataFrame, optional
        Ledger actuals; when given, actuals to date come from here.
    new_starts : bool, default True
        Include projected new placements (not modelled yet: see module notes).
    use_planned_ends : bool, default True
        End open episodes at their ``planned_end_date``.
    interval : float, default 0.8
        Coverage of the central interval, in (0, 1).
    simulations : int, default 10000
        Simulations for the probabilistic engine (unused while the forecast is exact).
    seed : int, optional
        Random seed (unused while the forecast is exact).
    policy : RagPolicy, optional
    profile : SpendProfile, optional

    Returns
    -------
    OutturnResult

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> result = forecast_outturn(sample.placements, sample.budget, sample.as_at,
    ...                           actuals=sample.actuals, new_starts=False)
    >>> row = result.lines.loc[("LAC Placements", "Residential homes")]
    >>> bool(row["lower"] == row["mean"] == row["upper"]), row["rag"]
    (True, 'red')
    """
    if not 0 < interval < 1:
        raise ConfigError(f"interval must be between 0 and 1 (exclusive), got {interval!r}")
    if simulations < 1:
        raise ConfigError(f"simulations must be a positive whole number, got {simulations!r}")
    policy = policy or RagPolicy()
    table = deterministic_outturn(placements, budget, as_at, actuals=actuals,
                                  use_planned_ends=use_planned_ends, policy=policy,
                                  profile=profile)
    notes = list(table.attrs["notes"])
    if new_starts:
        warnings.warn(NEW_STARTS_NOTE, NewStartsNotModelledWarning, stacklevel=2)
        notes.insert(0, NEW_STARTS_NOTE)
    if not use_planned_ends:
        warnings.warn(STATISTICAL_ENDS_NOTE, NewStartsNotModelledWarning, stacklevel=2)
        notes.insert(0, STATISTICAL_ENDS_NOTE)
    lines = table.copy()
    for column in ("mean", "p50", "lower", "upper"):
        lines[column] = table["forecast"]
    lines = lines.drop(columns=["forecast"])
    total = outturn_total(table, policy)
    total = pd.concat([total.drop("forecast"),
                       pd.Series({q: total["forecast"] for q in ("mean", "p50", "lower", "upper")},
                                 dtype=object)])
    total.name = ("Total", "")
    return OutturnResult(lines=lines, total=total, as_at=table.attrs["as_at"],
                         year=table.attrs["year"], interval=float(interval), simulations=0,
                         notes=notes)
