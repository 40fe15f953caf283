"""Sensitivity of the expected outturn to the forecast's assumptions, and goal-seek.

:class:`OutturnSurface` is the expected outturn of every line as a vectorised function of
named assumptions, built once from the demand models:

.. math:: \\mathbb{E}[O_\\ell] = A_\\ell + p_\\ell \\big(K_\\ell + O_\\ell(s_\\ell)
          + r_\\ell\\, (1 + \\Delta\\pi)^{\\bar t_\\ell}\\, N_\\ell(s_\\ell) + M_\\ell\\big)

with ``A`` actuals, ``K`` the known commitments, ``O(s)`` the exact expected cost of open
placements when stays are scaled by ``s`` (analytic moments, interpolated on a grid),
``N(s)`` the expected cost of the line's own new starts (simulated once, rescaled for
stays), ``M`` the expected cost of placements **moving in** from other lines (paid at
this line's prices from the move day: the forecast with moves minus the same forecast,
same seed, in which spells leaving a line are received nowhere), and the
assumptions ``p`` (price), ``r`` (start rate), ``s`` (length of stay) per line and
``Delta pi`` (a change in yearly price inflation for new starts, ``t_bar`` their mean
years after ``as_at``). Thousands of evaluations take milliseconds, so one-at-a-time
sweeps (a tornado), global variance-based indices (``scipy.stats.sobol_indices``) and
goal-seek (``scipy.optimize.brentq``) run in seconds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import optimize, stats

from forecastlib.accrual import accrue
from forecastlib.accrual.engine import resolve_year
from forecastlib.outturn import forecast_outturn
from forecastlib.outturn.rag import RagPolicy
from forecastlib.outturn.result import OutturnResult
from forecastlib.scenarios.schema import Savings, Scenario
from forecastlib.simulation.engine import (
    DemandModels,
    open_books,
    remaining_grid,
    simulate_remaining,
)
from forecastlib.simulation.open_book import OpenBook

__all__ = ["OutturnSurface", "goal_seek", "placements_before_red", "share_to_balance",
           "sobol_table", "tornado"]

STAY_GRID = np.linspace(0.5, 1.5, 11)


def _scaled(distribution: stats.rv_continuous, factor: float) -> stats.rv_continuous:
    kwds = dict(distribution.kwds)
    kwds["scale"] = kwds.get("scale", 1.0) * factor
    return distribution.dist(*distribution.args, **kwds)


def _truncated_stay(distribution: stats.rv_continuous, horizon: float) -> float:
    """Mean of min(T, R) with R uniform on (0, horizon]: a new start's days this year."""
    remaining = np.linspace(horizon / 30, horizon, 30)
    days = np.arange(1, int(horizon) + 1, dtype=float)
    alive = distribution.sf(days - 1)
    cumulative = np.cumsum(alive)
    return float(np.mean(cumulative[np.clip(remaining.astype(int) - 1, 0, None)]))


@dataclass
class OutturnSurface:
    """Expected outturn per line as a function of assumptions (see module notes)."""

    lines: pd.MultiIndex
    budget: np.ndarray
    actual: np.ndarray
    known: np.ndarray
    open_grid: np.ndarray  # (lines, len(STAY_GRID))
    new_grid: np.ndarray  # (lines, len(STAY_GRID))
    new_years: np.ndarray  # mean years after as_at of new starts' spend
    savings: np.ndarray | None = None  # planned savings still to come this year, per line
    moved_in: np.ndarray | None = None  # expected cost of placements moving in, per line

    @classmethod
    def from_forecast(cls, result: OutturnResult, placements: pd.DataFrame,
                      models: DemandModels, simulations: int = 1000, seed: int | None = 0,
                      savings: Scenario | None = None) -> OutturnSurface:
        """Build the surface for the lines of ``result`` from the same models.

        ``savings``: a scenario whose ``savings`` changes form the savings plan; the
        ``savings`` assumption is then the share of it delivered (1 = all of it).
        """
        simulated, known, _ = simulate_remaining(placements, result.as_at, models,
                                                 simulations=simulations, seed=seed)
        kept = _received_nowhere(placements, result.as_at, models, simulations, seed)
        lines = result.lines.index
        count = len(lines)
        moved_in = np.zeros(count)
        known_total = known.reindex(lines).fillna(0.0).to_numpy()
        known_total = known_total[:, -1] if known_total.shape[1] else np.zeros(count)
        open_grid = np.zeros((count, len(STAY_GRID)))
        new_grid = np.zeros((count, len(STAY_GRID)))
        horizon = float(simulated.paths.shape[2] and (
            pd.Timestamp(simulated.months[-1].end_time).normalize()
            - pd.Timestamp(result.as_at)).days)
        books = _books(placements, result.as_at, models)
        for position, line in enumerate(simulated.lines):
            row = lines.get_loc(tuple(line))
            open_mean = simulated.expected_open.get(tuple(line), (0.0, 0.0))[0]
            total_mean = simulated.totals[position].mean()
            own_mean = kept.get(tuple(line), total_mean)
            moved_in[row] = total_mean - own_mean
            new_mean = own_mean - open_mean
            book = books.get(tuple(line))
            distribution = models.stays.distribution(tuple(line))
            base_stay = _truncated_stay(distribution, horizon) if horizon else 1.0
            # anchored at the forecast's open mean (which averages the stay parameter draws)
            anchor = open_mean - (book.expected_cost()[0] if book is not None else 0.0)
            for k, factor in enumerate(STAY_GRID):
                scaled = _scaled(distribution, factor)
                if book is not None:
                    open_grid[row, k] = anchor + replace(
                        book, distribution=scaled).expected_cost()[0]
                if base_stay > 0 and horizon:
                    new_grid[row, k] = new_mean * _truncated_stay(scaled, horizon) / base_stay
        planned = None
        if savings is not None:
            planned = np.zeros(count)
            year_end = pd.Timestamp(f"{result.year + 1}-03-31")
            for change in savings.changes:
                if isinstance(change, Savings) and (change.service, change.category) in lines:
                    first = max(pd.Timestamp(change.start), pd.Timestamp(result.as_at)
                                + pd.Timedelta(days=1))
                    days = max((year_end - first).days + 1, 0)
                    daily = change.amount / (365.0 if change.per == "year" else 7.0)
                    planned[lines.get_loc((change.service, change.category))] += daily * days
        return cls(lines, result.lines["budget"].to_numpy(dtype=float),
                   result.lines["actual_to_date"].to_numpy(dtype=float), known_total,
                   open_grid, new_grid, np.full(count, horizon / 2 / 365.25), planned,
                   moved_in)

    def parameters(self) -> list[str]:
        """Names of the assumptions: ``price|...``, ``starts|...``, ``stay|...`` per line
        (``service / category``), ``inflation`` and, with a savings plan, ``savings``."""
        names = []
        for service, category in self.lines:
            row = self.lines.get_loc((service, category))
            if (self.known[row] or self.open_grid[row].any() or self.new_grid[row].any()
                    or (self.moved_in is not None and self.moved_in[row])):
                label = f"{service} / {category}"
                names += [f"price|{label}", f"starts|{label}", f"stay|{label}"]
        return [*names, "inflation", *(["savings"] if self.savings is not None else [])]

    def evaluate(self, values: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Expected outturn per line, shape ``(samples, lines)``.

        ``values`` maps assumption names to arrays of samples (multipliers, 1 = as
        fitted; ``inflation`` is an additive change in the yearly rate, 0 = as fitted;
        ``savings`` the share of the savings plan delivered, 1 = all).
        """
        values = values or {}
        size = max((np.size(v) for v in values.values()), default=1)
        count = len(self.lines)
        price = np.ones((size, count))
        starts = np.ones((size, count))
        stay = np.ones((size, count))
        for name, value in values.items():
            if name in ("inflation", "savings"):
                continue
            kind, _, label = name.partition("|")
            service, _, category = label.partition(" / ")
            target = {"price": price, "starts": starts, "stay": stay}.get(kind)
            if target is None or (service, category) not in self.lines:
                raise KeyError(f"unknown assumption {name!r}; see OutturnSurface.parameters()")
            target[:, self.lines.get_loc((service, category))] = np.asarray(value, dtype=float)
        inflation = np.asarray(values.get("inflation", 0.0), dtype=float).reshape(-1, 1)
        open_cost = np.column_stack([np.interp(stay[:, i], STAY_GRID, self.open_grid[i])
                                     for i in range(count)])
        new_cost = np.column_stack([np.interp(stay[:, i], STAY_GRID, self.new_grid[i])
                                    for i in range(count)])
        growth = (1 + inflation) ** self.new_years[None, :]
        moved_in = np.zeros(count) if self.moved_in is None else self.moved_in
        outturn = self.actual + price * (self.known + open_cost + starts * growth * new_cost
                                         + moved_in[None, :])
        if "savings" in values:
            if self.savings is None:
                raise KeyError("unknown assumption 'savings': build the surface with a "
                               "savings plan (from_forecast(..., savings=scenario))")
            delivered = np.asarray(values["savings"], dtype=float).reshape(-1, 1)
            outturn = outturn - delivered * self.savings[None, :]
        return outturn

    def total(self, values: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Expected total outturn, shape ``(samples,)``.

        With a savings plan and no ``savings`` value, the plan is taken as delivered.
        """
        values = dict(values or {})
        if self.savings is not None:
            values.setdefault("savings", np.ones(1))
        return self.evaluate(values).sum(axis=1)


def _received_nowhere(placements: pd.DataFrame, as_at: object, models: DemandModels,
                      simulations: int, seed: int | None) -> dict[tuple[str, str], float]:
    """Mean remaining spend per line when spells that move out are received nowhere.

    Same seed as the forecast (common random numbers): each line's open placements and
    new starts are drawn exactly as there, so the difference from the forecast is the
    cost of the placements moving in. Empty when no line receives moves.
    """
    moves = models.moves
    if moves is None or not len(moves.destinations_.columns):
        return {}
    nowhere = copy.copy(moves)
    nowhere.destinations_ = moves.destinations_.iloc[0:0, 0:0]
    simulated, _, _ = simulate_remaining(placements, as_at, replace(models, moves=nowhere),
                                         simulations=simulations, seed=seed)
    return {tuple(line): float(simulated.totals[position].mean())
            for position, line in enumerate(simulated.lines)}


def _books(placements: pd.DataFrame, as_at: np.datetime64, models: DemandModels
           ) -> dict[tuple[str, str], OpenBook]:
    as_at_day, year = resolve_year(as_at)
    _, offsets = remaining_grid(as_at_day, year)
    return open_books(placements, accrue(placements, as_at_day, year=year), as_at_day,
                      offsets, models.stays, models.moves)


def tornado(surface: OutturnSurface, ranges: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """One-at-a-time sweeps: the expected total outturn at each assumption's low and high.

    Returns a table sorted by swing (largest first): ``low``, ``high``, ``outturn_low``,
    ``outturn_high``, ``swing``.
    """
    base = float(surface.total()[0])
    rows = {}
    for name, (low, high) in ranges.items():
        low_total, high_total = surface.total({name: np.array([low, high])})
        rows[name] = {"low": low, "high": high, "outturn_low": low_total,
                      "outturn_high": high_total, "swing": abs(high_total - low_total)}
    table = pd.DataFrame.from_dict(rows, orient="index").sort_values("swing", ascending=False)
    table.attrs["base"] = base
    return table


def sobol_table(surface: OutturnSurface, ranges: dict[str, tuple[float, float]],
                samples: int = 1024, seed: int | None = 0) -> pd.DataFrame:
    """First-order and total Sobol indices of the expected total outturn.

    Each assumption varies uniformly over its range; ``scipy.stats.sobol_indices``
    draws the design and the surface evaluates it vectorised.
    """
    names = list(ranges)
    distributions = [stats.uniform(low, high - low) for low, high in ranges.values()]

    def function(x: np.ndarray) -> np.ndarray:
        return surface.total(dict(zip(names, x, strict=True)))[None, :]

    result = stats.sobol_indices(func=function, n=samples, dists=distributions,
                                 rng=np.random.default_rng(seed))
    return pd.DataFrame({"first_order": np.ravel(result.first_order),
                         "total_order": np.ravel(result.total_order)},
                        index=names).sort_values("total_order", ascending=False)


def goal_seek(function: Callable[[float], float], target: float, low: float, high: float,
              tolerance: float = 1e-6) -> float:
    """The value in ``[low, high]`` where ``function`` reaches ``target`` (Brent's method).

    Raises ``ValueError`` naming the bracket when the target is not crossed within it.
    """
    def gap(value: float) -> float:
        return function(value) - target

    low_gap, high_gap = gap(low), gap(high)
    if np.sign(low_gap) == np.sign(high_gap) and low_gap != 0:
        raise ValueError(f"the target {target:,.2f} is not reached between {low} and {high} "
                         f"(values {low_gap + target:,.2f} and {high_gap + target:,.2f})")
    return float(optimize.brentq(gap, low, high, xtol=tolerance))


def placements_before_red(result: OutturnResult, line: tuple[str, str], unit_cost: float,
                          start: object, duration_weeks: float,
                          policy: RagPolicy | None = None) -> float:
    """How many extra placements (at ``unit_cost`` a week from ``start`` for
    ``duration_weeks``) the line's expected outturn can absorb before it turns red."""
    policy = policy or RagPolicy()
    row = result.lines.loc[line]
    budget = float(row["budget"])
    year_end = pd.Timestamp(f"{result.year + 1}-03-31")
    days = max(0, min((year_end - pd.Timestamp(start)).days + 1, int(duration_weeks * 7)))
    per_placement = unit_cost / 7.0 * days
    red_at = max(policy.red_share * abs(budget), policy.red_amount)

    def variance_with(extra: float) -> float:
        return float(row["mean"]) + extra * per_placement - budget

    if variance_with(0) > red_at:
        return 0.0
    return goal_seek(variance_with, red_at, 0.0, 1e6)


def share_to_balance(placements: pd.DataFrame, budget: pd.DataFrame, as_at: object,
                     source: tuple[str, str], target: tuple[str, str], start: object, *,
                     models: DemandModels, actuals: pd.DataFrame | None = None,
                     lines: list[tuple[str, str]] | None = None,
                     simulations: int = 400, seed: int | None = 0) -> float:
    """The share of ``source``'s new starts to move to ``target`` (from ``start``) that
    brings ``lines`` (default: the two lines together) exactly to budget in expectation.

    Each evaluation is a full forecast with the same seed (common random numbers);
    ``ValueError`` says which outturns shares of 0 and 1 give when no share balances.
    """

    def combined_variance(share: float) -> float:
        scenario = None
        if share > 0:
            scenario = Scenario(name="mix", changes=[{
                "kind": "mix_shift", "service": source[0], "from_category": source[1],
                "to_service": target[0], "to_category": target[1], "share": share,
                "start": start}])
        result = forecast_outturn(placements, budget, as_at, actuals=actuals,
                                  simulations=simulations, seed=seed, models=models,
                                  scenario=scenario)
        return float(result.lines.loc[lines or [source, target], "variance"].sum())

    return goal_seek(combined_variance, 0.0, 0.0, 1.0, tolerance=1e-3)
