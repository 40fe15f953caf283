"""Prices of new starts per line: an empirical, inflation-trended distribution.

The price of a new placement is drawn from the prices of the line's recent starts
(whole price records: unit cost, unit, hours or nights a week, weeks a year and
income, so that their joint shape is kept), brought to a common price base with a
yearly inflation rate and smoothed by a small log-normal jitter. Resampling recent
records keeps the heavy tail that drives overspends: a line whose recent starts
include GBP 10k-a-week placements will draw them at their observed frequency.

Inflation is estimated per service by least squares of log weekly cost on start date
with a fixed effect per line (``statsmodels`` OLS, bounded to [-5%, +15%] a year), or
given. A price drawn for a start on date ``d`` is the record's price at the ``as_at``
base times ``(1 + inflation) ** ((d - as_at) / 365.25)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

from forecastlib.accrual.rates import price_terms
from forecastlib.demand.history import line_starts
from forecastlib.lines import LINE_KEYS

__all__ = ["PriceModel"]

_RECORD_COLUMNS = ["unit_cost", "unit", "units_per_week", "weeks_per_year", "income_per_week"]
_INFLATION_BOUNDS = (-0.05, 0.15)


class PriceModel:
    """Empirical prices of new starts per line.

    Parameters
    ----------
    window_years : float, default 3
        Starts within this many years before ``as_at`` form a line's price pool; a line
        with fewer than ``min_records`` there uses all its starts, then its open
        placements.
    min_records : int, default 10
    inflation : float or dict, optional
        Yearly price inflation for all lines or per service; estimated when ``None``.
    jitter : float, default 0.05
        Log-normal smoothing of resampled prices (0 for a plain bootstrap).

    Attributes
    ----------
    inflation_ : dict
        Yearly inflation per service.
    pools_ : dict
        Per line, the price records (at the ``as_at`` price base) drawn from.
    summary_ : DataFrame
        Per line: ``records``, ``source``, weekly-cost quantiles ``p10``, ``p50``,
        ``p90``, ``p99``, ``max`` and ``mean``.

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> prices = PriceModel().fit(sample.placements, sample.as_at)
    >>> drawn = prices.sample(("LAC Placements", "Residential homes"), 1000,
    ...                       np.random.default_rng(0))
    >>> sorted(drawn.columns) == sorted(["unit_cost", "unit", "units_per_week",
    ...     "weeks_per_year", "income_per_week"])
    True
    """

    def __init__(self, window_years: float = 3.0, min_records: int = 10,
                 inflation: float | dict[str, float] | None = None, jitter: float = 0.05):
        self.window_years = window_years
        self.min_records = min_records
        self.inflation = inflation
        self.jitter = jitter

    def __repr__(self) -> str:
        fitted = f", lines={len(self.pools_)}" if hasattr(self, "pools_") else ""
        return (f"PriceModel(window_years={self.window_years}, inflation={self.inflation!r}, "
                f"jitter={self.jitter}{fitted})")

    def fit(self, placements: pd.DataFrame, as_at: object) -> PriceModel:
        """Build each line's price pool; returns ``self``."""
        self.as_at_ = np.datetime64(pd.Timestamp(as_at).date(), "D")
        spell_table = line_starts(placements)
        first = placements.iloc[_first_rows(placements, spell_table)].copy()
        first["weekly_cost"] = price_terms(first).weekly_cost
        first["years_before"] = (
            (self.as_at_ - first["start_date"].to_numpy(dtype="datetime64[D]")).astype(int)
            / 365.25)
        started = first[first["years_before"] >= 0]
        # A service whose placements all start after as_at has no trend to learn.
        self.inflation_ = {**dict.fromkeys(first["service"].unique().tolist(), 0.0),
                           **self._inflation(started)}
        self.pools_, rows = {}, {}
        open_now = placements[placements["end_date"].isna()
                              | (placements["end_date"] >= pd.Timestamp(self.as_at_))]
        for line, block in first.groupby(LINE_KEYS, sort=True):
            recent = block[(block["years_before"] >= 0)
                           & (block["years_before"] <= self.window_years)]
            source = "recent starts"
            if len(recent) < self.min_records:
                recent, source = block[block["years_before"] >= 0], "all starts"
            if len(recent) < self.min_records:
                current = open_now[(open_now["service"] == line[0])
                                   & (open_now["category"] == line[1])].copy()
                if len(current) > len(recent):
                    current["years_before"] = 0.0
                    recent, source = current, "open placements"
            if recent.empty:
                continue
            growth = (1 + self.inflation_[line[0]]) ** recent["years_before"].to_numpy()
            pool = recent[_RECORD_COLUMNS].reset_index(drop=True)
            pool["unit_cost"] = pool["unit_cost"].to_numpy() * growth
            pool["income_per_week"] = pool["income_per_week"].to_numpy() * growth
            self.pools_[line] = pool
            weekly = price_terms(pool).weekly_cost
            rows[line] = {"records": len(pool), "source": source,
                          **{f"p{q}": float(np.quantile(weekly, q / 100))
                             for q in (10, 50, 90, 99)},
                          "max": float(weekly.max()), "mean": float(weekly.mean())}
        self.summary_ = pd.DataFrame.from_dict(rows, orient="index")
        self.summary_.index = pd.MultiIndex.from_tuples(self.summary_.index, names=LINE_KEYS)
        return self

    def _inflation(self, started: pd.DataFrame) -> dict[str, float]:
        services = sorted(started["service"].unique())
        if isinstance(self.inflation, dict):
            return {s: float(self.inflation.get(s, 0.0)) for s in services}
        if self.inflation is not None:
            return {s: float(self.inflation) for s in services}
        rates = {}
        for service in services:
            block = started[(started["service"] == service) & (started["weekly_cost"] > 0)]
            if len(block) < 20 or block["years_before"].std() == 0:
                rates[service] = 0.0
                continue
            lines = pd.get_dummies(block["category"], dtype=float)
            design = np.column_stack([-block["years_before"].to_numpy(), lines.to_numpy()])
            fitted = sm.OLS(np.log(block["weekly_cost"].to_numpy()), design).fit()
            rates[service] = float(np.clip(np.expm1(fitted.params[0]), *_INFLATION_BOUNDS))
        return rates

    def sample(self, line: tuple[str, str], size: int, rng: np.random.Generator,
               start_dates: np.ndarray | None = None) -> pd.DataFrame:
        """Draw ``size`` price records for new starts in ``line``.

        ``start_dates`` (``datetime64``, length ``size``) trend each price from the
        ``as_at`` base to its start date.
        """
        if not hasattr(self, "pools_"):
            raise RuntimeError("PriceModel is not fitted yet: call fit() first")
        if line not in self.pools_:
            raise KeyError(f"no prices for line {line!r}: it has no placements to learn from")
        pool = self.pools_[line]
        picked = pool.iloc[rng.integers(0, len(pool), size)].reset_index(drop=True)
        factor = np.exp(rng.normal(-self.jitter**2 / 2, self.jitter, size)) if self.jitter else 1
        if start_dates is not None:
            years = (np.asarray(start_dates, dtype="datetime64[D]") - self.as_at_).astype(
                int) / 365.25
            factor = factor * (1 + self.inflation_[line[0]]) ** years
        picked["unit_cost"] = picked["unit_cost"].to_numpy() * factor
        picked["income_per_week"] = picked["income_per_week"].to_numpy() * factor
        return picked


def _first_rows(placements: pd.DataFrame, spell_table: pd.DataFrame) -> np.ndarray:
    """Row position of the first episode of each spell (the price it started at)."""
    starts = placements["start_date"].to_numpy(dtype="datetime64[D]")
    key = pd.MultiIndex.from_frame(placements[[*LINE_KEYS, "client_id"]].assign(start=starts))
    wanted = pd.MultiIndex.from_frame(spell_table[[*LINE_KEYS, "client_id"]].assign(
        start=spell_table["start_date"].to_numpy(dtype="datetime64[D]")))
    # Two episodes of one client starting on the same day in one line: the spell's
    # first row is the earlier in the file (the order spells() keeps).
    unique = np.flatnonzero(~key.duplicated())
    positions = key[unique].get_indexer(wanted)
    return unique[positions[positions >= 0]]
