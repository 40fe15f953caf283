"""The shipped sample county: reproducible from its generator and realistic."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecastlib.datasets import CATEGORIES, generate_county, sample_path
from forecastlib.datasets.synthetic import DEFAULT_SEED


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
