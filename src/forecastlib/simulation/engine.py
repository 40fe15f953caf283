"""The outturn simulation: every line's year-end spend as a distribution.

For each line, the year-end outturn in simulation ``s`` is

.. math:: O_s = A + K + \\sum_{i\\ \\text{open}} C_{i,s} + \\sum_{j\\ \\text{new}} C_{j,s}

with ``A`` actuals to date (ledger, else accrued), ``K`` the exact committed cost of
placements with a known end (``end_date``, or ``planned_end_date`` when planned ends are
used), ``C_i`` the simulated remaining cost of open placements with no known end
(:mod:`~forecastlib.simulation.open_book`) and ``C_j`` that of projected new starts
(:mod:`~forecastlib.simulation.new_starts`). Month by month the same sums give
cumulative spend paths. Simulations run in blocks whose size depends only on the size
of a line's book, and new starts in blocks of a fixed number of new placements, each
block with its own stream keyed by line, purpose and block (:mod:`~forecastlib.streams`):
memory stays flat in the number of simulations and results are reproducible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

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
    "reporting_progress",
    "simulate_remaining",
]


_PROGRESS: ContextVar[Callable[[int, int], None] | None] = ContextVar("progress", default=None)


@contextmanager
def reporting_progress(callback: Callable[[int, int], None] | None) -> Iterator[None]:
    """Within the block, :func:`simulate_remaining` calls ``callback(done, total)`` as
    it goes through the lines (``done`` of ``total`` finished): the command line's
    progress bar."""
    token = _PROGRESS.set(callback)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


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
        history = placements["start_date"] <= pd.Timestamp(np.datetime64(as_at, "D"))
        if not new_starts or not history.any():  # no start by as_at: no rate to learn
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
        Remaining spend with the demand models' parameters held at their estimates.
    running : ndarray, shape (lines, simulations)
        Open and new placements still running on the last day of the year.
    expected_open : dict
        Exact mean and variance of each line's open-placement cost (analytic moments).
    notes : list of str
    """

    lines: pd.MultiIndex
    months: pd.PeriodIndex
    paths: np.ndarray
    process_only: np.ndarray
    running: np.ndarray
    expected_open: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

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


#: The length of stay of a line with no history at all: never ends (committed basis).
_NEVER_ENDS = stats.expon(scale=np.inf)


def open_books(placements: pd.DataFrame, accrued: pd.DataFrame, as_at: np.datetime64,
               offsets: np.ndarray, stays: LengthOfStayModel) -> dict[tuple, OpenBook]:
    """One :class:`OpenBook` per line of the open placements with no known end."""
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
        fitted = tuple(line) in stays.fits_.index
        # With no length of stay learnt anywhere (no spell started by as_at), an open
        # placement is committed to year-end: the deterministic outturn's basis.
        distribution = (stays.distribution(tuple(line)) if fitted else _NEVER_ENDS)
        books[tuple(line)] = OpenBook(daily[mask], age[mask].astype(float), distribution,
                                      offsets)
    return books


def _new_starts(models: DemandModels, as_at: np.datetime64, months: pd.PeriodIndex,
                offsets: np.ndarray, notes: list[str]) -> tuple[dict, pd.PeriodIndex]:
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
        prepared[line] = NewStarts(first, last, offsets, prices.pools_[line],
                                   prices.inflation_[line[0]], prices.jitter,
                                   models.stays.distribution(line))
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

    books = open_books(placements, accrued, as_at_day, offsets, models.stays)
    notes: list[str] = []
    unlearnt = sum(len(book.daily) for book in books.values() if book.distribution is _NEVER_ENDS)
    if unlearnt:
        notes.append(f"{unlearnt} open placements are in lines with no length of stay to "
                     "learn from (no spell started by the as-at date): they are taken to run "
                     "to year-end.")
    new, start_months = _new_starts(models, as_at_day, months, offsets, notes)
    lines = sorted(set(books) | set(new))
    count, grid = len(lines), len(offsets)
    paths = np.zeros((count, simulations, grid))
    process_only = np.zeros((count, simulations))
    running = np.zeros((count, simulations), dtype=np.int64)
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
    progress = _PROGRESS.get()
    for position, line in enumerate(lines):
        if progress is not None:
            progress(position, count)
        if line in books:
            book = books[line]
            expected_open[line] = book.expected_cost()
            book_paths, book_running = book.simulate_all(seed, line, simulations)
            paths[position] += book_paths
            running[position] += book_running
        process_only[position] = paths[position, :, -1] if grid else 0.0
        if line in new:
            index = start_lines.index(line)
            new_paths, new_running = new[line].simulate(counts[index], seed, line)
            paths[position] += new_paths
            running[position] += new_running
            if grid:  # the same price and stay streams, with counts at fitted parameters
                plug_paths, _ = new[line].simulate(plug_counts[index], seed, line,
                                                   totals_only=True)
                process_only[position] += plug_paths[:, -1]
    if progress is not None:
        progress(count, count)
    simulated = SimulatedOutturn(
        lines=pd.MultiIndex.from_tuples(lines, names=["service", "category"]) if lines
        else pd.MultiIndex.from_arrays([[], []], names=["service", "category"]),
        months=months, paths=paths, process_only=process_only, running=running,
        expected_open=expected_open, notes=notes)
    return simulated, known, known_running.to_frame("running")
