"""Spells, durations with censoring and truncation, and monthly start counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from builders import book

from forecastlib.demand import default_history_start, durations, monthly_starts, spells


def test_price_change_episodes_join_into_one_spell_but_gaps_do_not():
    placements = book(
        {"client_id": "A", "start_date": "2016-01-01", "end_date": "2016-06-30",
         "unit_cost": 100},
        {"client_id": "A", "start_date": "2016-07-01", "unit_cost": 120},  # re-priced
        {"client_id": "B", "start_date": "2016-01-01", "end_date": "2016-01-31",
         "unit_cost": 100},
        {"client_id": "B", "start_date": "2016-03-01", "end_date": "2016-03-31",
         "unit_cost": 100},  # a month's gap: a new start
        {"client_id": "A", "start_date": "2016-07-01", "unit_cost": 50, "category": "IFA"},
    )
    table = spells(placements)
    assert len(table) == 4
    a = table[(table["client_id"] == "A") & (table["category"] == "Residential homes")].iloc[0]
    assert a["episodes"] == 2 and pd.isna(a["end_date"])
    assert str(a["start_date"].date()) == "2016-01-01"


def test_durations_censor_open_spells_and_truncate_old_ones():
    placements = book(
        {"client_id": "A", "start_date": "2010-01-01", "end_date": "2012-12-31",
         "unit_cost": 1},
        {"client_id": "B", "start_date": "2017-01-01", "unit_cost": 1},
        {"client_id": "C", "start_date": "2018-01-01", "unit_cost": 1},  # future: left out
    )
    table = durations(spells(placements), "2017-10-31", "2011-04-01")
    by_client = table.assign(client=["A", "B"]).set_index("client")
    assert by_client.loc["A", "event"] and not by_client.loc["B", "event"]
    assert by_client.loc["A", "entry"] == (np.datetime64("2011-04-01")
                                           - np.datetime64("2010-01-01")).astype(int)
    assert by_client.loc["B", "duration"] == 304  # 1 Jan - 31 Oct inclusive
    assert str(default_history_start(placements)) == "2012-04-01"


def test_monthly_starts_are_zero_filled_and_skip_incomplete_months():
    placements = book(
        {"client_id": "A", "start_date": "2017-01-15", "unit_cost": 1},
        {"client_id": "B", "start_date": "2017-03-02", "unit_cost": 1},
        {"client_id": "C", "start_date": "2016-12-31", "unit_cost": 1},  # before history
        {"client_id": "D", "start_date": "2017-04-10", "unit_cost": 1},  # month not complete
    )
    counts = monthly_starts(spells(placements), "2017-04-20", "2017-01-01")
    assert list(counts.columns.astype(str)) == ["2017-01", "2017-02", "2017-03"]
    assert counts.iloc[0].tolist() == [1, 0, 1]
