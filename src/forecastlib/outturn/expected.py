"""Expected remaining days of each open placement, aligned with the record's rows.

An open placement with no known end runs, after ``as_at``, for an expected
``sum_{d=1}^{D} P(alive on day d)`` days this year: ``P(E >= d) = S(a + d - 1) / S(c)``
under its line's length of stay (``a`` its spell's age, ``c`` the age it is known to have
reached), 0 before it starts and after a cap (an 18th birthday), times
``exp(-lambda (d - s))`` of no move out of the line by day ``d``. These are the
per-placement terms of :meth:`~forecastlib.simulation.open_book.OpenBook.expected_cost`'s
mean, which the simulation's mean converges to; here they stay attached to their rows
(an :class:`OpenBook` holds its line's placements in spell order, not the record's).
"""

from __future__ import annotations

import numpy as np

from forecastlib.accrual.engine import open_without_end
from forecastlib.demand.history import episode_spells
from forecastlib.lines import line_codes
from forecastlib.scenarios.transform import ForecastInputs

__all__ = ["expected_remaining_days"]

#: Placement-days held in memory at once.
_BLOCK = 1 << 22


def expected_remaining_days(inputs: ForecastInputs) -> np.ndarray:
    """Expected days each placement runs after ``as_at`` this year, if it is open with no
    known end (0 for every other row, and for all with no fitted models).

    Parameters
    ----------
    inputs : ForecastInputs
        Accrued (:meth:`ForecastInputs.accrue`), with models (:meth:`ForecastInputs.fitted`).

    Returns
    -------
    ndarray
        One value per row of ``inputs.placements``.

    Examples
    --------
    >>> import pandas as pd
    >>> from forecastlib.records import read_budget, read_placements
    >>> book = read_placements(pd.DataFrame({"placement_id": ["P1", "P2", "P3", "P4"],
    ...     "client_id": ["C1", "C2", "C3", "C4"], "service": ["LAC"] * 4,
    ...     "category": ["IFA"] * 4, "unit_cost": ["700"] * 4,
    ...     "start_date": ["2016-04-01", "2016-06-01", "2017-01-01", "2017-10-01"],
    ...     "end_date": ["2016-07-31", "2016-12-31", "2017-05-31", ""]}))
    >>> budget = read_budget(pd.DataFrame({"service": ["LAC"], "category": ["IFA"],
    ...                                    "annual_budget": ["40000"]}))
    >>> inputs = ForecastInputs.prepare(book, budget, "2017-10-31", new_starts=False)
    >>> days = expected_remaining_days(inputs.accrue().fitted())
    >>> days[:3].tolist(), bool(0 < days[3] < 151)  # P4 may run to 31 March: 151 days
    ([0.0, 0.0, 0.0], True)
    """
    placements, as_at, models = inputs.placements, inputs.as_at, inputs.models
    accrued = inputs.accrue().accrued
    out = np.zeros(len(placements))
    rows = np.flatnonzero(open_without_end(accrued))
    offsets = as_at.offsets
    if models is None or len(rows) == 0 or len(offsets) == 0:
        return out
    book = placements.iloc[rows]
    spell_start = episode_spells(placements)["spell_start"].to_numpy(
        dtype="datetime64[D]")[rows]
    start = book["start_date"].to_numpy(dtype="datetime64[D]")
    age = (as_at.day - spell_start).astype("int64").astype(float) + 1
    delay = np.maximum((start - as_at.day).astype("int64") - 1, 0).astype(float)
    last_day = np.full(len(rows), np.inf)
    if "latest_end_date" in book:
        latest = book["latest_end_date"].to_numpy(dtype="datetime64[D]")
        capped = ~np.isnat(latest) & (latest >= as_at.day)
        last_day[capped] = (latest[capped] - as_at.day).astype("int64")
    conditioning = np.maximum(age + delay, 0)
    horizon = int(offsets[-1])
    days = np.arange(1, horizon + 1, dtype=float)[None, :]
    codes, lines = line_codes(book)
    for code, line in enumerate(lines):  # one line at a time, arrays inside
        key = tuple(line)
        positions = np.flatnonzero(codes == code)
        learnt = key in models.stays.fits_.index  # else never ends (the commitment basis)
        sf = models.stays.distribution(key).sf if learnt else None
        rate = models.moves.rate(key) if models.moves is not None else 0.0
        for first in range(0, len(positions), max(1, _BLOCK // horizon)):  # bounded memory
            part = positions[first:first + max(1, _BLOCK // horizon)]
            offset = delay[part][:, None]
            if sf is None:
                alive = np.ones((len(part), horizon))
            else:
                survived = np.maximum(sf(conditioning[part]), 1e-300)[:, None]
                alive = np.minimum(sf(age[part][:, None] + days - 1) / survived, 1.0)
            alive = np.where((days <= offset) | (days > last_day[part][:, None]), 0.0, alive)
            if rate > 0:
                alive = alive * np.exp(-rate * np.clip(days - offset, 0, None))
            out[rows[part]] = alive.sum(axis=1)
    return out
