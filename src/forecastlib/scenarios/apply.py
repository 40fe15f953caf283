"""Applying a scenario's changes: to the record, to new starts, and to the simulated spend.

Each kind acts where it belongs, and every random draw it needs comes from its own
stream keyed by the line it touches and its position in the scenario, so the same seed
with and without a scenario uses the same draws for everything the scenario leaves
alone (common random numbers):

* ``end_placements`` changes the record (an end date on the chosen placements);
* ``demand_growth`` scales start rates and ``mix_shift`` moves starts between lines
  before new placements are drawn (:class:`~forecastlib.simulation.StartChanges`);
* ``unit_cost_change``, ``savings`` and ``extra_placements`` change the simulated
  cumulative spend paths of their lines after the simulation, so a deterministic one
  moves its line by exactly its arithmetic.

Lines are named as in data files: case and spaces are ignored (``"lac placements"``
finds ``"LAC Placements"``), the way :func:`~forecastlib.records.reconcile_line_names`
matches the input files.

:func:`transform_inputs` and :func:`transform_paths` are the two halves of the
:class:`~forecastlib.scenarios.transform.Transformation` a
:class:`~forecastlib.scenarios.Scenario` is.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from forecastlib.accrual.rates import price_terms
from forecastlib.records.line_names import line_key
from forecastlib.scenarios.schema import (
    DemandGrowth,
    EndPlacements,
    ExtraPlacements,
    MixShift,
    Savings,
    Scenario,
    ScenarioError,
    UnitCostChange,
)
from forecastlib.scenarios.transform import ForecastInputs, SimulatedPaths, SpendContext
from forecastlib.simulation.engine import DemandModels, StartChanges, projected_start_months
from forecastlib.simulation.open_book import inverse_survival
from forecastlib.streams import stream

__all__ = ["adjust_spend", "apply_to_record", "start_changes", "transform_inputs",
           "transform_paths"]


def _key(name: str) -> str:
    """A name as data files compare it (case and spaces ignored); ``"*"`` stays."""
    return name if name == "*" else str(line_key(pd.Series([name])).iloc[0])


def _matches(lines: pd.Index, service: str, category: str) -> list[tuple[str, str]]:
    """The ``lines`` a change names (``"*"`` for any), case and spaces ignored."""
    if len(lines) == 0:
        return []
    services = line_key(pd.Series(lines.get_level_values(0))).to_numpy()
    categories = line_key(pd.Series(lines.get_level_values(1))).to_numpy()
    wanted_service, wanted_category = _key(service), _key(category)
    hit = ((wanted_service == "*") | (services == wanted_service)) & (
        (wanted_category == "*") | (categories == wanted_category))
    return [lines[i] for i in np.flatnonzero(hit)]


def _line(lines: pd.Index, line: tuple[str, str]) -> tuple[str, str] | None:
    """The one line of ``lines`` spelt ``line`` (case and spaces ignored), else None."""
    found = _matches(lines, *line) if "*" not in line else []
    return found[0] if found else None


def transform_inputs(scenario: Scenario, inputs: ForecastInputs) -> ForecastInputs:
    """The scenario's changes to a forecast's inputs.

    Models are fitted to the record before its changes (so a change to the record does
    not change the models); then ``end_placements`` changes the record and
    ``demand_growth`` / ``mix_shift`` become :class:`StartChanges`.
    """
    scenario.check_dates(inputs.as_at.date)
    inputs = inputs.fitted()
    placements = apply_to_record(inputs.placements, scenario, inputs.as_at.day)
    if placements is not inputs.placements:
        inputs = inputs.with_placements(placements)
    months = projected_start_months(inputs.models, inputs.as_at.months)
    return replace(inputs, start_changes=start_changes(scenario, inputs.models, months))


def transform_paths(scenario: Scenario, paths: SimulatedPaths, context: SpendContext
                    ) -> SimulatedPaths:
    """The scenario's changes to simulated spend (a new :class:`SimulatedPaths`).

    The outturns with parameters held and without the common shock move by the same
    amount as the outturn, simulation by simulation.
    """
    if paths.paths.shape[2] == 0:
        return paths
    changed, running = paths.paths.copy(), paths.running.copy()
    adjust_spend(scenario, changed, running, paths.lines, paths.actual, context)
    effect = changed[:, :, -1] - paths.paths[:, :, -1]
    return replace(paths, paths=changed, running=running,
                   process_only=paths.process_only + effect,
                   no_common=paths.no_common + effect)


def apply_to_record(placements: pd.DataFrame, scenario: Scenario, as_at: np.datetime64
                    ) -> pd.DataFrame:
    """The record with every ``end_placements`` change applied (a new frame)."""
    changed = placements
    for position, change in enumerate(scenario.changes):
        if not isinstance(change, EndPlacements):
            continue
        if changed is placements:
            changed = placements.copy()
        date = pd.Timestamp(change.date)
        running = (changed["start_date"] <= date) & (
            changed["end_date"].isna() | (changed["end_date"] > date))
        if change.placement_ids is not None:
            wanted = pd.Index(change.placement_ids)
            unknown = wanted.difference(changed["placement_id"])
            if len(unknown):
                raise ScenarioError(f"changes[{position}] (end_placements) key "
                                    f"'placement_ids': unknown ids {list(unknown[:5])}")
            chosen = changed["placement_id"].isin(wanted) & running
        else:
            in_line = (running & (line_key(changed["service"]) == _key(change.service))
                       & (line_key(changed["category"]) == _key(change.category)))
            weekly = pd.Series(price_terms(changed).weekly_cost, index=changed.index)
            chosen = changed.index.isin(weekly[in_line].nlargest(change.count).index)
        changed.loc[chosen, "end_date"] = date
        late_plan = chosen & (changed["planned_end_date"] > date)
        changed.loc[late_plan, "planned_end_date"] = date
    return changed


def _month_share(months: pd.PeriodIndex, start: pd.Timestamp) -> np.ndarray:
    """Share of each month's days on or after ``start``."""
    first = months.start_time.to_numpy().astype("datetime64[D]")
    last = months.end_time.normalize().to_numpy().astype("datetime64[D]")
    from_day = np.maximum(first, np.datetime64(start.date(), "D"))
    days = (last - first).astype(int) + 1
    after = np.clip((last - from_day).astype(int) + 1, 0, None)
    return after / days


def start_changes(scenario: Scenario, models: DemandModels, months: pd.PeriodIndex
                  ) -> StartChanges:
    """Start-rate factors and moves between lines for the projected ``months``."""
    changes = StartChanges()
    if models.starts is None:
        return changes
    lines = models.starts.fits_.index
    for position, change in enumerate(scenario.changes):
        if isinstance(change, DemandGrowth):
            share = _month_share(months, pd.Timestamp(change.start))
            targets = _matches(lines, change.service, change.category)
            if not targets:
                raise ScenarioError(f"changes[{position}] (demand_growth): no line matches "
                                    f"service {change.service!r}, category {change.category!r}")
            for line in targets:
                base = changes.factors.get(line, np.ones(len(months)))
                changes.factors[line] = base * (1 + share * change.percent / 100)
        elif isinstance(change, MixShift):
            found = {}
            for key, line in (("from_category", change.source), ("to_category",
                                                                  change.target)):
                found[key] = _line(lines, line)
                if found[key] is None:
                    raise ScenarioError(f"changes[{position}] (mix_shift) key {key!r}: "
                                        f"{line[1]!r} has no starts model in {line[0]!r}")
            source, target = found["from_category"], found["to_category"]
            if models.prices is None or target not in models.prices.pools_:
                raise ScenarioError(f"changes[{position}] (mix_shift) key 'to_category': "
                                    f"no prices to learn from for {change.to_category!r}")
            changes.moves.append((source, target,
                                  _month_share(months, pd.Timestamp(change.start))
                                  * change.share))
    return changes


def _position(lines: pd.Index, line: tuple[str, str], where: str) -> int:
    found = _line(lines, line)
    if found is None:
        raise ScenarioError(f"{where}: no line {line[0]!r} / {line[1]!r} in the forecast")
    return lines.get_loc(found)


def adjust_spend(scenario: Scenario, paths: np.ndarray, running: np.ndarray, lines: pd.Index,
                 actual: np.ndarray, context: SpendContext) -> None:
    """Apply unit-cost changes, savings and extra placements to simulated paths in place.

    ``paths`` is (lines, simulations, months) of cumulative spend including actuals to
    date ``actual``; ``running`` is (lines, simulations) placements in place at year-end.
    """
    simulations = paths.shape[1]
    for position, change in enumerate(scenario.changes):
        where = f"changes[{position}] ({change.kind})"
        if isinstance(change, UnitCostChange):
            targets = _matches(lines, change.service, change.category)
            if not targets:
                raise ScenarioError(f"{where}: no line matches service {change.service!r}, "
                                    f"category {change.category!r}")
            offset = float((np.datetime64(change.start, "D") - context.as_at.day).astype(int))
            for line in targets:
                i = lines.get_loc(line)
                before = _spend_at(paths[i], actual[i], context.offsets, offset)
                paths[i] += (change.percent / 100) * np.clip(paths[i] - before[:, None], 0,
                                                             None)
        elif isinstance(change, Savings):
            i = _position(lines, (change.service, change.category), where)
            daily = change.amount / (365.0 if change.per == "year" else 7.0)
            saving = daily * context.days_from(change.start)
            delivered = np.ones(simulations)
            if change.probability < 1:
                rng = stream(context.seed, lines[i], "savings", position)
                delivered = (rng.random(simulations) < change.probability).astype(float)
            paths[i] -= delivered[:, None] * saving[None, :]
        elif isinstance(change, ExtraPlacements):
            i = _position(lines, (change.service, change.category), where)
            line = lines[i]
            cost, stays = _extra_terms(change, line, context, simulations, position, where)
            start = max((np.datetime64(change.start, "D") - context.as_at.day).astype(int), 1)
            last = start + stays - 1  # (count, simulations) days after as_at
            horizon = context.offsets[-1]
            for k, month_end in enumerate(context.offsets):
                days = np.clip(np.minimum(last, month_end) - start + 1, 0, None)
                paths[i, :, k] += cost / 7.0 * days.sum(axis=0)
            running[i] += (last >= horizon).sum(axis=0)


def _spend_at(paths: np.ndarray, actual: float, offsets: np.ndarray, date: object
              ) -> np.ndarray:
    """Cumulative spend by the day before ``date``, per simulation (linear in a month).

    ``paths`` is one line's (simulations, months) cumulative spend at the month-ends
    ``offsets`` days after ``as_at``; spend at ``as_at`` is ``actual``.
    """
    grid = np.concatenate([[0.0], offsets])
    values = np.column_stack([np.full(paths.shape[0], actual), paths])
    day = float(np.clip(date - 1, 0, grid[-1]))
    k = int(np.searchsorted(grid, day, side="left"))
    if k == 0:
        return values[:, 0]
    weight = (day - grid[k - 1]) / (grid[k] - grid[k - 1])
    return values[:, k - 1] + weight * (values[:, k] - values[:, k - 1])


def _extra_terms(change: ExtraPlacements, line: tuple[str, str], context: SpendContext,
                 simulations: int, position: int, where: str) -> tuple[float, np.ndarray]:
    cost = change.unit_cost
    models = context.models
    if cost is None:
        if models is None or models.prices is None or line not in models.prices.summary_.index:
            raise ScenarioError(f"{where} key 'unit_cost': no recent prices for {line[1]!r}; "
                                "give unit_cost")
        cost = float(models.prices.summary_.loc[line, "mean"])
    if change.duration_weeks is not None:
        stays = np.full((change.count, simulations), np.ceil(change.duration_weeks * 7))
    else:
        if models is None:
            raise ScenarioError(f"{where} key 'duration_weeks': no fitted stays; give it")
        rng = stream(context.seed, line, "extra", position)
        distribution = models.stays.distribution(line)
        stays = np.maximum(np.ceil(inverse_survival(
            distribution, rng.random((change.count, simulations)))), 1)
    return cost, stays
