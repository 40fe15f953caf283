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
from forecastlib.demand import LengthOfStayModel, MoveModel, PriceModel, StartsModel
from forecastlib.demand.history import episode_spells
from forecastlib.lines import line_codes
from forecastlib.simulation.new_starts import NewStarts
from forecastlib.simulation.open_book import OpenBook, simulate_segments
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
    moves: MoveModel | None = None

    @classmethod
    def fit(cls, placements: pd.DataFrame, as_at: object, new_starts: bool = True
            ) -> DemandModels:
        """Fit lengths of stay and moves between lines (and, for new starts, starts
        and prices) to the record."""
        stays = LengthOfStayModel().fit(placements, as_at)
        moves = MoveModel().fit(placements, as_at)
        history = placements["start_date"] <= pd.Timestamp(np.datetime64(as_at, "D"))
        if not new_starts or not history.any():  # no start by as_at: no rate to learn
            return cls(stays, moves=moves)
        return cls(stays, StartsModel().fit(placements, as_at),
                   PriceModel().fit(placements, as_at), moves)


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
    # (an open episode with no day left this year, one starting after it, costs nothing)
    known = ~open_without_end(accrued) & accrued["effective_end"].notna().to_numpy()
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
               offsets: np.ndarray, stays: LengthOfStayModel, moves: MoveModel | None = None,
               parameters: bool = False, seed: int | None = None) -> dict[tuple, OpenBook]:
    """One :class:`OpenBook` per line of the open placements with no known end.

    Placements are aged from their **spell's** start (a re-priced or moved placement is
    not new), ordered by client and spell (so draws are keyed by spells, not by how
    they were cut into episodes), and carry their line's move hazard and, where the
    record has a ``latest_end_date`` column (an 18th birthday), that cap. With
    ``parameters``, each book carries its line's stay parameter draws for ``seed``.
    """
    open_rows = open_without_end(accrued)
    rows = placements[open_rows]
    if rows.empty:
        return {}
    spell_start = episode_spells(placements)["spell_start"].to_numpy(
        dtype="datetime64[D]")[open_rows]
    start = rows["start_date"].to_numpy(dtype="datetime64[D]")
    order = np.lexsort((start, spell_start, pd.factorize(rows["client_id"], sort=True)[0]))
    rows, spell_start, start = rows.iloc[order], spell_start[order], start[order]
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
                              if parameters and learnt else None)
    return books


#: Rounds of moves followed within the year (a spell moving more often is rare).
MOVE_ROUNDS = 24


@dataclass
class _Entries:
    """Spells entering a line by a move, each in one simulation."""

    sim: np.ndarray
    age: np.ndarray
    day: np.ndarray
    cap: np.ndarray

    @staticmethod
    def join(parts: list[_Entries]) -> _Entries:
        return _Entries(*(np.concatenate([getattr(p, name) for p in parts])
                          for name in ("sim", "age", "day", "cap")))


def _route(entries: _Entries, source: tuple, moves: MoveModel, seed: int | None,
           chunk: int, incoming: dict[tuple, list[_Entries]]) -> None:
    """Send the spells leaving ``source`` to the lines they move to."""
    targets, shares = moves.destinations(source)
    if not targets or entries.sim.size == 0:
        return
    rng = stream(seed, source, "moves", chunk)
    choice = np.searchsorted(np.cumsum(shares), rng.random(entries.sim.size) * shares.sum(),
                             side="right").clip(0, len(targets) - 1)
    for index, target in enumerate(targets):
        pick = choice == index
        if pick.any():
            incoming.setdefault(target, []).append(_Entries(
                entries.sim[pick], entries.age[pick], entries.day[pick], entries.cap[pick]))


def _entry_prices(line: tuple, day: np.ndarray, models: DemandModels,
                  rng: np.random.Generator) -> np.ndarray:
    """Net daily price of spells moving into ``line`` on ``day`` (days after as_at)."""
    prices = models.prices
    if prices is not None and line in prices.pools_:
        pool, inflation, jitter = prices.pools_[line], prices.inflation_[line[0]], prices.jitter
    else:
        pool, inflation, jitter = models.moves.pools_[line], 0.0, 0.0
    terms = price_terms(pool)
    pick = rng.integers(0, len(pool), day.size)
    factor = np.exp(day * (np.log1p(inflation) / 365.25))
    if jitter:
        factor = factor * np.exp(rng.normal(-jitter**2 / 2, jitter, day.size))
    return factor * (terms.cost_numerator[pick] / terms.cost_denominator[pick]
                     - terms.income_per_week[pick] / 7.0)


def _simulate_moves(movers: dict[tuple, _Entries], models: DemandModels,
                    offsets: np.ndarray, simulations: int, seed: int | None,
                    position: dict[tuple, int], paths: np.ndarray, running: np.ndarray,
                    extra: np.ndarray, kind: int = 0, parameters: bool = True) -> int:
    """Follow moved spells line to line until the year ends; returns the moves made.

    Each receiving line pays from the move day at a price drawn from its own price
    records, for the rest of the spell: the spell's end is drawn from the receiving
    line's length of stay conditioned on the spell's age, and it may move again.
    ``extra`` (lines x simulations) collects the moved spells' year-end cost. ``kind``
    keys the random streams (0: open placements' moves, 1: new placements' moves). With
    ``parameters``, a spell in simulation ``s`` takes the receiving line's stay
    parameter draw ``s mod K`` (else the fitted stay).
    """
    moves = models.moves
    incoming: dict[tuple, list[_Entries]] = {}
    total = 0
    for source in sorted(movers):
        _route(movers[source], source, moves, seed, 1000 + 10_000 * kind, incoming)
        total += movers[source].sim.size
    for round_ in range(1, MOVE_ROUNDS + 1):
        if not incoming:
            break
        arriving, incoming = incoming, {}
        for line in sorted(arriving):
            entries = _Entries.join(arriving[line])
            rng = stream(seed, line, "moves", 2000 + round_ + 10_000 * kind)
            daily = _entry_prices(line, entries.day.astype(float), models, rng)
            draws = models.stays.parameter_draws(line, seed) if parameters else None
            line_paths, line_running, moved, day = simulate_segments(
                models.stays.distribution(line), entries.sim, daily, entries.age,
                entries.day - 1.0, entries.cap, moves.rate(line), offsets, rng, simulations,
                draws=draws)
            row = position[line]
            paths[row] += line_paths
            running[row] += line_running
            extra[row] += line_paths[:, -1]
            if moved.size and round_ < MOVE_ROUNDS:
                total += moved.size
                _route(_Entries(entries.sim[moved], entries.age[moved], day, entries.cap[moved]),
                       line, moves, seed, 1000 + round_ + 10_000 * kind, incoming)
    return total


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
            models.moves.rate(line) if models.moves is not None else 0.0,
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


def _new_entries(parts: dict[tuple, list[dict]]) -> dict[tuple, _Entries]:
    entries = {}
    for line, found in parts.items():
        if found and sum(part["sim"].size for part in found):
            sim = np.concatenate([part["sim"] for part in found])
            entries[line] = _Entries(sim, np.concatenate([part["age"] for part in found]),
                                     np.concatenate([part["day"] for part in found]),
                                     np.full(sim.size, np.inf))
    return entries


def _follow_moves(movers: dict[tuple, _Entries], new_movers: tuple[dict, dict],
                  models: DemandModels, offsets: np.ndarray, simulations: int,
                  seed: int | None, lines: list[tuple], paths: np.ndarray,
                  running: np.ndarray, process_only: np.ndarray,
                  no_common: np.ndarray | None = None) -> int:
    """Simulate the moves of open and of new placements; returns the moves made.

    The plug-in new starts (``process_only``) move by the same streams as the drawn ones,
    as their prices and stays do, with the stay parameters at their estimates; the
    open placements' moved cost enters ``process_only`` with the stay draws' variation
    taken out (:func:`_held_at_estimates`). Moved spells' prices carry no common shock:
    their cost is added to ``no_common`` as it is.
    """
    if models.moves is None:
        return 0
    position = {line: k for k, line in enumerate(lines)}
    count = len(lines)
    made = 0
    if movers:
        moved_cost = np.zeros((count, simulations))
        made += _simulate_moves(movers, models, offsets, simulations, seed, position, paths,
                                running, moved_cost)
        groups = range(models.stays.draws) if getattr(models.stays, "draws", 0) > 0 else None
        for row in range(count):
            process_only[row] += _held_at_estimates(moved_cost[row], groups)
        if no_common is not None:
            no_common += moved_cost
    drawn, plug = _new_entries(new_movers[0]), _new_entries(new_movers[1])
    if drawn:
        drawn_cost = np.zeros((count, simulations))
        made += _simulate_moves(drawn, models, offsets, simulations, seed, position, paths,
                                running, drawn_cost, kind=1)
        if no_common is not None:
            no_common += drawn_cost
    if plug:
        plug_cost = np.zeros((count, simulations))
        _simulate_moves(plug, models, offsets, simulations, seed, position,
                        np.zeros_like(paths), np.zeros_like(running), plug_cost, kind=1,
                        parameters=False)
        process_only += plug_cost
    return made


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

    books = open_books(placements, accrued, as_at_day, offsets, models.stays, models.moves,
                       parameters=True, seed=seed)
    notes: list[str] = []
    unlearnt = sum(len(book.daily) for book in books.values() if book.distribution is _NEVER_ENDS)
    if unlearnt:
        notes.append(f"{unlearnt} open placements are in lines with no length of stay to "
                     "learn from (no spell started by the as-at date): they are taken to run "
                     "to year-end.")
    new, start_months = _new_starts(models, as_at_day, months, offsets, notes, seed)
    receiving = (set(models.moves.destinations_.columns) if models.moves is not None
                 else set())
    lines = sorted(set(books) | set(new) | {tuple(line) for line in receiving})
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
    progress = _PROGRESS.get()
    movers: dict[tuple, _Entries] = {}
    new_movers: tuple[dict, dict] = ({}, {})  # new placements moving: drawn, plug-in
    for position, line in enumerate(lines):
        if progress is not None:
            progress(position, count)
        if line in books:
            book = books[line]
            expected_open[line] = book.expected_cost()
            book_paths, book_running, moved = book.simulate_all_moves(seed, line, simulations)
            paths[position] += book_paths
            running[position] += book_running
            if moved["sim"].size:
                movers[line] = _Entries(moved["sim"], book.age[moved["placement"]],
                                        moved["day"].astype(float),
                                        book.last_day[moved["placement"]])
            if grid:
                process_only[position] = _held_at_estimates(book_paths[:, -1], book.draws)
        no_common[position] = paths[position, :, -1] if grid else 0.0
        if line in new:
            index = start_lines.index(line)
            unshocked = np.zeros(simulations)
            new_paths, new_running = new[line].simulate(
                counts[index], seed, line, movers=new_movers[0].setdefault(line, []),
                market=market, no_common=unshocked)
            paths[position] += new_paths
            running[position] += new_running
            no_common[position] += unshocked
            if grid:  # the same price and stay streams, with every parameter at its estimate
                plug_paths, _ = new[line].simulate(
                    plug_counts[index], seed, line, totals_only=True,
                    movers=new_movers[1].setdefault(line, []), parameters=False)
                process_only[position] += plug_paths[:, -1]
    made = _follow_moves(movers, new_movers, models, offsets, simulations, seed, lines,
                         paths, running, process_only, no_common)
    if made:
        notes.append(f"Placements may move between lines before year-end "
                     f"({made / simulations:.1f} moves a simulation on average), each "
                     "receiving line paying from the move day.")
    if progress is not None:
        progress(count, count)
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
