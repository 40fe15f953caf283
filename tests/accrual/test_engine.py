"""Hand-computed accrual cases: every unit, leap years, 56 weeks, income, boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from builders import book

from forecastlib.accrual import accrue, accrue_by_period, line_activity


def pence(value: float) -> int:
    return int(round(value * 100))


def year_cost(rows: list[dict], as_at: str = "2017-10-31") -> pd.DataFrame:
    return accrue(book(*rows), as_at)


def test_full_year_of_a_52_week_placement_costs_365_days_of_the_weekly_rate():
    row = year_cost([{"start_date": "2017-04-01", "end_date": "2018-03-31",
                      "unit_cost": 700}]).iloc[0]
    assert pence(row.gross_to_date) == 21400_00  # 214 days (1 Apr - 31 Oct) at 100 a day
    assert pence(row.gross_committed) == 15100_00  # 151 days to 31 March
    assert pence(row.net_year) == 36500_00
    assert row.days_in_year == 365


def test_leap_financial_year_has_366_days():
    row = accrue(book({"start_date": "2019-04-01", "unit_cost": 700}), "2019-10-31").iloc[0]
    assert row.days_in_year == 366  # FY2019 holds 29 February 2020
    assert pence(row.net_year) == 36600_00


def test_56_week_fostering_allowance_costs_56_52nds_of_the_weekly_rate():
    row = year_cost([{"start_date": "2017-04-01", "unit_cost": 728,
                      "weeks_per_year": 56}]).iloc[0]
    assert pence(row.net_year) == 40880_00  # 728 * 56 / 52 / 7 = 112 a day, 365 days


@pytest.mark.parametrize(
    ("unit", "unit_cost", "units_per_week", "weeks", "days", "expected_pence"),
    [
        ("day", 100, 7, 52, 365, 36500_00),  # seven nights a week at 100 a night
        ("day", 100, 3, 52, 365, 15642_86),  # 300 * 365 / 7 = 15,642.857...
        ("hour", 15.70, 10, 52, 30, 672_86),  # 157 a week: 157 * 30 / 7 = 672.857...
        ("session", 50, 4, 39, 365, 7821_43),  # term-time: 200 * 39/52 / 7 a day
        ("week", 1247.14, 1, 52, 7, 1247_14),  # one week is the weekly price
    ],
)
def test_each_unit(unit, unit_cost, units_per_week, weeks, days, expected_pence):
    end = str(np.datetime64("2017-04-01") + np.timedelta64(days - 1, "D"))
    row = year_cost([{"start_date": "2017-04-01", "end_date": end, "unit": unit,
                      "unit_cost": unit_cost, "units_per_week": units_per_week,
                      "weeks_per_year": weeks}]).iloc[0]
    assert pence(row.net_year) == expected_pence


def test_year_unit_spreads_the_annual_price_over_365_days_even_in_a_leap_year():
    normal = year_cost([{"start_date": "2017-04-01", "unit": "year", "unit_cost": 52_000,
                         "weeks_per_year": 39, "units_per_week": 5}]).iloc[0]
    assert pence(normal.net_year) == 52_000_00  # weeks and units do not apply
    leap = accrue(book({"start_date": "2019-04-01", "unit": "year", "unit_cost": 52_000}),
                  "2019-10-31").iloc[0]
    assert pence(leap.net_year) == 52_142_47  # 52,000 * 366 / 365


def test_income_is_netted_at_a_seventh_of_the_weekly_income_a_day():
    row = year_cost([{"start_date": "2017-05-01", "end_date": "2017-05-10", "unit_cost": 700,
                      "income_per_week": 70}]).iloc[0]
    assert pence(row.gross_to_date) == 1000_00
    assert pence(row.income_to_date) == 100_00
    assert pence(row.net_to_date) == 900_00


def test_episode_crossing_both_year_boundaries_counts_only_days_in_the_year():
    row = year_cost([{"start_date": "2017-03-15", "end_date": "2018-04-10",
                      "unit_cost": 70}]).iloc[0]
    assert row.days_in_year == 365
    assert pence(row.net_year) == 3650_00


def test_open_episode_without_planned_end_is_committed_to_year_end():
    row = year_cost([{"start_date": "2016-01-01", "unit_cost": 70}]).iloc[0]
    assert row.end_basis == "open"
    assert pd.isna(row.effective_end)
    assert row.days_committed == 151
    assert bool(row.active_at_as_at)


def test_planned_end_is_used_and_can_be_ignored():
    rows = [{"start_date": "2017-04-01", "planned_end_date": "2017-11-30", "unit_cost": 70}]
    planned = year_cost(rows).iloc[0]
    assert planned.end_basis == "planned_end_date"
    assert planned.days_committed == 30
    ignored = accrue(book(*rows), "2017-10-31", use_planned_ends=False).iloc[0]
    assert ignored.days_committed == 151


def test_planned_end_already_passed_leaves_the_episode_open():
    row = year_cost([{"start_date": "2017-04-01", "planned_end_date": "2017-09-30",
                      "unit_cost": 70}]).iloc[0]
    assert row.end_basis == "open"
    assert row.days_to_date == 214  # still open on as_at: paid every day so far


def test_end_date_wins_over_planned_end():
    row = year_cost([{"start_date": "2017-04-01", "end_date": "2017-04-30",
                      "planned_end_date": "2018-01-31", "unit_cost": 70}]).iloc[0]
    assert row.end_basis == "end_date"
    assert row.days_in_year == 30 and row.days_committed == 0


def test_future_start_after_as_at_is_committed_from_its_start():
    row = year_cost([{"start_date": "2018-03-25", "unit_cost": 70}]).iloc[0]
    assert row.days_to_date == 0 and row.days_committed == 7
    assert not row.active_at_as_at


def test_episode_ended_before_the_year_costs_nothing():
    row = year_cost([{"start_date": "2015-01-01", "end_date": "2017-03-31",
                      "unit_cost": 70}]).iloc[0]
    assert row.net_year == 0 and row.days_in_year == 0


def test_one_day_episode_on_as_at_is_an_actual_and_active():
    row = year_cost([{"start_date": "2017-10-31", "end_date": "2017-10-31",
                      "unit_cost": 70}]).iloc[0]
    assert row.days_to_date == 1 and row.days_committed == 0
    assert bool(row.active_at_as_at)


def test_period_costs_sum_to_the_year_and_follow_month_lengths():
    placements = book({"start_date": "2017-04-01", "unit_cost": 70})
    periods = accrue_by_period(placements, "2017-10-31").iloc[0]
    assert periods.index.tolist() == list(range(1, 13))
    assert pence(periods[1]) == 300_00 and pence(periods[11]) == 280_00  # April, February
    assert pence(periods.sum()) == pence(accrue(placements, "2017-10-31").net_year.iloc[0])


def test_period_measure_is_validated():
    with pytest.raises(ValueError, match="measure"):
        accrue_by_period(book({"start_date": "2017-04-01", "unit_cost": 1}), "2017-10-31",
                         measure="cash")


def test_empty_book_accrues_to_empty_tables():
    empty = book({"start_date": "2017-04-01", "unit_cost": 1}).iloc[0:0]
    assert len(accrue(empty, "2017-10-31")) == 0
    assert len(line_activity(empty, "2017-10-31")) == 0


def test_line_activity_snapshot_yearly_average_and_average_unit_cost():
    activity = line_activity(book(
        {"start_date": "2017-04-01", "unit_cost": 700},
        {"start_date": "2017-04-01", "end_date": "2017-09-30", "unit_cost": 1400},
        {"start_date": "2016-04-01", "unit_cost": 350, "category": "IFA"},
    ), "2017-10-31")
    residential = activity.loc[("LAC Placements", "Residential homes")]
    assert residential.snapshot == 1
    assert residential.placement_days == 365 + 183
    assert residential.yearly_average == pytest.approx((365 + 183) / 365)
    assert residential.average_unit_cost == pytest.approx((700 * 365 + 1400 * 183) / 548)
    assert residential.unit == "week"
    assert activity.loc[("LAC Placements", "IFA"), "open_without_end"] == 1
