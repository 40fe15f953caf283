"""Movement since last month: components that sum to the change and equal hand arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import budget_book, placements_frame
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastlib.errors import ConfigError
from forecastlib.outturn.movement import MOVEMENT_COMPONENTS, direction, movement
from forecastlib.records import read_actuals, read_placements

LINE = ("LAC Placements", "Residential homes")
BUDGET = budget_book({"service": LINE[0], "category": LINE[1], "annual_budget": "200000"})


def _record(*rows: dict) -> pd.DataFrame:
    frame = placements_frame(rows)
    frame["placement_id"] = [row.get("placement_id", f"P{k}") for k, row in enumerate(rows)]
    return read_placements(frame, name="placements.csv")


# 700 a week on 52 weeks is exactly 100 a day: 1400 is 200, 2100 is 300, 840 is 120.
PREVIOUS = _record(
    {"placement_id": "A", "client_id": "C1", "start_date": "2017-04-01",
     "planned_end_date": "2018-03-31", "unit_cost": 700},
    {"placement_id": "B", "client_id": "C2", "start_date": "2017-04-01",
     "planned_end_date": "2018-01-31", "unit_cost": 1400},
    {"placement_id": "D", "client_id": "C4", "start_date": "2017-06-01",
     "planned_end_date": "2018-03-31", "unit_cost": 700},
)
CURRENT = _record(
    # A ended on 15 October (it was planned to run to 31 March).
    {"placement_id": "A", "client_id": "C1", "start_date": "2017-04-01",
     "end_date": "2017-10-15", "planned_end_date": "2018-03-31", "unit_cost": 700},
    # B closed on 19 October and reopened at a new price, same end.
    {"placement_id": "B", "client_id": "C2", "start_date": "2017-04-01",
     "end_date": "2017-10-19", "planned_end_date": "2018-01-31", "unit_cost": 1400},
    {"placement_id": "B2", "client_id": "C2", "start_date": "2017-10-20",
     "planned_end_date": "2018-01-31", "unit_cost": 2100},
    # D's price changed on the same placement_id.
    {"placement_id": "D", "client_id": "C4", "start_date": "2017-06-01",
     "planned_end_date": "2018-03-31", "unit_cost": 840},
    # E is a new placement.
    {"placement_id": "E", "client_id": "C5", "start_date": "2017-10-10",
     "planned_end_date": "2017-12-31", "unit_cost": 700},
)


@pytest.fixture(scope="module")
def moved():
    return movement(PREVIOUS, CURRENT, BUDGET, "2017-09-30", "2017-10-31", new_starts=False)


def test_each_component_is_hand_arithmetic(moved):
    row = moved.lines.loc[LINE]
    # E: 10 Oct .. 31 Dec is 22 + 30 + 31 = 83 days at 100.
    assert row["new_placements"] == 8300.00
    # A: 1 Apr .. 15 Oct is 198 days instead of 365, at 100.
    # B: closing on 19 October and reopening to the same end nets to nothing.
    assert row["ended_placements"] == -16700.00
    # B2: 20 Oct .. 31 Jan is 104 days at 300 - 200; D: 1 Jun .. 31 Mar, 304 days at 20.
    assert row["price_changes"] == 104 * 100 + 304 * 20
    assert row["actuals"] == 0.0 and row["moves"] == 0.0 and row["model"] == 0.0
    assert row["change"] == 8300 - 16700 + 10400 + 6080


def test_components_sum_to_the_change_of_the_two_forecasts(moved):
    before = moved.previous.lines.loc[LINE, "mean"]
    after = moved.current.lines.loc[LINE, "mean"]
    assert moved.lines.loc[LINE, "change"] == pytest.approx(after - before, abs=0.005)
    assert moved.previous.simulations == moved.current.simulations == 0
    components = moved.lines[MOVEMENT_COMPONENTS].to_numpy()
    assert np.array_equal(np.round(components.sum(axis=1) * 100),
                          np.round(moved.lines["change"].to_numpy() * 100))


def test_direction_of_travel(moved):
    row = moved.lines.loc[LINE]
    # Running on 30 Sept: A, B, D (3); on 31 Oct: B2, D, E (3).
    assert (row["placements_previous"], row["placements_current"]) == (3, 3)
    assert row["dot_placements"] == "level"
    assert row["unit_cost_previous"] == pytest.approx((700 + 1400 + 700) / 3)
    assert row["unit_cost_current"] == pytest.approx((2100 + 840 + 700) / 3)
    assert row["dot_unit_cost"] == "up" and row["dot_forecast"] == "up"
    assert direction(np.array([0.0]), np.array([0.0])).tolist() == ["level"]


def test_actuals_component_is_the_change_in_the_ledger_gap():
    def ledger(amounts: dict[int, float]) -> pd.DataFrame:
        return read_actuals(pd.DataFrame({"service": LINE[0], "category": LINE[1],
                                          "period": [str(p) for p in amounts],
                                          "amount": [str(a) for a in amounts.values()]}))
    # Accrued to 30 Sept: A 183 days x 100, B 183 x 200, D 122 x 100 = 67,100.
    before = ledger({1: 40000, 6: 28100})  # 1,000 above the record
    # Accrued to 31 Oct: A 198 x 100, B 202 x 200 + B2 12 x 300, D 153 x 120, E 22 x 100.
    accrued_now = 19800 + 40400 + 3600 + 18360 + 2200
    now = ledger({1: 40000, 7: accrued_now - 40000 - 2500})  # 2,500 below the record
    moved = movement(PREVIOUS, CURRENT, BUDGET, "2017-09-30", "2017-10-31",
                     actuals=now, previous_actuals=before, new_starts=False)
    row = moved.lines.loc[LINE]
    assert row["actuals"] == -3500.00
    assert row["model"] == 0.0
    assert row["change"] == 8080 - 3500


def test_a_move_between_lines_is_its_own_component():
    other = ("LAC Placements", "Independent Fostering")
    budget = budget_book({"service": LINE[0], "category": LINE[1], "annual_budget": "1"},
                         {"service": other[0], "category": other[1], "annual_budget": "1"})
    before = _record({"placement_id": "A", "start_date": "2017-04-01",
                      "planned_end_date": "2018-03-31", "unit_cost": 1400})
    now = _record({"placement_id": "A", "start_date": "2017-04-01", "end_date": "2017-10-14",
                   "planned_end_date": "2018-03-31", "unit_cost": 1400},
                  {"placement_id": "A2", "category": other[1], "start_date": "2017-10-15",
                   "planned_end_date": "2018-03-31", "unit_cost": 700})
    moved = movement(before, now, budget, "2017-09-30", "2017-10-31", new_starts=False)
    assert moved.lines.loc[LINE, "ended_placements"] == -200 * 168  # 15 Oct .. 31 Mar
    assert moved.lines.loc[other, "moves"] == 100 * 168
    assert moved.lines.loc[other, "new_placements"] == 0.0
    assert moved.total["model"] == 0.0


def test_months_must_be_in_order_and_in_one_year():
    with pytest.raises(ConfigError, match="before"):
        movement(PREVIOUS, CURRENT, BUDGET, "2017-10-31", "2017-09-30", new_starts=False)
    with pytest.raises(ConfigError, match="different years"):
        movement(PREVIOUS, CURRENT, BUDGET, "2017-03-31", "2017-04-30", new_starts=False)


def test_no_change_gives_zero_everywhere():
    moved = movement(PREVIOUS, PREVIOUS, BUDGET, "2017-09-30", "2017-10-31", new_starts=False)
    assert (moved.lines[["change", *MOVEMENT_COMPONENTS]] == 0).all().all()


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 300), st.integers(1, 400), st.integers(100, 5000),
                          st.integers(-40, 40), st.booleans()), min_size=1, max_size=6))
def test_components_always_sum_to_the_change(rows):
    """Random edits of a record: prices, ends, new and removed episodes."""
    start = np.datetime64("2017-04-01")
    before, now = [], []
    for number, (offset, length, price, shift, keep) in enumerate(rows):
        first = start + offset
        row = {"placement_id": f"P{number}", "client_id": f"C{number}",
               "start_date": str(first), "planned_end_date": str(first + length),
               "unit_cost": price}
        before.append(row)
        if keep:
            now.append({**row, "unit_cost": price + shift,
                        "planned_end_date": str(first + max(length + shift, 0))})
        else:
            now.append({**row, "placement_id": f"N{number}", "client_id": f"M{number}"})
    moved = movement(_record(*before), _record(*now), BUDGET, "2017-09-30", "2017-10-31",
                     new_starts=False)
    pence = np.round(moved.lines[MOVEMENT_COMPONENTS].to_numpy() * 100).sum(axis=1)
    assert np.array_equal(pence, np.round(moved.lines["change"].to_numpy() * 100))
    assert moved.total["change"] == pytest.approx(
        moved.current.total["mean"] - moved.previous.total["mean"], abs=0.01)


def _as_it_stood(placements: pd.DataFrame, as_at: str) -> pd.DataFrame:
    """The record as it stood on ``as_at``: later episodes removed, later ends blanked."""
    day = pd.Timestamp(as_at)
    record = placements[placements["start_date"] <= day].copy()
    record.loc[record["end_date"] > day, "end_date"] = pd.NaT
    return record


@pytest.mark.slow
def test_sample_movement_with_simulation_sums_and_names_new_placements(sample):
    previous = _as_it_stood(sample.placements, "2017-09-30")
    moved = movement(previous, sample.placements, sample.budget, "2017-09-30", sample.as_at,
                     simulations=200, seed=5)
    pence = np.round(moved.lines[MOVEMENT_COMPONENTS].to_numpy() * 100).sum(axis=1)
    assert np.array_equal(pence, np.round(moved.lines["change"].to_numpy() * 100))
    started = sample.placements["start_date"] > pd.Timestamp("2017-09-30")
    new_ids = set(moved.episodes.loc[moved.episodes["component"] == "new_placements",
                                     "placement_id"])
    assert new_ids <= set(sample.placements.loc[started, "placement_id"])
    assert moved.total["new_placements"] > 0
    assert set(moved.lines["dot_forecast"]) <= {"up", "down", "level"}
