"""Line names: one line whatever the case and spacing, the budget's spelling shown."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import forecastlib as fl
from forecastlib.errors import DataValidationError
from forecastlib.records.line_names import line_key, reconcile_line_names

HOMES = ("LAC Placements", "Residential homes")


def lines(*pairs):
    return pd.DataFrame(pairs, columns=["service", "category"])


def test_spellings_become_the_budgets_and_a_note_lists_them():
    placements = lines(("LAC Placements", "Residential Homes"),
                       ("lac  placements", "residential\u00a0homes"), ("LAC Placements", "IFA"))
    budget = lines(HOMES, ("LAC Placements", "Ifa "))
    actuals = lines(("LAC PLACEMENTS", "RESIDENTIAL HOMES"))
    p, b, a, notes = reconcile_line_names(placements, budget, actuals)
    assert p.values.tolist() == [list(HOMES), list(HOMES), ["LAC Placements", "Ifa"]]
    assert b.values.tolist() == [list(HOMES), ["LAC Placements", "Ifa"]]
    assert a.values.tolist() == [list(HOMES)]
    assert notes == ["Line names matched ignoring case and spaces: 'IFA', 'Ifa ' as 'Ifa'; "
                     "'LAC PLACEMENTS', 'lac  placements' as 'LAC Placements'; "
                     "'RESIDENTIAL HOMES', 'Residential Homes', 'residential\\xa0homes' "
                     "as 'Residential homes'."]
    assert placements["category"].iloc[0] == "Residential Homes"  # inputs untouched


def test_without_a_budget_line_the_most_used_spelling_wins():
    placements = lines(("SEN", "ASD"), ("SEN", "asd"), ("SEN", "asd"))
    p, _, _, notes = reconcile_line_names(placements, lines(("SEN", "Other")))
    assert p["category"].tolist() == ["asd"] * 3 and "'ASD' as 'asd'" in notes[0]


def test_nothing_to_merge_gives_no_note_and_is_idempotent():
    placements, budget = lines(HOMES), lines(HOMES)
    p, b, a, notes = reconcile_line_names(placements, budget)
    assert notes == [] and a is None and p.equals(placements) and b.equals(budget)
    once = reconcile_line_names(lines(("a", "B")), lines(("A", "b")))
    twice = reconcile_line_names(once[0], once[1])
    assert twice[3] == once[3] and twice[0].equals(once[0])


def test_a_budget_line_given_twice_in_other_case_is_an_error():
    with pytest.raises(DataValidationError) as caught:
        reconcile_line_names(lines(HOMES), lines(HOMES, ("lac placements", "RESIDENTIAL homes")))
    assert caught.value.problems[0].row == 3


def test_reader_notes_travel_to_the_forecast(sample):
    budget = sample.budget.copy()
    budget.attrs["notes"] = ["budget.csv: read as Windows-1252 (cp1252)"]
    table = fl.deterministic_outturn(sample.placements, budget, sample.as_at)
    assert table.attrs["notes"][0] == "budget.csv: read as Windows-1252 (cp1252)"


def test_forecasts_are_the_same_whatever_the_spelling(sample):
    placements = sample.placements.copy()
    homes = placements["category"] == HOMES[1]
    placements.loc[homes, "category"] = "Residential Homes "
    placements.loc[homes[homes].index[:3], "category"] = "residential\u00a0homes"
    budget = sample.budget.copy()
    budget["service"] = budget["service"].str.upper()
    base = fl.deterministic_outturn(sample.placements, sample.budget, sample.as_at,
                                    actuals=sample.actuals)
    respelt = fl.deterministic_outturn(placements, budget, sample.as_at,
                                       actuals=sample.actuals)
    assert len(respelt) == len(base)
    expected = base["forecast"].rename(index=str.upper, level=0).sort_index()  # budget's case
    pd.testing.assert_series_equal(respelt["forecast"].sort_index(), expected)
    assert "as 'Residential homes'" in respelt.attrs["notes"][0]
    activity = fl.key_activity(placements, budget, sample.as_at)
    assert len(activity) == len(fl.key_activity(sample.placements, sample.budget,
                                                sample.as_at))
    result = fl.forecast_outturn(placements, budget, sample.as_at, actuals=sample.actuals,
                                 new_starts=False, simulations=50, seed=1)
    assert any("Line names matched" in note for note in result.notes)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(["Res homes", "res HOMES", " Res  homes ", "Res\u00a0homes",
                                 "IFA", "ifa"]), min_size=1, max_size=8))
def test_one_line_per_key_after_reconciling(categories):
    placements = pd.DataFrame({"service": "LAC", "category": categories})
    p, _, _, _ = reconcile_line_names(placements, lines(("LAC", "Other")))
    keys = line_key(p["category"])
    assert p.groupby(keys)["category"].nunique().eq(1).all()
    assert (keys == line_key(placements["category"])).all()
