"""The outturn simulation: every line's year-end spend as a distribution.

For each line, the year-end outturn in simulation ``s`` is

.. math:: O_s = A + K + \\sum_{i\\ \\text{open}} C_{i,s} + \\sum_{j\\ \\text{new}} C_{j,s}

with ``A`` actuals to date (ledger, else accrued), ``K`` the exact committed cost of
placements with a known end (``end_date``, or ``planned_end_date`` when planned ends are
used), ``C_i`` the simulated remaining cost of open placements with no known end
(:mod:`~forecastlib.simulation.open_book`) and ``C_j`` that of projected new starts
(:mod:`~forecastlib.simulation.new_starts`). Month by month the same sums give
cumulative spend paths. Simulations run in fixed blocks of
:data:`~forecastlib.simulation.blocks.SIM_BLOCK`, every draw of a block from streams
keyed by line, purpose and block (:mod:`~forecastlib.simulation.blocks`,
:mod:`~forecastlib.streams`): memory stays flat in the number of simulations, and the
numbers are the same whatever runs the blocks (threads, processes, a Dask cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from forecastlib.accrual.engine import accrue, open_without_end, resolve_year
from forecastlib.accrual.rates import price_terms
from forecastlib.calendar import fy_end, month_ends, overlap_days
from forecastlib.demand import LengthOfStayModel, MoveModel
from forecastlib.demand.history import episode_spells
from forecastlib.lines import line_codes
from forecastlib.simulation.blocks import BlockJob, simulate_blocks
from forecastlib.simulation.book_paths import MOMENTS_ABOVE
from forecastlib.simulation.forked import ForkedWorkers
from forecastlib.simulation.models import DemandModels, StartChanges
from forecastlib.simulation.new_starts import NewStarts
from forecastlib.simulation.open_book import OpenBook

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
    """Within the ``with`` block, :func:`simulate_remaining` calls
    ``callback(done, total)`` as it goes through the blocks of simulations (``done`` of
    ``total`` finished): the command line's progress bar."""
    token = _PROGRESS.set(callback)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


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
    expected_open : Mapping
        Exact mean and variance of each line's open-placement cost (analytic moments,
        each line's computed when first looked up: the forecast itself does not need
        them).
    notes : list of str
    no_common : ndarray, shape (lines, simulations), optional
        Remaining spend without the common market shock (parameters still drawn).
    """

    lines: pd.MultiIndex
    months: pd.PeriodIndex
    paths: np.ndarray
    process_only: np.ndarray
    running: np.ndarray
    expected_open: Mapping[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
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
    # (an open episode with no day left this year, one starting after it, costs nothing;
    # nor does an episode ended by as_at: only the rest are costed, so memory follows
    # the live placements, not the whole history)
    ends = accrued["effective_end"].to_numpy(dtype="datetime64[D]")
    with np.errstate(invalid="ignore"):
        live = ~np.isnat(ends) & (ends > as_at)
    known = ~open_without_end(accrued) & live
    rows = placements[known]
    codes, lines = line_codes(rows)
    if len(rows) == 0 or len(offsets) == 0:
        return pd.DataFrame(np.zeros((len(lines), len(offsets))), index=lines)
    ends = ends[known]
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


def _open_spell_starts(placements: pd.DataFrame, open_rows: np.ndarray) -> np.ndarray:
    """The spell start of each open row, from the episodes of the (client, service) pairs
    with an open row only: a spell is one client's episodes in one service, so the rest of
    the history (most of a national record) need not be sorted again."""
    services, names = pd.factorize(placements["service"])
    pair = pd.factorize(placements["client_id"])[0].astype(np.int64) * len(names) + services
    wanted = np.zeros(int(pair.max()) + 1, dtype=bool)
    wanted[pair[open_rows]] = True
    keep = wanted[pair]
    spells = episode_spells(placements[keep])["spell_start"]
    return spells.to_numpy(dtype="datetime64[D]")[open_rows[keep]]


def open_books(placements: pd.DataFrame, accrued: pd.DataFrame, as_at: np.datetime64,
               offsets: np.ndarray, stays: LengthOfStayModel, moves: MoveModel | None = None,
               parameters: bool = False, seed: int | None = None,
               moments_above: float | None = None) -> dict[tuple, OpenBook]:
    """One :class:`OpenBook` per line of the open placements with no known end.

    Placements are aged from their **spell's** start (a re-priced or moved placement is
    not new), ordered by client and spell (so draws are keyed by spells, not by how
    they were cut into episodes), and carry their line's move hazard and, where the
    record has a ``latest_end_date`` column (an 18th birthday), that cap. With
    ``parameters``, each book carries its line's stay parameter draws for ``seed``.
    ``moments_above`` goes to every book (:attr:`OpenBook.by_moments`).
    """
    open_rows = np.asarray(open_without_end(accrued), dtype=bool)
    positions = np.flatnonzero(open_rows)
    if not positions.size:
        return {}
    spell_start = _open_spell_starts(placements, open_rows)
    start = placements["start_date"].to_numpy(dtype="datetime64[D]")[positions]
    client = pd.factorize(placements["client_id"].iloc[positions], sort=True)[0]
    order = np.lexsort((start, spell_start, client))
    # one copy of the open rows, already in order (at national size the open rows are a
    # million: a masked copy then a reordered one held two at once)
    rows = placements.iloc[positions[order]]
    spell_start, start = spell_start[order], start[order]
    terms = price_terms(rows)
    daily = terms.cost_numerator / terms.cost_denominator - terms.income_per_week / 7.0
    age = (as_at - spell_start).astype("int64") + 1
    delay = np.maximum((start - as_at).astype("int64") - 1, 0).astype(float)
    cap = None
    if "latest_end_date" in rows:
        latest = rows["latest_end_date"].to_numpy(dtype="datetime64[D]")
        # a cap already passed by a placement still open: the history shows otherwise
        cap = np.where(np.isnat(latest) | (latest < as_at), np.inf,
                       (latest - as_at).astype("int64"))
    codes, lines = line_codes(rows)
    books = {}
    for code, line in enumerate(lines):  # one book per line, arrays inside
        mask = codes == code
        key = tuple(line)
        # With no length of stay learnt anywhere (no spell started by as_at), an open
        # placement is committed to year-end: the deterministic outturn's basis.
        learnt = key in stays.fits_.index
        distribution = stays.distribution(key) if learnt else _NEVER_ENDS
        books[key] = OpenBook(daily[mask], age[mask].astype(float), distribution, offsets,
                              offsets=delay[mask], cap=None if cap is None else cap[mask],
                              move_rate=moves.rate(key) if moves is not None else 0.0,
                              draws=stays.parameter_draws(key, seed)
                              if parameters and learnt else None,
                              moments_above=moments_above if learnt else None)
    return books


def _new_starts(models: DemandModels, as_at: np.datetime64, months: pd.PeriodIndex,
                offsets: np.ndarray, notes: list[str], seed: int | None = None,
                moments_above: float | None = None) -> tuple[dict, pd.PeriodIndex]:
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
            models.moves.rate(line) if models.moves is not None else 0.0,
            stay_draws=models.stays.parameter_draws(line, seed),
            bootstrap=prices.bootstrap(line, seed),
            pool_years=years if years is not None and len(years) == len(
                prices.pools_[line]) else None,
            inflation_sd=getattr(prices, "inflation_se_", {}).get(line[0], 0.0),
            shock_variance=(market.get("variance_now", 0.0),
                            market.get("variance_per_year", 0.0)),
            by_moments=_by_moments(models, line, len(future), moments_above))
    if missing:
        notes.append(f"{len(missing)} lines have no prices to learn from, so no new starts "
                     "are projected for them.")
    return prepared, future


def _by_moments(models: DemandModels, line: tuple, months: int,
                moments_above: float | None) -> bool:
    """Whether ``line``'s new starts are drawn from their conditional moments: they do
    not move between lines and the starts model expects at least ``moments_above`` of
    them a simulation (its rate a month times the projected months)."""
    if moments_above is None or (models.moves is not None and models.moves.rate(line) > 0):
        return False
    return float(models.starts.fits_.at[line, "rate_per_month"]) * months >= moments_above


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
    executor: Executor | ForkedWorkers | None = None,
    moments_above: float | None = MOMENTS_ABOVE,
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
    The blocks of simulations run on ``executor`` (any
    :class:`concurrent.futures.Executor`, or
    :class:`~forecastlib.simulation.forked.ForkedWorkers`), else on threads over the
    machine's cores:
    the numbers are the same either way (:mod:`~forecastlib.simulation.blocks`).
    New starts of lines expecting at least ``moments_above`` a simulation (and not
    moving between lines) are drawn from their exact moments given each simulation's
    counts and parameters (:mod:`~forecastlib.simulation.start_moments`); ``None``
    simulates every new placement one by one.

    Open books of lines expecting at least ``moments_above`` ends a simulation (and
    not moving between lines) are drawn from their exact path moments given each
    simulation's stay draw (:mod:`~forecastlib.simulation.book_paths`); ``None``
    simulates every open placement one by one.
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

    books = open_books(placements, accrued, as_at_day, offsets, models.stays, models.moves,
                       parameters=True, seed=seed, moments_above=moments_above)
    notes: list[str] = []
    unlearnt = sum(len(book.daily) for book in books.values() if book.distribution is _NEVER_ENDS)
    if unlearnt:
        notes.append(f"{unlearnt} open placements are in lines with no length of stay to "
                     "learn from (no spell started by the as-at date): they are taken to run "
                     "to year-end.")
    new, start_months = _new_starts(models, as_at_day, months, offsets, notes, seed,
                                    moments_above)
    receiving = (set(models.moves.destinations_.columns) if models.moves is not None
                 else set())
    lines = sorted(set(books) | set(new) | {tuple(line) for line in receiving})
    job = BlockJob(models, books, new, lines, offsets, int(simulations), seed,
                   horizon=len(start_months), start_changes=start_changes,
                   draws={tuple(line): models.stays.parameter_draws(tuple(line), seed)
                          for line in receiving})
    count, grid = len(lines), len(offsets)
    paths = np.zeros((count, simulations, grid))
    running = np.zeros((count, simulations), dtype=np.int64)
    open_total, moved_open, process_only, no_common = (np.zeros((count, simulations))
                                                       for _ in range(4))
    made = 0
    for output in simulate_blocks(job, executor, _PROGRESS.get()):
        first, size = job.span(output.block)
        columns = slice(first, first + size)
        paths[:, columns] = output.paths
        running[:, columns] = output.running
        open_total[:, columns] = output.open_total
        moved_open[:, columns] = output.moved_open
        process_only[:, columns] = output.plug_in
        no_common[:, columns] = output.no_common
        made += output.moves
    # Parameters held at their estimates: the stay draws' variation taken out over all
    # simulations (it needs every block), plus the process-only new starts.
    groups = range(models.stays.draws) if getattr(models.stays, "draws", 0) > 0 else None
    for position, line in enumerate(lines):
        if line in books and grid:
            process_only[position] += _held_at_estimates(open_total[position],
                                                         books[line].draws)
        if made:
            process_only[position] += _held_at_estimates(moved_open[position], groups)
    if made:
        notes.append(f"Placements may move between lines before year-end "
                     f"({made / simulations:.1f} moves a simulation on average), each "
                     "receiving line paying from the move day.")
    simulated = SimulatedOutturn(
        lines=pd.MultiIndex.from_tuples(lines, names=["service", "category"]) if lines
        else pd.MultiIndex.from_arrays([[], []], names=["service", "category"]),
        months=months, paths=paths, process_only=process_only, running=running,
        expected_open=_BookMoments(books),
        notes=notes, no_common=no_common)
    return simulated, known, known_running.to_frame("running")


class _BookMoments(Mapping):
    """Each open book's exact ``(mean, variance)`` (:meth:`OpenBook.expected_cost`), by
    line, computed when first looked up and then kept."""

    def __init__(self, books: dict[tuple, OpenBook]) -> None:
        self._books = books
        self._moments: dict[tuple, tuple[float, float]] = {}

    def __getitem__(self, line: tuple) -> tuple[float, float]:
        if line not in self._moments:
            self._moments[line] = self._books[line].expected_cost()
        return self._moments[line]

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._books)

    def __len__(self) -> int:
        return len(self._books)

    def __repr__(self) -> str:
        return f"_BookMoments({len(self)} lines, {len(self._moments)} computed)"


def _held_at_estimates(totals: np.ndarray, draws: object | None) -> np.ndarray:
    """Open placements' cost with the stay parameters' variation taken out: each group
    of simulations sharing draw ``k`` (``s mod K``) is moved to the overall mean."""
    if draws is None or len(totals) < 2 * len(draws):
        return totals
    group = np.arange(len(totals)) % len(draws)
    sizes = np.bincount(group, minlength=len(draws))
    means = np.bincount(group, weights=totals, minlength=len(draws)) / sizes
    return totals - means[group] + totals.mean()
