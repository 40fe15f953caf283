"""Truth-known authorities: simulated records whose real outturn is known.

For calibration studies. Each line has known parameters: a monthly start rate with a
log-linear trend and seasonality,

.. math:: \\log \\lambda_t = \\log \\lambda_0 + \\log(1 + g)\\,\\tau_t
          + A \\cos(2\\pi (m_t - 9) / 12)

(``tau`` years from ``as_at``, ``m`` month of year), log-normal lengths of stay and
log-normal weekly prices inflating at a known yearly rate. An authority's whole history
is simulated to the end of the financial year; the **record** is what was known on
``as_at`` (spells started by then, with an end date only if they had ended), and the
**truth** is each line's accrued net cost over the whole year. The studies in
``tests/simulation/test_calibration.py`` and ``docs/outturn.md`` forecast from the
record and compare with the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from forecastlib.accrual import accrue
from forecastlib.calendar import financial_year, fy_end
from forecastlib.records import read_placements

__all__ = ["TruthAuthority", "TruthSpec", "oracle_models", "simulate_authority"]

HISTORY_YEARS = 12


@dataclass(frozen=True)
class TruthSpec:
    """Known parameters of one line."""

    category: str
    starts_per_month: float  # at as_at, before seasonality
    growth: float  # yearly growth of the start rate
    seasonality: float  # amplitude A of the log seasonal term
    mean_stay_days: float
    stay_sigma: float
    weekly_price: float  # median at as_at
    price_sigma: float
    inflation: float = 0.025
    service: str = "Children"

    @property
    def stay(self) -> stats.rv_continuous:
        """The true length-of-stay distribution (days)."""
        mu = np.log(self.mean_stay_days) - self.stay_sigma**2 / 2
        return stats.lognorm(self.stay_sigma, scale=np.exp(mu))

    def log_rate(self, months: pd.PeriodIndex, as_at: np.datetime64) -> np.ndarray:
        """Log monthly start rate for ``months``."""
        years = (months.start_time.to_numpy().astype("datetime64[D]") - as_at).astype(
            float) / 365.25
        return (np.log(self.starts_per_month) + np.log1p(self.growth) * years
                + self.seasonality * np.cos(2 * np.pi * (months.month.to_numpy() - 9) / 12))


@dataclass(frozen=True)
class TruthAuthority:
    """A simulated authority: its record at ``as_at`` and its true outturn."""

    placements: pd.DataFrame
    truth: pd.Series  # true full-year net cost per (service, category)
    as_at: np.datetime64
    specs: tuple[TruthSpec, ...]


def simulate_authority(specs: tuple[TruthSpec, ...], as_at: str, seed: int) -> TruthAuthority:
    """Simulate an authority's history with known parameters (see module notes)."""
    rng = np.random.default_rng(seed)
    as_at_day = np.datetime64(as_at, "D")
    year_end = np.datetime64(fy_end(financial_year(as_at_day)), "D")
    first = (as_at_day - np.timedelta64(365 * HISTORY_YEARS, "D")).astype("datetime64[M]")
    months = pd.period_range(pd.Period(str(first), freq="M"),
                             pd.Period(str(year_end), freq="M"), freq="M")
    frames = []
    for spec in specs:
        counts = rng.poisson(np.exp(spec.log_rate(months, as_at_day)))
        month = np.repeat(np.arange(len(months)), counts)
        month_start = months.start_time.to_numpy().astype("datetime64[D]")[month]
        days = months.days_in_month.to_numpy()[month]
        start = month_start + np.floor(rng.random(month.size) * days).astype("timedelta64[D]")
        stay = np.maximum(np.ceil(spec.stay.rvs(size=month.size, random_state=rng)), 1)
        end = start + (stay.astype(int) - 1).astype("timedelta64[D]")
        years = (start - as_at_day).astype(float) / 365.25
        price = (spec.weekly_price * (1 + spec.inflation) ** years
                 * rng.lognormal(0, spec.price_sigma, month.size))
        frames.append(pd.DataFrame({"service": spec.service, "category": spec.category,
                                    "start": start, "end": end,
                                    "unit_cost": np.round(price, 2)}))
    history = pd.concat(frames, ignore_index=True)
    history_start = np.datetime64(str(first), "D") + np.timedelta64(365 * 2, "D")
    history = history[history["end"] >= history_start].reset_index(drop=True)
    ids = np.char.add("P", np.arange(len(history)).astype(str))
    full = read_placements(pd.DataFrame({
        "placement_id": ids, "client_id": ids, "service": history["service"],
        "category": history["category"],
        "start_date": np.datetime_as_string(history["start"].to_numpy(dtype="datetime64[D]")),
        "end_date": np.datetime_as_string(history["end"].to_numpy(dtype="datetime64[D]")),
        "unit_cost": history["unit_cost"]}))
    truth = accrue(full, as_at_day).groupby(["service", "category"])["net_year"].sum()
    known = (full["start_date"] <= pd.Timestamp(as_at_day)).to_numpy()
    record = full[known].copy()
    still_open = record["end_date"] > pd.Timestamp(as_at_day)
    record.loc[still_open, "end_date"] = pd.NaT
    return TruthAuthority(record.reset_index(drop=True), truth, as_at_day, tuple(specs))


def oracle_models(authority: TruthAuthority, fitted: object, price_draws: int = 20_000,
                  seed: int = 0) -> object:
    """Demand models that know the true parameters (the oracle of a calibration study).

    ``fitted`` is a :class:`~forecastlib.simulation.DemandModels` fitted to the
    authority's record; a copy is returned with every line's length of stay, start
    rate (trend and seasonality, no parameter uncertainty) and price distribution
    replaced by the truth.
    """
    import copy

    from forecastlib.demand.starts import _LineFit

    oracle = copy.deepcopy(fitted)
    rng = np.random.default_rng(seed)
    for spec in authority.specs:
        line = (spec.service, spec.category)
        oracle.stays._frozen[line] = spec.stay
        starts = oracle.starts
        origin = starts.origin_
        # log rate = b0 + b1 * years-from-origin + gamma sin + delta cos (harmonic 1),
        # with A cos(2 pi (m - 9) / 12) = -A sin(2 pi m / 12) (the cosine term is zero).
        level = spec.log_rate(pd.PeriodIndex([origin]), authority.as_at)[0]
        seasonal = spec.seasonality * np.cos(2 * np.pi * (origin.month - 9) / 12)
        params = np.array([level - seasonal, np.log1p(spec.growth), -spec.seasonality, 0.0])
        starts._fits[line] = _LineFit("poisson_trend", params, np.zeros((4, 4)), trend=True,
                                      negbin=False, events=1.0, exposure_months=1.0)
        prices = spec.weekly_price * rng.lognormal(0, spec.price_sigma, price_draws)
        oracle.prices.pools_[line] = pd.DataFrame({
            "unit_cost": prices, "unit": "week", "units_per_week": 1.0,
            "weeks_per_year": 52.0, "income_per_week": 0.0})
        oracle.prices.inflation_[spec.service] = spec.inflation
    oracle.prices.jitter = 0.0
    return oracle
