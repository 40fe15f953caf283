"""Row models: single rows validate in Python with the same rules as bulk files."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from forecastlib.records.schema import (
    ActualRecord,
    BudgetRecord,
    PlacementRecord,
    column_specs,
)


def test_placement_record_defaults_and_rules():
    record = PlacementRecord(placement_id="P1", client_id="C1", service="LAC",
                             category="IFA", start_date="2017-04-01", unit_cost=800)
    assert (record.unit, record.units_per_week, record.weeks_per_year) == ("week", 1.0, 52.0)
    with pytest.raises(ValidationError, match="end_date"):
        PlacementRecord(placement_id="P1", client_id="C1", service="LAC", category="IFA",
                        start_date="2017-04-01", end_date="2017-03-01", unit_cost=800)
    with pytest.raises(ValidationError, match="units_per_week"):
        PlacementRecord(placement_id="P1", client_id="C1", service="LAC", category="IFA",
                        start_date="2017-04-01", unit_cost=800, units_per_week=3)
    with pytest.raises(ValidationError):
        PlacementRecord(placement_id="P1", client_id="C1", service="LAC", category="IFA",
                        start_date="2017-04-01", unit_cost=800, colour="red")


def test_budget_and_actual_records():
    assert BudgetRecord(service="LAC", annual_budget=868_000).category == ""
    with pytest.raises(ValidationError, match="annual_budget"):
        BudgetRecord(service="LAC", budget_placements=3)
    with pytest.raises(ValidationError):
        ActualRecord(service="LAC", period=13, amount=1)


def test_column_specs_follow_the_models():
    specs = {s.name: s for s in column_specs(PlacementRecord)}
    assert specs["unit"].choices == ("week", "day", "hour", "session", "year")
    assert specs["weeks_per_year"].gt == 0 and specs["weeks_per_year"].le == 60
    assert specs["unit_cost"].ge == 0 and specs["unit_cost"].required
    assert not specs["end_date"].required and specs["end_date"].kind == "date"
    budget = {s.name: s for s in column_specs(BudgetRecord)}
    assert budget["budget_placements"].ge == 0 and budget["annual_budget"].ge is None
    assert {s.name: s for s in column_specs(ActualRecord)}["period"].kind == "integer"
