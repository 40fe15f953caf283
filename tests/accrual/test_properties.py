"""Invariants of the accrual, checked on generated placements."""

from __future__ import annotations

import numpy as np
import pandas as pd
from builders import book
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastlib.accrual import accrue, accrue_by_period, line_activity

AS_AT = "2017-10-31"
DAY0 = np.datetime64("2016-01-01")


def day(offset: int) -> str:
    return str(DAY0 + np.timedelta64(offset, "D"))


episodes = st.fixed_dictionaries({
    "start": st.integers(0, 1000),
    "length": st.integers(1, 900),
    "unit_cost": st.decimals(0, 20_000, places=2).map(float),
    "unit": st.sampled_from(["week", "day", "hour", "session", "year"]),
    "units_per_week": st.sampled_from([1, 2.5, 7, 40]),
    "weeks_per_year": st.sampled_from([52, 56, 39, 38, 6]),
    "income_per_week": st.decimals(0, 500, places=2).map(float),
    "category": st.sampled_from(["A", "B"]),
})


def row(episode: dict, start: int, end: int) -> dict:
    units = 1 if episode["unit"] == "week" else episode["units_per_week"]
    return {"start_date": day(start), "end_date": day(end), "unit_cost": episode["unit_cost"],
            "unit": episode["unit"], "units_per_week": units,
            "weeks_per_year": episode["weeks_per_year"],
            "income_per_week": episode["income_per_week"], "category": episode["category"]}


@settings(max_examples=60, deadline=None)
@given(episode=episodes, cut=st.floats(0, 1))
def test_splitting_an_episode_at_any_date_leaves_cost_unchanged(episode, cut):
    start, end = episode["start"], episode["start"] + episode["length"] - 1
    split = start + int(cut * (end - start))  # first part ends on `split`
    whole = accrue(book(row(episode, start, end)), AS_AT)
    parts = book(row(episode, start, split), *(
        [row(episode, split + 1, end)] if split < end else []))
    halves = accrue(parts, AS_AT)
    for column in ("net_to_date", "net_committed", "gross_committed", "income_to_date"):
        assert np.isclose(whole[column].sum(), halves[column].sum(), rtol=0, atol=1e-6)
    by_period_whole = accrue_by_period(book(row(episode, start, end)), AS_AT).sum()
    by_period_parts = accrue_by_period(parts, AS_AT).sum()
    assert np.allclose(by_period_whole, by_period_parts, rtol=0, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(many=st.lists(episodes, min_size=1, max_size=8), seed=st.integers(0, 2**16))
def test_cost_is_additive_over_placements_and_order_free(many, seed):
    rows = [row(e, e["start"], e["start"] + e["length"] - 1) for e in many]
    placements = book(*rows)
    activity = line_activity(placements, AS_AT)
    singles = sum(accrue(book(r), AS_AT)["net_year"].sum() for r in rows)
    assert np.isclose(activity["net_year"].sum(), singles, rtol=0, atol=1e-6)
    shuffled = placements.sample(frac=1, random_state=seed)
    again = line_activity(shuffled, AS_AT)
    pd.testing.assert_frame_equal(activity, again, check_exact=False, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(many=st.lists(episodes, min_size=1, max_size=6))
def test_to_date_plus_committed_is_the_year_and_periods_add_up(many):
    placements = book(*[row(e, e["start"], e["start"] + e["length"] - 1) for e in many])
    accrued = accrue(placements, AS_AT)
    periods = accrue_by_period(placements, AS_AT).sum(axis=1)
    assert np.allclose(accrued["net_to_date"] + accrued["net_committed"], periods, atol=1e-6)
    assert (accrued["days_to_date"] + accrued["days_committed"]
            == accrued["days_in_year"]).all()
