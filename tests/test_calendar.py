"""Financial and academic calendar helpers."""

from __future__ import annotations

import numpy as np
import pytest

from forecastlib import calendar as cal


def test_financial_year_and_period_boundaries():
    dates = np.array(["2017-03-31", "2017-04-01", "2017-12-31", "2018-01-01", "2018-03-31"],
                     dtype="datetime64[D]")
    assert cal.financial_year(dates).tolist() == [2016, 2017, 2017, 2017, 2017]
    assert cal.period_of(dates).tolist() == [12, 1, 9, 10, 12]
    assert str(cal.fy_start(2017)) == "2017-04-01" and str(cal.fy_end(2017)) == "2018-03-31"


def test_days_in_year_and_leap_years():
    assert cal.days_in_financial_year(np.array([2017, 2019, 2023])).tolist() == [365, 366, 366]
    assert cal.is_leap_year(np.array([1900, 2000, 2019, 2020])).tolist() == [
        False, True, False, True]


def test_months_of_a_year():
    starts = cal.month_starts(2019)
    assert len(starts) == 13 and str(starts[0]) == "2019-04-01" and str(starts[-1]) == "2020-04-01"
    assert np.diff(starts).astype(int).tolist() == [30, 31, 30, 31, 31, 30, 31, 30, 31, 31, 29, 31]
    assert str(cal.period_end(2019, 11)) == "2020-02-29"
    with pytest.raises(ValueError):
        cal.period_end(2019, 13)


def test_academic_years_run_september_to_august():
    dates = np.array(["2017-08-31", "2017-09-01"], dtype="datetime64[D]")
    assert cal.academic_year(dates).tolist() == [2016, 2017]
    assert str(cal.academic_year_start(2017)) == "2017-09-01"


def test_labels_and_overlaps():
    assert cal.fy_label(2099) == "2099/00"
    days = cal.overlap_days(np.array([0, 10, 50]), np.array([5, 20, 60]), 3, 15)
    assert days.tolist() == [3, 6, 0]
