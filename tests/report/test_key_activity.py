"""Key activity table and the exact volume / price split."""

from __future__ import annotations

import numpy as np
import pytest
from builders import book, budget_book
from hypothesis import given, settings
from hypothesis import strategies as st

from forecastlib.report import format_key_activity, key_activity, volume_price_split

money = st.decimals(-5_000_000, 5_000_000, places=2).map(float)


@settings(max_examples=300, deadline=None)
@given(budget_placements=st.one_of(st.just(0.0), st.floats(0.5, 2000)),
       annual_budget=money, yearly_average=st.floats(0, 2000), net_spend=money)
def test_volume_plus_price_is_the_total_to_the_penny(budget_placements, annual_budget,
                                                     yearly_average, net_spend):
    total, volume, price = volume_price_split(
        np.array([budget_placements]), np.array([annual_budget]),
        np.array([yearly_average]), np.array([net_spend]))
    assert round(total[0] * 100) == round((net_spend - annual_budget) * 100)
    assert round(volume[0] * 100) + round(price[0] * 100) == round(total[0] * 100)


def test_split_by_hand():
    # 10 placements budgeted at 52,000 a year; 12 on average costing 55,000 each.
    total, volume, price = volume_price_split(np.array([10.0]), np.array([520_000.0]),
                                              np.array([12.0]), np.array([660_000.0]))
    assert (total[0], volume[0], price[0]) == (140_000.0, 104_000.0, 36_000.0)
    lump = volume_price_split(np.array([np.nan]), np.array([868_000.0]), np.array([0.0]),
                              np.array([467_000.0]))
    assert (lump[1][0], lump[2][0]) == (-401_000.0, 0.0)  # no placements: all volume


def test_key_activity_table_by_hand():
    placements = book(
        {"start_date": "2017-04-01", "unit_cost": 728, "weeks_per_year": 56,
         "category": "Basic"},
        {"start_date": "2017-04-01", "end_date": "2017-09-30", "unit_cost": 364,
         "weeks_per_year": 56, "category": "Basic"},
    )
    budget = budget_book({"service": "LAC Placements", "category": "Basic",
                          "budget_placements": 2, "budget_unit_cost": 700,
                          "weeks_per_year": 56},
                         {"service": "LAC Placements", "category": "Growth",
                          "annual_budget": 5000})
    table = key_activity(placements, budget, "2017-10-31")
    basic = table.loc[("LAC Placements", "Basic")]
    assert basic.snapshot == 1
    assert basic.yearly_average == pytest.approx((365 + 183) / 365)
    assert basic.weeks_funded == 56 and basic.annual_budget == 2 * 700 * 56
    assert round(basic.net_spend, 2) == round(112 * 365 + 56 * 183, 2)  # 112 and 56 a day
    assert round(basic.volume_variance + basic.price_variance, 2) == basic.spend_variance
    assert basic.volume_variance == round((548 / 365 - 2) * 700 * 56, 2)
    growth = table.loc[("LAC Placements", "Growth")]
    assert growth.snapshot == 0 and growth.spend_variance == -5000 and np.isnan(growth.weeks_funded)


def test_sample_table_formats_within_100_columns(sample):
    table = key_activity(sample.placements, sample.budget, sample.as_at)
    text = format_key_activity(table)
    assert max(len(line) for line in text.splitlines()) <= 100
    assert "Residential homes" in text
    splits = table["volume_variance"] + table["price_variance"]
    assert np.allclose(splits.round(2), table["spend_variance"], rtol=0, atol=0.001)
