"""Moves between lines inside spells: a competing risk beside ending.

A spell in line ``A`` (a child in residential care, say) leaves ``A`` either because
the spell **ends** (the child leaves care) or because it **moves** to another line of
the same service (residential to fostering). The two are competing risks on the same
clock. Ending is modelled per line by
:class:`~forecastlib.demand.survival.LengthOfStayModel` on the spell's age, with
segments left by a move censored there. Moving is modelled here by its
cause-specific hazard, constant in time, and a multinomial choice of destination:

.. math:: \\hat\\lambda_A = \\frac{m_A}{E_A}, \\qquad
          \\hat p_{A \\to B} = \\frac{m_{A \\to B}}{m_A}

with ``m_A`` the moves out of ``A`` observed between ``history_start`` and ``as_at``
and ``E_A`` the days spells spent in ``A`` over the same window (the maximum
likelihood estimates under censoring: a segment still open at ``as_at``, ended, or
begun before the history contributes only the days it was observed). The time to the
next move of a spell in ``A`` is exponential with rate ``lambda_A`` whatever its age,
so an open placement's next move is drawn afresh from ``as_at``.

**Parameter uncertainty.** Under the prior ``1 / lambda`` the posterior of a line's
rate is ``Gamma(m_A, E_A)`` (mean the estimate above, coefficient of variation
``1 / sqrt(m_A)``), and that of its destination shares ``Dirichlet(m_{A -> B})``.
:meth:`MoveModel.rate_draws` and :meth:`MoveModel.destination_draws` give ``draws`` of
each, reproducibly (streams ``(seed, line, "moves")`` in chunks kept for parameters,
:data:`RATE_CHUNK` and :data:`SHARE_CHUNK`, apart from the simulation's), for
simulation ``s`` to use draw ``s mod K`` like the stays'
:class:`~forecastlib.demand.stay_draws.StayDraws`. A line never seen moving keeps a rate
of zero (no destination to move to).

A spell that moves into ``B`` pays ``B``'s price from the move day: a price record of
``B`` is drawn from the price model's pool of ``B`` (or, for a line that receives moves
but has no new starts to learn prices from, from ``B``'s placements open at ``as_at``,
kept here in ``pools_``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.demand.history import SpellHistory, resolve_history_start, segments
from forecastlib.demand.record_codes import RecordCodes, group_rows
from forecastlib.lines import LINE_KEYS
from forecastlib.streams import stream

__all__ = ["MoveModel"]

#: Stream chunks of the parameter draws (the simulation's move streams use 0-29,999).
RATE_CHUNK, SHARE_CHUNK = 90_001, 90_002

_RECORD_COLUMNS = ["unit_cost", "unit", "units_per_week", "weeks_per_year", "income_per_week"]


def _days(values: pd.Series) -> np.ndarray:
    """Day numbers of dates, open (``NaT``) as a day after any real one."""
    dates = values.to_numpy(dtype="datetime64[D]")
    return np.where(np.isnat(dates), np.iinfo(np.int64).max // 4, dates.astype("int64"))


class MoveModel:
    """Per-line hazards of moving to another line, and where to.

    Parameters
    ----------
    history_start : date-like, optional
        First day of the record's history (default
        :func:`~forecastlib.demand.history.default_history_start`).
    fallback_records : int, default 20
        A line with no placement open at ``as_at`` keeps its latest this many
        episodes as the price records of spells moving into it.
    draws : int, default 40
        Posterior draws of each line's rate and destination shares (0: none).

    Attributes
    ----------
    rates_ : DataFrame
        Per line: ``moves`` out, ``exposure_days`` observed, ``rate_per_year``
        (``365.25 * moves / exposure_days``), ``rate_sd_per_year`` (its posterior
        standard deviation, ``365.25 sqrt(moves) / exposure_days``) and ``p_move_year``
        (probability of moving within a year, ignoring ending).
    destinations_ : DataFrame
        Rows: from-line; columns: to-line; each row's shares sum to 1 (lines with moves).
    pools_ : dict
        Per line, price records (``unit_cost``, ``unit``, ``units_per_week``,
        ``weeks_per_year``, ``income_per_week``) of its placements open at ``as_at``.
    as_at_, history_start_ : numpy.datetime64

    Examples
    --------
    >>> from forecastlib.datasets import load_sample
    >>> sample = load_sample()
    >>> moves = MoveModel().fit(sample.placements, sample.as_at)
    >>> bool((moves.rates_["rate_per_year"] >= 0).all())
    True
    >>> line = moves.rates_.index[0]
    >>> moves.rate_draws(line, seed=1).shape
    (40,)
    """

    def __init__(self, history_start: object | None = None, fallback_records: int = 20,
                 draws: int = 40):
        self.history_start = history_start
        self.fallback_records = fallback_records
        self.draws = draws

    def __repr__(self) -> str:
        if not hasattr(self, "rates_"):
            return f"MoveModel(history_start={self.history_start!r})"
        moving = int((self.rates_["moves"] > 0).sum())
        return (f"MoveModel(lines={len(self.rates_)}, lines_with_moves={moving}, "
                f"moves={int(self.rates_['moves'].sum())})")

    def fit(self, placements: pd.DataFrame, as_at: object,
            history: SpellHistory | None = None) -> MoveModel:
        """Count moves and days at risk per line as at ``as_at``; returns ``self``.

        ``history``: the record's segments built once (:class:`SpellHistory`)."""
        self.as_at_ = np.datetime64(pd.Timestamp(as_at).date(), "D")
        self.history_start_ = resolve_history_start(placements, self.as_at_,
                                                    self.history_start)
        as_at_day = self.as_at_.astype("int64")
        first_day = self.history_start_.astype("int64")
        history = SpellHistory.for_record(placements, history)  # lines coded as integers
        table = segments(placements, history=history)
        line, lines = history.codes.lines(table["first_row"].to_numpy())
        begin = _days(table["start_date"])
        stop = _days(table["end_date"])
        seen_from = np.maximum(begin, first_day)
        seen_to = np.minimum(stop, as_at_day)
        exposure = np.clip(seen_to - seen_from + 1, 0, None)
        moved = (table["moved"].to_numpy(dtype=bool) & (stop + 1 <= as_at_day)
                 & (stop >= first_day))
        # whole days and counts: the sums are exact in any order
        rates = pd.DataFrame(
            {"moves": np.bincount(line, weights=moved, minlength=len(lines)).astype(int),
             "exposure_days": np.bincount(line, weights=exposure.astype(float),
                                          minlength=len(lines))},
            index=pd.MultiIndex.from_tuples(lines, names=LINE_KEYS) if lines
            else pd.MultiIndex.from_arrays([[], []], names=LINE_KEYS))
        with np.errstate(divide="ignore", invalid="ignore"):
            per_day = np.where(rates["exposure_days"] > 0,
                               rates["moves"] / rates["exposure_days"], 0.0)
        rates["rate_per_year"] = per_day * 365.25
        with np.errstate(divide="ignore", invalid="ignore"):
            rates["rate_sd_per_year"] = np.where(
                rates["exposure_days"] > 0,
                365.25 * np.sqrt(rates["moves"]) / rates["exposure_days"], 0.0)
        rates["p_move_year"] = -np.expm1(-per_day * 365.25)
        self.rates_ = rates
        flows = table.loc[moved, LINE_KEYS + ["to_category"]]
        if len(flows):
            counts = pd.crosstab([flows["service"], flows["category"]],
                                 [flows["service"], flows["to_category"]])
            counts.columns = counts.columns.set_names(LINE_KEYS)
            self.destinations_ = counts.div(counts.sum(axis=1), axis=0)
        else:
            empty = pd.MultiIndex.from_arrays([[], []], names=LINE_KEYS)
            self.destinations_ = pd.DataFrame(index=empty, columns=empty, dtype=float)
        self.pools_ = self._pools(placements, history.codes)
        return self

    def _pools(self, placements: pd.DataFrame, codes: RecordCodes
               ) -> dict[tuple[str, str], pd.DataFrame]:
        start = placements["start_date"].to_numpy(dtype="datetime64[D]")
        end = placements["end_date"].to_numpy(dtype="datetime64[D]")
        open_now = (start <= self.as_at_) & (np.isnat(end) | (end >= self.as_at_))
        pools = {}
        wanted = set(self.destinations_.columns)
        line, lines = codes.lines()
        for name, rows in zip(lines, group_rows(line, len(lines)), strict=True):
            if name not in wanted:
                continue
            block = placements.iloc[rows]
            current = block[open_now[rows]]
            if current.empty:
                current = block.sort_values("start_date").tail(self.fallback_records)
            pools[name] = current[_RECORD_COLUMNS].reset_index(drop=True)
        return pools

    def rate(self, line: tuple[str, str]) -> float:
        """Hazard of moving out of ``line``, per day (0 for a line never seen moving)."""
        self._check_fitted()
        if line not in self.rates_.index:
            return 0.0
        return float(self.rates_.loc[line, "rate_per_year"]) / 365.25

    def rate_draws(self, line: tuple[str, str], seed: int | None) -> np.ndarray:
        """``draws`` posterior draws of the hazard of moving out of ``line``, per day.

        ``Gamma(moves, exposure_days)``: mean :meth:`rate`; zeros for a line never seen
        moving. Reproducible: stream ``(seed, line, "moves", RATE_CHUNK)``.
        """
        self._check_fitted()
        if line not in self.rates_.index or self.rates_.loc[line, "moves"] == 0:
            return np.zeros(self.draws)
        moves, exposure = self.rates_.loc[line, ["moves", "exposure_days"]].to_numpy(float)
        return stream(seed, line, "moves", RATE_CHUNK).gamma(moves, 1.0 / exposure, self.draws)

    def destination_draws(self, line: tuple[str, str], seed: int | None
                          ) -> tuple[list[tuple[str, str]], np.ndarray]:
        """The lines ``line`` may move to and ``draws`` posterior draws of the shares,
        shape ``(draws, targets)`` (``Dirichlet`` of the move counts; rows sum to 1)."""
        targets, shares = self.destinations(line)
        if not targets:
            return [], np.zeros((self.draws, 0))
        counts = shares * self.rates_.loc[line, "moves"]
        rng = stream(seed, line, "moves", SHARE_CHUNK)
        return targets, rng.dirichlet(counts, self.draws)

    def destinations(self, line: tuple[str, str]) -> tuple[list[tuple[str, str]], np.ndarray]:
        """The lines a spell leaving ``line`` may move to, and their probabilities."""
        self._check_fitted()
        if line not in self.destinations_.index:
            return [], np.zeros(0)
        shares = self.destinations_.loc[line]
        shares = shares[shares > 0]
        return [tuple(target) for target in shares.index], shares.to_numpy(dtype=float)

    def _check_fitted(self) -> None:
        if not hasattr(self, "rates_"):
            raise RuntimeError("MoveModel is not fitted yet: call fit() first")
