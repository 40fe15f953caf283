"""The outturn simulation: every line's year-end spend as a distribution.

For each line, the year-end outturn in simulation ``s`` is

.. math:: O_s = A + K + \\sum_{i\\ \\text{open}} C_{i,s} + \\sum_{j\\ \\text{new}} C_{j,s}

with ``A`` actuals to date (ledger, else accrued), ``K`` the exact committed cost of
placements with a known end (``end_date``, or ``planned_end_date`` when planned ends are
used), ``C_i`` the simulated remaining cost of open placements with no known end
(:mod:`~forecastlib.simulation.open_book`) and ``C_j`` that of projected new starts
(:mod:`~forecastlib.simulation.new_starts`). Month by month the same sums give
cumulative spend paths. Simulations run in blocks whose size depends only on the size
of a line's book, each block with its own stream keyed by line, purpose and block
(:mod:`~forecastlib.streams`): memory stays flat in the number of
simulations and results are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecastlib.accrual.engine import accrue, open_without_end, resolve_year
from forecastlib.accrual.rates import price_terms
from forecastlib.calendar import fy_end, month_ends, overlap_days
from forecastlib.demand import LengthOfStayModel, PriceModel, StartsModel
from forecastlib.lines import line_codes
from forecastlib.simulation.new_starts import NewStarts
from forecastlib.simulation.open_book import OpenBook
from forecastlib.streams import stream

__all__ = [
    "DemandModels",
    "SimulatedOutturn",
    "StartChanges",
    "open_books",
    "projected_start_months",
    "remaining_grid",
    "simulate_remaining",
]


@dataclass
class DemandModels:
    """The fitted demand models an outturn simulation draws from."""

    stays: LengthOfStayModel
    starts: StartsModel | None = None
    prices: PriceModel | None = None

    @classmethod
    def fit(cls, placements: pd.DataFrame, as_at: object, new_starts: bool = True
            ) -> DemandModels:
        """Fit lengths of stay (and, for new starts, starts and prices) to the record."""
        stays = LengthOfStayModel().fit(placements, as_at)
        if not new_starts:
            return cls(stays)
        return cls(stays, StartsModel().fit(placements, as_at),
                   PriceModel().fit(placements, as_at))


@dataclass
class StartChanges:
    """Changes to new starts: rate factors by line and month, and moves between lines.

    ``moves`` holds ``(from_line, to_line, shares)`` with ``shares`` the share of the
    from-line's starts moved in each projected month (binomial thinning, so the moved
    and kept starts are each Poisson when the counts are).
    """

    factors: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    moves: list[tuple[tuple[str, str], tuple[str, str], np.ndarray]] = field(
        default_factory=list)

    def move(self, counts: np.ndarray, lines: list[tuple[str, str]], seed: int | None
             ) -> np.ndarray:
        counts = counts.copy()
        for number, (source, target, shares) in enumerate(self.moves):
            rng = stream(seed, source, "moves", number)
            i, j = lines.index(source), lines.index(target)
            moved = rng.binomial(counts[i], shares[None, :])
            counts[i] -= moved
            counts[j] += moved
        return counts

    def __bool__(self) -> bool:
        return bool(self.factors or self.moves)


@dataclass
class SimulatedOutturn:
    """Simulated remaining spend per line (money from ``as_at + 1`` to 31 March).

    Attributes
    ----------
    lines : MultiIndex
        The lines simulated (those with open placements or new starts).
    months : PeriodIndex
        The remaining months of the year (the paths' columns).
    paths : ndarray, shape (lines, simulations, months)
        Cumulative remaining spend to each month-end.
    process_only : ndarray, shape (lines, simulations)
        Remaining spend with the demand models' parameters held at their estimates
        (and no common shock).
    running : ndarray, shape (lines, simulations)
        Open and new placements still running on the last day of the year.
    expected_open : dict
        Exact mean and variance of each line's open-placement cost (analytic moments).
    notes : list of str
    no_common : ndarray, shape (lines, simulations), optional
        Remaining spend without the common market shock (parameters still drawn).
    """

    lines: pd.MultiIndex
    months: pd.PeriodIndex
    paths: np.ndarray
    process_only: np.ndarray
    running: np.ndarray
    expected_open: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    no_common: np.ndarray | None = None

    @property
    def totals(self) -> np.ndarray:
        """Remaining spend to year-end, shape (lines, simulations)."""
        return self.paths[:, :, -1] if self.paths.shape[2] else np.zeros(self.paths.shape[:2])


def projected_start_months(models: DemandModels, months: pd.PeriodIndex) -> pd.PeriodIndex:
    """The months new starts are projected for: after the starts model's last month of
    data, to the year's last month."""
    if models.starts is None or len(months) == 0:
        return pd.PeriodIndex([], freq="M")
    horizon = (months[-1] - models.starts.origin_).n
    return (models.starts.future_months(horizon) if horizon > 0
            else pd.PeriodIndex([], freq="M"))


def remaining_grid(as_at: np.datetime64, year: int) -> tuple[pd.PeriodIndex, np.ndarray]:
    ends = month_ends(year)
    remaining = ends[ends > as_at]
    offsets = (remaining - as_at).astype("int64").astype(float)
    months = pd.PeriodIndex(pd.to_datetime(remaining), freq="M")
    return months, offsets


def known_paths(placements: pd.DataFrame, accrued: pd.DataFrame, as_at: np.datetime64,
                offsets: np.ndarray) -> pd.DataFrame:
    """Exact remaining cost of placements with a known end, per line and month-end."""
    known = ~open_without_end(accrued)
    rows = placements[known]
    codes, lines = line_codes(rows)
    if len(rows) == 0 or len(offsets) == 0:
        return pd.DataFrame(np.zeros((len(lines), len(offsets))), index=lines)
    ends = accrued.loc[known, "effective_end"].to_numpy(dtype="datetime64[D]")
    first = as_at + 1
    days = overlap_days(rows["start_date"].to_numpy(dtype="datetime64[D]")[:, None],
                        ends[:, None], first, as_at + offsets.astype("int64")[None, :])
    terms = price_terms(rows)
    net = terms.cost(days) - terms.income(days)
    summed = np.column_stack([np.bincount(codes, weights=net[:, k], minlength=len(lines))
                              for k in range(len(offsets))])
    return pd.DataFrame(summed, index=lines)


def open_books(placements: pd.DataFrame, accrued: pd.DataFrame, as_at: np.datetime64,
               offsets: np.ndarray, stays: LengthOfStayModel, parameters: bool = False,
               seed: int | None = None) -> dict[tuple, OpenBook]:
    """One :class:`OpenBook` per line of the open placements with no known end
    (with ``parameters``, carrying the stay model's parameter draws for ``seed``)."""
    open_rows = open_without_end(accrued)
    rows = placements[open_rows]
    if rows.empty:
        return {}
    terms = price_terms(rows)
    daily = terms.cost_numerator / terms.cost_denominator - terms.income_per_week / 7.0
    age = (as_at - rows["start_date"].to_numpy(dtype="datetime64[D]")).astype("int64") + 1
    codes, lines = line_codes(rows)
    books = {}
    for code, line in enumerate(lines):  # one book per line, arrays inside
        mask = codes == code
        books[tuple(line)] = OpenBook(
            daily[mask], age[mask].astype(float), stays.distribution(tuple(line)), offsets,
            stays.parameter_draws(tuple(line), seed) if parameters else None)
    return books


def _new_starts(models: DemandModels, as_at: np.datetime64, months: pd.PeriodIndex,
                offsets: np.ndarray, notes: list[str], seed: int | None = None
                ) -> tuple[dict, pd.PeriodIndex]:
    starts, prices = models.starts, models.prices
    if starts is None or prices is None or len(months) == 0:
        return {}, pd.PeriodIndex([], freq="M")
    future = projected_start_months(models, months)
    first = (future.start_time.to_numpy().astype("datetime64[D]") - as_at).astype(float)
    last = (future.end_time.normalize().to_numpy().astype("datetime64[D]")
            - as_at).astype(float)
    prepared, missing = {}, []
    for line in starts.fits_.index:
        if line not in prices.pools_:
            missing.append(line)
            continue
        market = getattr(prices, "market_", {})
        years = getattr(prices, "pool_years_", {}).get(line)
        prepared[line] = NewStarts(
            first, last, offsets, prices.pools_[line], prices.inflation_[line[0]],
            prices.jitter, models.stays.distribution(line),
            stay_draws=models.stays.parameter_draws(line, seed),
            bootstrap=prices.bootstrap(line, seed),
            pool_years=years if years is not None and len(years) == len(
                prices.pools_[line]) else None,
            inflation_sd=getattr(prices, "inflation_se_", {}).get(line[0], 0.0),
            shock_variance=(market.get("variance_now", 0.0),
                            market.get("variance_per_year", 0.0)))
    if missing:
        notes.append(f"{len(missing)} lines have no prices to learn from, so no new starts "
                     "are projected for them.")
    return prepared, future


def simulate_remaining(
    placements: pd.DataFrame,
    as_at: object,
    models: DemandModels,
    *,
    simulations: int,
    seed: int | None,
    use_planned_ends: bool = True,
    year: int | None = None,
    start_changes: StartChanges | None = None,
    accrued: pd.DataFrame | None = None,
) -> tuple[SimulatedOutturn, pd.DataFrame, pd.DataFrame]:
    """Simulate every line's remaining spend and year-end placements.

    Returns
    -------
    simulated : SimulatedOutturn
        The stochastic part (open placements with no known end, new starts).
    known : DataFrame
        Exact remaining cost of the placements with a known end, per line (rows) and
        remaining month-end (columns).
    known_running : Series-like DataFrame
        Placements with a known end still running on the last day, per line.

    ``start_changes`` (from a scenario) scales start rates and moves starts between
    lines before new placements are drawn. ``accrued``, if the caller already has
    :func:`~forecastlib.accrual.accrue` of the same placements and options, is reused.
    """
    as_at_day, year = resolve_year(as_at, year)
    months, offsets = remaining_grid(as_at_day, year)
    if accrued is None:
        accrued = accrue(placements, as_at_day, year=year, use_planned_ends=use_planned_ends)
    known = known_paths(placements, accrued, as_at_day, offsets)
    year_end = np.datetime64(fy_end(year), "D")
    still_running = accrued["effective_end"].to_numpy(dtype="datetime64[D]") >= year_end
    started = placements["start_date"].to_numpy(dtype="datetime64[D]") <= year_end
    known_mask = ~open_without_end(accrued)
    codes, all_lines = line_codes(placements)
    known_running = pd.Series(np.bincount(codes, weights=known_mask & still_running & started,
                                          minlength=len(all_lines)), index=all_lines)

    books = open_books(placements, accrued, as_at_day, offsets, models.stays,
                       parameters=True, seed=seed)
    notes: list[str] = []
    new, start_months = _new_starts(models, as_at_day, months, offsets, notes, seed)
    lines = sorted(set(books) | set(new))
    count, grid = len(lines), len(offsets)
    paths = np.zeros((count, simulations, grid))
    process_only = np.zeros((count, simulations))
    running = np.zeros((count, simulations), dtype=np.int64)
    no_common = np.zeros((count, simulations))
    # One draw per simulation shared by every line: price inflation and the market shock.
    market = stream(seed, ("*", "market"), "prices").standard_normal((2, simulations))
    expected_open = {}

    counts = plug_counts = None
    if new:
        horizon = len(start_months)
        factors = start_changes.factors if start_changes else None
        counts = models.starts.simulate(horizon, simulations, seed, rate_factors=factors)
        plug_counts = models.starts.simulate(horizon, simulations, seed,
                                             parameter_uncertainty=False, rate_factors=factors)
        start_lines = list(models.starts.fits_.index)
        if start_changes:
            counts = start_changes.move(counts, start_lines, seed)
            plug_counts = start_changes.move(plug_counts, start_lines, seed)
    for position, line in enumerate(lines):
        if line in books:
            book = books[line]
            expected_open[line] = book.expected_cost()
            book_paths, book_running = book.simulate_all(seed, line, simulations)
            paths[position] += book_paths
            running[position] += book_running
            if grid:
                process_only[position] = _held_at_estimates(book_paths[:, -1], book.draws)
        no_common[position] = paths[position, :, -1] if grid else 0.0
        if line in new:
            index = start_lines.index(line)
            unshocked = np.zeros(simulations)
            new_paths, new_running = new[line].simulate(
                counts[index], stream(seed, line, "prices"), market=market,
                no_common=unshocked)
            paths[position] += new_paths
            running[position] += new_running
            no_common[position] += unshocked
            if grid:  # the same price and stay streams, with every parameter at its estimate
                plug_paths, _ = new[line].simulate(plug_counts[index],
                                                   stream(seed, line, "prices"), totals_only=True,
                                                   parameters=False)
                process_only[position] += plug_paths[:, -1]
    simulated = SimulatedOutturn(
        lines=pd.MultiIndex.from_tuples(lines, names=["service", "category"]) if lines
        else pd.MultiIndex.from_arrays([[], []], names=["service", "category"]),
        months=months, paths=paths, process_only=process_only, running=running,
        expected_open=expected_open, notes=notes, no_common=no_common)
    return simulated, known, known_running.to_frame("running")


def _held_at_estimates(totals: np.ndarray, draws: object | None) -> np.ndarray:
    """Open placements' cost with the stay parameters' variation taken out: each group
    of simulations sharing draw ``k`` (``s mod K``) is moved to the overall mean."""
    if draws is None or len(totals) < 2 * len(draws):
        return totals
    group = np.arange(len(totals)) % len(draws)
    sizes = np.bincount(group, minlength=len(draws))
    means = np.bincount(group, weights=totals, minlength=len(draws)) / sizes
    return totals - means[group] + totals.mean()
