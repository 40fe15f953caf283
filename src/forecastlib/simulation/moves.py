"""Spells moving between lines before year-end, followed line to line in one block of
simulations.

A spell that moves out of a line (an open placement, or a new one) enters the line it
moves to on its move day, at a price drawn from that line's price records, for the rest
of the spell: its end is drawn from the receiving line's length of stay conditioned on
the spell's age, and it may move again (up to :data:`MOVE_ROUNDS` rounds). Destinations
and entries draw from streams keyed by the line, the round and the simulation block
(:func:`forecastlib.streams.stream`), so a block's moves depend only on that block.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecastlib.accrual.rates import price_terms
from forecastlib.demand import MoveModel
from forecastlib.demand.stay_draws import StayDraws
from forecastlib.simulation.models import DemandModels
from forecastlib.simulation.segments import simulate_segments
from forecastlib.streams import stream

__all__ = ["MOVE_ROUNDS", "Entries", "follow_moves", "new_entries"]

#: Rounds of moves followed within the year (a spell moving more often is rare).
MOVE_ROUNDS = 24


@dataclass
class Entries:
    """Spells entering a line by a move, each in one simulation of the block."""

    sim: np.ndarray
    age: np.ndarray
    day: np.ndarray
    cap: np.ndarray

    @staticmethod
    def join(parts: list[Entries]) -> Entries:
        return Entries(*(np.concatenate([getattr(p, name) for p in parts])
                         for name in ("sim", "age", "day", "cap")))


@dataclass(frozen=True)
class _Block:
    """Where the moves are drawn: seed, simulation block, its first global simulation
    and its size."""

    seed: int | None
    number: int
    first: int
    simulations: int


def _route(entries: Entries, source: tuple, moves: MoveModel, block: _Block, chunk: int,
           incoming: dict[tuple, list[Entries]]) -> None:
    """Send the spells leaving ``source`` to the lines they move to."""
    targets, shares = moves.destinations(source)
    if not targets or entries.sim.size == 0:
        return
    rng = stream(block.seed, source, "moves", chunk, block=block.number)
    choice = np.searchsorted(np.cumsum(shares), rng.random(entries.sim.size) * shares.sum(),
                             side="right").clip(0, len(targets) - 1)
    for index, target in enumerate(targets):
        pick = choice == index
        if pick.any():
            incoming.setdefault(target, []).append(Entries(
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


def _simulate_moves(movers: dict[tuple, Entries], models: DemandModels, offsets: np.ndarray,
                    block: _Block, draws: dict[tuple, StayDraws | None],
                    position: dict[tuple, int], paths: np.ndarray, running: np.ndarray,
                    extra: np.ndarray, kind: int = 0, parameters: bool = True) -> int:
    """Follow moved spells line to line until the year ends; returns the moves made.

    ``extra`` (lines x simulations) collects the moved spells' year-end cost. ``kind``
    keys the random streams (0: open placements' moves, 1: new placements' moves). With
    ``parameters``, a spell in simulation ``s`` (global) takes the receiving line's stay
    parameter draw ``s mod K`` (else the fitted stay).
    """
    moves = models.moves
    incoming: dict[tuple, list[Entries]] = {}
    total = 0
    for source in sorted(movers):
        _route(movers[source], source, moves, block, 1000 + 10_000 * kind, incoming)
        total += movers[source].sim.size
    for round_ in range(1, MOVE_ROUNDS + 1):
        if not incoming:
            break
        arriving, incoming = incoming, {}
        for line in sorted(arriving):
            entries = Entries.join(arriving[line])
            rng = stream(block.seed, line, "moves", 2000 + round_ + 10_000 * kind,
                         block=block.number)
            daily = _entry_prices(line, entries.day.astype(float), models, rng)
            line_paths, line_running, moved, day = simulate_segments(
                models.stays.distribution(line), entries.sim, daily, entries.age,
                entries.day - 1.0, entries.cap, moves.rate(line), offsets, rng,
                block.simulations, draws=draws.get(line) if parameters else None,
                first=block.first)
            row = position[line]
            paths[row] += line_paths
            running[row] += line_running
            extra[row] += line_paths[:, -1]
            if moved.size and round_ < MOVE_ROUNDS:
                total += moved.size
                _route(Entries(entries.sim[moved], entries.age[moved], day, entries.cap[moved]),
                       line, moves, block, 1000 + round_ + 10_000 * kind, incoming)
    return total


def new_entries(parts: dict[tuple, list[dict]]) -> dict[tuple, Entries]:
    """The new placements that moved, per line (from :meth:`NewStarts.simulate`'s
    ``movers`` lists), as entries with no cap."""
    entries = {}
    for line, found in parts.items():
        if found and sum(part["sim"].size for part in found):
            sim = np.concatenate([part["sim"] for part in found])
            entries[line] = Entries(sim, np.concatenate([part["age"] for part in found]),
                                    np.concatenate([part["day"] for part in found]),
                                    np.full(sim.size, np.inf))
    return entries


def follow_moves(movers: dict[tuple, Entries], new_movers: tuple[dict, dict],
                 models: DemandModels, offsets: np.ndarray,
                 draws: dict[tuple, StayDraws | None], lines: list[tuple], paths: np.ndarray,
                 running: np.ndarray, plug_in: np.ndarray, no_common: np.ndarray, *,
                 seed: int | None, block: int, first: int) -> tuple[int, np.ndarray]:
    """Simulate the moves of open and of new placements in one block of simulations.

    The block is number ``block`` of seed ``seed``, its first simulation the global
    simulation ``first``; ``paths``,
    ``running`` (lines x block's simulations) receive every move's cost and year-end
    placements. Returns the moves made and the open placements' moved cost per line
    (lines x simulations), which the engine holds at the stay estimates over all
    blocks. The plug-in new starts' movers (``new_movers[1]``) move by the same streams
    as the drawn ones with the stay parameters at their estimates; their cost goes to
    ``plug_in`` only. Moved spells' prices carry no common shock: their cost is added
    to ``no_common`` as it is.
    """
    count, simulations = paths.shape[:2]
    moved_open = np.zeros((count, simulations))
    if models.moves is None:
        return 0, moved_open
    where = _Block(seed, block, first, simulations)
    position = {line: k for k, line in enumerate(lines)}
    made = 0
    if movers:
        made += _simulate_moves(movers, models, offsets, where, draws, position, paths,
                                running, moved_open)
        no_common += moved_open
    drawn, plug = new_entries(new_movers[0]), new_entries(new_movers[1])
    if drawn:
        drawn_cost = np.zeros((count, simulations))
        made += _simulate_moves(drawn, models, offsets, where, draws, position, paths,
                                running, drawn_cost, kind=1)
        no_common += drawn_cost
    if plug:
        plug_cost = np.zeros((count, simulations))
        _simulate_moves(plug, models, offsets, where, draws, position, np.zeros_like(paths),
                        np.zeros_like(running), plug_cost, kind=1, parameters=False)
        plug_in += plug_cost
    return made, moved_open
