"""Movement since last month: the change in each line's forecast, explained.

Both months are forecast on the same seed, each from its own record (the previous
month's placements as they stood at ``previous_as_at``, this month's at ``as_at``), and
the change in every line's forecast mean is split into named amounts that sum to it
to the penny (the data contract's ``movement``):

``new_placements``
    episodes of spells in this month's record that start after the previous as-at
    (and were not in the previous record): their whole expected cost this year.
``ended_placements``
    episodes open at the previous as-at whose end is now earlier than the previous
    forecast assumed (ended, given an earlier end, or removed): the change in their
    expected cost. An episode that closes for a price change and reopens on the same
    line nets out here; only its new price goes to ``price_changes``.
``price_changes``
    the whole effect of a new price from its first day: episodes opened at a new price
    within a running spell on the same line, and a changed ``unit_cost`` (or other
    price term) on the same ``placement_id``: ``(new daily rate - old daily rate) x days``.
``moves``
    episodes opened in a spell already running at the previous as-at on another line
    (a move between placement types) or alongside it (an extra package).
``actuals``
    the change in the gap between ledger actuals and the record's accrued cost to date
    (zero for a month given no ledger).
``model``
    everything else: the change in the expected remaining stay of open placements
    with no known end (a month older, models re-fitted), new-start projections,
    other record corrections and simulation noise. It is the change less the other
    components, in pennies, so the components always sum exactly.

An episode's *expected cost* is its net rate times its expected days in the year: its
days on its effective end when the end is known, else its days to as-at plus its
expected remaining days under the line's length-of-stay model (the conditional stay
the simulation uses). With no new starts and every open episode given an end, every
figure is exact arithmetic and ``model`` is zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecastlib.accrual.engine import open_without_end
from forecastlib.accrual.rates import OPEN_END, effective_ends, price_terms
from forecastlib.calendar import AsAt
from forecastlib.errors import ConfigError
from forecastlib.lines import LINE_KEYS, union_lines
from forecastlib.outturn.expected import expected_remaining_days
from forecastlib.outturn.forecast import ForecastOptions, outturn_from_inputs
from forecastlib.outturn.rag import RagPolicy
from forecastlib.outturn.result import OutturnResult
from forecastlib.scenarios.transform import ForecastInputs

__all__ = ["MOVEMENT_COMPONENTS", "Movement", "direction", "movement"]

#: The movement's components, in the order reports show them.
MOVEMENT_COMPONENTS = ["new_placements", "ended_placements", "price_changes", "moves", "actuals",
              "model"]

#: Arrows for the direction of travel, as the seeds print them.
ARROWS = {"up": "\u2191", "down": "\u2193", "level": "\u2194"}

_PRICE_COLUMNS = ["unit_cost", "unit", "units_per_week", "weeks_per_year", "income_per_week"]


@dataclass(frozen=True)
class Movement:
    """The change in the forecast since the previous month, per line and in total.

    Attributes
    ----------
    lines : DataFrame
        Indexed by ``(service, category)``: ``previous``, ``current`` (forecast means,
        to the penny), ``change``, one column per :data:`MOVEMENT_COMPONENTS` entry (pounds,
        summing to ``change`` to the penny), ``placements_previous`` and
        ``placements_current`` (snapshots at each as-at), ``unit_cost_previous`` and
        ``unit_cost_current`` (mean price of the placements running then), and the
        direction of travel ``dot_placements``, ``dot_unit_cost``, ``dot_forecast``
        (``"up"``, ``"down"`` or ``"level"``).
    total : Series
        The same for all lines (sums of the lines' pennies).
    episodes : DataFrame
        One row per episode with a non-zero amount: ``placement_id``, ``service``,
        ``category``, ``component`` and ``amount`` (what the line components sum).
    previous, current : OutturnResult
        The two forecasts.
    """

    lines: pd.DataFrame
    total: pd.Series
    episodes: pd.DataFrame
    previous: OutturnResult
    current: OutturnResult
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        return (f"Movement({self.previous.as_at} -> {self.current.as_at}, "
                f"lines={len(self.lines)}, change={self.total['change']:,.2f})")


def direction(previous: np.ndarray, current: np.ndarray, level_share: float = 0.005
              ) -> np.ndarray:
    """``"up"``, ``"down"`` or ``"level"`` (a change within ``level_share`` of the
    previous value, or both missing).

    Examples
    --------
    >>> direction(np.array([100.0, 100.0, 100.0]), np.array([103.0, 100.2, 90.0])).tolist()
    ['up', 'level', 'down']
    """
    previous = np.nan_to_num(np.asarray(previous, dtype="float64"))
    current = np.nan_to_num(np.asarray(current, dtype="float64"))
    change = current - previous
    level = np.abs(change) <= level_share * np.abs(previous)
    return np.where(level, "level", np.where(change > 0, "up", "down"))


def _episodes(inputs: ForecastInputs) -> pd.DataFrame:
    """Per episode: line, ends, expected days in the year and expected net cost."""
    placements, accrued, as_at = inputs.placements, inputs.accrued, inputs.as_at.day
    ends, _ = effective_ends(placements, as_at, use_planned_ends=inputs.use_planned_ends)
    remaining = expected_remaining_days(inputs)
    is_open = open_without_end(accrued)
    days = np.where(is_open, accrued["days_to_date"].to_numpy() + remaining,
                    accrued["days_in_year"].to_numpy()).astype("float64")
    terms = price_terms(placements)
    start = placements["start_date"].to_numpy(dtype="datetime64[D]").astype("int64")
    cut = as_at.astype("int64")
    frame = pd.DataFrame({
        "placement_id": placements["placement_id"].to_numpy(),
        "client_id": placements["client_id"].to_numpy(),
        "service": placements["service"].to_numpy(),
        "category": placements["category"].to_numpy(),
        "start": start,
        "end": np.where(is_open, OPEN_END, ends),
        "days": days,
        "numerator": terms.cost_numerator,
        "denominator": terms.cost_denominator,
        "income_per_week": terms.income_per_week,
        "cost": terms.cost(days) - terms.income(days),
        "to_date": accrued["net_to_date"].to_numpy(),
        "running": (start <= cut) & (ends >= cut),
        "unit_cost": placements["unit_cost"].to_numpy(dtype="float64"),
    })
    for column in _PRICE_COLUMNS:
        frame["price_" + column] = placements[column].to_numpy()
    return frame


def _spell_starts(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Per episode: the first day of its spell (a client's touching episodes in one
    service, across categories) and the row of the episode before it in the spell
    (-1 for a spell's first episode)."""
    order = frame.sort_values(["service", "client_id", "start"], kind="stable").index
    book = frame.loc[order]
    group = book.groupby(["service", "client_id"], sort=False)
    reach = group["end"].cummax()
    previous_reach = reach.groupby([book["service"], book["client_id"]], sort=False).shift()
    continues = previous_reach.notna() & (book["start"] <= previous_reach.fillna(0) + 1)
    spell = (~continues).cumsum()
    spell_start = book.groupby(spell)["start"].transform("min").to_numpy()
    before = np.where(continues, np.roll(order.to_numpy(), 1), -1)
    starts = np.empty(len(frame), dtype=np.int64)
    predecessor = np.empty(len(frame), dtype=np.int64)
    starts[order.to_numpy()] = spell_start
    predecessor[order.to_numpy()] = before
    return starts, predecessor


def _cost_at(frame: pd.DataFrame, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Net cost of ``days`` at the price terms of ``frame``'s ``rows``."""
    numerator = frame["numerator"].to_numpy()[rows]
    denominator = frame["denominator"].to_numpy()[rows]
    income = frame["income_per_week"].to_numpy()[rows]
    return numerator * days / denominator - income * days / 7.0


def _attribute(before: pd.DataFrame, now: pd.DataFrame, previous_as_at: np.datetime64
               ) -> pd.DataFrame:
    """Every episode's amounts by component (rows: placement, line, component, amount)."""
    cut = np.datetime64(previous_as_at, "D").astype("int64")
    key = ["placement_id", "service", "category"]
    matched = now.reset_index(drop=True).merge(
        before.reset_index(drop=True).reset_index(names="row_before"), on=key, how="left",
        suffixes=("", "_before"), indicator=True)
    in_both = (matched["_merge"] == "both").to_numpy()
    pieces = []

    def add(mask: np.ndarray, frame: pd.DataFrame, component: str, amount: np.ndarray) -> None:
        if mask.any():
            pieces.append(pd.DataFrame({
                "placement_id": frame["placement_id"].to_numpy()[mask],
                "service": frame["service"].to_numpy()[mask],
                "category": frame["category"].to_numpy()[mask],
                "component": component, "amount": np.asarray(amount)[mask]}))

    # Episodes in both records (same id, same line): price part, then date part.
    rows_before = matched["row_before"].fillna(0).to_numpy(dtype=np.int64)
    days_now = matched["days"].to_numpy()
    old_price_now_days = _cost_at(before, rows_before, days_now)
    repriced = np.zeros(len(matched), dtype=bool)
    for column in _PRICE_COLUMNS:
        repriced |= (matched["price_" + column].to_numpy()
                     != matched["price_" + column + "_before"].to_numpy())
    repriced &= in_both
    add(repriced, matched, "price_changes", matched["cost"].to_numpy() - old_price_now_days)
    date_part = old_price_now_days - matched["cost_before"].fillna(0).to_numpy()
    was_open = in_both & (matched["start_before"].to_numpy() <= cut) & (
        matched["end_before"].fillna(0).to_numpy() >= cut)
    earlier = was_open & (matched["end"].to_numpy() < matched["end_before"].fillna(0).to_numpy())
    add(in_both & earlier, matched, "ended_placements", date_part)
    add(in_both & ~earlier, matched, "model", date_part)

    # Episodes only in this month's record: new spells, re-prices, moves.
    spell_start, predecessor = _spell_starts(now)
    fresh = ~in_both
    new_spell = fresh & (spell_start > cut)
    add(new_spell, matched, "new_placements", matched["cost"].to_numpy())
    old_spell = fresh & ~new_spell
    has_before = predecessor >= 0
    same_line = np.zeros(len(now), dtype=bool)
    pred = np.where(has_before, predecessor, 0)
    same_line[has_before] = ((now["service"].to_numpy()[pred] == now["service"].to_numpy())
                             & (now["category"].to_numpy()[pred] == now["category"].to_numpy())
                             )[has_before]
    continuation = old_spell & same_line
    at_old_price = _cost_at(now, pred, days_now)
    add(continuation, matched, "price_changes", matched["cost"].to_numpy() - at_old_price)
    add(continuation, matched, "ended_placements", at_old_price)
    add(old_spell & ~same_line, matched, "moves", matched["cost"].to_numpy())

    # Episodes only in the previous record (removed): ended if they were running.
    gone = ~before.set_index(key).index.isin(now.set_index(key).index)
    running = (before["start"].to_numpy() <= cut) & (before["end"].to_numpy() >= cut)
    lost = -before["cost"].to_numpy()
    add(gone & running, before, "ended_placements", lost)
    add(gone & ~running, before, "model", lost)
    if not pieces:
        return pd.DataFrame(columns=["placement_id", *LINE_KEYS, "component", "amount"])
    return pd.concat(pieces, ignore_index=True)


def _snapshot(frame: pd.DataFrame, lines: pd.MultiIndex) -> tuple[np.ndarray, np.ndarray]:
    running = frame[frame["running"]]
    grouped = running.groupby(LINE_KEYS)["unit_cost"]
    return (grouped.size().reindex(lines).fillna(0).to_numpy(dtype=np.int64),
            grouped.mean().reindex(lines).to_numpy(dtype="float64"))


def _pence(values: object) -> np.ndarray:
    return np.round(np.asarray(values, dtype="float64") * 100).astype(np.int64)


def _prepared(placements: pd.DataFrame, budget: pd.DataFrame, as_at: AsAt,
              actuals: pd.DataFrame | None, new_starts: bool, use_planned_ends: bool
              ) -> ForecastInputs:
    """One month's inputs, accrued, with models fitted when anything is simulated."""
    inputs = ForecastInputs.prepare(placements, budget, as_at, actuals,
                                    use_planned_ends=use_planned_ends,
                                    new_starts=new_starts).accrue()
    if not new_starts and not open_without_end(inputs.accrued).any():
        return inputs
    return inputs.fitted()


def movement(
    previous_placements: pd.DataFrame,
    placements: pd.DataFrame,
    budget: pd.DataFrame,
    previous_as_at: object,
    as_at: object,
    *,
    actuals: pd.DataFrame | None = None,
    previous_actuals: pd.DataFrame | None = None,
    new_starts: bool = True,
    use_planned_ends: bool = True,
    interval: float = 0.8,
    simulations: int = 10_000,
    seed: int | None = None,
    policy: RagPolicy | None = None,
    level_share: float = 0.005,
) -> Movement:
    """Forecast both months on one seed and explain the change per line.

    Parameters
    ----------
    previous_placements, placements : DataFrame
        The validated record as it stood at ``previous_as_at`` and as it stands now.
    budget : DataFrame
        The validated budget (the same for both months).
    previous_as_at, as_at : date-like
        The two as-at dates, in the same financial year, ``previous_as_at`` first.
    actuals, previous_actuals : DataFrame, optional
        Ledger actuals of each month; the ``actuals`` component is the change in the
        gap between the ledger and the record's accrued cost to date.
    new_starts, use_planned_ends, interval, simulations, seed, policy
        As :func:`~forecastlib.outturn.forecast_outturn`, for both months.
    level_share : float, default 0.005
        A unit cost or forecast within this share of last month's is ``"level"``.

    Returns
    -------
    Movement

    Examples
    --------
    >>> import pandas as pd
    >>> from forecastlib.records import read_budget, read_placements
    >>> def record(rows):
    ...     return read_placements(pd.DataFrame(rows).assign(
    ...         client_id=lambda f: f.placement_id, service="LAC", category="Residential"))
    >>> before = record({"placement_id": ["P1"], "start_date": ["2017-04-01"],
    ...                  "planned_end_date": ["2018-03-31"], "unit_cost": ["700"]})
    >>> now = record({"placement_id": ["P1", "P2"], "start_date": ["2017-04-01", "2017-10-10"],
    ...               "planned_end_date": ["2018-03-31", "2017-12-31"],
    ...               "unit_cost": ["700", "700"]})
    >>> budget = read_budget(pd.DataFrame({"service": ["LAC"], "category": ["Residential"],
    ...                                    "annual_budget": ["40000"]}))
    >>> moved = movement(before, now, budget, "2017-09-30", "2017-10-31", new_starts=False)
    >>> moved.total[["change", "new_placements", "model"]].tolist()  # 83 days at 100 a day
    [8300.0, 8300.0, 0.0]
    """
    previous, current = AsAt.of(previous_as_at), AsAt.of(as_at)
    previous_day, as_at_day = previous.day, current.day
    if current.year != previous.year:
        raise ConfigError(f"movement compares two months of one financial year; "
                          f"previous as-at {previous_day} and as-at {as_at_day} are in "
                          f"different years")
    if previous_day >= as_at_day:
        raise ConfigError(f"previous as-at {previous_day} must be before as-at {as_at_day}")
    options = ForecastOptions(interval=interval, simulations=simulations, seed=seed,
                              policy=policy or RagPolicy())
    inputs_before = _prepared(previous_placements, budget, previous, previous_actuals,
                              new_starts, use_planned_ends)
    inputs_now = _prepared(placements, budget, current, actuals, new_starts, use_planned_ends)
    before = outturn_from_inputs(inputs_before, options)
    now = outturn_from_inputs(inputs_now, options)
    episodes_before = _episodes(inputs_before)
    episodes_now = _episodes(inputs_now)

    lines = union_lines(before.lines.index, now.lines.index)
    previous = _pence(before.lines["mean"].reindex(lines).fillna(0.0))
    current = _pence(now.lines["mean"].reindex(lines).fillna(0.0))
    out = pd.DataFrame(index=lines)
    out["previous"], out["current"] = previous / 100, current / 100
    out["change"] = (current - previous) / 100

    attributed = _attribute(episodes_before, episodes_now, previous_day)
    by_line = (attributed.groupby([*LINE_KEYS, "component"])["amount"].sum()
               .unstack("component").reindex(index=lines, columns=MOVEMENT_COMPONENTS).fillna(0.0))
    gap_before = _ledger_gap(before, episodes_before, lines, previous_actuals is not None)
    gap_now = _ledger_gap(now, episodes_now, lines, actuals is not None)
    by_line["actuals"] = gap_now - gap_before
    pence = {name: _pence(by_line[name]) for name in MOVEMENT_COMPONENTS if name != "model"}
    pence["model"] = (current - previous) - np.sum(list(pence.values()), axis=0)
    for name in MOVEMENT_COMPONENTS:
        out[name] = pence[name] / 100

    out["placements_previous"], out["unit_cost_previous"] = _snapshot(episodes_before, lines)
    out["placements_current"], out["unit_cost_current"] = _snapshot(episodes_now, lines)
    out["dot_placements"] = direction(out["placements_previous"], out["placements_current"], 0)
    out["dot_unit_cost"] = direction(out["unit_cost_previous"], out["unit_cost_current"],
                                     level_share)
    out["dot_forecast"] = direction(out["previous"], out["current"], level_share)

    money = ["previous", "current", "change", *MOVEMENT_COMPONENTS]
    total = pd.Series({name: int(_pence(out[name]).sum()) / 100 for name in money},
                      name=("Total", ""), dtype=object)
    total["placements_previous"] = int(out["placements_previous"].sum())
    total["placements_current"] = int(out["placements_current"].sum())
    total["unit_cost_previous"] = total["unit_cost_current"] = np.nan
    total["dot_placements"] = str(direction([total["placements_previous"]],
                                            [total["placements_current"]], 0)[0])
    total["dot_unit_cost"] = "level"
    total["dot_forecast"] = str(direction([total["previous"]], [total["current"]],
                                          level_share)[0])
    notes = []
    if new_starts:
        notes.append("model includes the change in projected new starts (placements "
                     "that started since last month are in new_placements).")
    return Movement(lines=out, total=total, episodes=attributed, previous=before,
                    current=now, notes=notes)


def _ledger_gap(result: OutturnResult, episodes: pd.DataFrame, lines: pd.MultiIndex,
                ledger: bool) -> np.ndarray:
    if not ledger:
        return np.zeros(len(lines))
    accrued = episodes.groupby(LINE_KEYS)["to_date"].sum().reindex(lines).fillna(0.0)
    return (result.lines["actual_to_date"].reindex(lines).fillna(0.0) - accrued).to_numpy()
