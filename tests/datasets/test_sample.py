"""The shipped sample county: reproducible from its generator and realistic."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecastlib.accrual import line_activity
from forecastlib.datasets import CATEGORIES, generate_county, sample_path
from forecastlib.datasets.catalogue import LUMP_LINES
from forecastlib.datasets.synthetic import DEFAULT_SEED
from forecastlib.outturn import deterministic_outturn


def test_shipped_files_are_exactly_the_generator_output(tmp_path):
    generate_county(DEFAULT_SEED).write(tmp_path)
    for name in ("placements.csv", "budget.csv", "actuals.csv"):
        assert (tmp_path / name).read_bytes() == sample_path(name).read_bytes(), name


def test_generator_is_seeded():
    first, again, other = generate_county(7), generate_county(7), generate_county(8)
    pd.testing.assert_frame_equal(first.placements, again.placements)
    assert not first.placements.equals(other.placements)


def test_sample_has_history_services_units_and_heavy_tails(sample):
    placements = sample.placements
    assert placements["start_date"].min() < pd.Timestamp("2011-04-01")
    closed = placements["end_date"].notna()
    assert (placements.loc[closed, "end_date"].dt.year <= 2011).any()
    closed_by_year = placements.loc[closed, "end_date"].dt.year.value_counts()
    assert all(closed_by_year.get(year, 0) > 100 for year in range(2011, 2018))
    assert set(placements["unit"]) == {"week", "hour", "year"}
    assert set(placements["weeks_per_year"]) >= {52, 56, 6}
    assert (placements["income_per_week"] > 0).any()
    assert set(placements["funding"]) == {"GF", "DSG"}
    residential = placements[placements["category"] == "Residential homes"]
    assert residential["unit_cost"].max() > 8_000  # the heavy tail that drives overspends
    assert placements["placement_id"].is_unique
    basic = placements["category"] == "In-house fostering - Basic"
    skills = placements["category"] == "In-house fostering - Skills"
    assert set(placements.loc[basic, "client_id"]) == set(placements.loc[skills, "client_id"])
    lines = set(zip(placements["service"], placements["category"]))
    budget_lines = set(zip(sample.budget["service"], sample.budget["category"]))
    assert {(s.service, s.category) for s in CATEGORIES} <= budget_lines
    assert len(lines) >= 30


def test_sample_actuals_cover_the_closed_periods(sample):
    assert sorted(sample.actuals["period"].unique()) == list(range(1, 8))
    assert np.isfinite(sample.actuals["amount"]).all()


def _line(frame: pd.DataFrame, service: str, category: str) -> pd.DataFrame:
    return frame[(frame["service"] == service) & (frame["category"] == category)]


@pytest.mark.parametrize("category", ["LAC Placements|Independent Fostering",
                                      "Older People|Homecare",
                                      "SEN Placements|Autistic Spectrum Disorder (ASD)"])
def test_budget_is_the_january_to_march_run_rate_grown_and_uplifted(sample, category):
    service, category = category.split("|")
    spec = next(s for s in CATEGORIES if (s.service, s.category) == (service, category))
    first, last = pd.Timestamp("2017-01-01"), pd.Timestamp("2017-03-31")
    rows = _line(sample.placements, service, category)
    start = rows["start_date"].clip(lower=first)
    end = rows["end_date"].fillna(last).clip(upper=last)
    days = ((end - start).dt.days + 1).clip(lower=0)
    budget = _line(sample.budget, service, category).iloc[0]
    average = days.sum() / 90
    assert budget["budget_placements"] == max(1, round(average * (1 + spec.budget_growth)))
    unit_cost = (rows["unit_cost"] * days).sum() / days.sum()
    assert budget["budget_unit_cost"] == pytest.approx(round(unit_cost * 1.02, 2), abs=0.006)
    if spec.unit == "hour":
        hours = (rows["units_per_week"] * days).sum() / days.sum()
        assert budget["units_per_week"] == round(hours, 1)
        gross = (rows["unit_cost"] * rows["units_per_week"] * days).sum()
        share = (rows["income_per_week"] * days).sum() / gross
        formula = (budget["budget_placements"] * budget["budget_unit_cost"]
                   * budget["units_per_week"] * budget["weeks_per_year"])
        assert budget["annual_budget"] == round(formula * (1 - share), -3)
    else:
        assert np.isnan(budget["annual_budget"])  # the formula stands


def test_every_budgeted_placement_line_has_activity_this_year(sample):
    activity = line_activity(sample.placements, sample.as_at)
    lines = pd.MultiIndex.from_tuples([(s.service, s.category) for s in CATEGORIES])
    assert (activity.reindex(lines)["net_to_date"] > 0).all()  # so no -100% lines


def test_lump_lines_have_only_an_amount_and_are_not_rated(sample):
    budget = sample.budget.set_index(["service", "category"])
    lumps = [(lump.service, lump.category) for lump in LUMP_LINES]
    assert budget.loc[lumps, "budget_placements"].isna().all()
    assert budget.loc[lumps, "annual_budget"].tolist() == [x.annual_budget for x in LUMP_LINES]
    table = deterministic_outturn(sample.placements, sample.budget, sample.as_at,
                                  actuals=sample.actuals)
    assert table.index[table["lump"]].sort_values().tolist() == sorted(lumps)
    assert (table.loc[lumps, "rag"] == "n/a").all()
    nothing_booked = [(x.service, x.category) for x in LUMP_LINES if x.booked_share == 0]
    assert (table.loc[nothing_booked, "actual_to_date"] == 0).all()


def test_residential_homes_overspend_has_its_high_cost_arrivals(sample):
    spec = next(s for s in CATEGORIES if s.category == "Residential homes")
    homes = _line(sample.placements, spec.service, spec.category)
    recent = homes[homes["start_date"] > sample.as_at - np.timedelta64(122, "D")]
    assert (recent["unit_cost"] >= 2 * spec.price - 0.01).sum() >= spec.high_cost_arrivals
