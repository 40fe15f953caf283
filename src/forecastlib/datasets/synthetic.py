"""Seeded generator of the sample county's placements, budget and ledger actuals.

For each line in :data:`~forecastlib.datasets.catalogue.CATEGORIES`:

* **starts** arrive by month as Poisson counts with rate
  ``stock / mean_stay * (1 + trend) ** years * (1 + seasonality * cos(2 pi (m - 9) / 12))``
  (peaking in the autumn), from a burn-in well before the history so the stock at
  the start of the history is in equilibrium; each start falls on a uniform day;
* **lengths of stay** are log-normal with the line's mean and spread;
* **prices** are log-normal around the line's October 2017 price, deflated at 2.5% a
  year for earlier starts, with a Pareto uplift for a share of placements (the
  heavy tail: residential homes at GBP 8-10k+ a week);
* hourly packages draw their hours a week; some episodes carry a client contribution;
* open episodes at ``as_at`` get a planned end for a share of them (near their true
  end; SEN at the end of an academic year), and a few placements already agreed to
  start after ``as_at`` are in the record, as in a real commitment record;
* a line may have ``high_cost_arrivals``: placements at two to three times its price
  started in the four months before ``as_at`` (the seeds' "additional high cost
  placements made during the month").

Episodes that ended before the history starts are left out, as a case-management
system migrated in April of the first history year would hold them.

**The budget** is set as a council sets it in the spring, from the run rate of the last
quarter of the previous financial year (January to March): ``budget_placements`` is
that quarter's average placements (placement-days / days) grown by the line's
``budget_growth`` (the demand growth the council allows for) and rounded to whole
placements (at least one); ``budget_unit_cost`` is the quarter's average unit cost
(weighted by placement-days) plus the line's ``uplift`` (2%: inflation); hourly lines
budget the quarter's average hours a week. Lines with client contributions carry an
approved ``annual_budget`` net of the quarter's income share, rounded to GBP 1k. Lump
lines (growth, savings targets) have an ``annual_budget`` only. Ledger actuals are the
record's monthly accruals with small timing noise, plus what is booked against the lump
lines.

Run ``python -m forecastlib.datasets.synthetic DIRECTORY`` to write the CSV files; the
files shipped in ``forecastlib/datasets/data`` are exactly this output for the default
seed (a test checks that).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from forecastlib.accrual import line_costs_by_period
from forecastlib.calendar import financial_year, fy_start, overlap_days, period_of
from forecastlib.datasets.catalogue import CATEGORIES, LUMP_LINES, CategorySpec
from forecastlib.lines import line_codes
from forecastlib.records import read_placements

__all__ = ["DEFAULT_AS_AT", "DEFAULT_SEED", "SyntheticCounty", "generate_county"]

DEFAULT_SEED = 20171031
DEFAULT_AS_AT = "2017-10-31"
#: First financial year of the history (six full years before the sample's year).
HISTORY_START_YEAR = 2011
BURN_IN_YEARS = 25
PRICE_INFLATION = 0.025


@dataclass(frozen=True)
class SyntheticCounty:
    """The three input tables of a synthetic authority, as the CSV files would hold them."""

    placements: pd.DataFrame
    budget: pd.DataFrame
    actuals: pd.DataFrame
    as_at: str

    def write(self, directory: str | Path) -> None:
        """Write ``placements.csv``, ``budget.csv`` and ``actuals.csv`` to ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("placements", "budget", "actuals"):
            getattr(self, name).to_csv(directory / f"{name}.csv", index=False,
                                       lineterminator="\n")


def _month_starts(first: np.datetime64, last: np.datetime64) -> np.ndarray:
    return np.arange(first.astype("datetime64[M]"), last.astype("datetime64[M]") + 1)


def _starts(spec: CategorySpec, rng: np.random.Generator, first: np.datetime64,
            last: np.datetime64, as_at: np.datetime64) -> np.ndarray:
    months = _month_starts(first, last)
    days_in_month = ((months + 1).astype("datetime64[D]") - months.astype("datetime64[D]"))
    days_in_month = days_in_month.astype("int64")
    years_from_as_at = (months.astype("datetime64[D]") - as_at).astype("int64") / 365.25
    month_of_year = months.astype("int64") % 12 + 1
    rate = (spec.stock / spec.mean_stay_days) * days_in_month
    rate = rate * (1 + spec.trend) ** years_from_as_at
    rate = rate * (1 + spec.seasonality * np.cos(2 * np.pi * (month_of_year - 9) / 12))
    counts = rng.poisson(rate)
    month_of_start = np.repeat(np.arange(len(months)), counts)
    offsets = np.floor(rng.random(month_of_start.size) * days_in_month[month_of_start])
    return months[month_of_start].astype("datetime64[D]") + offsets.astype("int64")


def _stays(spec: CategorySpec, rng: np.random.Generator, size: int) -> np.ndarray:
    mu = np.log(spec.mean_stay_days) - spec.stay_sigma**2 / 2
    return np.maximum(1, np.round(rng.lognormal(mu, spec.stay_sigma, size))).astype("int64")


def _prices(spec: CategorySpec, rng: np.random.Generator, starts: np.ndarray,
            as_at: np.datetime64) -> np.ndarray:
    # Episodes running at the history's start were re-priced then (a price change opens
    # a new episode), so prices are deflated back to the history's start at the most.
    history_start = np.datetime64(fy_start(HISTORY_START_YEAR), "D")
    starts = np.asarray(starts).astype("datetime64[D]")
    years = (np.maximum(starts, history_start) - as_at).astype("int64") / 365.25
    price = spec.price * (1 + PRICE_INFLATION) ** years
    price = price * rng.lognormal(-spec.price_sigma**2 / 2, spec.price_sigma, starts.size)
    tail = rng.random(starts.size) < spec.tail_share
    price = np.where(tail, price * (1 + rng.pareto(2.5, starts.size)), price)
    return np.round(price, 2)


def _high_cost_arrivals(spec: CategorySpec, rng: np.random.Generator, as_at: np.datetime64,
                        starts: np.ndarray, ends: np.ndarray,
                        prices: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Add placements at 2-3x the line's price started in the 4 months to ``as_at``."""
    count = spec.high_cost_arrivals
    new_starts = as_at - rng.integers(0, 122, count)
    stays = np.maximum(_stays(spec, rng, count), (as_at - new_starts).astype("int64") + 60)
    new_prices = np.round(spec.price * rng.uniform(2.0, 3.0, count), 2)
    return (np.concatenate([starts, new_starts]), np.concatenate([ends, new_starts + stays - 1]),
            np.concatenate([prices, new_prices]))


def _category_episodes(spec: CategorySpec, rng: np.random.Generator,
                       as_at: np.datetime64) -> pd.DataFrame:
    history_start = np.datetime64(fy_start(HISTORY_START_YEAR), "D")
    first = np.datetime64(fy_start(HISTORY_START_YEAR - BURN_IN_YEARS), "D")
    last = as_at + np.timedelta64(45, "D")  # placements agreed to start soon
    starts = _starts(spec, rng, first, last, as_at)
    ends = starts + _stays(spec, rng, starts.size) - 1
    prices = _prices(spec, rng, starts, as_at)
    if spec.high_cost_arrivals:
        starts, ends, prices = _high_cost_arrivals(spec, rng, as_at, starts, ends, prices)
    keep = ends >= history_start
    starts, ends, prices = starts[keep], ends[keep], prices[keep]
    future_start = starts > as_at
    keep = ~future_start | (rng.random(starts.size) < 0.5)  # half of agreed starts recorded
    starts, ends, prices = starts[keep], ends[keep], prices[keep]
    n = starts.size

    is_open = ends > as_at
    planned = is_open & (rng.random(n) < spec.planned_end_share)
    noise = np.round(rng.normal(0, 30, n)).astype("int64")
    planned_end = ends + noise
    if spec.academic_ends:
        years = (planned_end.astype("datetime64[Y]").astype("int64") + 1970)
        august = ((years - 1970) * 12 + 7).astype("datetime64[M]").astype("datetime64[D]") + 30
        planned_end = np.where(august >= planned_end, august, august + np.timedelta64(365, "D"))
    planned_end = np.maximum(planned_end, np.maximum(starts, as_at + 1))
    hours = np.ones(n)
    if spec.unit == "hour":
        hours = np.clip(np.round(rng.lognormal(np.log(spec.units_per_week), 0.5, n) * 2) / 2,
                        1, 70)
    # Contributions are a share of the cost per calendar week (respite at 6 weeks a
    # year costs 6/52 of its weekly price per week of the year).
    weekly = prices * hours * spec.weeks_per_year / 52
    contributes = rng.random(n) < spec.income_share
    income = np.where(contributes,
                      np.round(weekly * spec.income_ratio * rng.uniform(0.5, 1.5, n), 2), 0.0)
    if spec.unit == "year":
        income = np.zeros(n)
    return pd.DataFrame({
        "client_key": [f"{spec.service}|{spec.category}|{i}" for i in range(n)],
        "service": spec.service,
        "category": spec.category,
        "start_date": starts,
        "end_date": np.where(is_open, np.datetime64("NaT"), ends),
        "planned_end_date": np.where(planned, planned_end, np.datetime64("NaT")),
        "unit_cost": prices,
        "unit": spec.unit,
        "units_per_week": hours,
        "weeks_per_year": spec.weeks_per_year,
        "funding": spec.funding,
        "income_per_week": income,
    })


def _paired(spec: CategorySpec, base: pd.DataFrame, rng: np.random.Generator,
            as_at: np.datetime64) -> pd.DataFrame:
    paired = base.copy()
    paired["category"] = spec.category
    paired["unit_cost"] = _prices(spec, rng, base["start_date"].to_numpy(), as_at)
    paired["weeks_per_year"] = spec.weeks_per_year
    return paired


def _run_rate(placements: pd.DataFrame, first: np.datetime64,
              last: np.datetime64) -> pd.DataFrame:
    """Per line over ``first..last``: average placements, day-weighted unit cost, hours a
    week and the income share of gross cost (from the closed record, vectorised)."""
    record = read_placements(placements, name="placements.csv")
    codes, lines = line_codes(record)
    ends = record["end_date"].to_numpy(dtype="datetime64[D]")
    ends = np.where(np.isnat(ends), last, ends)
    days = overlap_days(record["start_date"].to_numpy(dtype="datetime64[D]"), ends,
                        first, last).astype("float64")
    hours, cost = record["units_per_week"].to_numpy(), record["unit_cost"].to_numpy()

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=values * days, minlength=len(lines))

    placement_days = total(np.ones(len(record)))
    with np.errstate(invalid="ignore", divide="ignore"):
        gross = total(cost * hours * record["weeks_per_year"].to_numpy() / 52)
        return pd.DataFrame({
            "average": placement_days / (int((last - first).astype("int64")) + 1),
            "unit_cost": total(cost) / placement_days,
            "hours": total(hours) / placement_days,
            "income_share": total(record["income_per_week"].to_numpy()) / gross,
        }, index=lines)


def _budget(placements: pd.DataFrame, as_at: np.datetime64) -> pd.DataFrame:
    """The budget a council sets in the spring from the run rate of January to March."""
    year_start = np.datetime64(fy_start(financial_year(as_at)), "D")
    base = _run_rate(placements, year_start - np.timedelta64(90, "D"),
                     year_start - np.timedelta64(1, "D"))
    rows = []
    for s in CATEGORIES:
        line = (s.service, s.category)
        seen = base.loc[line] if line in base.index else None
        if seen is None or not seen["average"] > 0:  # nothing running: provide for one
            seen = pd.Series({"average": 1.0, "unit_cost": s.price, "hours": s.units_per_week,
                              "income_share": 0.0})
        hourly = s.unit == "hour"
        row = {
            "service": s.service, "category": s.category,
            "budget_placements": max(1.0, float(np.round(seen["average"]
                                                         * (1 + s.budget_growth)))),
            "budget_unit_cost": float(np.round(seen["unit_cost"] * (1 + s.uplift), 2)),
            "unit": s.unit, "units_per_week": float(np.round(seen["hours"], 1)) if hourly else 1.0,
            "weeks_per_year": s.weeks_per_year, "annual_budget": np.nan,
        }
        if seen["income_share"] > 0:
            gross = (row["budget_placements"] * row["budget_unit_cost"]
                     * row["units_per_week"] * s.weeks_per_year)
            row["annual_budget"] = float(np.round(gross * (1 - seen["income_share"]), -3))
        rows.append(row)
    rows += [{"service": lump.service, "category": lump.category,
              "annual_budget": lump.annual_budget} for lump in LUMP_LINES]
    budget = pd.DataFrame(rows)
    return budget[["service", "category", "budget_placements", "budget_unit_cost", "unit",
                   "units_per_week", "weeks_per_year", "annual_budget"]]


def _actuals(placements: pd.DataFrame, as_at: np.datetime64,
             rng: np.random.Generator) -> pd.DataFrame:
    record = read_placements(placements, name="placements.csv")
    by_period = line_costs_by_period(record, as_at)
    closed = int(period_of(as_at))
    ledger = by_period.loc[:, 1:closed].stack().rename("amount").reset_index()
    ledger["amount"] = np.round(ledger["amount"] * rng.normal(1.0, 0.01, len(ledger)), 2)
    lumps = []
    for lump in LUMP_LINES:
        if lump.booked_share == 0:
            continue
        monthly = lump.annual_budget / 12 * lump.booked_share * rng.normal(1.0, 0.2, closed)
        lumps.append(pd.DataFrame({"service": lump.service, "category": lump.category,
                                   "period": np.arange(1, closed + 1),
                                   "amount": np.round(monthly, 2)}))
    ledger = pd.concat([ledger, *lumps], ignore_index=True)
    return ledger[["service", "category", "period", "amount"]]


def generate_county(seed: int = DEFAULT_SEED, as_at: str = DEFAULT_AS_AT) -> SyntheticCounty:
    """Generate the sample county's placements, budget and actuals.

    Parameters
    ----------
    seed : int
        Seed of the random generator; the same seed gives the same tables.
    as_at : str
        Last day of the data (must be a period end, for the ledger).

    Returns
    -------
    SyntheticCounty

    Examples
    --------
    >>> county = generate_county(seed=1)
    >>> county.placements.shape[0] > 10_000, sorted(county.placements["unit"].unique())
    (True, ['hour', 'week', 'year'])
    """
    as_at_day = np.datetime64(as_at, "D")
    if financial_year(as_at_day) <= HISTORY_START_YEAR:
        raise ValueError(f"as_at must fall after FY{HISTORY_START_YEAR}, got {as_at}")
    rng = np.random.default_rng(seed)
    frames: dict[str, pd.DataFrame] = {}
    for spec in CATEGORIES:
        if spec.paired_with is not None:
            frames[spec.category + spec.service] = _paired(
                spec, frames[spec.paired_with + spec.service], rng, as_at_day)
        else:
            frames[spec.category + spec.service] = _category_episodes(spec, rng, as_at_day)
    episodes = pd.concat(frames.values(), ignore_index=True)
    episodes = episodes.sort_values(["start_date", "service", "category"], kind="stable")
    episodes = episodes.reset_index(drop=True)
    episodes.insert(0, "placement_id", [f"P{i:06d}" for i in range(1, len(episodes) + 1)])
    # Paired allowances (basic + skills) share their client: the same child and carers.
    client_codes = pd.factorize(episodes.pop("client_key"))[0]
    client = np.char.add("C", np.char.zfill((client_codes + 1).astype(str), 6))
    episodes.insert(1, "client_id", client)
    for column in ("start_date", "end_date", "planned_end_date"):
        episodes[column] = pd.to_datetime(episodes[column]).dt.strftime("%Y-%m-%d").fillna("")
    actuals = _actuals(episodes, as_at_day, rng)
    return SyntheticCounty(episodes, _budget(episodes, as_at_day), actuals, str(as_at_day))


def main(argv: list[str] | None = None) -> None:
    """Write the sample county's CSV files (``python -m forecastlib.datasets.synthetic``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--as-at", default=DEFAULT_AS_AT)
    args = parser.parse_args(argv)
    generate_county(args.seed, args.as_at).write(args.directory)


if __name__ == "__main__":  # pragma: no cover
    main()
