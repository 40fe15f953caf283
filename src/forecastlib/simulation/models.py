"""What an outturn simulation draws from: the fitted demand models, and a scenario's
changes to new starts."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecastlib.demand import (
    LengthOfStayModel,
    MoveModel,
    PriceModel,
    SpellHistory,
    StartsModel,
)
from forecastlib.simulation.forked import fork_call
from forecastlib.streams import stream

__all__ = ["DemandModels", "StartChanges"]


@dataclass
class DemandModels:
    """The fitted demand models an outturn simulation draws from."""

    stays: LengthOfStayModel
    starts: StartsModel | None = None
    prices: PriceModel | None = None
    moves: MoveModel | None = None

    @classmethod
    def fit(cls, placements: pd.DataFrame, as_at: object, new_starts: bool = True, *,
            fork: bool = False) -> DemandModels:
        """Fit lengths of stay and moves between lines (and, for new starts, starts
        and prices) to the record.

        With ``fork``, when starts and prices are fitted too, the lengths of stay and
        moves are fitted in a process forked from this one (POSIX) while this one fits
        starts and prices: the same models, in about half the time on two cores (the
        fits hold the interpreter's lock, so threads would not help). See
        :mod:`forecastlib.simulation.forked`.
        """
        history = SpellHistory.build(placements)  # spells and segments, once for all fits
        started = placements["start_date"] <= pd.Timestamp(np.datetime64(as_at, "D"))
        if not new_starts or not started.any():  # no start by as_at: no rate to learn
            stays, moves = _stays_and_moves(placements, as_at, history)
            return cls(stays, moves=moves)
        stays_and_moves = (fork_call(_stays_and_moves, placements, as_at, history) if fork
                           else _stays_and_moves(placements, as_at, history))
        starts = StartsModel().fit(placements, as_at, history=history)
        prices = PriceModel().fit(placements, as_at, history=history)
        stays, moves = stays_and_moves() if fork else stays_and_moves
        return cls(stays, starts, prices, moves)


def _stays_and_moves(placements: pd.DataFrame, as_at: object, history: SpellHistory
                     ) -> tuple[LengthOfStayModel, MoveModel]:
    return (LengthOfStayModel().fit(placements, as_at, history=history),
            MoveModel().fit(placements, as_at, history=history))


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

    def move(self, counts: np.ndarray, lines: list[tuple[str, str]], seed: int | None,
             block: int | None = None) -> np.ndarray:
        """``counts`` (lines x simulations x months) after the moves, drawn from the
        streams of simulation block ``block``."""
        counts = counts.copy()
        for number, (source, target, shares) in enumerate(self.moves):
            rng = stream(seed, source, "moves", number, block=block)
            i, j = lines.index(source), lines.index(target)
            moved = rng.binomial(counts[i], shares[None, :])
            counts[i] -= moved
            counts[j] += moved
        return counts

    def __bool__(self) -> bool:
        return bool(self.factors or self.moves)
