"""The cells of a block of simulations in which an open placement has an event.

An open placement ends this year in a simulation when its uniform ``u`` is at least
``t = P(E > D)`` and moves when its move uniform ``v`` is below ``m = P(move by D)``. The
kernel (:class:`~forecastlib.simulation.OpenBook`) needs only the cells with an event and
their ``(u, v)``: :func:`cell_events` draws a uniform per cell; :func:`direct_events`
draws the same in distribution at a cost of about the placements plus the events
(:func:`bernoulli_cells`), which pays when the events are rare (long stays).
"""

from __future__ import annotations

import numpy as np

__all__ = ["bernoulli_cells", "cell_events", "direct_events"]


def _rows(table: np.ndarray, draw: np.ndarray | None) -> np.ndarray:
    """A per-placement table as rows per simulation: ``table`` is one row (shape
    ``(n,)`` or ``(1, n)``, broadcast) or one row per draw (``(K, n)``, row
    ``draw[s]`` for simulation ``s``)."""
    if table.ndim == 1:
        return table[None, :]
    return table[:1] if len(table) == 1 or draw is None else table[draw]


def cell_events(rng: np.random.Generator, simulations: int, threshold: np.ndarray,
                move_within: np.ndarray | None, draw: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The cells with an event, from one uniform per cell (two with moves): simulation,
    placement, end uniform and move uniform of each, ordered by simulation.

    ``threshold`` and ``move_within`` are per placement, or per draw and placement with
    ``draw`` giving each simulation's row."""
    count = threshold.shape[-1]
    uniform = rng.random((simulations, count), dtype=np.float32)
    event = uniform >= _rows(threshold, draw)
    if move_within is not None:
        move_uniform = rng.random((simulations, count), dtype=np.float32)
        event |= move_uniform < _rows(move_within, draw)
    flat = np.flatnonzero(event)
    rows = flat // count
    cols = flat - rows * count
    chance = move_uniform.ravel()[flat] if move_within is not None else None
    return rows, cols, uniform.ravel()[flat], chance


def direct_events(rng: np.random.Generator, simulations: int, threshold: np.ndarray,
                  move_within: np.ndarray | None, draw: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """The cells with an event drawn directly, in the same distribution as
    :func:`cell_events`.

    A placement has an event (an end this year, ``u >= t``, or a move, ``v < m``) in
    each simulation independently with ``q = 1 - t (1 - m)``: the simulations in which
    it does are a Bernoulli process, drawn as geometric gaps (:func:`bernoulli_cells`).
    Given an event, ``(u, v)`` is uniform on the event region: with ``w`` uniform on
    ``[0, q)``, an end (``u = t + w``, ``v`` uniform) when ``w < 1 - t``, otherwise a
    move alone (``v`` uniform on ``[0, m)``, ``u`` below ``t``). The cost is about the
    placements plus the events, not the cells.

    With a row per draw (``q`` varying by simulation), candidates are drawn at each
    placement's highest ``q`` over the draws and kept with probability ``q / q_max``
    (thinning: exact); ``w = r q_max`` of a kept candidate (``r`` its thinning uniform)
    is then uniform on ``[0, q)``.
    """
    t_rows = np.atleast_2d(threshold).astype(float)
    m_rows = (np.zeros((1, t_rows.shape[1])) if move_within is None
              else np.atleast_2d(move_within).astype(float))
    highest = (1.0 - t_rows * (1.0 - m_rows)).max(axis=0)
    rows, cols = bernoulli_cells(rng, highest, simulations)
    pick_t = 0 if len(t_rows) == 1 or draw is None else draw[rows]
    pick_m = 0 if len(m_rows) == 1 or draw is None else draw[rows]
    t, m = t_rows[pick_t, cols], m_rows[pick_m, cols]
    q = 1.0 - t * (1.0 - m)
    w = rng.random(rows.size) * highest[cols]
    kept = np.flatnonzero(w < q)
    if kept.size < rows.size:  # thinning, with several draws
        rows, cols, t, m, w = rows[kept], cols[kept], t[kept], m[kept], w[kept]
    ends = w < 1.0 - t
    below_one = np.nextafter(np.float32(1), np.float32(0))
    # t is a float32 value, so t + w rounds to a float32 no smaller than t
    drawn = np.where(ends, np.minimum((t + w).astype(np.float32), below_one),
                     np.float32(-1))
    if move_within is None:
        return rows, cols, drawn, None
    v = rng.random(rows.size, dtype=np.float32)
    m32 = m.astype(np.float32)
    alone = np.minimum(v * m32, np.nextafter(m32, np.float32(0)))
    return rows, cols, drawn, np.where(ends, v, alone)


def bernoulli_cells(rng: np.random.Generator, probability: np.ndarray, simulations: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The simulations (``rows``) in which each placement (``cols``) has an event, each
    simulation independently with the placement's ``probability``.

    The gaps between a Bernoulli process's successes are geometric, so each placement's
    event simulations are a cumulative sum of geometric gaps (``floor(log(1 - U) /
    log(1 - p)) + 1``), drawn for all placements at once: a first round with enough
    gaps for most placements (mean plus four standard deviations), further rounds for
    the few that have not passed the last simulation. Rounds, not placements or
    simulations, are the loop.

    Examples
    --------
    >>> rows, cols = bernoulli_cells(np.random.default_rng(0), np.array([0.0, 1.0, 0.5]), 4)
    >>> sorted(rows[cols == 1].tolist()), int((cols == 0).sum())
    ([0, 1, 2, 3], 0)
    """
    found_rows, found_cols = [], []
    active = np.flatnonzero(probability > 0)
    position = np.full(active.size, -1, dtype=np.int64)  # last event simulation so far
    while active.size:
        p = probability[active]
        left = simulations - 1 - position  # simulations after the last event
        mean = left * p
        gaps = np.ceil(mean + 4 * np.sqrt(mean * (1 - p)) + 2)
        gaps = np.minimum(gaps, left).astype(np.int64)
        with np.errstate(divide="ignore"):
            log_stay = np.log1p(-p)
        owner = np.repeat(np.arange(active.size), gaps)
        skip = np.floor(np.log1p(-rng.random(owner.size)) / log_stay[owner]) + 1
        # a skip of simulations + 1 always passes the last simulation
        skip = np.minimum(np.nan_to_num(skip, nan=simulations + 1), simulations + 1)
        skip = skip.astype(np.int64)
        total = np.cumsum(skip)
        before = np.cumsum(gaps) - gaps  # first gap of each placement
        offset = position - (total[before] - skip[before])  # every active placement has gaps
        at = total + offset[owner]
        keep = at < simulations
        found_rows.append(at[keep])
        found_cols.append(active[owner[keep]])
        last = at[before + gaps - 1]
        more = last < simulations - 1
        active, position = active[more], last[more]
    if not found_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(found_rows), np.concatenate(found_cols)
